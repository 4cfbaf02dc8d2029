"""Ingest against a real broker and database: store once, dead-letter, ack after commit."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from central.db import create_db_engine, make_sessionmaker, upgrade_database
from central.models import DeadLetter, Device, DeviceMessage, Event
from protocol import encode, topic_for, uuid7
from protocol.broker_url import BrokerUrl
from tests.central import factories as f
from tests.central.mqtt_helpers import FakeKiosk, start_worker, stop_worker
from tests.support.services import MariaDBServer, MosquittoInstance, run_sql

pytestmark = pytest.mark.mosquitto
EVENT_TOPIC = "proctor/v1/centre-1/kiosk-1/event"


@pytest.fixture
def kiosk(mosquitto: BrokerUrl) -> Iterator[FakeKiosk]:
    device = FakeKiosk(mosquitto)
    yield device
    device.close()


def _sessions(url: str) -> sessionmaker[Session]:
    return make_sessionmaker(create_db_engine(url))


def _count(sessions: sessionmaker[Session], model: type[object]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_stores_dead_letters_and_acks(
    mosquitto: BrokerUrl, kiosk: FakeKiosk, any_db_url: str
) -> None:
    worker = start_worker(mosquitto, any_db_url)
    try:
        events = [f.event(seq=i) for i in range(1, 4)]
        other = f.event(device="kiosk-2", seq=1)
        session_message, heartbeat = f.checkin(seq=4), f.heartbeat()
        kiosk.send(*events, other, session_message, heartbeat, f.status())
        bad_id = uuid7()
        kiosk.publish(EVENT_TOPIC, b"this is not json")
        kiosk.publish(EVENT_TOPIC, json.dumps({"schema_version": 1, "id": str(bad_id)}).encode())
        forged = f.event(device="kiosk-2", seq=2)  # kiosk-1 speaking for kiosk-2
        kiosk.publish(EVENT_TOPIC, encode(forged))
        kiosk.publish("proctor/v1/centre-1/kiosk-1/heartbeat", b"\x00\x01")

        ids = [e.id for e in events] + [other.id, session_message.id, bad_id, forged.id]
        statuses = kiosk.wait_for(ids)
        assert [statuses[e.id] for e in events] == ["stored"] * 3
        assert statuses[session_message.id] == "stored"
        assert statuses[other.id] == "stored"
        assert statuses[bad_id] == statuses[forged.id] == "rejected"
        acked_devices = {(a.device_id, r.id) for a in kiosk.acks for r in a.results}
        assert ("kiosk-1", forged.id) in acked_devices  # told on the topic it used

        kiosk.forget()
        kiosk.send(events[0])  # redelivery
        assert kiosk.wait_for([events[0].id]) == {events[0].id: "duplicate"}
    finally:
        stop_worker(worker)
    sessions = _sessions(any_db_url)
    assert _count(sessions, Event) == 4
    assert _count(sessions, DeviceMessage) == 1
    assert _count(sessions, DeadLetter) == 4
    with sessions() as session:
        reasons = set(session.scalars(select(DeadLetter.reason_code)))
        assert reasons == {"malformed", "schema", "topic_mismatch"}
        device = session.get_one(Device, "kiosk-1")
        assert device.last_status == "online"
        assert device.last_heartbeat is not None


def test_database_down_means_no_ack_until_it_works(
    mosquitto: BrokerUrl, kiosk: FakeKiosk, sqlite_url: str
) -> None:
    worker = start_worker(mosquitto, sqlite_url)  # not migrated yet: every insert fails
    try:
        event = f.event()
        kiosk.send(event)
        with pytest.raises(AssertionError, match="no ack"):
            kiosk.wait_for([event.id], timeout=1.5)
        assert worker.stats.retries >= 1
        assert worker.stats.stored == 0
        upgrade_database(sqlite_url)  # the database comes back
        assert kiosk.wait_for([event.id], timeout=30) == {event.id: "stored"}
    finally:
        stop_worker(worker)


def test_messages_sent_while_ingest_is_down_arrive_after_restart(
    mosquitto: BrokerUrl, kiosk: FakeKiosk, migrated_sqlite_url: str
) -> None:
    client_id = f"ingest-{uuid.uuid4().hex[:6]}"
    stop_worker(start_worker(mosquitto, migrated_sqlite_url, client_id=client_id))
    events = [f.event(seq=i) for i in range(1, 6)]
    kiosk.send(*events)  # the broker keeps them in ingest's persistent session
    worker = start_worker(mosquitto, migrated_sqlite_url, client_id=client_id)
    try:
        assert set(kiosk.wait_for([e.id for e in events]).values()) == {"stored"}
    finally:
        stop_worker(worker)


def test_survives_a_broker_crash(
    mosquitto_server: MosquittoInstance, migrated_sqlite_url: str
) -> None:
    worker = start_worker(mosquitto_server.url, migrated_sqlite_url)
    try:
        mosquitto_server.kill()
        mosquitto_server.start()
        deadline = time.monotonic() + 60
        while worker.stats.connects < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker.wait_subscribed(30), "ingest did not come back"
        kiosk = FakeKiosk(mosquitto_server.url)
        try:
            event = f.event()
            kiosk.send(event)
            assert kiosk.wait_for([event.id], timeout=60) == {event.id: "stored"}
        finally:
            kiosk.close()
    finally:
        stop_worker(worker)


def test_mqtt_311_plain_subscription(mosquitto: BrokerUrl, migrated_sqlite_url: str) -> None:
    url = dataclasses.replace(mosquitto, version="3.1.1")
    worker = start_worker(url, migrated_sqlite_url, share_group="")
    kiosk = FakeKiosk(url)
    try:
        event = f.event()
        kiosk.send(event)
        assert kiosk.wait_for([event.id]) == {event.id: "stored"}
    finally:
        kiosk.close()
        stop_worker(worker)


def test_embedded_demo_broker(amqtt_broker: BrokerUrl, migrated_sqlite_url: str) -> None:
    worker = start_worker(amqtt_broker, migrated_sqlite_url, share_group="")
    kiosk = FakeKiosk(amqtt_broker)
    try:
        events = [f.event(seq=i) for i in range(1, 4)]
        kiosk.send(*events)
        kiosk.publish(EVENT_TOPIC, b"[]")
        assert set(kiosk.wait_for([e.id for e in events]).values()) == {"stored"}
    finally:
        kiosk.close()
        stop_worker(worker)


def test_uncommitted_batch_is_redelivered_after_stop(
    mosquitto: BrokerUrl, kiosk: FakeKiosk, sqlite_url: str
) -> None:
    client_id = f"ingest-{uuid.uuid4().hex[:6]}"
    worker = start_worker(mosquitto, sqlite_url, client_id=client_id)  # database not ready
    event = f.event()
    kiosk.send(event)
    deadline = time.monotonic() + 10
    while worker.stats.retries == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop_worker(worker)  # abandons the batch: never acked, to the broker or to the kiosk
    assert event.id not in kiosk.results
    upgrade_database(sqlite_url)
    worker = start_worker(mosquitto, sqlite_url, client_id=client_id)
    try:
        assert kiosk.wait_for([event.id]) == {event.id: "stored"}
    finally:
        stop_worker(worker)


@pytest.mark.mariadb
@pytest.mark.slow
def test_mariadb_restart_loses_nothing(
    mosquitto: BrokerUrl, kiosk: FakeKiosk, tmp_path: Path
) -> None:
    server = MariaDBServer(tmp_path / "db")
    server.start()
    try:
        run_sql(server.root_url(), "CREATE DATABASE proctor CHARACTER SET utf8mb4")
        url = server.root_url("proctor")
        upgrade_database(url)
        worker = start_worker(mosquitto, url)
        try:
            first = f.event(seq=1)
            kiosk.send(first)
            assert kiosk.wait_for([first.id]) == {first.id: "stored"}
            server.kill()
            during = [f.event(seq=i) for i in range(2, 6)]
            kiosk.send(*during)
            with pytest.raises(AssertionError, match="no ack"):
                kiosk.wait_for([e.id for e in during], timeout=2)
            server.start()
            statuses = kiosk.wait_for([e.id for e in during], timeout=90)
            assert set(statuses.values()) == {"stored"}
        finally:
            stop_worker(worker)
        assert _count(_sessions(url), Event) == 5
    finally:
        server.stop()


@pytest.mark.slow
def test_a_burst_is_batched_and_stored_once(
    mosquitto: BrokerUrl, kiosk: FakeKiosk, any_db_url: str
) -> None:
    events = [f.event(device=f"kiosk-{i % 20}", seq=i) for i in range(1, 2001)]
    worker = start_worker(mosquitto, any_db_url)
    try:
        started = time.monotonic()
        for event in events:
            kiosk.client.publish(topic_for(event), encode(event), qos=1)
        statuses = kiosk.wait_for([e.id for e in events], timeout=120)
        elapsed = time.monotonic() - started
    finally:
        stop_worker(worker)
    assert set(statuses.values()) == {"stored"}
    assert worker.stats.batches < len(events) / 5, worker.stats  # really batched
    assert _count(_sessions(any_db_url), Event) == len(events)
    print(f"2000 events stored and acked in {elapsed:.1f}s, {worker.stats}")
