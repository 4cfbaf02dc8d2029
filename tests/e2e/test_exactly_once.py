"""Acceptance: events from simulated kiosks reach the database exactly once, through the real
outbox, the real broker and the real ingest process, on MariaDB + Mosquitto and on the demo's
SQLite + embedded broker."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from protocol.broker_url import BrokerUrl
from tests.support import pipeline as p
from tests.support.services import ROOT, MosquittoInstance

KIOSKS = 20
PER_KIOSK = 100


def _run_and_check(broker: BrokerUrl, database_url: str, tmp_path: Path, share_group: str) -> None:
    p.migrate(database_url)
    ingest = p.IngestProcess(broker, database_url, tmp_path / "ingest.log", share_group=share_group)
    ingest.start()
    try:
        data_dir, ledger = tmp_path / "kiosks", tmp_path / "ledger.txt"
        sim = p.run_simulator(
            p.simulator_args(broker, data_dir, ledger, kiosks=KIOSKS, per_kiosk=PER_KIOSK)
        )
        assert sim.returncode == 0, sim.output[-3000:]
        assert ingest.alive(), ingest.log_text()[-3000:]
    finally:
        ingest.stop()
    created = p.ledger_ids(ledger)
    assert len(created) == KIOSKS * PER_KIOSK
    stored = p.stored_ids(database_url)
    p.assert_exactly_once(created, stored)
    assert len(stored) == KIOSKS * PER_KIOSK
    depths = p.outbox_depths(data_dir)
    assert len(depths) == KIOSKS
    assert set(depths.values()) == {0}, depths
    assert p.count_rows(database_url, "dead_letters") == 0


@pytest.mark.mariadb
@pytest.mark.mosquitto
@pytest.mark.slow
def test_2000_events_from_20_kiosks_mosquitto_mariadb(
    mosquitto_server: MosquittoInstance, mariadb_url: str, tmp_path: Path
) -> None:
    _run_and_check(mosquitto_server.url, mariadb_url, tmp_path, share_group="ingest")


@pytest.mark.slow
def test_2000_events_from_20_kiosks_embedded_broker_sqlite(
    amqtt_broker: BrokerUrl, sqlite_url: str, tmp_path: Path
) -> None:
    # The demo's configuration: amqtt speaks MQTT 3.1.1 and has no shared subscriptions.
    _run_and_check(amqtt_broker, sqlite_url, tmp_path, share_group="")


@pytest.mark.mariadb
@pytest.mark.mosquitto
@pytest.mark.slow
def test_ingest_stopped_while_kiosks_publish_then_restarted(
    mosquitto_server: MosquittoInstance, mariadb_url: str, tmp_path: Path
) -> None:
    """Kiosks publish while ingest is down; the broker keeps them in ingest's persistent
    session. The kiosks keep running with a 10-minute ack timeout, so nothing is resent:
    what arrives after the restart came from the broker session."""
    broker = mosquitto_server.url
    p.migrate(mariadb_url)
    ingest = p.IngestProcess(broker, mariadb_url, tmp_path / "ingest.log")
    ingest.start()  # creates the persistent session and its subscription
    ingest.stop()
    data_dir, ledger = tmp_path / "kiosks", tmp_path / "ledger.txt"
    args = p.simulator_args(
        broker,
        data_dir,
        ledger,
        kiosks=5,
        per_kiosk=40,
        drain_timeout=120,
        extra=("--ack-timeout", "600"),
    )
    sim = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: ledger.exists() and len(p.ledger_ids(ledger)) == 200, 60)
        time.sleep(2)  # let the publishers hand everything to the broker
        assert p.stored_ids(mariadb_url) == []
        assert sum(p.outbox_depths(data_dir).values()) == 200
        ingest.start()
        output = sim.communicate(timeout=90)[0].decode(errors="replace")
    finally:
        if sim.poll() is None:
            sim.kill()
        ingest.stop()
    assert sim.returncode == 0, output[-3000:]
    assert '"resent":0' in output, output[-500:]
    p.assert_exactly_once(p.ledger_ids(ledger), p.stored_ids(mariadb_url))
    assert set(p.outbox_depths(data_dir).values()) == {0}


def _wait_for(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)
