"""Values and errors of the evidence store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from protocol.models import EvidenceRef

MediaType = Literal["video/webm", "image/jpeg"]
Role = Literal["clip", "snapshot"]


class EvidenceError(Exception):
    """The evidence store cannot do what was asked."""


class EvidenceStorageError(EvidenceError):
    """Reading or writing the index or a file failed."""


class EvidenceFullError(EvidenceError):
    """No room for new evidence even after deleting all unflagged evidence."""


@dataclass(frozen=True)
class DiskBudget:
    max_bytes: int = 2 * 1024**3  # all evidence files together
    min_free_bytes: int = 256 * 1024**2  # left free on the file system for everything else


@dataclass(frozen=True)
class StoreEvent:
    kind: Literal["evicted", "disk_full"]
    detail: str
    sha256s: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredEvidence:
    sha256: str
    media_type: MediaType
    role: Role
    size_bytes: int
    path: Path
    violation_id: str | None
    flagged: bool
    state: Literal["pending", "rejected"]
    attempts: int

    def ref(self) -> EvidenceRef:
        return EvidenceRef(
            sha256=self.sha256,
            size_bytes=self.size_bytes,
            media_type=self.media_type,
            role=self.role,
        )
