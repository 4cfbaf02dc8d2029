"""The kiosk side fails: the agent killed mid-burst and restarted, the network to the broker
blackholed (half-open TCP) and then lossy. Real Mosquitto, MariaDB, ingest and simulator
processes; kiosks reach the broker through a fault-injecting TCP proxy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.broker_url import BrokerUrl
from tests.faults.conftest import IngestFactory
from tests.faults.harness import (
    DroppedCounter,
    assert_delivered_exactly_once,
    outbox_ids,
    read_ledger,
    seconds,
    stream,
    wait_for,
)
from tests.faults.proxy import FaultProxy
from tests.support import pipeline as p
from tests.support.services import MosquittoInstance

pytestmark = [pytest.mark.mariadb, pytest.mark.mosquitto, pytest.mark.slow]


@pytest.fixture
def proxy(mosquitto_server: MosquittoInstance) -> Iterator[FaultProxy]:
    proxy = FaultProxy(mosquitto_server.port).start()
    yield proxy
    proxy.stop()


def test_kiosk_killed_mid_burst_then_restarted(
    mosquitto_server: MosquittoInstance,
    database_url: str,
    ingest_factory: IngestFactory,
    dropped: DroppedCounter,
    tmp_path: Path,
) -> None:
    ingest_factory()
    kiosks = 5
    sim = stream(mosquitto_server.url, tmp_path, kiosks=kiosks, per_kiosk=400, rate=0)
    sim.start()
    try:
        wait_for(lambda: sim.created() >= 300, 30, "the burst to be under way")
        sim.kill()
        made_before_kill = sim.created()
        assert made_before_kill < kiosks * 400, "the burst ended before the kill"
        # Committed to an outbox but killed before its ledger line: still created.
        orphans = outbox_ids(sim.data_dir)
        sim.start()  # same data dir and device ids: the same outboxes
        sim.wait(120)
    finally:
        sim.stop_all()
    created = sorted(set(read_ledger(sim.ledger)) | orphans)
    assert len(created) > kiosks * 400
    assert_delivered_exactly_once(created, database_url, [sim.data_dir], kiosks)
    dropped.assert_none_dropped()


def test_network_blackholed_then_healed(
    mosquitto_server: MosquittoInstance,
    database_url: str,
    ingest_factory: IngestFactory,
    dropped: DroppedCounter,
    proxy: FaultProxy,
    tmp_path: Path,
) -> None:
    """Half-open TCP for longer than 1.5 keepalives: the kiosks must notice on their own,
    reconnect (into the blackhole) and deliver everything once the path heals."""
    ingest_factory()
    outage, kiosks, rate = seconds(8, 300), 5, 5.0
    per_kiosk = int(rate * (outage + 6))
    through_proxy = BrokerUrl(host="127.0.0.1", port=proxy.port)
    sim = stream(
        through_proxy,
        tmp_path,
        kiosks=kiosks,
        per_kiosk=per_kiosk,
        rate=rate,
        extra=("--keepalive", "2"),
    )
    sim.start()
    try:
        wait_for(lambda: len(p.stored_ids(database_url)) >= 20, 30, "the stream to flow")
        proxy.blackhole()
        time.sleep(1)  # whatever was in flight settles
        stored = len(p.stored_ids(database_url))
        time.sleep(outage)
        assert len(p.stored_ids(database_url)) == stored, "the blackhole let messages through"
        proxy.heal()
        sim.wait(outage + 120)
    finally:
        sim.stop_all()
    assert proxy.stats.connections > kiosks, "no kiosk reconnected after the keepalive"
    assert "disconnected" in sim.log.read_text(), "the kiosks never noticed the dead link"
    created = read_ledger(sim.ledger)
    assert len(created) == kiosks * per_kiosk
    assert_delivered_exactly_once(created, database_url, [sim.data_dir], kiosks)
    dropped.assert_none_dropped()


def test_ten_percent_packet_loss(
    mosquitto_server: MosquittoInstance,
    database_url: str,
    ingest_factory: IngestFactory,
    dropped: DroppedCounter,
    proxy: FaultProxy,
    tmp_path: Path,
) -> None:
    ingest_factory()
    duration, kiosks, rate = seconds(8, 120), 5, 5.0
    per_kiosk = int(rate * duration)
    proxy.set_loss(0.10)
    through_proxy = BrokerUrl(host="127.0.0.1", port=proxy.port)
    sim = stream(through_proxy, tmp_path, kiosks=kiosks, per_kiosk=per_kiosk, rate=rate)
    sim.start()
    try:
        time.sleep(duration)
        proxy.heal()
        sim.wait(120)
    finally:
        sim.stop_all()
    assert proxy.stats.lost_chunks > 0, "no loss was injected"
    created = read_ledger(sim.ledger)
    assert len(created) == kiosks * per_kiosk
    assert_delivered_exactly_once(created, database_url, [sim.data_dir], kiosks)
    dropped.assert_none_dropped()
