"""Durable outbox: every acknowledged message is committed here before it is sent.

SQLite in WAL mode with ``synchronous=FULL``: once `enqueue` returns, the message survives a
crash or power cut. The per-device `seq` lives in the same database and is taken in the same
transaction as the row insert, so it survives restarts and has no gaps. A row is deleted only
when central acknowledges its id (see `publisher`).

One connection, guarded by a lock, is shared by the publisher thread and the producers.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_agent.durable_sqlite import open_durable
from protocol import AckedMessage, OutboxMessage, decode, encode, topic_for, uuid7
from protocol.signing import GENESIS, message_hash, sign

log = logging.getLogger(__name__)

MessageFactory = Callable[[uuid.UUID, int], AckedMessage]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_wall TEXT NOT NULL,
    created_monotonic REAL NOT NULL,
    boot_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_monotonic REAL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
_NEXT_SEQ: Final = "next_seq"
_DEVICE: Final = "device_id"
_CHAIN_HEAD: Final = "chain_head"  # hash of the last signed message: the next one's prev_hash
_SQLITE_FULL: Final = 13
_SQLITE_READONLY: Final = 8
_SQLITE_CANTOPEN: Final = 14


class OutboxError(Exception):
    """The outbox cannot do what was asked; the message names the file and the cause."""

    def __init__(self, path: Path, cause: str) -> None:
        super().__init__(f"outbox {path}: {cause}")
        self.path = path
        self.cause = cause


class OutboxStorageError(OutboxError):
    """SQLite could not read or write the file (I/O error, cannot open, corrupt)."""


class OutboxFullError(OutboxStorageError):
    """The disk (or the configured size cap) is full; the new message was not stored."""


class OutboxReadOnlyError(OutboxStorageError):
    """The file or its directory is read-only; the new message was not stored."""


class OutboxClosedError(OutboxError):
    """The outbox was closed."""


@dataclass(frozen=True)
class OutboxRow:
    id: uuid.UUID
    seq: int
    topic: str
    payload: bytes
    created_wall: str
    created_monotonic: float
    boot_id: str
    attempts: int


def _storage_error(path: Path, exc: sqlite3.Error, doing: str) -> OutboxStorageError:
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    detail = f"{doing} failed: {exc} ({getattr(exc, 'sqlite_errorname', 'SQLITE_ERROR')})"
    if primary == _SQLITE_FULL:
        return OutboxFullError(path, f"disk or size cap is full; {detail}")
    if primary == _SQLITE_READONLY:
        return OutboxReadOnlyError(path, f"file or directory is not writable; {detail}")
    if primary == _SQLITE_CANTOPEN:
        return OutboxReadOnlyError(path, f"cannot open or create the file; {detail}")
    return OutboxStorageError(path, detail)


class Outbox:
    """SQLite outbox at `path` (created with its parent directory if missing)."""

    def __init__(
        self,
        path: Path | str,
        *,
        max_bytes: int | None = None,
        signer: Ed25519PrivateKey | None = None,
    ) -> None:
        """With `signer`, every message is linked to the previous one and signed (the
        device's key from provisioning); without, messages go unsigned."""
        self.path = Path(path)
        self._signer = signer
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutboxReadOnlyError(self.path, f"cannot create directory: {exc}") from exc
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = self._open(max_bytes)
        except sqlite3.Error as exc:
            raise _storage_error(self.path, exc, "opening") from exc

    def _open(self, max_bytes: int | None) -> sqlite3.Connection:
        conn = open_durable(self.path, _SCHEMA)
        try:
            if max_bytes is not None:
                page_size = conn.execute("PRAGMA page_size").fetchone()[0]
                conn.execute(f"PRAGMA max_page_count={max(1, max_bytes // page_size)}")
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise OutboxClosedError(self.path, "the outbox is closed")
        return self._conn

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call `callback()` after each committed enqueue (e.g. to wake a sender)."""
        with self._lock:
            self._listeners.append(callback)

    def enqueue(self, factory: MessageFactory) -> AckedMessage:
        """Commit a new message and return it.

        `factory(id, seq)` builds the message with a fresh UUIDv7 and the next sequence number
        of this device; it runs inside the transaction, so the seq is used exactly once or not
        at all (a failing factory or a full disk leaves no gap).
        """
        message, _ = self._enqueue(factory, None)
        return message

    def enqueue_once(
        self, message_id: uuid.UUID, factory: MessageFactory
    ) -> tuple[AckedMessage, bool]:
        """Like `enqueue`, but with an id made by the producer (e.g. the kiosk screen), so a
        retried request cannot store the message twice. Returns (message, duplicate): when a
        row with `message_id` is still waiting, that stored message and True, and `factory`
        is not called. (A row already acknowledged and deleted is not remembered here.)"""
        return self._enqueue(factory, message_id)

    def _enqueue(
        self, factory: MessageFactory, message_id: uuid.UUID | None
    ) -> tuple[AckedMessage, bool]:
        with self._lock:
            conn = self._connection()
            try:
                message, duplicate = self._insert(conn, factory, message_id)
            except sqlite3.Error as exc:
                self._rollback(conn)
                raise _storage_error(self.path, exc, "storing a message") from exc
            except BaseException:
                self._rollback(conn)
                raise
            listeners = [] if duplicate else list(self._listeners)
        for callback in listeners:
            callback()
        return message, duplicate

    def _insert(
        self, conn: sqlite3.Connection, factory: MessageFactory, message_id: uuid.UUID | None
    ) -> tuple[AckedMessage, bool]:
        conn.execute("BEGIN IMMEDIATE")
        if message_id is not None:
            stored = conn.execute(
                "SELECT topic, payload FROM outbox WHERE id = ?", (str(message_id),)
            ).fetchone()
            if stored is not None:
                conn.execute("COMMIT")
                return self._decode_stored(stored[0], bytes(stored[1])), True
        seq = self._meta_int(conn, _NEXT_SEQ, 0)
        message = factory(message_id or uuid7(), seq)
        if not isinstance(message, OutboxMessage) or message.seq != seq:
            raise TypeError("factory must return an OutboxMessage with the given seq")
        if message_id is not None and message.id != message_id:
            raise TypeError("factory must return a message with the given id")
        owner = self._meta(conn, _DEVICE)
        if owner is not None and owner != message.device_id:
            raise OutboxError(self.path, f"belongs to device {owner!r}, not {message.device_id!r}")
        if self._signer is not None:
            message = self._signed(conn, message)
        conn.execute(
            "INSERT INTO outbox (id, seq, topic, payload, created_wall, created_monotonic,"
            " boot_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                str(message.id),
                seq,
                topic_for(message),
                encode(message),
                message.clock.wall_time.isoformat(),
                message.clock.monotonic_s,
                message.clock.boot_id,
            ),
        )
        self._set_meta(conn, _NEXT_SEQ, str(seq + 1))
        if owner is None:
            self._set_meta(conn, _DEVICE, message.device_id)
        conn.execute("COMMIT")
        return message, False

    def _decode_stored(self, topic: str, payload: bytes) -> AckedMessage:
        message = decode(topic, payload).message
        if not isinstance(message, OutboxMessage):
            raise OutboxError(self.path, f"row on {topic} is not an outbox message")
        return message

    def _signed(self, conn: sqlite3.Connection, message: AckedMessage) -> AckedMessage:
        """Link the message to the previous one and sign it, in the insert's transaction:
        the chain head is committed with the row, so a crash can neither fork nor skip it."""
        assert self._signer is not None
        linked = message.model_copy(update={"prev_hash": self._meta(conn, _CHAIN_HEAD) or GENESIS})
        signed = linked.model_copy(update={"signature": sign(self._signer, linked)})
        self._set_meta(conn, _CHAIN_HEAD, message_hash(signed))
        return signed

    @staticmethod
    def _meta(conn: sqlite3.Connection, key: str) -> str | None:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _meta_int(self, conn: sqlite3.Connection, key: str, default: int) -> int:
        value = self._meta(conn, key)
        return default if value is None else int(value)

    @staticmethod
    def _set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.debug("rollback failed (SQLite already rolled back)", exc_info=True)

    def pending(self, limit: int, exclude: Collection[uuid.UUID] = ()) -> list[OutboxRow]:
        """Up to `limit` rows, oldest first, skipping ids in `exclude` (those in flight)."""
        if limit <= 0:
            return []
        excluded = json.dumps([str(item) for item in exclude])
        query = (
            "SELECT id, seq, topic, payload, created_wall, created_monotonic, boot_id, attempts"
            " FROM outbox WHERE id NOT IN (SELECT value FROM json_each(?))"
            " ORDER BY seq LIMIT ?"
        )
        with self._lock:
            conn = self._connection()
            try:
                rows = conn.execute(query, (excluded, limit)).fetchall()
            except sqlite3.Error as exc:
                raise _storage_error(self.path, exc, "reading pending messages") from exc
        return [
            OutboxRow(uuid.UUID(r[0]), r[1], r[2], bytes(r[3]), r[4], r[5], r[6], r[7])
            for r in rows
        ]

    def record_attempts(self, ids: Iterable[uuid.UUID], monotonic_s: float) -> None:
        """Count one more send attempt for each id."""
        params = [(monotonic_s, str(item)) for item in ids]
        if params:
            self._write(
                "counting attempts",
                "UPDATE outbox SET attempts = attempts + 1, last_attempt_monotonic = ?"
                " WHERE id = ?",
                params,
            )

    def delete(self, ids: Iterable[uuid.UUID]) -> int:
        """Delete acknowledged rows; returns how many existed."""
        params = [(str(item),) for item in ids]
        if not params:
            return 0
        return self._write("deleting acked messages", "DELETE FROM outbox WHERE id = ?", params)

    def _write(self, doing: str, sql: str, params: Sequence[tuple[object, ...]]) -> int:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                changed = conn.executemany(sql, params).rowcount
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(conn)
                raise _storage_error(self.path, exc, doing) from exc
        return changed

    def depth(self) -> int:
        """How many messages are waiting for central's ack."""
        with self._lock:
            conn = self._connection()
            try:
                return int(conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
            except sqlite3.Error as exc:
                raise _storage_error(self.path, exc, "counting messages") from exc

    def next_seq(self) -> int:
        """The seq the next message will get."""
        with self._lock:
            conn = self._connection()
            try:
                return self._meta_int(conn, _NEXT_SEQ, 0)
            except sqlite3.Error as exc:
                raise _storage_error(self.path, exc, "reading the sequence") from exc

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
