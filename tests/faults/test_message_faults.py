"""Messages arrive wrongly: replayed three times from outbox backups, published by two
client ids at once, with the kiosk clock jumped; and an evidence upload cut at half."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from central.db import create_db_engine, make_sessionmaker
from central.services import EventFilters, list_events
from edge_agent.clock import SystemClock
from edge_agent.evidence import EvidenceStore, Outcome, Uploader, UploaderSettings
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher, PublisherSettings
from edge_agent.sim_script import KioskScript, SimIdentity
from protocol import Ack, DeviceClock, decode
from protocol.broker_url import BrokerUrl
from protocol.topics import build
from tests.edge_agent.evidence.central_server import PASSWORD, USER, CentralServer
from tests.faults.conftest import IngestFactory
from tests.faults.harness import DroppedCounter, assert_delivered_exactly_once, wait_for
from tests.faults.proxy import FaultProxy
from tests.support import pipeline as p
from tests.support.services import MosquittoInstance

CENTRE, DEVICE = "centre-t", "kiosk-replay"


class SteppedClock:
    """The real clock with wall time stepped by the test, as NTP or a dead RTC battery does;
    monotonic time and the boot id go on unchanged."""

    def __init__(self) -> None:
        self._real = SystemClock(synced_override=False, boot_id="boot-fault-1")
        self.offset = timedelta(0)

    @property
    def boot_id(self) -> str:
        return self._real.boot_id

    def monotonic(self) -> float:
        return self._real.monotonic()

    def now(self) -> DeviceClock:
        real = self._real.now()
        return real.model_copy(update={"wall_time": real.wall_time + self.offset})


def _fill(outbox: Outbox, script: KioskScript, count: int) -> list[str]:
    return [str(outbox.enqueue(script.next_factory()).id) for _ in range(count)]


def _script(clock: SystemClock | SteppedClock, seed: int) -> KioskScript:
    identity = SimIdentity(CENTRE, DEVICE, "seat-1", "sess-1", "cand-1", "exam-1")
    return KioskScript(identity, clock, random.Random(seed))


def _drain(outbox: Outbox, broker: BrokerUrl, clock: SystemClock | SteppedClock) -> None:
    settings = PublisherSettings(centre_id=CENTRE, device_id=DEVICE, broker=broker, ack_timeout_s=5)
    publisher = Publisher(settings, outbox, clock)
    publisher.start()
    try:
        wait_for(lambda: outbox.depth() == 0, 60, "the outbox to drain")
    finally:
        publisher.stop()
        publisher.join(10)


class CloneSender:
    """Publishes a copy of an outbox under another MQTT client id and collects the acks."""

    def __init__(self, broker: BrokerUrl) -> None:
        self.statuses: dict[str, str] = {}
        self._changed = threading.Condition()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"{DEVICE}-clone", protocol=mqtt.MQTTv5
        )
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(build(CENTRE, DEVICE, "ack"), qos=1)
        assert subscribed.wait(10)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        ack = decode(msg.topic, bytes(msg.payload)).message
        assert isinstance(ack, Ack)
        with self._changed:
            self.statuses.update({str(r.id): r.status for r in ack.results})
            self._changed.notify_all()

    def send_all(self, outbox: Outbox) -> None:
        for row in outbox.pending(10_000):
            self.client.publish(row.topic, row.payload, qos=1).wait_for_publish(10)

    def wait_acked(self, ids: list[str]) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: set(ids) <= self.statuses.keys(), 60)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.mark.mariadb
@pytest.mark.mosquitto
def test_replayed_three_times_by_two_client_ids(
    mosquitto_server: MosquittoInstance,
    database_url: str,
    ingest_factory: IngestFactory,
    dropped: DroppedCounter,
    tmp_path: Path,
) -> None:
    ingest_factory("ingest-1"), ingest_factory("ingest-2")
    broker, clock = mosquitto_server.url, SystemClock(synced_override=True)
    path = tmp_path / "outbox.sqlite3"
    with Outbox(path) as outbox:
        created = _fill(outbox, _script(clock, 1), 200)
    backups = [tmp_path / f"backup-{n}.sqlite3" for n in (1, 2)]
    for backup in backups:
        shutil.copy(path, backup)
    with Outbox(path) as outbox:
        _drain(outbox, broker, clock)  # first delivery
    shutil.copy(backups[0], path)
    clone = CloneSender(broker)
    try:
        with Outbox(path) as replay, Outbox(backups[1]) as copy:
            # Second and third delivery at the same time: the kiosk's own client id and a
            # clone's, through two ingest workers on the shared subscription.
            sender = threading.Thread(target=clone.send_all, args=(copy,))
            sender.start()
            _drain(replay, broker, clock)
            sender.join(60)
        clone.wait_acked(created)
    finally:
        clone.close()
    assert set(clone.statuses.values()) == {"duplicate"}
    p.assert_exactly_once(created, p.stored_ids(database_url))
    assert_delivered_exactly_once(created, database_url, [], 1)
    dropped.assert_none_dropped()


@pytest.mark.mariadb
@pytest.mark.mosquitto
def test_clock_jumps_are_stored_and_ordered_by_boot_and_monotonic_time(
    mosquitto_server: MosquittoInstance,
    database_url: str,
    ingest_factory: IngestFactory,
    tmp_path: Path,
) -> None:
    ingest_factory()
    clock = SteppedClock()
    script = _script(clock, 2)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    created: list[str] = []
    with Outbox(tmp_path / "outbox.sqlite3") as outbox:
        for offset in (
            timedelta(0),
            timedelta(minutes=10),
            timedelta(minutes=10) - timedelta(days=1),
            epoch - datetime.now(UTC),  # a Pi that booted without time sync
        ):
            clock.offset = offset
            created += _fill(outbox, script, 40)
            while script.open_violation:  # the simulator dates violations by wall time
                created += _fill(outbox, script, 1)
            time.sleep(0.01)
        _drain(outbox, mosquitto_server.url, clock)
    assert_delivered_exactly_once(created, database_url, [], 1)
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        by_clock = conn.execute(
            sa.text("SELECT seq, device_time FROM events ORDER BY boot_id, monotonic_s")
        ).all()
        by_wall = conn.execute(sa.text("SELECT seq FROM events ORDER BY device_time")).all()
        years = conn.execute(sa.text("SELECT DISTINCT YEAR(device_time) FROM events")).all()
    engine.dispose()
    seqs = [row.seq for row in by_clock]
    assert seqs == sorted(seqs), "boot id and monotonic time do not give the creation order"
    assert [row.seq for row in by_wall] != seqs, "the wall clock never jumped"
    assert {y for (y,) in years} >= {1970, datetime.now(UTC).year}
    api_engine = create_db_engine(database_url)
    with make_sessionmaker(api_engine)() as session:
        page = list_events(session, EventFilters(), limit=500)
    api_engine.dispose()
    assert [e.seq for e in page.items] == seqs, "the API lists events out of creation order"


@pytest.fixture
def central(tmp_path: Path) -> Iterator[CentralServer]:
    server = CentralServer(tmp_path / "central").start()
    yield server
    server.stop()


def test_evidence_upload_cut_at_half_then_retried(central: CentralServer, tmp_path: Path) -> None:
    proxy = FaultProxy(central.port).start()
    store = EvidenceStore(tmp_path / "kiosk")
    try:
        clip = b"\x1a\x45\xdf\xa3" + os.urandom(2 * 1024 * 1024)
        item = store.add_bytes(clip, "video/webm", "clip")
        settings = UploaderSettings(
            base_url=f"http://127.0.0.1:{proxy.port}",
            device_id="kiosk-7",
            username=USER,
            password=PASSWORD,
            timeout_s=10,
        )
        uploader = Uploader(store, settings)
        proxy.cut_uploads_after(len(clip) // 2)
        outcome, detail = uploader.upload(item)
        assert outcome is Outcome.RETRY, detail
        assert proxy.stats.cuts == 1
        assert central.stored() == {}
        leftovers = [f for f in central.evidence_dir.rglob("*") if f.is_file()]
        assert leftovers == [], "a half upload left a file behind"
        assert store.backlog() == 1, "the kiosk forgot the clip"
        proxy.heal()
        assert uploader.upload_round()
        stored = central.stored()
        assert list(stored) == [item.sha256]
        on_disk = central.evidence_dir / stored[item.sha256].stored_path
        assert hashlib.sha256(on_disk.read_bytes()).hexdigest() == item.sha256
        assert store.backlog() == 0
    finally:
        store.close()
        proxy.stop()
