"""One reader of the live feed per hall and web process, shared by all its consoles.

Fifty consoles of a hall each polling the database four times a second, each decoding the
same rows, cost fifty times the work of one: here one `HallTail` thread per hall polls, keeps
the newest rows of its hall in memory (as the SSE text they are sent as) and wakes the
streams. A stream whose cursor is older than what the tail holds reads the database itself
(a reconnect's backfill) until it catches up. The tail stops when no stream has used it for
IDLE_STOP_S.

Correctness does not depend on the tail: it holds every row of its hall with an id in
(`covered_from`, `cursor`], because it reads from the database in id order without gaps (see
central/services/feed.py); below `covered_from` a stream asks the database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from central.services import feed

log = logging.getLogger(__name__)

POLL_S = 0.2
KEEP_ROWS = 5000  # about a minute of a very busy hall
IDLE_STOP_S = 60.0


@dataclass(frozen=True)
class SentRow:
    id: int
    text: str  # the whole SSE message


def to_sse(row: feed.FeedRow) -> SentRow:
    return SentRow(row.id, f"id: {row.id}\ndata: {row.message()}\n\n")


class HallTail:
    def __init__(self, sessions: sessionmaker[Session], hall_id: str) -> None:
        self._sessions = sessions
        self.hall_id = hall_id
        with sessions() as session:
            self.cursor = feed.latest_id(session.connection())
        self.covered_from = self.cursor  # rows with a higher id are all in `rows`
        self.rows: deque[SentRow] = deque()
        self.changed = threading.Condition()
        self.last_used = time.monotonic()
        self.stopped = False
        self._thread = threading.Thread(target=self._run, name=f"feed-{hall_id}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while time.monotonic() - self.last_used < IDLE_STOP_S:
                with self._sessions() as session:
                    fresh = feed.read_after(session.connection(), self.hall_id, self.cursor)
                if fresh:
                    self._add([to_sse(r) for r in fresh])
                if len(fresh) < feed.MAX_BATCH:
                    time.sleep(POLL_S)
        except Exception:  # loop boundary: streams fall back to reading the database
            log.exception("live feed reader of hall %s failed", self.hall_id)
        finally:
            with self.changed:
                self.stopped = True
                self.changed.notify_all()

    def _add(self, rows: list[SentRow]) -> None:
        with self.changed:
            self.rows.extend(rows)
            while len(self.rows) > KEEP_ROWS:
                self.covered_from = self.rows.popleft().id
            self.cursor = rows[-1].id
            self.changed.notify_all()

    def after(self, cursor: int, timeout: float) -> list[SentRow] | None:
        """Rows after `cursor`, waiting up to `timeout` for one; None when the tail cannot
        answer (the cursor is older than what it holds, or it stopped): read the database."""
        with self.changed:
            self.last_used = time.monotonic()
            if self.stopped or cursor < self.covered_from:
                return None
            if self.cursor <= cursor:
                self.changed.wait(timeout)
            if self.stopped or cursor < self.covered_from:
                return None
            return self._newer_than(cursor)

    def _newer_than(self, cursor: int) -> list[SentRow]:
        if not self.rows or self.rows[-1].id <= cursor:
            return []
        # rows are in id order: walk back from the newest
        newer: list[SentRow] = []
        for row in reversed(self.rows):
            if row.id <= cursor:
                break
            newer.append(row)
        newer.reverse()
        return newer


class FeedHub:
    """The tails of one web process, by hall."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._tails: dict[str, HallTail] = {}
        self._lock = threading.Lock()

    def tail(self, hall_id: str) -> HallTail:
        with self._lock:
            tail = self._tails.get(hall_id)
            if tail is None or tail.stopped:
                tail = HallTail(self._sessions, hall_id)
                self._tails[hall_id] = tail
            tail.last_used = time.monotonic()
            return tail
