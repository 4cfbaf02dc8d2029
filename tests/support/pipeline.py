"""Run the real processes of the delivery path (ingest, simulated kiosks) and inspect what
they left behind: the ledger of ids the kiosks created, the rows central stored, the outboxes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from protocol.broker_url import BrokerUrl
from tests.support.services import ROOT


def _env(database_url: str, broker: BrokerUrl) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PROCTOR_DATABASE_URL": database_url,
            "PROCTOR_BROKER_URL": broker.to_url(redact=False),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def migrate(database_url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "central", "--database-url", database_url, "migrate"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )


class IngestProcess:
    """`python -m central.ingest` as its own process, exactly as deployed."""

    def __init__(
        self,
        broker: BrokerUrl,
        database_url: str,
        log_path: Path,
        *,
        client_id: str = "ingest-test-1",
        share_group: str = "ingest",
    ) -> None:
        self.log_path = log_path
        self.args = [
            sys.executable,
            "-m",
            "central.ingest",
            "--client-id",
            client_id,
            "--share-group",
            share_group,
        ]
        self.env = _env(database_url, broker)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if "subscribed to" in self.log_path.read_text(errors="replace")[offset:]:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"ingest did not subscribe; log:\n{self.log_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass(frozen=True)
class SimResult:
    returncode: int
    output: str


def simulator_args(
    broker: BrokerUrl,
    data_dir: Path,
    ledger: Path,
    *,
    kiosks: int,
    per_kiosk: int,
    drain_timeout: float = 240,
    extra: tuple[str, ...] = (),
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "edge_agent",
        "simulate",
        "--kiosks",
        str(kiosks),
        "--events-per-kiosk",
        str(per_kiosk),
        "--rate",
        "0",
        "--broker-url",
        broker.to_url(redact=False),
        "--centre",
        "centre-t",
        "--data-dir",
        str(data_dir),
        "--ledger",
        str(ledger),
        "--drain-timeout",
        str(drain_timeout),
        "--seed",
        "7",
        *extra,
    ]


def run_simulator(args: list[str], timeout_s: float = 400) -> SimResult:
    result = subprocess.run(args, cwd=ROOT, capture_output=True, timeout=timeout_s, check=False)
    return SimResult(result.returncode, (result.stdout + result.stderr).decode(errors="replace"))


def ledger_ids(ledger: Path) -> list[str]:
    """Ids in the order the kiosks created them ('<device_id> <id> <seq> <kind>' per line)."""
    return [line.split()[1] for line in ledger.read_text().splitlines() if line.strip()]


def stored_ids(database_url: str) -> list[str]:
    """Every acknowledged-kind message id central holds (events and session/receipt messages)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            events = conn.execute(sa.text("SELECT event_id FROM events")).scalars().all()
            others = conn.execute(sa.text("SELECT message_id FROM device_messages")).scalars()
            return [*events, *others.all()]
    finally:
        engine.dispose()


def count_rows(database_url: str, table: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def outbox_depths(data_dir: Path) -> dict[str, int]:
    depths = {}
    for path in sorted(data_dir.glob("*/outbox.sqlite3")):
        with sqlite3.connect(path) as conn:
            depths[path.parent.name] = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    return depths


def assert_exactly_once(created: list[str], stored: list[str]) -> None:
    """None missing, none twice, none unknown."""
    twice = [i for i, n in Counter(stored).items() if n > 1]
    missing = set(created) - set(stored)
    unknown = set(stored) - set(created)
    assert not twice, f"{len(twice)} ids stored twice, e.g. {twice[:3]}"
    assert not missing, f"{len(missing)} ids missing, e.g. {sorted(missing)[:3]}"
    assert not unknown, f"{len(unknown)} unknown ids stored, e.g. {sorted(unknown)[:3]}"
