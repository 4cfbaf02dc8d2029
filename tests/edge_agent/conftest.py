"""Fixtures for the edge_agent tests that talk to a real broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent.clock import SystemClock
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from protocol.broker_url import BrokerUrl
from tests.edge_agent.central_stub import CentralStub
from tests.edge_agent.helpers import new_device_id


@pytest.fixture
def clock() -> SystemClock:
    return SystemClock(synced_override=True)


@pytest.fixture
def device_id() -> str:
    return new_device_id()


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    outbox = Outbox(tmp_path / "kiosk" / "outbox.sqlite3")
    yield outbox
    outbox.close()


@pytest.fixture
def running() -> Iterator[list[Publisher]]:
    """Publishers registered here are stopped at the end of the test."""
    publishers: list[Publisher] = []
    yield publishers
    for publisher in publishers:
        publisher.stop()
    for publisher in publishers:
        assert publisher.join(10), "publisher did not stop"


@pytest.fixture
def central(mosquitto: BrokerUrl) -> Iterator[CentralStub]:
    stub = CentralStub(mosquitto).start()
    yield stub
    stub.stop()


@pytest.fixture
def silent_central(mosquitto: BrokerUrl) -> Iterator[CentralStub]:
    """Sees everything, acks nothing unless told to."""
    stub = CentralStub(mosquitto, auto_ack=False).start()
    yield stub
    stub.stop()
