"""How fast central stores kiosk events: batched transactions (what ingest does) against one
transaction per message (the naive baseline), same service code, same data, same run.

    python -m benchmarks.store_throughput [--events 5000] [--batch 500] [--database-url URL]

Without --database-url it uses a fresh SQLite file. Prints JSON on its last line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from central.db import create_db_engine, make_sessionmaker, redact, upgrade_database
from central.services import store_batch
from protocol import (
    DeviceClock,
    EventState,
    SessionRef,
    Severity,
    ViolationEvent,
    ViolationType,
    uuid7,
)

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def make_events(count: int, kiosks: int = 50) -> list[ViolationEvent]:
    events = []
    for n in range(count):
        device = f"kiosk-{n % kiosks:03d}"
        at = T0 + timedelta(seconds=n / 10)
        events.append(
            ViolationEvent(
                schema_version=1,
                kind="violation",
                id=uuid7(),
                seq=n // kiosks,
                centre_id="centre-1",
                device_id=device,
                clock=DeviceClock(wall_time=at, monotonic_s=100 + n / 10, boot_id="b", synced=True),
                violation_id=uuid7(),
                subject=SessionRef(seat_id=device, session_id=f"s-{device}"),
                type=ViolationType.LOOKING_AWAY,
                state=EventState.STARTED,
                started_at=at,
                duration_s=2.5,
                severity=Severity.MEDIUM,
                confidence=0.8,
                details={"yaw_deg": 35.0},
            )
        )
    return events


def store(url: str, events: Sequence[ViolationEvent], batch: int) -> float:
    """Events per second, committing once per `batch` events."""
    engine = create_db_engine(url)
    sessions = make_sessionmaker(engine)
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        with sessions.begin() as session:
            store_batch(session, events[i : i + batch])
    elapsed = time.perf_counter() - start
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one()
    engine.dispose()
    if stored != len(events):
        raise RuntimeError(f"stored {stored} of {len(events)} events")
    return len(events) / elapsed


def run(
    database_url: str | None, events: int, batch: int, baseline_events: int
) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        urls = [
            database_url.replace("{name}", name)
            if database_url
            else f"sqlite:///{Path(tmp) / name}.sqlite3"
            for name in ("batched", "baseline")
        ]
        for url in urls:
            upgrade_database(url)
        batched = store(urls[0], make_events(events), batch)
        baseline = store(urls[1], make_events(baseline_events), 1)
    return {
        "benchmark": "store_throughput",
        "database": redact(urls[0]).split(":")[0],
        "events": events,
        "batch": batch,
        "batched_events_per_s": round(batched, 1),
        "baseline_events": baseline_events,
        "baseline_events_per_s": round(baseline, 1),
        "ratio": round(batched / baseline, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--baseline-events",
        type=int,
        default=1000,
        help="the baseline is slow; a smaller sample gives the same rate",
    )
    parser.add_argument(
        "--database-url",
        help="with {name} where the database name goes; both databases must exist and be empty",
    )
    args = parser.parse_args(argv)
    print(json.dumps(run(args.database_url, args.events, args.batch, args.baseline_events)))


if __name__ == "__main__":
    main()
