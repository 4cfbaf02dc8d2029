"""Durable seat state: what central sent by command and what the screen last reported.

One SQLite file (WAL, synchronous=FULL, like the outbox), so the exam, the enrolment, a pause
or the warnings survive a power cut. Writes that belong together (applying a command and
remembering that it was applied) share one transaction: `with state.transaction(): ...`.
Reads of the exam and the enrolment are cached by their stored text, so the screen can poll
`GET /v1/state` without re-validating a 500-question exam each time.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, TypeVar

from pydantic import BaseModel

from edge_agent.durable_sqlite import open_durable
from protocol import ExamProgress, SessionRef
from protocol.exam import Enrolment, ExamDefinition

M = TypeVar("M", bound=BaseModel)

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS warnings (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    seen INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    issued_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS commands (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS local_messages (id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""
_EXAM, _ENROLMENT, _PROGRESS = "exam", "enrolment", "progress"
_PAUSED, _ENDED, _ENDED_REASON = "paused", "ended", "ended_reason"
_EXTRA_TIME = "extra_time_s"  # the invigilators' time adjustments so far, in seconds


class SeatStateError(Exception):
    """SQLite could not read or write the seat state file."""


@dataclass(frozen=True)
class SeatWarning:
    id: str
    text: str
    issued_at: datetime
    issued_by: str
    seen: bool = False


@dataclass(frozen=True)
class SeatMessage:
    id: str
    text: str
    issued_at: datetime


@dataclass(frozen=True)
class Control:
    paused: bool = False
    ended: bool = False
    ended_reason: str | None = None
    warnings: tuple[SeatWarning, ...] = ()
    messages: tuple[SeatMessage, ...] = ()
    extra_time_s: float = 0.0


@dataclass(frozen=True)
class AppliedCommand:
    """A command already applied, with what its receipt said."""

    command_id: str
    type: str
    status: str
    detail: str


class SeatState:
    """The seat state file at `path` (created with its parent directory if missing)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0  # nesting of transaction()
        self._cache: dict[str, tuple[str, BaseModel]] = {}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = open_durable(self.path, _SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise SeatStateError(f"seat state {self.path}: cannot open: {exc}") from exc

    # -- transactions ----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (nested calls join the outer one)."""
        with self._lock:
            outer = self._depth == 0
            try:
                if outer:
                    self._conn.execute("BEGIN IMMEDIATE")
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                if outer:
                    self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(outer)
                raise SeatStateError(f"seat state {self.path}: {exc}") from exc
            except BaseException:
                self._rollback(outer)
                raise

    def _rollback(self, outer: bool) -> None:
        if outer and self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
            self._cache.clear()

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return list(self._conn.execute(sql, params).fetchall())
            except sqlite3.Error as exc:
                raise SeatStateError(f"seat state {self.path}: {exc}") from exc

    def _write(self, sql: str, params: tuple[object, ...] = ()) -> int:
        with self.transaction():
            return self._conn.execute(sql, params).rowcount

    # -- key/value -------------------------------------------------------------------------

    def _get(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM kv WHERE key = ?", (key,))
        return None if not rows else str(rows[0][0])

    def _set(self, key: str, value: str | None) -> None:
        if value is None:
            self._write("DELETE FROM kv WHERE key = ?", (key,))
            return
        self._write(
            "INSERT INTO kv (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _model(self, key: str, model: type[M]) -> M | None:
        text = self._get(key)
        if text is None:
            return None
        cached = self._cache.get(key)
        if cached is not None and cached[0] == text and isinstance(cached[1], model):
            return cached[1]
        value = model.model_validate_json(text)
        self._cache[key] = (text, value)
        return value

    # -- what central sent -----------------------------------------------------------------

    def exam(self) -> ExamDefinition | None:
        return self._model(_EXAM, ExamDefinition)

    def exam_json(self) -> str | None:
        """The stored exam exactly as validated, for the screen."""
        return self._get(_EXAM)

    def set_exam(self, exam: ExamDefinition) -> None:
        self._set(_EXAM, exam.model_dump_json())

    def enrolment(self) -> Enrolment | None:
        return self._model(_ENROLMENT, Enrolment)

    def set_enrolment(self, enrolment: Enrolment) -> None:
        """A candidate of another session starts with a clean slate (no pause, no warnings)."""
        with self.transaction():
            previous = self.enrolment()
            if previous is None or previous.session_id != enrolment.session_id:
                self._reset_control()
            self._set(_ENROLMENT, enrolment.model_dump_json())

    def _reset_control(self) -> None:
        for key in (_PAUSED, _ENDED, _ENDED_REASON, _PROGRESS, _EXTRA_TIME):
            self._set(key, None)
        self._write("DELETE FROM warnings")
        self._write("DELETE FROM messages")

    def subject(self, seat_id: str | None = None) -> SessionRef:
        """Who messages are about: the enrolment, or only the seat when nobody is enrolled."""
        enrolment = self.enrolment()
        if enrolment is None:
            return SessionRef(seat_id=seat_id)
        return SessionRef(
            seat_id=enrolment.seat_id,
            session_id=enrolment.session_id,
            candidate_id=enrolment.candidate_id,
            exam_id=enrolment.exam_id,
        )

    # -- control ---------------------------------------------------------------------------

    def control(self) -> Control:
        warnings = self._read(
            "SELECT id, text, issued_at, issued_by, seen FROM warnings ORDER BY pos"
        )
        messages = self._read("SELECT id, text, issued_at FROM messages ORDER BY pos")
        return Control(
            paused=self._get(_PAUSED) == "1",
            ended=self._get(_ENDED) == "1",
            ended_reason=self._get(_ENDED_REASON),
            warnings=tuple(
                SeatWarning(str(i), str(t), _time(a), str(b), bool(s)) for i, t, a, b, s in warnings
            ),
            messages=tuple(SeatMessage(str(i), str(t), _time(a)) for i, t, a in messages),
            extra_time_s=float(self._get(_EXTRA_TIME) or 0.0),
        )

    def adjust_time(self, seconds: float) -> float:
        """Add `seconds` (negative: take away) to the candidate's time; returns the total."""
        with self.transaction():
            total = float(self._get(_EXTRA_TIME) or 0.0) + seconds
            self._set(_EXTRA_TIME, repr(total))
        return total

    def set_paused(self, paused: bool) -> None:
        self._set(_PAUSED, "1" if paused else "0")

    def end(self, reason: str | None) -> None:
        with self.transaction():
            self._set(_ENDED, "1")
            self._set(_PAUSED, "0")
            self._set(_ENDED_REASON, reason)

    def add_warning(self, warning: SeatWarning) -> None:
        self._write(
            "INSERT OR IGNORE INTO warnings (id, text, issued_at, issued_by, seen)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                warning.id,
                warning.text,
                warning.issued_at.isoformat(),
                warning.issued_by,
                int(warning.seen),
            ),
        )

    def add_message(self, message: SeatMessage) -> None:
        self._write(
            "INSERT OR IGNORE INTO messages (id, text, issued_at) VALUES (?, ?, ?)",
            (message.id, message.text, message.issued_at.isoformat()),
        )

    def mark_warning_seen(self, warning_id: str) -> bool:
        """False when there is no such warning."""
        return self._write("UPDATE warnings SET seen = 1 WHERE id = ?", (warning_id,)) > 0

    # -- what the screen reported ----------------------------------------------------------

    def progress(self) -> ExamProgress | None:
        return self._model(_PROGRESS, ExamProgress)

    def set_progress(self, progress: ExamProgress) -> None:
        self._set(_PROGRESS, progress.model_dump_json())

    # -- idempotency -----------------------------------------------------------------------

    def applied(self, command_id: str) -> AppliedCommand | None:
        rows = self._read("SELECT type, status, detail FROM commands WHERE id = ?", (command_id,))
        if not rows:
            return None
        kind, status, detail = rows[0]
        return AppliedCommand(command_id, str(kind), str(status), str(detail))

    def record_command(self, applied: AppliedCommand) -> None:
        self._write(
            "INSERT INTO commands (id, type, status, detail) VALUES (?, ?, ?, ?)",
            (applied.command_id, applied.type, applied.status, applied.detail),
        )

    def local_message_seq(self, message_id: str) -> int | None:
        """The outbox seq a screen-made message id got, if it was taken already."""
        rows = self._read("SELECT seq FROM local_messages WHERE id = ?", (message_id,))
        return None if not rows else int(str(rows[0][0]))

    def remember_local_message(self, message_id: str, seq: int) -> None:
        self._write(
            "INSERT OR IGNORE INTO local_messages (id, seq) VALUES (?, ?)", (message_id, seq)
        )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SeatState:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _time(value: object) -> datetime:
    return datetime.fromisoformat(str(value))
