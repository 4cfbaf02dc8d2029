"""What every fault test needs: fault durations, a stream of simulated kiosks as its own
process, the broker's dropped-message counter, and the final exactly-once check."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from protocol.broker_url import BrokerUrl
from tests.support import pipeline as p
from tests.support.services import ROOT

LONG_FAULTS_ENV = "PROCTOR_LONG_FAULTS"
DROPPED_TOPIC = "$SYS/broker/publish/messages/dropped"


def long_faults() -> bool:
    """The issue's full durations (minutes) instead of the seconds the default suite uses."""
    return os.environ.get(LONG_FAULTS_ENV, "") in ("1", "true", "yes")


def seconds(short: float, full: float) -> float:
    return full if long_faults() else short


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {what}"
        time.sleep(0.1)


class DroppedCounter:
    """Follows `$SYS/broker/publish/messages/dropped` across broker restarts: the broker
    publishes it (retained) when it changes, at most every sys_interval, and hands the
    retained copy to each new subscription, so reconnecting re-reads it."""

    def __init__(self, broker: BrokerUrl) -> None:
        self.readings: list[int] = []
        self._lock = threading.Condition()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="fault-dropped-monitor", protocol=mqtt.MQTTv5
        )
        self._client.on_connect = lambda c, *_a: c.subscribe(DROPPED_TOPIC, qos=0)
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(1, 1)
        self._client.connect_async(broker.host, broker.port, keepalive=5)
        self._client.loop_start()
        with self._lock:
            assert self._lock.wait_for(lambda: self.readings, 10), "no $SYS dropped counter"

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.readings.append(int(msg.payload))
            self._lock.notify_all()

    def assert_none_dropped(self) -> None:
        """A fresh reading is taken, and no reading of any broker lifetime was above 0."""
        with self._lock:
            seen = len(self.readings)
        # The broker republishes the counter only when it changes; subscribing again hands us
        # the retained copy of the current broker's value.
        self._client.subscribe(DROPPED_TOPIC, qos=0)
        with self._lock:
            assert self._lock.wait_for(lambda: len(self.readings) > seen, 10), "no fresh reading"
            readings = list(self.readings)
        assert max(readings) == 0, f"the broker dropped messages: {readings[-5:]}"

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@dataclass
class Stream:
    """`python -m edge_agent simulate` as its own process: real outboxes and publishers."""

    data_dir: Path
    ledger: Path
    args: list[str]
    log: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> Stream:
        with self.log.open("ab") as out:
            self.procs.append(
                subprocess.Popen(self.args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
            )
        return self

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        return self.procs[-1]

    def created(self) -> int:
        return len(read_ledger(self.ledger)) if self.ledger.exists() else 0

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def wait(self, timeout_s: float) -> None:
        """Wait for the simulator to drain and exit; fail with its log otherwise."""
        try:
            code = self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"simulator still running; log:\n{self.tail()}") from None
        assert code == 0, f"simulator exited with {code}; log:\n{self.tail()}"

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def stream(
    broker: BrokerUrl,
    workdir: Path,
    *,
    kiosks: int,
    per_kiosk: int,
    rate: float,
    ack_timeout_s: float = 5,
    extra: tuple[str, ...] = (),
) -> Stream:
    """A bounded stream: each kiosk makes `per_kiosk` messages at `rate` per second (0: flat
    out), then the simulator waits until every outbox is empty and exits 0."""
    data_dir, ledger = workdir / "kiosks", workdir / "ledger.txt"
    args = p.simulator_args(
        broker,
        data_dir,
        ledger,
        kiosks=kiosks,
        per_kiosk=per_kiosk,
        drain_timeout=600,
        extra=("--ack-timeout", str(ack_timeout_s), *extra),
    )
    args[args.index("--rate") + 1] = str(rate)
    return Stream(data_dir, ledger, args, workdir / "simulator.log")


def read_ledger(ledger: Path) -> list[str]:
    """Ids in the ledger; a last line cut by SIGKILL is ignored (see `outbox_ids`)."""
    text = ledger.read_text()
    lines = text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]
    return [line.split()[1] for line in lines if line.strip()]


def outbox_ids(data_dir: Path) -> set[str]:
    """Ids still waiting in the kiosks' outboxes. A simulator killed between committing a
    message and writing its ledger line leaves such an id here and nowhere else."""
    ids: set[str] = set()
    for path in sorted(data_dir.glob("*/outbox.sqlite3")):
        with sqlite3.connect(path) as conn:
            ids.update(row[0] for row in conn.execute("SELECT id FROM outbox"))
    return ids


def stored_seqs(database_url: str) -> dict[str, list[int]]:
    engine = sa.create_engine(database_url)
    seqs: dict[str, list[int]] = defaultdict(list)
    try:
        with engine.connect() as conn:
            for table in ("events", "device_messages"):
                rows = conn.execute(sa.text(f"SELECT device_id, seq FROM {table}"))
                for device_id, seq in rows:
                    seqs[device_id].append(int(seq))
    finally:
        engine.dispose()
    return seqs


def assert_delivered_exactly_once(
    created: list[str], database_url: str, data_dirs: list[Path], kiosks: int
) -> None:
    """None missing, none twice, none unknown; every device's seqs run 0..n-1 without a gap;
    every outbox is empty; nothing was dead-lettered."""
    stored = p.stored_ids(database_url)
    p.assert_exactly_once(created, stored)
    seqs = stored_seqs(database_url)
    assert len(seqs) == kiosks, sorted(seqs)
    for device_id, device_seqs in seqs.items():
        assert sorted(device_seqs) == list(range(len(device_seqs))), f"{device_id} has gaps"
    for data_dir in data_dirs:
        depths = p.outbox_depths(data_dir)
        assert set(depths.values()) <= {0}, depths
    assert p.count_rows(database_url, "dead_letters") == 0
