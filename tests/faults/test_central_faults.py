"""Central fails: ingest killed between receiving a batch and committing it, the database
locked or stopped during a burst, one of two ingest workers offline. Real Mosquitto, MariaDB,
ingest and simulator processes; the ledger is checked against the database."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.conftest import IngestFactory
from tests.faults.harness import (
    DroppedCounter,
    assert_delivered_exactly_once,
    read_ledger,
    seconds,
    stream,
    wait_for,
)
from tests.faults.tables import TableLock
from tests.support import pipeline as p
from tests.support.services import MariaDBServer, MosquittoInstance, run_sql

pytestmark = [pytest.mark.mariadb, pytest.mark.mosquitto, pytest.mark.slow]


def test_ingest_killed_between_receiving_and_committing(
    mosquitto_server: MosquittoInstance,
    database_url: str,
    ingest_factory: IngestFactory,
    dropped: DroppedCounter,
    tmp_path: Path,
) -> None:
    """The tables are locked, so ingest receives the burst and blocks inside its transaction;
    SIGKILL then ends it before any commit. Nothing was acked: the broker redelivers to the
    restarted worker and the kiosks resend."""
    ingest = ingest_factory()
    lock = TableLock(database_url)
    sim = stream(mosquitto_server.url, tmp_path, kiosks=5, per_kiosk=200, rate=0)
    try:
        sim.start()
        wait_for(lambda: lock.waiters() > 0, 30, "ingest to block inside a transaction")
        wait_for(lambda: sim.created() == 1000, 30, "the burst to be made")
        ingest.stop(signal.SIGKILL)
        lock.release()
        assert p.stored_ids(database_url) == [], "a batch was committed before the kill"
        ingest.start()
        sim.wait(120)
    finally:
        sim.stop_all()
    assert_delivered_exactly_once(read_ledger(sim.ledger), database_url, [sim.data_dir], 5)
    dropped.assert_none_dropped()


def test_database_locked_during_a_burst(
    mosquitto_server: MosquittoInstance,
    database_url: str,
    ingest_factory: IngestFactory,
    dropped: DroppedCounter,
    tmp_path: Path,
) -> None:
    ingest = ingest_factory()
    kiosks, per_kiosk = 10, int(seconds(200, 500))  # 2,000 events; 5,000 with the full run
    sim = stream(mosquitto_server.url, tmp_path, kiosks=kiosks, per_kiosk=per_kiosk, rate=0)
    sim.start()
    try:
        wait_for(lambda: len(p.stored_ids(database_url)) > 0, 30, "the burst to flow")
        lock = TableLock(database_url)
        wait_for(lambda: lock.waiters() > 0, 30, "ingest to wait for the lock")
        time.sleep(seconds(5, 30))
        lock.release()
        sim.wait(240)
    finally:
        sim.stop_all()
    assert ingest.alive(), ingest.log_text()[-2000:]
    created = read_ledger(sim.ledger)
    assert len(created) == kiosks * per_kiosk
    assert_delivered_exactly_once(created, database_url, [sim.data_dir], kiosks)
    dropped.assert_none_dropped()


@pytest.fixture
def own_mariadb(tmp_path: Path) -> Iterator[MariaDBServer]:
    """A MariaDB of this test alone, which it stops and starts."""
    server = MariaDBServer(tmp_path / "mariadb")
    server.start()
    yield server
    server.stop()


def test_database_stopped_during_a_burst(
    mosquitto_server: MosquittoInstance,
    own_mariadb: MariaDBServer,
    dropped: DroppedCounter,
    tmp_path: Path,
) -> None:
    run_sql(own_mariadb.root_url(), "CREATE DATABASE proctor CHARACTER SET utf8mb4")
    database_url = own_mariadb.root_url("proctor")
    p.migrate(database_url)
    ingest = p.IngestProcess(mosquitto_server.url, database_url, tmp_path / "ingest.log")
    ingest.start()
    kiosks, per_kiosk = 10, int(seconds(200, 500))
    sim = stream(mosquitto_server.url, tmp_path, kiosks=kiosks, per_kiosk=per_kiosk, rate=0)
    sim.start()
    try:
        wait_for(lambda: len(p.stored_ids(database_url)) > 0, 30, "the burst to flow")
        own_mariadb.stop()
        time.sleep(seconds(5, 30))
        own_mariadb.start()
        sim.wait(240)
    finally:
        sim.stop_all()
        ingest.stop()
    assert "database unavailable" in ingest.log_text(), "the outage was not seen by ingest"
    created = read_ledger(sim.ledger)
    assert len(created) == kiosks * per_kiosk
    assert_delivered_exactly_once(created, database_url, [sim.data_dir], kiosks)
    dropped.assert_none_dropped()


def test_one_of_two_ingest_workers_offline(
    mosquitto_server: MosquittoInstance,
    database_url: str,
    ingest_factory: IngestFactory,
    dropped: DroppedCounter,
    tmp_path: Path,
) -> None:
    """Two workers on the shared subscription; one is killed and comes back later. The
    stream keeps reaching the database through the other one meanwhile."""
    first, second = ingest_factory("ingest-1"), ingest_factory("ingest-2")
    outage, kiosks, rate = seconds(6, 120), 5, 10.0
    per_kiosk = int(rate * (outage + 6))
    sim = stream(mosquitto_server.url, tmp_path, kiosks=kiosks, per_kiosk=per_kiosk, rate=rate)
    sim.start()
    try:
        wait_for(lambda: len(p.stored_ids(database_url)) >= 50, 30, "the stream to flow")
        second.stop(signal.SIGKILL)
        stored_at_kill = len(p.stored_ids(database_url))
        time.sleep(outage)
        assert len(p.stored_ids(database_url)) > stored_at_kill + rate * kiosks * outage / 4
        second.start()
        sim.wait(outage + 120)
    finally:
        sim.stop_all()
    assert first.alive()
    assert second.alive()
    created = read_ledger(sim.ledger)
    assert len(created) == kiosks * per_kiosk
    assert_delivered_exactly_once(created, database_url, [sim.data_dir], kiosks)
    dropped.assert_none_dropped()
