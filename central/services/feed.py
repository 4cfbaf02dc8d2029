"""The live feed: what a hall's consoles must show, numbered so a reconnecting console can ask
for exactly what it missed (Server-Sent Events `Last-Event-ID`).

Why a counter row and not an autoincrement id. An autoincrement id is handed out when a row is
inserted, not when its transaction commits: with two ingest workers on MariaDB, worker A takes
id 10, worker B takes id 11 and commits first; a console that read 11 moves its cursor past
10, and A's row, committed a moment later, is never sent. So every writer takes its ids by
`UPDATE live_feed_counter SET last_id = last_id + n` in its own transaction, as the last thing
before committing: the row lock makes the next writer wait until this one commits (or rolls
back, which also undoes its ids), so ids are contiguous and in commit order. A reader that
has seen id N has seen every id below N, and "id > cursor" is a gap-free backfill. On SQLite
writers are serialised by the database anyway; the same code holds there.

The cost is that feed writers queue for that row between their feed insert and their commit,
which is microseconds to a few milliseconds per batch; ingest stores hundreds of messages per
transaction, so this bounds nothing we need (benchmarks/console.py measures it).

Rows are kept for FEED_RETENTION; a console whose cursor is older gets `reset` and reloads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select, update

from central.console_models import FeedCounter, FeedEntry

# Long enough for any reconnect; a console away longer reloads. A 300-seat hall adds about
# 30 heartbeat rows a second, so a day would be millions of rows.
FEED_RETENTION = timedelta(hours=1)
MAX_BATCH = 500  # rows a console gets per read; it asks again at once when it got a full page

_FEED: Table = FeedEntry.__table__  # type: ignore[assignment]
_COUNTER: Table = FeedCounter.__table__  # type: ignore[assignment]
COUNTER_ROW = 1


@dataclass(frozen=True)
class FeedItem:
    """A change to announce. `data` is JSON-ready; it is stored as text and sent as is."""

    kind: str  # event / device / command / ack
    hall_id: str | None
    seat_id: str | None
    device_id: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class FeedRow:
    id: int
    kind: str
    seat_id: str | None
    device_id: str | None
    data: str  # JSON text

    def message(self) -> str:
        """The SSE data line's JSON: kind, seat and device around the stored data."""
        return (
            f'{{"id":{self.id},"kind":{json.dumps(self.kind)},'
            f'"seat_id":{json.dumps(self.seat_id)},"device_id":{json.dumps(self.device_id)},'
            f'"data":{self.data}}}'
        )


def append(connection: Connection, items: Sequence[FeedItem], now: datetime) -> list[int]:
    """Insert the items with the next ids. Call it last in the transaction (see the module
    docstring): the counter row stays locked until the commit."""
    visible = [item for item in items if item.hall_id is not None]  # no hall: no console
    if not visible:
        return []
    count = len(visible)
    connection.execute(
        update(_COUNTER)
        .where(_COUNTER.c.id == COUNTER_ROW)
        .values(last_id=_COUNTER.c.last_id + count)
    )
    last = connection.scalar(select(_COUNTER.c.last_id).where(_COUNTER.c.id == COUNTER_ROW))
    if last is None:
        raise RuntimeError("live_feed_counter has no row: run the migrations")
    first = int(last) - count + 1
    rows = [
        {
            "id": first + offset,
            "hall_id": item.hall_id,
            "seat_id": item.seat_id,
            "device_id": item.device_id,
            "kind": item.kind,
            "at": now,
            "data": json.dumps(item.data, separators=(",", ":"), default=json_default),
        }
        for offset, item in enumerate(visible)
    ]
    connection.execute(_FEED.insert(), rows)
    return list(range(first, first + count))


def json_default(value: object) -> str:
    """Datetimes as ISO 8601 UTC with 'Z' (the console's one time format)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def latest_id(connection: Connection) -> int:
    """The newest committed id (the cursor a fresh snapshot starts from)."""
    value = connection.scalar(select(_COUNTER.c.last_id).where(_COUNTER.c.id == COUNTER_ROW))
    return int(value or 0)


def oldest_id(connection: Connection) -> int | None:
    value = connection.scalar(select(func.min(_FEED.c.id)))
    return None if value is None else int(value)


def read_after(connection: Connection, hall_id: str, cursor: int) -> list[FeedRow]:
    """The hall's rows with id above `cursor`, oldest first, at most MAX_BATCH."""
    statement = (
        select(_FEED.c.id, _FEED.c.kind, _FEED.c.seat_id, _FEED.c.device_id, _FEED.c.data)
        .where(_FEED.c.hall_id == hall_id, _FEED.c.id > cursor)
        .order_by(_FEED.c.id)
        .limit(MAX_BATCH)
    )
    return [FeedRow(int(r[0]), r[1], r[2], r[3], r[4]) for r in connection.execute(statement)]


def cursor_is_stale(connection: Connection, cursor: int) -> bool:
    """True when rows after `cursor` were pruned, or the cursor is from the future (another
    database): the console must reload its snapshot instead of replaying."""
    latest = latest_id(connection)
    if cursor > latest:
        return True
    if cursor == latest:
        return False
    oldest = oldest_id(connection)
    return oldest is None or oldest > cursor + 1


def prune(connection: Connection, now: datetime) -> int:
    """Delete rows older than the retention; returns how many."""
    result = connection.execute(delete(_FEED).where(_FEED.c.at < now - FEED_RETENTION))
    return int(result.rowcount or 0)
