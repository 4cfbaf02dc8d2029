"""Durable evidence on the kiosk: files named by sha256 under data_dir/evidence/, indexed in
SQLite (WAL, synchronous=FULL) so evidence waiting for upload survives a restart or power cut.

A file is written to evidence/tmp/, fsynced, renamed into place and only then indexed; at open,
leftover temporaries are removed, index rows without a file are dropped and files without a
row are re-indexed (unflagged, pending) after their hash is checked.

Disk budget: at most `max_bytes` of evidence and at least `min_free_bytes` left free on the
file system (so the outbox next to it can still write). When a new file does not fit, the
oldest evidence NOT attached to a flagged violation is deleted first; if that is not enough,
`EvidenceFullError` is raised and a `disk_full` event reported. Only files under evidence/ are
ever deleted: the outbox is never touched.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from edge_agent.durable_sqlite import open_durable
from edge_agent.evidence.files import fsync_dir, fsync_file, sha256_of
from edge_agent.evidence.records import (
    DiskBudget,
    EvidenceError,
    EvidenceFullError,
    EvidenceStorageError,
    MediaType,
    Role,
    StoredEvidence,
    StoreEvent,
)

__all__ = [
    "DiskBudget",
    "EvidenceError",
    "EvidenceFullError",
    "EvidenceStorageError",
    "EvidenceStore",
    "StoreEvent",
    "StoredEvidence",
]

log = logging.getLogger(__name__)

SUFFIXES: Final[dict[str, str]] = {"video/webm": ".webm", "image/jpeg": ".jpg"}
_FILE_RE: Final = re.compile(r"^([0-9a-f]{64})(\.webm|\.jpg)$")
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS evidence (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL UNIQUE,
    media_type TEXT NOT NULL,
    role TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    filename TEXT NOT NULL,
    violation_id TEXT,
    flagged INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending',
    created_wall TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS ix_evidence_violation_id ON evidence (violation_id);
"""
_SELECT_ONE: Final = (
    "SELECT sha256, media_type, role, size_bytes, filename, violation_id, flagged, state,"
    " attempts FROM evidence WHERE sha256 = ?"
)
_SELECT_PENDING: Final = (
    "SELECT sha256, media_type, role, size_bytes, filename, violation_id, flagged, state,"
    " attempts FROM evidence WHERE state = 'pending' ORDER BY seq LIMIT ?"
)


class EvidenceStore:
    """Evidence files and their upload index under `data_dir / "evidence"`."""

    def __init__(
        self,
        data_dir: Path | str,
        budget: DiskBudget | None = None,
        *,
        on_event: Callable[[StoreEvent], None] | None = None,
        disk_free: Callable[[Path], int] | None = None,
    ) -> None:
        self.root = Path(data_dir) / "evidence"
        self.tmp_dir = self.root / "tmp"
        self.budget = budget or DiskBudget()
        self._on_event = on_event
        self._disk_free = disk_free or (lambda path: shutil.disk_usage(path).free)
        self._lock = threading.RLock()
        try:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            self._conn: sqlite3.Connection | None = self._open(self.root / "index.sqlite3")
        except (OSError, sqlite3.Error) as exc:
            raise EvidenceStorageError(f"cannot open evidence store {self.root}: {exc}") from exc
        self._reconcile()

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        return open_durable(path, _SCHEMA)

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise EvidenceError(f"evidence store {self.root} is closed")
        return self._conn

    def _sql(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return list(self._db().execute(sql, params).fetchall())
            except sqlite3.Error as exc:
                raise EvidenceStorageError(f"evidence index {self.root}: {exc}") from exc

    # adding ----------------------------------------------------------------------------

    def temp_path(self, suffix: str) -> Path:
        """A fresh path in evidence/tmp/ for an encoder to write into (same file system)."""
        return self.tmp_dir / f"{uuid.uuid4().hex}{suffix}"

    def add_bytes(
        self,
        data: bytes,
        media_type: MediaType,
        role: Role,
        *,
        violation_id: str | None = None,
        flagged: bool = True,
    ) -> StoredEvidence:
        """Store `data` like `add_file` does."""
        path = self.temp_path(SUFFIXES[media_type])
        try:
            path.write_bytes(data)
        except OSError as exc:
            path.unlink(missing_ok=True)
            self._check_full_after(exc)
            raise EvidenceStorageError(f"cannot write {path}: {exc}") from exc
        return self.add_file(path, media_type, role, violation_id=violation_id, flagged=flagged)

    def add_file(
        self,
        path: Path,
        media_type: MediaType,
        role: Role,
        *,
        violation_id: str | None = None,
        flagged: bool = True,
    ) -> StoredEvidence:
        """Move the finished file `path` into the store under its sha256 and index it as
        pending upload. The same content twice is stored once. Raises EvidenceFullError when
        it does not fit even after evicting unflagged evidence (the file is then deleted)."""
        if media_type not in SUFFIXES:
            raise ValueError(f"unsupported media type {media_type!r}")
        try:
            size = path.stat().st_size
            digest = sha256_of(path)
            fsync_file(path)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise EvidenceStorageError(f"cannot read {path}: {exc}") from exc
        if size <= 0:
            path.unlink(missing_ok=True)
            raise EvidenceError(f"{path.name} is empty")
        with self._lock:
            existing = self.get(digest)
            if existing is not None:
                path.unlink(missing_ok=True)
                if flagged and not existing.flagged:
                    self._sql("UPDATE evidence SET flagged = 1 WHERE sha256 = ?", (digest,))
                return self.get(digest) or existing
            try:
                self._make_room(size)
            except EvidenceFullError:
                path.unlink(missing_ok=True)
                raise
            return self._commit_file(path, digest, (media_type, role, size, violation_id, flagged))

    def _commit_file(
        self,
        path: Path,
        digest: str,
        meta: tuple[MediaType, Role, int, str | None, bool],
    ) -> StoredEvidence:
        media_type, role, size, violation_id, flagged = meta
        final = self.root / f"{digest}{SUFFIXES[media_type]}"
        try:
            os.replace(path, final)
            fsync_dir(self.root)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise EvidenceStorageError(f"cannot move evidence into {final}: {exc}") from exc
        self._sql(
            "INSERT INTO evidence (sha256, media_type, role, size_bytes, filename, violation_id,"
            " flagged, created_wall) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                digest,
                media_type,
                role,
                size,
                final.name,
                violation_id,
                int(flagged),
                datetime.now(UTC).isoformat(),
            ),
        )
        stored = self.get(digest)
        assert stored is not None
        log.info("evidence %s stored (%s, %d bytes)", digest[:12], media_type, size)
        return stored

    def ensure_room(self, size: int = 0) -> None:
        """Make room for `size` more bytes now (evicting unflagged evidence); raises
        EvidenceFullError, after reporting `disk_full`, when that is impossible. Encoders call
        it first so a full disk is found before seconds of CPU are spent."""
        with self._lock:
            self._make_room(size)

    def _fits(self, size: int) -> bool:
        used = self.used_bytes()
        free = self._disk_free(self.root)
        return used + size <= self.budget.max_bytes and free - size >= self.budget.min_free_bytes

    def _make_room(self, size: int) -> None:
        evicted: list[str] = []
        while not self._fits(size):
            rows = self._sql(
                "SELECT sha256, filename FROM evidence WHERE flagged = 0 ORDER BY seq LIMIT 1"
            )
            if not rows:
                break
            sha, filename = str(rows[0][0]), str(rows[0][1])
            (self.root / filename).unlink(missing_ok=True)
            self._sql("DELETE FROM evidence WHERE sha256 = ?", (sha,))
            evicted.append(sha)
        if evicted:
            log.warning("evidence budget: deleted %d unflagged file(s)", len(evicted))
            self._emit(StoreEvent("evicted", "deleted unflagged evidence", tuple(evicted)))
        if not self._fits(size):
            detail = (
                f"no room for {size} bytes of evidence in {self.root}: budget "
                f"{self.budget.max_bytes} bytes, {self.used_bytes()} used, "
                f"{self._disk_free(self.root)} free on disk (keeping {self.budget.min_free_bytes})"
            )
            self._emit(StoreEvent("disk_full", detail))
            raise EvidenceFullError(detail)

    def _check_full_after(self, exc: OSError) -> None:
        if exc.errno == 28:  # ENOSPC
            detail = f"disk full while writing evidence in {self.root}"
            self._emit(StoreEvent("disk_full", detail))
            raise EvidenceFullError(detail) from exc

    def _emit(self, event: StoreEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a broken listener must not break storing
            log.exception("evidence event listener failed on %s", event.kind)

    # reading and upload bookkeeping ----------------------------------------------------

    def get(self, sha256: str) -> StoredEvidence | None:
        rows = self._sql(_SELECT_ONE, (sha256,))
        return self._row(rows[0]) if rows else None

    def pending(self, limit: int = 50) -> list[StoredEvidence]:
        """Evidence waiting for upload, oldest first."""
        rows = self._sql(_SELECT_PENDING, (limit,))
        return [self._row(row) for row in rows]

    def _row(self, row: tuple[object, ...]) -> StoredEvidence:
        sha, media, role, size, filename, violation, flagged, state, attempts = row
        return StoredEvidence(
            sha256=str(sha),
            media_type="video/webm" if media == "video/webm" else "image/jpeg",
            role="clip" if role == "clip" else "snapshot",
            size_bytes=int(str(size)),
            path=self.root / str(filename),
            violation_id=None if violation is None else str(violation),
            flagged=bool(flagged),
            state="rejected" if state == "rejected" else "pending",
            attempts=int(str(attempts)),
        )

    def record_failure(self, sha256: str, error: str, *, rejected: bool = False) -> None:
        """Count a failed upload; `rejected` (central refused it for good) stops retries."""
        self._sql(
            "UPDATE evidence SET attempts = attempts + 1, last_error = ?,"
            " state = CASE WHEN ? THEN 'rejected' ELSE state END WHERE sha256 = ?",
            (error[:500], int(rejected), sha256),
        )

    def remove(self, sha256: str) -> None:
        """Central has it (2xx), or its file is gone: delete the file, then the index row."""
        with self._lock:
            item = self.get(sha256)
            if item is None:
                return
            item.path.unlink(missing_ok=True)
            self._sql("DELETE FROM evidence WHERE sha256 = ?", (sha256,))

    def set_flagged(self, violation_id: str, flagged: bool = True) -> int:
        """Mark the evidence of a violation as (not) flagged; returns how many items."""
        with self._lock:
            count = self._sql(
                "SELECT COUNT(*) FROM evidence WHERE violation_id = ?", (violation_id,)
            )[0][0]
            self._sql(
                "UPDATE evidence SET flagged = ? WHERE violation_id = ?",
                (int(flagged), violation_id),
            )
        return int(str(count))

    def backlog(self) -> int:
        """How many items wait for upload (for the heartbeat's evidence_backlog)."""
        return int(str(self._sql("SELECT COUNT(*) FROM evidence WHERE state = 'pending'")[0][0]))

    def used_bytes(self) -> int:
        return int(str(self._sql("SELECT COALESCE(SUM(size_bytes), 0) FROM evidence")[0][0]))

    # start-up repair -------------------------------------------------------------------

    def _reconcile(self) -> None:
        for leftover in self.tmp_dir.iterdir():
            leftover.unlink(missing_ok=True)
        indexed = {str(r[0]): str(r[1]) for r in self._sql("SELECT sha256, filename FROM evidence")}
        for sha, filename in indexed.items():
            if not (self.root / filename).is_file():
                log.warning("evidence %s lost its file; dropping it from the index", sha[:12])
                self._sql("DELETE FROM evidence WHERE sha256 = ?", (sha,))
        for path in sorted(self.root.iterdir()):
            match = _FILE_RE.match(path.name)
            if match is None or match.group(1) in indexed:
                continue
            self._reindex(path, match.group(1), match.group(2))

    def _reindex(self, path: Path, sha: str, suffix: str) -> None:
        if sha256_of(path) != sha:
            log.warning("evidence file %s does not match its name; deleting it", path.name)
            path.unlink(missing_ok=True)
            return
        media: MediaType = "video/webm" if suffix == ".webm" else "image/jpeg"
        log.warning("evidence file %s was not indexed; queueing it for upload", path.name)
        self._sql(
            "INSERT INTO evidence (sha256, media_type, role, size_bytes, filename, flagged,"
            " created_wall) VALUES (?, ?, ?, ?, ?, 0, ?)",
            (
                sha,
                media,
                "clip" if suffix == ".webm" else "snapshot",
                path.stat().st_size,
                path.name,
                datetime.now(UTC).isoformat(),
            ),
        )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> EvidenceStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
