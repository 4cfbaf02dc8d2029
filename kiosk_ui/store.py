"""The kiosk screen's durable state: one SQLite file (WAL, synchronous=FULL) so a power cut
loses nothing the candidate did.

Every change that the agent must hear about is written in the same transaction as a row in
`outbound`; the forwarder sends those rows to the agent and marks them forwarded, so an
answer is never lost when the agent is down (it is retried, with the same id).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_agent.durable_sqlite import open_durable
from protocol.ids import uuid7

SCHEMA = """
CREATE TABLE IF NOT EXISTS session (
    session_id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    exam_json TEXT NOT NULL,
    question_order TEXT NOT NULL,
    option_order TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT 'language',
    current INTEGER NOT NULL DEFAULT 0,
    running INTEGER NOT NULL DEFAULT 0,
    paused INTEGER NOT NULL DEFAULT 0,
    elapsed_s REAL NOT NULL DEFAULT 0,
    penalty_s REAL NOT NULL DEFAULT 0,
    extra_s REAL NOT NULL DEFAULT 0,
    last_mono REAL,
    last_wall REAL,
    boot_id TEXT,
    submitted_reason TEXT,
    submitted_wall REAL
);
CREATE TABLE IF NOT EXISTS answer (
    session_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    value TEXT NOT NULL,
    flagged INTEGER NOT NULL DEFAULT 0,
    verdict TEXT NOT NULL,
    time_penalised INTEGER NOT NULL DEFAULT 0,
    saved_wall REAL NOT NULL,
    PRIMARY KEY (session_id, question_id)
);
CREATE TABLE IF NOT EXISTS outbound (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    body TEXT NOT NULL,
    created REAL NOT NULL,
    forwarded REAL,
    rejected TEXT,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbound_pending ON outbound (seq) WHERE forwarded IS NULL
    AND rejected IS NULL;
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    exam_json: str
    question_order: tuple[str, ...]
    option_order: dict[str, list[str]]
    stage: str
    current: int
    running: bool
    paused: bool
    elapsed_s: float
    penalty_s: float
    extra_s: float
    last_mono: float | None
    last_wall: float | None
    boot_id: str | None
    submitted_reason: str | None


@dataclass(frozen=True)
class AnswerRow:
    question_id: str
    value: Any
    flagged: bool
    verdict: str
    time_penalised: bool


@dataclass(frozen=True)
class Outbound:
    seq: int
    id: str
    path: str
    body: dict[str, Any]
    attempts: int


# Fields of `session` that the engine may update (guards the f-string in update_session).
_UPDATABLE = frozenset(
    {
        "stage",
        "current",
        "running",
        "paused",
        "elapsed_s",
        "penalty_s",
        "extra_s",
        "last_mono",
        "last_wall",
        "boot_id",
        "submitted_reason",
        "submitted_wall",
    }
)


class QuizStore:
    """All reads and writes of the kiosk screen's SQLite file; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self._conn = open_durable(path, SCHEMA)
        self._add_missing_columns()
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- sessions ---------------------------------------------------------------------------

    def create_session(
        self,
        session_id: str,
        exam_json: str,
        question_order: list[str],
        option_order: dict[str, list[str]],
    ) -> None:
        """Create the session unless it exists (the first plan made for a session is kept)."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO session (session_id, created, exam_json, question_order,"
                " option_order) VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id) DO NOTHING",
                (
                    session_id,
                    time.time(),
                    exam_json,
                    json.dumps(question_order),
                    json.dumps(option_order),
                ),
            )

    def _add_missing_columns(self) -> None:
        """Files written by an earlier version of the screen lack later columns."""
        have = {row[1] for row in self._conn.execute("PRAGMA table_info(session)")}
        if "extra_s" not in have:
            self._conn.execute("ALTER TABLE session ADD COLUMN extra_s REAL NOT NULL DEFAULT 0")

    def session(self, session_id: str) -> SessionRow | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM session WHERE session_id = ?", (session_id,)
            ).fetchone()
        return None if row is None else _session_row(row)

    def latest_session_id(self) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT session_id FROM session ORDER BY created DESC LIMIT 1"
            ).fetchone()
        return None if row is None else str(row["session_id"])

    def update_session(self, session_id: str, **fields: Any) -> None:
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._lock:
            self._conn.execute(
                f"UPDATE session SET {assignments} WHERE session_id = ?",  # noqa: S608
                (*fields.values(), session_id),
            )

    def submit_once(
        self, session_id: str, reason: str, timing: dict[str, Any], message: dict[str, Any]
    ) -> bool:
        """Mark the session submitted and queue `message`, unless it already was: True if now."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT submitted_reason FROM session WHERE session_id = ?", (session_id,)
                ).fetchone()
                if row is None or row["submitted_reason"] is not None:
                    self._conn.execute("ROLLBACK")
                    return False
                self._conn.execute(
                    "UPDATE session SET submitted_reason = ?, submitted_wall = ?, running = 0,"
                    " stage = 'result', elapsed_s = ?, last_mono = ?, last_wall = ?"
                    " WHERE session_id = ?",
                    (
                        reason,
                        time.time(),
                        timing["elapsed_s"],
                        timing["last_mono"],
                        timing["last_wall"],
                        session_id,
                    ),
                )
                self._queue(message, "/v1/messages")
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return True

    # -- answers ----------------------------------------------------------------------------

    def answers(self, session_id: str) -> dict[str, AnswerRow]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM answer WHERE session_id = ?", (session_id,)
            ).fetchall()
        return {
            str(r["question_id"]): AnswerRow(
                question_id=str(r["question_id"]),
                value=json.loads(r["value"]),
                flagged=bool(r["flagged"]),
                verdict=str(r["verdict"]),
                time_penalised=bool(r["time_penalised"]),
            )
            for r in rows
        }

    def save_answer(self, session_id: str, answer: AnswerRow, message: dict[str, Any]) -> None:
        """Store the answer and its message for the agent in one commit."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "INSERT INTO answer (session_id, question_id, value, flagged, verdict,"
                    " time_penalised, saved_wall) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (session_id, question_id) DO UPDATE SET value = excluded.value,"
                    " flagged = excluded.flagged, verdict = excluded.verdict,"
                    " time_penalised = excluded.time_penalised, saved_wall = excluded.saved_wall",
                    (
                        session_id,
                        answer.question_id,
                        json.dumps(answer.value),
                        int(answer.flagged),
                        answer.verdict,
                        int(answer.time_penalised),
                        time.time(),
                    ),
                )
                self._queue(message, "/v1/messages")
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def penalise(self, session_id: str, question_id: str, penalty_s: float) -> None:
        """Add `penalty_s` to the session's time penalty once for this question."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                taken = self._conn.execute(
                    "UPDATE answer SET time_penalised = 1 WHERE session_id = ?"
                    " AND question_id = ? AND time_penalised = 0",
                    (session_id, question_id),
                ).rowcount
                if taken:
                    self._conn.execute(
                        "UPDATE session SET penalty_s = penalty_s + ? WHERE session_id = ?",
                        (penalty_s, session_id),
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    # -- messages for the agent -------------------------------------------------------------

    def queue(self, body: dict[str, Any], path: str = "/v1/messages") -> str:
        """Queue a message for the agent (committed before this returns); returns its id."""
        with self._lock:
            return self._queue(body, path)

    def _queue(self, body: dict[str, Any], path: str) -> str:
        message_id = str(body.get("id") or uuid7())
        self._conn.execute(
            "INSERT INTO outbound (id, path, body, created) VALUES (?, ?, ?, ?)",
            (message_id, path, json.dumps(body), time.time()),
        )
        return message_id

    def pending(self, limit: int = 50) -> list[Outbound]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, id, path, body, attempts FROM outbound"
                " WHERE forwarded IS NULL AND rejected IS NULL ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            Outbound(int(r["seq"]), str(r["id"]), str(r["path"]), json.loads(r["body"]), r[4])
            for r in rows
        ]

    def mark_forwarded(self, seq: int) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE outbound SET forwarded = ?, attempts = attempts + 1 WHERE seq = ?",
                (time.time(), seq),
            )

    def mark_attempt(self, seq: int, rejected: str | None = None) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE outbound SET attempts = attempts + 1, rejected = ? WHERE seq = ?",
                (rejected, seq),
            )

    def pending_count(self) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM outbound WHERE forwarded IS NULL AND rejected IS NULL"
            ).fetchone()
        return int(row[0])

    def messages(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every queued body in order (forwarded or not), optionally of one kind."""
        with self._lock:
            rows = self._conn.execute("SELECT body FROM outbound ORDER BY seq").fetchall()
        bodies = [json.loads(r["body"]) for r in rows]
        return [b for b in bodies if kind is None or b.get("kind") == kind]

    # -- small values (language, check-in attempts, flags the candidate may explain) --------

    def get(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row["value"])

    def note_violation(self, violation_id: str) -> None:
        with self._lock:
            self.put(LAST_VIOLATION, _later_uuid7(violation_id, self.get(LAST_VIOLATION)))

    def put(self, key: str, value: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


LAST_VIOLATION = "last_violation"


def _later_uuid7(a: str, b: str | None) -> str:
    if b is None:
        return a
    try:
        return a if uuid.UUID(a).int > uuid.UUID(b).int else b
    except ValueError:
        return a


def _session_row(row: sqlite3.Row) -> SessionRow:
    return SessionRow(
        session_id=str(row["session_id"]),
        exam_json=str(row["exam_json"]),
        question_order=tuple(json.loads(row["question_order"])),
        option_order=json.loads(row["option_order"]),
        stage=str(row["stage"]),
        current=int(row["current"]),
        running=bool(row["running"]),
        paused=bool(row["paused"]),
        elapsed_s=float(row["elapsed_s"]),
        penalty_s=float(row["penalty_s"]),
        extra_s=float(row["extra_s"]),
        last_mono=row["last_mono"],
        last_wall=row["last_wall"],
        boot_id=row["boot_id"],
        submitted_reason=row["submitted_reason"],
    )
