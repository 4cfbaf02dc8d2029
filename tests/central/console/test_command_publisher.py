"""Commands through a real Mosquitto: the publisher sends a queued command to the kiosk's
command topic, the kiosk's receipts come back through ingest and make it `done`; while the
broker is down the command waits in the database and goes out after the broker returns; a
publish the broker refuses is `failed`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.command_publisher import CommandPublisher, PublisherOptions
from central.console_models import FeedEntry, OutgoingCommand
from central.db import create_db_engine, make_sessionmaker
from central.services.commands import CommandRequest, issue_command
from central.services.users import UserInfo
from protocol import CommandType
from protocol.broker_url import BrokerUrl
from tests.central import exam_day
from tests.central.console.command_kiosk import CommandKiosk
from tests.central.mqtt_helpers import start_worker, stop_worker
from tests.support.services import MosquittoInstance

pytestmark = pytest.mark.mosquitto
IVY = UserInfo(id=3, username="ivy", role="invigilator")


@pytest.fixture
def db(any_db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(any_db_url)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        exam_day.build(session)
    yield sessions
    engine.dispose()


@pytest.fixture
def publisher(mosquitto: BrokerUrl, any_db_url: str) -> Iterator[CommandPublisher]:
    running = CommandPublisher(PublisherOptions(mosquitto, any_db_url, "test-commands"))
    running.start()
    assert running.wait_connected(10)
    yield running
    running.stop()
    assert running.join(10)


def _warn(sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as session:
        request = CommandRequest("A-01", CommandType.WARN, {"text": "Eyes on your screen"})
        return issue_command(session, IVY, request).command_id


def _wait_state(
    sessions: sessionmaker[Session], command_id: str, state: str, timeout: float = 15
) -> None:
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        with sessions() as session:
            row = session.get(OutgoingCommand, command_id)
            seen = row.state if row else None
        if seen == state:
            return
        time.sleep(0.05)
    raise AssertionError(f"command {command_id} is {seen}, not {state}")


def _announced_states(sessions: sessionmaker[Session], command_id: str) -> list[str]:
    with sessions() as session:
        rows = session.scalars(
            select(FeedEntry.data).where(FeedEntry.kind == "command").order_by(FeedEntry.id)
        )
        return [d.split('"state":"')[1].split('"')[0] for d in rows if command_id in d]


def test_command_reaches_the_kiosk_and_its_receipt_makes_it_done(
    mosquitto: BrokerUrl,
    any_db_url: str,
    db: sessionmaker[Session],
    publisher: CommandPublisher,
) -> None:
    kiosk = CommandKiosk(mosquitto)
    worker = start_worker(mosquitto, any_db_url)
    try:
        command_id = _warn(db)
        publisher.wake()
        (command,) = kiosk.wait_for_commands(1)
        assert str(command.id) == command_id
        assert command.type is CommandType.WARN
        assert command.args == {"text": "Eyes on your screen"}
        assert (command.centre_id, command.device_id) == ("centre-1", "kiosk-1")
        _wait_state(db, command_id, "done")
    finally:
        stop_worker(worker)
        kiosk.close()
    with db() as session:
        row = session.get(OutgoingCommand, command_id)
        assert row is not None
        assert row.detail == "warning 1 issued"
        assert row.published_at is not None
    # published may be overtaken by the receipts (PUBACK and receipts race); never goes back
    states = _announced_states(db, command_id)
    assert states[0] == "queued"
    assert states[-1] == "done"
    assert "received" in states


def test_command_waits_while_the_broker_is_down(
    mosquitto_server: MosquittoInstance,
    db: sessionmaker[Session],
    publisher: CommandPublisher,
) -> None:
    kiosk = CommandKiosk(mosquitto_server.url, answer=False)
    try:
        mosquitto_server.stop()
        _wait_until(lambda: not publisher.wait_connected(0))
        command_id = _warn(db)
        seen = publisher.cycles
        publisher.wake()
        _wait_until(lambda: publisher.cycles >= seen + 3)  # it looked at the queue again
        with db() as session:
            row = session.get(OutgoingCommand, command_id)
            assert row is not None
            assert row.state == "queued"
        mosquitto_server.start()
        (command,) = kiosk.wait_for_commands(1, timeout=30)
        assert str(command.id) == command_id
        _wait_state(db, command_id, "published")
    finally:
        kiosk.close()


def _wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_command_the_broker_refuses_is_marked_failed(
    tmp_path: Path, migrated_sqlite_url: str
) -> None:
    """MQTT v5 reports an ACL denial in the PUBACK: the console shows `failed`, not a
    delivery that never happened."""
    acl = tmp_path / "acl"
    acl.write_text("topic read proctor/#\n")  # anonymous clients may not write commands
    server = MosquittoInstance(tmp_path / "broker", extra_conf=f"acl_file {acl}\n")
    server.start()
    engine = create_db_engine(migrated_sqlite_url)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        exam_day.build(session)
    publisher = CommandPublisher(PublisherOptions(server.url, migrated_sqlite_url, "refused"))
    publisher.start()
    try:
        assert publisher.wait_connected(10)
        command_id = _warn(sessions)
        publisher.wake()
        _wait_state(sessions, command_id, "failed")
        with sessions() as session:
            row = session.get(OutgoingCommand, command_id)
            assert row is not None
            assert "Not authorized" in row.detail
    finally:
        publisher.stop()
        publisher.join(10)
        server.stop()
        engine.dispose()
