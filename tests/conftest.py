"""Shared fixtures: private broker and database processes, and throwaway database URLs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.broker_url import BrokerUrl
from tests.support.services import (
    AmqttInstance,
    MariaDBServer,
    MosquittoInstance,
    run_sql,
)

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


@pytest.fixture
def mosquitto_server(tmp_path: Path) -> Iterator[MosquittoInstance]:
    """A private Mosquitto (MQTT v5, anonymous) that the test may stop, kill and restart."""
    server = MosquittoInstance(tmp_path / "mosquitto")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mosquitto(mosquitto_server: MosquittoInstance) -> BrokerUrl:
    return mosquitto_server.url


@pytest.fixture
def amqtt_server() -> Iterator[AmqttInstance]:
    server = AmqttInstance()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def amqtt_broker(amqtt_server: AmqttInstance) -> BrokerUrl:
    """The demo's embedded broker (MQTT 3.1.1, no shared subscriptions)."""
    return amqtt_server.url


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDBServer | str]:
    """One private mariadbd for the whole run (about a second to start).

    PROCTOR_TEST_MYSQL_ROOT_URL (e.g. mysql+pymysql://root@127.0.0.1:3306/) uses an existing
    server instead; each test still gets its own database.
    """
    external = os.environ.get("PROCTOR_TEST_MYSQL_ROOT_URL")
    if external:
        yield external.rstrip("/") + "/"
        return
    server = MariaDBServer(tmp_path_factory.mktemp("mariadb"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mariadb_url(mariadb_server: MariaDBServer | str) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database, dropped after the test."""
    root = mariadb_server if isinstance(mariadb_server, str) else mariadb_server.root_url()
    name = f"t_{uuid.uuid4().hex[:12]}"
    run_sql(root, f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    base = root.partition("?")[0]
    yield f"{base.rstrip('/')}/{name}?charset=utf8mb4"
    run_sql(root, f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'central.sqlite3'}"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The shared labelled media; mandatory under CI."""
    if not FIXTURES.is_dir():
        from tests.support.services import in_ci

        message = f"shared fixtures not found at {FIXTURES}"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return FIXTURES
