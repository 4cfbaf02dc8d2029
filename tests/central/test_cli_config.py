"""`python -m central` commands, `python -m central.ingest` lifecycle, and settings."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from central.__main__ import main as central_main
from central.config import CentralConfig, describe_errors
from central.db import create_db_engine, current_revision, make_sessionmaker
from central.services import authenticate
from protocol.broker_url import BrokerUrl
from tests.support.services import ROOT


def test_migrate_and_create_user(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert central_main(["--database-url", sqlite_url, "migrate"]) == 0
    assert current_revision(sqlite_url) is not None
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret-password\n"))
    assert (
        central_main(["--database-url", sqlite_url, "create-user", "ada", "--role", "admin"]) == 0
    )
    again = ["--database-url", sqlite_url, "create-user", "ada", "--role", "admin",
             "--password", "other-password"]  # fmt: skip
    assert central_main(again) == 1
    assert "already exists" in capsys.readouterr().err
    assert central_main([*again, "--update"]) == 0
    engine = create_db_engine(sqlite_url)
    with make_sessionmaker(engine)() as session:
        assert authenticate(session, "ada", "other-password") is not None
        assert authenticate(session, "ada", "s3cret-password") is None
    engine.dispose()


def test_config_from_environment() -> None:
    config = CentralConfig.from_env(
        {
            "PROCTOR_DATABASE_URL": "mysql+pymysql://u:dbpass@db/x",
            "PROCTOR_BROKER_URL": "mqtt://ingest:brokerpass@broker:1884?version=3.1.1",
            "PROCTOR_INGEST_SHARE_GROUP": "",
            "PROCTOR_INGEST_BATCH_SIZE": "200",
            "PROCTOR_SECRET_KEY": "flask-secret",
        },
        ingest_client_id="worker-7",
    )
    assert config.broker_url == BrokerUrl.parse(
        "mqtt://ingest:brokerpass@broker:1884?version=3.1.1"
    )
    assert config.ingest_share_group == ""
    assert config.ingest_batch_size == 200
    assert config.ingest_client_id == "worker-7"
    shown = repr(config)
    assert "dbpass" not in shown
    assert "brokerpass" not in shown
    assert "flask-secret" not in shown


def test_config_defaults() -> None:
    config = CentralConfig.from_env({})
    assert config.database_url == "sqlite:///var/central.sqlite3"
    assert config.broker_url.port == 1883
    assert config.ingest_share_group == "ingest"


def test_config_errors_name_the_variable_and_hide_the_value() -> None:
    with pytest.raises(ValidationError) as err:
        CentralConfig.from_env({"PROCTOR_BROKER_URL": "http://u:topsecret@x", "PROCTOR_X": "1"})
    message = describe_errors(err.value)
    assert "PROCTOR_BROKER_URL" in message
    assert "topsecret" not in message
    with pytest.raises(ValidationError):
        CentralConfig.model_validate({"unknown_key": 1})


@pytest.mark.mosquitto
def test_ingest_process_stops_cleanly_on_sigterm(
    mosquitto: BrokerUrl, migrated_sqlite_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "PROCTOR_DATABASE_URL": migrated_sqlite_url,
           "PROCTOR_BROKER_URL": mosquitto.to_url(redact=False)}  # fmt: skip
    log = tmp_path / "ingest.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "central.ingest", "--client-id", "sigterm-test"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 20
            while b"subscribed to" not in log.read_bytes():
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "stopped" in log.read_text()
