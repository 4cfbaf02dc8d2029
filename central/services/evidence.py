"""Evidence files: stored once under the hash the kiosk named them by, served by that hash.

The file's location is derived from the hash by the server (`ab/abcdef….webm` under the
evidence directory), never from anything else the client sent, and a stored path is checked to
stay inside the directory before it is opened. Uploads stream to a temporary file while being
hashed and are renamed into place only when the hash matches the URL.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Final

from sqlalchemy import Table
from sqlalchemy.orm import Session

from central.models import Evidence
from central.services.errors import InvalidParameter, NotFound, ServiceError
from central.services.upsert import insert_all_ignoring_duplicates
from protocol.topics import ID_PATTERN

log = logging.getLogger(__name__)

MEDIA_TYPES: Final[dict[str, str]] = {"video/webm": ".webm", "image/jpeg": ".jpg"}
_SHA256_RE: Final = re.compile(r"[0-9a-f]{64}")
_ID_RE: Final = re.compile(ID_PATTERN)
_CHUNK: Final = 1 << 20
_EVIDENCE: Table = Evidence.__table__  # type: ignore[assignment]


class PayloadTooLarge(ServiceError):
    code = "payload_too_large"


class UnsupportedMediaType(ServiceError):
    code = "unsupported_media_type"


@dataclass(frozen=True)
class EvidenceInfo:
    sha256: str
    size_bytes: int
    media_type: str
    stored_path: str  # relative to the evidence directory
    device_id: str | None
    uploaded_at: datetime
    purged_at: datetime | None = None  # deleted under the retention policy then


@dataclass(frozen=True)
class EvidenceUpload:
    """One PUT, as the web layer received it (the body is read by the service)."""

    sha256: str
    media_type: str
    device_id: str | None
    body: IO[bytes]
    content_length: int | None


def parse_sha256(value: str) -> str | None:
    """The hash if `value` is exactly 64 lowercase hex digits, else None."""
    return value if _SHA256_RE.fullmatch(value) else None


def _info(row: Evidence) -> EvidenceInfo:
    return EvidenceInfo(
        row.sha256,
        row.size_bytes,
        row.media_type,
        row.stored_path,
        row.device_id,
        row.uploaded_at,
        row.purged_at,
    )


class EvidenceFiles:
    """The evidence directory. Paths come from hashes only."""

    def __init__(self, root: Path | str, max_bytes: int) -> None:
        self.root = Path(root).resolve()
        self.max_bytes = max_bytes

    @staticmethod
    def relative_path(sha256: str, media_type: str) -> str:
        return f"{sha256[:2]}/{sha256}{MEDIA_TYPES[media_type]}"

    def absolute(self, relative: str) -> Path:
        """The file for a stored path; NotFound if it would leave the directory."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise NotFound("no such evidence")
        return path

    def write(self, upload: EvidenceUpload, relative: str) -> int:
        """Stream the body to a temporary file, check size and hash, fsync, rename into place.
        Returns the size. Raises PayloadTooLarge or InvalidParameter (hash mismatch)."""
        target = self.absolute(relative)
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                size, digest = self._copy(upload.body, handle)
                handle.flush()
                os.fsync(handle.fileno())
            if size == 0:
                raise InvalidParameter("body", "is empty")
            if digest != upload.sha256:
                raise InvalidParameter("body", "does not hash to the sha256 in the URL")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(target.parent)
        return size

    def _copy(self, body: IO[bytes], out: IO[bytes]) -> tuple[int, str]:
        digest = hashlib.sha256()
        size = 0
        while chunk := body.read(_CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise PayloadTooLarge(f"evidence larger than {self.max_bytes} bytes")
            digest.update(chunk)
            out.write(chunk)
        return size, digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_upload(upload: EvidenceUpload, max_bytes: int) -> None:
    """What can be refused before reading the body."""
    if parse_sha256(upload.sha256) is None:
        raise NotFound("no such evidence")
    if upload.media_type not in MEDIA_TYPES:
        raise UnsupportedMediaType(f"Content-Type must be one of {', '.join(MEDIA_TYPES)}")
    if upload.device_id is not None and not _ID_RE.fullmatch(upload.device_id):
        raise InvalidParameter("X-Device-Id", "must be 1-64 letters, digits, '_', '.', '-'")
    if upload.content_length is not None and upload.content_length > max_bytes:
        raise PayloadTooLarge(f"evidence larger than {max_bytes} bytes")


def store_evidence(
    session: Session, files: EvidenceFiles, upload: EvidenceUpload
) -> tuple[EvidenceInfo, bool]:
    """Store an upload once (the caller commits). Returns the row and whether it is new; an
    existing hash whose file is present is not rewritten and its body is not read."""
    check_upload(upload, files.max_bytes)
    existing = session.get(Evidence, upload.sha256)
    if existing is not None and files.absolute(existing.stored_path).is_file():
        return _info(existing), False
    if existing is not None and existing.purged_at is not None:
        # Deleted under the retention policy: a late retry must not bring it back.
        return _info(existing), False
    relative = (
        existing.stored_path
        if existing is not None
        else files.relative_path(upload.sha256, upload.media_type)
    )
    size = files.write(upload, relative)
    if existing is not None:  # the row survived but the file was lost: it is back now
        log.warning("evidence %s was missing on disk; restored by a re-upload", upload.sha256)
        return _info(existing), False
    row = {
        "sha256": upload.sha256,
        "size_bytes": size,
        "media_type": upload.media_type,
        "stored_path": relative,
        "device_id": upload.device_id,
        "uploaded_at": datetime.now(UTC),
    }
    insert_all_ignoring_duplicates(session.connection(), _EVIDENCE, [row])
    stored = session.get(Evidence, upload.sha256, populate_existing=True)
    if stored is None:
        raise NotFound("no such evidence")
    # Two uploads of the same hash at once: the one whose row was kept created it.
    return _info(stored), stored.uploaded_at == row["uploaded_at"]


def get_evidence(session: Session, sha256: str) -> EvidenceInfo:
    """The evidence named by `sha256`; NotFound for an unknown or malformed hash."""
    if parse_sha256(sha256) is None:
        raise NotFound("no such evidence")
    row = session.get(Evidence, sha256)
    if row is None:
        raise NotFound("no such evidence")
    return _info(row)
