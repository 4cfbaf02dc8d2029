"""Server-Sent Events from the live feed, one stream per console.

Each stream starts from the cursor the browser gives (the `Last-Event-ID` header that
EventSource sends by itself when it reconnects, else `?after=` from the page's snapshot) and
sends every feed row of its hall after it, in id order: first the backlog, read from the
database, then new rows as they commit, from the hall's shared reader (central/web/feed_hub.py).
Database reads are fresh short transactions (a long one would never see new rows on MariaDB
and would hold back SQLite's WAL checkpoints); no connection is held while waiting.

A stream ends after MAX_STREAM_S; the browser reconnects at once with its Last-Event-ID, so a
dead client costs a thread for at most that long and access is checked again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from sqlalchemy.orm import Session, sessionmaker

from central.services import feed
from central.web.feed_hub import FeedHub, HallTail, SentRow, to_sse

POLL_S = 0.25
WAIT_S = 1.0  # longest wait for the shared tail before looking at the clock again
KEEPALIVE_S = 15.0
MAX_STREAM_S = 300.0
RETRY_MS = 1000


def parse_cursor(last_event_id: str | None, after: str | None) -> int:
    """The header wins: it is what the browser last received. Junk counts as 'from now'."""
    for value in (last_event_id, after):
        if value is not None and value.strip().isdigit():
            return int(value.strip())
    return -1


def feed_stream(
    sessions: sessionmaker[Session],
    hub: FeedHub,
    hall_id: str,
    cursor: int,
    max_s: float = MAX_STREAM_S,
) -> Iterator[str]:
    """The event-stream text for one console. cursor -1 starts at the newest row."""
    yield f"retry: {RETRY_MS}\n\n"
    with sessions() as session:
        connection = session.connection()
        if cursor < 0:
            cursor = feed.latest_id(connection)
        elif feed.cursor_is_stale(connection, cursor):
            cursor = feed.latest_id(connection)
            yield f'id: {cursor}\nevent: reset\ndata: {{"cursor":{cursor}}}\n\n'
    started = last_sent = time.monotonic()
    while time.monotonic() - started < max_s:
        rows, cursor_floor = _next_rows(sessions, hub.tail(hall_id), cursor)
        if rows:
            yield "".join(row.text for row in rows)  # one write per wake, not one per row
            cursor = rows[-1].id
        cursor = max(cursor, cursor_floor)
        now = time.monotonic()
        if rows:
            last_sent = now
        elif now - last_sent >= KEEPALIVE_S:
            yield ": keepalive\n\n"  # finds a closed connection, keeps proxies from timing out
            last_sent = now


def _next_rows(
    sessions: sessionmaker[Session], tail: HallTail, cursor: int
) -> tuple[list[SentRow], int]:
    """The rows after `cursor` from the shared tail, or from the database when the tail does
    not reach back that far; and a cursor floor: when the database read was complete, every
    row of the hall up to what the tail covers was in it, so the stream may move on to there."""
    rows = tail.after(cursor, WAIT_S)
    if rows is not None:
        return rows, cursor
    covered_from = tail.covered_from  # read before the database: those rows are committed
    with sessions() as session:
        found = feed.read_after(session.connection(), tail.hall_id, cursor)
    if len(found) >= feed.MAX_BATCH:
        return [to_sse(r) for r in found], cursor
    if not found:
        time.sleep(POLL_S)
    return [to_sse(r) for r in found], covered_from
