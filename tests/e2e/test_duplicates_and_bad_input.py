"""Acceptance: duplicate delivery leaves one row with the first delivery's fields; malformed
input is dead-lettered with a reason while ingest keeps running and nothing else is lost.
Real Mosquitto, real MariaDB, the real ingest process."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.clock import SystemClock
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher, PublisherSettings
from protocol import (
    Ack,
    AckedMessage,
    AnswerSaved,
    ViolationEvent,
    decode,
    encode,
    topic_for,
    uuid7,
)
from protocol.broker_url import BrokerUrl
from protocol.topics import build
from tests.protocol.examples import example
from tests.support import pipeline as p
from tests.support.services import MosquittoInstance

pytestmark = [pytest.mark.mariadb, pytest.mark.mosquitto]
CENTRE, DEVICE = "centre-1", "kiosk-a07"  # the golden examples' identity


class FakeKiosk:
    """A raw MQTT v5 client that publishes what a test tells it and collects central's acks."""

    def __init__(self, broker: BrokerUrl) -> None:
        self.acks: list[Ack] = []
        self._got_ack = threading.Condition()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=DEVICE, protocol=mqtt.MQTTv5
        )
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(build(CENTRE, DEVICE, "ack"), qos=1)
        assert subscribed.wait(5)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        message = decode(msg.topic, bytes(msg.payload)).message
        assert isinstance(message, Ack)
        with self._got_ack:
            self.acks.append(message)
            self._got_ack.notify_all()

    def statuses(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for ack in self.acks:
            for result in ack.results:
                out.setdefault(str(result.id), []).append(result.status)
        return out

    def publish_and_wait_ack(self, topic: str, payload: bytes, ack_count: int) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)
        with self._got_ack:
            assert self._got_ack.wait_for(lambda: len(self.acks) >= ack_count, timeout=20), (
                f"no ack #{ack_count} from central"
            )

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def ingest(
    mosquitto_server: MosquittoInstance, mariadb_url: str, tmp_path: Path
) -> Iterator[p.IngestProcess]:
    p.migrate(mariadb_url)
    process = p.IngestProcess(mosquitto_server.url, mariadb_url, tmp_path / "ingest.log")
    process.start()
    yield process
    process.stop()


def _event_row(database_url: str, event_id: str) -> dict[str, object]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = (
                conn.execute(sa.text("SELECT * FROM events WHERE event_id = :i"), {"i": event_id})
                .mappings()
                .all()
            )
    finally:
        engine.dispose()
    assert len(rows) == 1
    return dict(rows[0])


def test_same_event_three_times_keeps_the_first_delivery(
    mosquitto_server: MosquittoInstance, mariadb_url: str, ingest: p.IngestProcess
) -> None:
    first = example("violation_ended", ViolationEvent)
    # Same id, different contents: a later copy must never overwrite the first.
    second = first.model_copy(update={"confidence": 0.11, "duration_s": 99.0})
    third = first.model_copy(update={"details": {"tampered": True}})
    kiosk = FakeKiosk(mosquitto_server.url)
    try:
        for n, message in enumerate((first, second, third), start=1):
            kiosk.publish_and_wait_ack(topic_for(message), encode(message), n)
    finally:
        kiosk.close()
    assert kiosk.statuses()[str(first.id)] == ["stored", "duplicate", "duplicate"]
    row = _event_row(mariadb_url, str(first.id))
    assert row["confidence"] == pytest.approx(0.91)
    assert row["duration_s"] == pytest.approx(14.0)
    assert "tampered" not in str(row["details"])
    assert p.count_rows(mariadb_url, "events") == 1


def _drain(outbox: Outbox, broker: BrokerUrl) -> None:
    settings = PublisherSettings(
        centre_id="centre-r", device_id="kiosk-replay", broker=broker, ack_timeout_s=5
    )
    publisher = Publisher(settings, outbox, SystemClock())
    publisher.start()
    try:
        deadline = time.monotonic() + 60
        while outbox.depth() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert outbox.depth() == 0, "outbox did not drain"
    finally:
        publisher.stop()
        publisher.join(10)


def test_replaying_an_outbox_stores_nothing_twice(
    mosquitto_server: MosquittoInstance,
    mariadb_url: str,
    ingest: p.IngestProcess,
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.sqlite3"
    clock = SystemClock()
    created: list[AckedMessage] = []
    with Outbox(path) as outbox:
        for _ in range(50):
            created.append(
                outbox.enqueue(
                    lambda id_, seq: example("answer", AnswerSaved).model_copy(
                        update={
                            "id": id_,
                            "seq": seq,
                            "centre_id": "centre-r",
                            "device_id": "kiosk-replay",
                            "clock": clock.now(),
                        }
                    )
                )
            )
    shutil.copy(path, tmp_path / "outbox-copy.sqlite3")  # a backup taken before delivery
    with Outbox(path) as outbox:
        _drain(outbox, mosquitto_server.url)
    shutil.copy(tmp_path / "outbox-copy.sqlite3", path)  # restore it: every row goes again
    with Outbox(path) as outbox:
        assert outbox.depth() == 50
        _drain(outbox, mosquitto_server.url)
    ids = [str(m.id) for m in created]
    p.assert_exactly_once(ids, p.stored_ids(mariadb_url))


def test_malformed_input_is_dead_lettered_and_nothing_else_is_lost(
    mosquitto_server: MosquittoInstance, mariadb_url: str, ingest: p.IngestProcess
) -> None:
    good = example("violation_started", ViolationEvent)
    body = json.loads(encode(good))
    topic = topic_for(good)
    other_device = build(CENTRE, "kiosk-b01", "event")
    bad_inputs = {
        "truncated": (topic, encode(good)[:-20]),
        "wrong version": (topic, json.dumps({**body, "schema_version": 2}).encode()),
        "unknown field": (topic, json.dumps({**body, "colour": "red"}).encode()),
        "10 MB": (topic, b'{"schema_version":1,"pad":"' + b"x" * (10 * 1024 * 1024) + b'"}'),
        "topic mismatch": (other_device, encode(good)),
    }
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="raw-sender", protocol=mqtt.MQTTv5)
    client.connect(mosquitto_server.url.host, mosquitto_server.url.port)
    client.loop_start()
    valid_ids = []
    try:
        for n, (bad_topic, payload) in enumerate(bad_inputs.values()):
            client.publish(bad_topic, payload, qos=1).wait_for_publish(20)
            # A valid event after each bad one: none of them may be lost.
            valid = good.model_copy(update={"id": uuid7(), "seq": n})
            client.publish(topic, encode(valid), qos=1).wait_for_publish(10)
            valid_ids.append(str(valid.id))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            p.count_rows(mariadb_url, "dead_letters") < len(bad_inputs)
            or len(p.stored_ids(mariadb_url)) < len(valid_ids)
        ):
            time.sleep(0.2)
    finally:
        client.loop_stop()
        client.disconnect()
    assert ingest.alive(), ingest.log_text()[-2000:]
    p.assert_exactly_once(valid_ids, p.stored_ids(mariadb_url))
    engine = sa.create_engine(mariadb_url)
    with engine.connect() as conn:
        letters = conn.execute(
            sa.text("SELECT reason_code, reason, payload_size FROM dead_letters ORDER BY id")
        ).all()
    engine.dispose()
    assert [r.reason_code for r in letters] == [
        "malformed",
        "schema_version",
        "schema",
        "payload_too_large",
        "topic_mismatch",
    ]
    assert "colour" in letters[2].reason
    assert letters[3].payload_size > 10 * 1024 * 1024
    assert all(r.reason for r in letters)
