"""Load benchmark: simulated kiosks against a private Mosquitto and MariaDB with W ingest
workers, every message checked against the database at the end.

    python -m benchmarks.load --kiosks 200 --rate 1 --seconds 20 --workers 2
    python -m benchmarks.load --kiosks 50 --seconds 20 --workers 2 --burst

Kiosks run as `python -m edge_agent simulate` processes (many kiosks per process, each with its
own client id, SQLite outbox and publisher). Steady mode: each kiosk makes `rate` messages a
second for `seconds`. Burst mode: each makes messages as fast as its outbox commits for
`seconds`; the rate of commits over the middle 80 % of the run is the sustained maximum.
Latency is the kiosk's creation time (its wall clock, the same machine here) to central's
`received_at`, taken inside the transaction that commits the message.

The last line is JSON: sent, stored, lost, duplicated, events_per_s, p50_ms, p99_ms,
broker_cpu, ingest_cpu and kiosk_cpu (percent of one core; all workers, all simulated kiosks
together), the machine's cpu_count, and the settings.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa

from edge_agent.simulate import MAX_KIOSKS_PER_PROCESS
from protocol.broker_url import BrokerUrl
from tests.support import pipeline as p
from tests.support.services import ROOT, MariaDBServer, MosquittoInstance, run_sql

KIOSKS_PER_PROCESS = MAX_KIOSKS_PER_PROCESS


@dataclass(frozen=True)
class LoadOptions:
    kiosks: int
    rate: float
    seconds: float
    workers: int
    burst: bool
    database_url: str | None
    kiosks_per_process: int
    kiosk_dir: Path | None = None  # where the kiosks' outboxes live (default: the work dir)


def parse_args(argv: list[str] | None = None) -> LoadOptions:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    add = parser.add_argument
    add("--kiosks", type=int, default=100, help="simulated kiosks (distinct client ids)")
    add("--rate", type=float, default=1.0, help="messages per second per kiosk (steady mode)")
    add("--seconds", type=float, default=20.0, help="how long the kiosks produce")
    add("--workers", type=int, default=2, help="ingest worker processes (shared subscription)")
    add("--burst", action="store_true", help="kiosks produce flat out: find the maximum")
    add("--database-url", help="an existing empty MySQL/MariaDB database; default: private")
    add("--kiosks-per-process", type=int, default=KIOSKS_PER_PROCESS, help="kiosks per process")
    add(
        "--kiosk-dir",
        type=Path,
        help="put the simulated kiosks' outboxes here, e.g. /dev/shm: in a centre each kiosk "
        "commits to its own disk, here they would all queue on one (see docs/benchmarks.md)",
    )
    args = parser.parse_args(argv)
    if args.kiosks < 1 or args.workers < 1 or args.seconds <= 0 or args.rate <= 0:
        parser.error("--kiosks, --workers, --seconds and --rate must be positive")
    return LoadOptions(
        args.kiosks,
        args.rate,
        args.seconds,
        args.workers,
        args.burst,
        args.database_url,
        max(1, min(args.kiosks_per_process, MAX_KIOSKS_PER_PROCESS)),
        args.kiosk_dir,
    )


def _kiosk_args(
    options: LoadOptions, broker: BrokerUrl, workdir: Path, index: int, count: int
) -> list[str]:
    return [
        sys.executable, "-m", "edge_agent", "--log-level", "WARNING", "simulate",
        "--kiosks", str(count),
        "--rate", "0" if options.burst else str(options.rate),
        "--seconds", str(options.seconds),
        "--broker-url", broker.to_url(redact=False),
        "--centre", "centre-load",
        "--data-dir", str((options.kiosk_dir or workdir) / f"kiosks-{index}"),
        "--ledger", str(workdir / f"ledger-{index}.txt"),
        "--prefix", f"load-p{index}",
        "--drain-timeout", "600",
        "--ack-timeout", str(options.seconds + 60 if options.burst else 30),
        "--heartbeat-interval", "10",
        "--seed", str(index),
    ]  # fmt: skip


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _latencies_and_commits(database_url: str) -> tuple[list[float], list[datetime]]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT device_time, received_at FROM events"
                    " UNION ALL SELECT device_time, received_at FROM device_messages"
                )
            ).all()
    finally:
        engine.dispose()
    latencies = [(r.received_at - r.device_time).total_seconds() * 1000 for r in rows]
    return latencies, sorted(r.received_at for r in rows)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def _events_per_s(commits: list[datetime], burst: bool) -> float:
    """Steady: all commits over the time they span. Burst: the middle 80 % of commits, so
    the ramp-up and the tail do not dilute the sustained maximum."""
    if len(commits) < 2:
        return 0.0
    lo, hi = (len(commits) // 10, len(commits) * 9 // 10) if burst else (0, len(commits) - 1)
    span = (commits[hi] - commits[lo]).total_seconds()
    return (hi - lo) / span if span > 0 else 0.0


def _ledger_ids(workdir: Path) -> list[str]:
    ids: list[str] = []
    for ledger in sorted(workdir.glob("ledger-*.txt")):
        ids += p.ledger_ids(ledger)
    return ids


def _start_kiosks(
    options: LoadOptions, broker: BrokerUrl, workdir: Path
) -> list[subprocess.Popen[bytes]]:
    kiosks: list[subprocess.Popen[bytes]] = []
    remaining, index = options.kiosks, 0
    while remaining > 0:
        count = min(remaining, options.kiosks_per_process)
        index += 1
        with (workdir / f"kiosks-{index}.log").open("wb") as log:
            kiosks.append(
                subprocess.Popen(
                    _kiosk_args(options, broker, workdir, index, count),
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        remaining -= count
    return kiosks


def _start_workers(workers: list[p.IngestProcess]) -> list[int]:
    for worker in workers:
        worker.start()
    return [w.proc.pid for w in workers if w.proc is not None]


def measure(options: LoadOptions, database_url: str, workdir: Path) -> dict[str, Any]:
    """Steady: workers first, then kiosks. Burst: kiosks fill their outboxes and the
    broker's queue flat out first, then the workers start, so the commit rate is central's
    own maximum and not the kiosks' (each outbox commit waits for an fsync)."""
    broker = MosquittoInstance(workdir / "mosquitto")
    broker.start()
    workers = [
        p.IngestProcess(
            broker.url, database_url, workdir / f"ingest-{n}.log", client_id=f"ingest-{n}"
        )
        for n in range(1, options.workers + 1)
    ]
    kiosks: list[subprocess.Popen[bytes]] = []
    assert broker.proc is not None
    try:
        if options.burst:
            for worker in workers:  # create the sessions that queue messages meanwhile
                worker.start()
                worker.stop()
            children_before, kiosks_started = _children_cpu(), time.monotonic()
            kiosks = _start_kiosks(options, broker.url, workdir)
            time.sleep(options.seconds + 2)
            # The workers are new processes: their CPU time so far is all of this run's.
            cpu_before = (_cpu_seconds([broker.proc.pid]), 0.0)
            started = time.monotonic()
            ingest_pids = _start_workers(workers)
        else:
            ingest_pids = _start_workers(workers)
            cpu_before = (_cpu_seconds([broker.proc.pid]), _cpu_seconds(ingest_pids))
            started = time.monotonic()
            children_before, kiosks_started = _children_cpu(), started
            kiosks = _start_kiosks(options, broker.url, workdir)
        codes = [proc.wait(options.seconds + 900) for proc in kiosks]
        wall = time.monotonic() - started
        kiosk_wall = time.monotonic() - kiosks_started
        kiosk_cpu = _children_cpu() - children_before  # the kiosks are the children reaped
        broker_cpu = _cpu_seconds([broker.proc.pid]) - cpu_before[0]
        ingest_cpu = _cpu_seconds(ingest_pids) - cpu_before[1]
    finally:
        for proc in kiosks:
            if proc.poll() is None:
                proc.kill()
        for worker in workers:
            worker.stop()
        broker.stop()
    created = _ledger_ids(workdir)
    stored = p.stored_ids(database_url)
    latencies, commits = _latencies_and_commits(database_url)
    return {
        "sent": len(created),
        "stored": len(set(stored)),
        "lost": len(set(created) - set(stored)),
        "duplicated": sum(n - 1 for n in Counter(stored).values() if n > 1),
        "unknown": len(set(stored) - set(created)),
        "kiosk_exit_codes": sorted(set(codes)),
        "kiosks": options.kiosks,
        "kiosk_dir": str(options.kiosk_dir.parent) if options.kiosk_dir else "work dir",
        "rate": 0 if options.burst else options.rate,
        "seconds": options.seconds,
        "workers": options.workers,
        "burst": options.burst,
        "wall_s": round(wall, 1),
        "events_per_s": round(_events_per_s(commits, options.burst), 1),
        "p50_ms": round(_percentile(latencies, 0.50), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "broker_cpu": round(100 * broker_cpu / wall, 1),
        "ingest_cpu": round(100 * ingest_cpu / wall, 1),
        # The simulated kiosks themselves: on a machine with few cores they compete with the
        # broker, the database and the workers, and the latency includes their queueing.
        "kiosk_cpu": round(100 * kiosk_cpu / kiosk_wall, 1),
        "cpu_count": psutil.cpu_count(),
    }


def run(options: LoadOptions) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="proctor-load-"))
    if options.kiosk_dir is not None:
        kiosk_dir = Path(tempfile.mkdtemp(prefix="proctor-load-kiosks-", dir=options.kiosk_dir))
        options = dataclasses.replace(options, kiosk_dir=kiosk_dir)
    server: MariaDBServer | None = None
    try:
        database_url = options.database_url
        if database_url is None:
            server = MariaDBServer(workdir / "mariadb")
            server.start()
            run_sql(server.root_url(), "CREATE DATABASE proctor CHARACTER SET utf8mb4")
            database_url = server.root_url("proctor")
        p.migrate(database_url)
        return measure(options, database_url, workdir)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        if options.kiosk_dir is not None:
            shutil.rmtree(options.kiosk_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    result = run(options)
    print(json.dumps(result), flush=True)
    return 0 if result["lost"] == 0 and result["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
