"""The broker fails: stopped during a steady stream, and killed with SIGKILL while ingest is
offline and messages wait in its session. Real Mosquitto, MariaDB, ingest and simulator
processes; the ledger of every id the kiosks made is checked against the database."""

from __future__ import annotations

import time
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
from tests.support import pipeline as p
from tests.support.services import MosquittoInstance

pytestmark = [pytest.mark.mariadb, pytest.mark.mosquitto, pytest.mark.slow]
KIOSKS = 5
RATE = 10.0  # messages per second per kiosk


def test_broker_stopped_during_a_steady_stream(
    mosquitto_server: MosquittoInstance,
    database_url: str,
    ingest_factory: IngestFactory,
    dropped: DroppedCounter,
    tmp_path: Path,
) -> None:
    outage = seconds(5, 60)
    ingest = ingest_factory()
    per_kiosk = int(RATE * (outage + 6))
    sim = stream(mosquitto_server.url, tmp_path, kiosks=KIOSKS, per_kiosk=per_kiosk, rate=RATE)
    sim.start()
    try:
        wait_for(lambda: len(p.stored_ids(database_url)) >= 50, 20, "the stream to flow")
        mosquitto_server.stop()
        made_before = sim.created()
        time.sleep(outage)
        assert sim.created() > made_before, "kiosks stop making messages without a broker"
        mosquitto_server.start()
        sim.wait(outage + 120)
    finally:
        sim.stop_all()
    assert ingest.alive(), ingest.log_text()[-2000:]
    created = read_ledger(sim.ledger)
    assert len(created) == KIOSKS * per_kiosk
    assert_delivered_exactly_once(created, database_url, [sim.data_dir], KIOSKS)
    dropped.assert_none_dropped()


def test_broker_killed_while_ingest_is_offline(
    mosquitto_server: MosquittoInstance,
    database_url: str,
    ingest_factory: IngestFactory,
    dropped: DroppedCounter,
    tmp_path: Path,
) -> None:
    """What the broker had not saved when it died is lost with it; the kiosks still hold
    every message, resend after their ack timeout, and the database gets each one once."""
    ingest = ingest_factory()  # creates the persistent session and its subscriptions
    ingest.stop()
    per_kiosk = 60
    sim = stream(mosquitto_server.url, tmp_path, kiosks=KIOSKS, per_kiosk=per_kiosk, rate=40)
    sim.start()
    try:
        wait_for(lambda: sim.created() == KIOSKS * per_kiosk, 30, "all messages made")
        time.sleep(0.5)  # some saved by the 1 s autosave, the newest not yet
        assert p.stored_ids(database_url) == []
        mosquitto_server.kill()
        time.sleep(seconds(2, 30))
        mosquitto_server.start()
        ingest.start()
        sim.wait(120)
    finally:
        sim.stop_all()
    created = read_ledger(sim.ledger)
    assert_delivered_exactly_once(created, database_url, [sim.data_dir], KIOSKS)
    dropped.assert_none_dropped()
