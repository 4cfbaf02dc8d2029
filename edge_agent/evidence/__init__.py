"""Violation evidence: a JPEG ring buffer of recent frames, clip requests encoded to VP8 WebM
off the frame path, best snapshots, a durable on-disk store with a disk budget, and the
uploader that PUTs each file to central by its sha256."""

from edge_agent.evidence.clips import ClipRecorder, ClipResult, ClipSettings
from edge_agent.evidence.config import EvidenceConfig
from edge_agent.evidence.encode import EncodeReport, best_snapshot, encode_webm, sharpness
from edge_agent.evidence.ring import BufferedFrame, EncodeError, FrameRing, RingStats
from edge_agent.evidence.store import (
    DiskBudget,
    EvidenceError,
    EvidenceFullError,
    EvidenceStorageError,
    EvidenceStore,
    StoredEvidence,
    StoreEvent,
)
from edge_agent.evidence.uploader import Outcome, Uploader, UploaderSettings, UploadStats

__all__ = [
    "BufferedFrame",
    "ClipRecorder",
    "ClipResult",
    "ClipSettings",
    "DiskBudget",
    "EncodeError",
    "EncodeReport",
    "EvidenceConfig",
    "EvidenceError",
    "EvidenceFullError",
    "EvidenceStorageError",
    "EvidenceStore",
    "FrameRing",
    "Outcome",
    "RingStats",
    "StoreEvent",
    "StoredEvidence",
    "UploadStats",
    "Uploader",
    "UploaderSettings",
    "best_snapshot",
    "encode_webm",
    "sharpness",
]
