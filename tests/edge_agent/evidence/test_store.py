"""The durable evidence store: survives reopening, stores content once, keeps to its disk
budget (unflagged evidence goes first, then a clear error), repairs itself at open, and never
touches the outbox next to it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge_agent.evidence import (
    DiskBudget,
    EvidenceError,
    EvidenceFullError,
    EvidenceStorageError,
    EvidenceStore,
    StoreEvent,
)
from edge_agent.evidence.files import sha256_of
from edge_agent.outbox import Outbox
from protocol import AnswerSaved, DeviceClock, SessionRef

KB = 1024


def _blob(tag: int, size: int = 10 * KB) -> bytes:
    return bytes([tag % 256]) * (size - 4) + tag.to_bytes(4, "big")


def test_pending_evidence_survives_reopen(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    clip = store.add_bytes(_blob(1), "video/webm", "clip", violation_id="v-1")
    snap = store.add_bytes(_blob(2), "image/jpeg", "snapshot", violation_id="v-1")
    store.close()
    reopened = EvidenceStore(tmp_path)
    pending = reopened.pending()
    assert [p.sha256 for p in pending] == [clip.sha256, snap.sha256]
    assert pending[0].path == tmp_path / "evidence" / f"{clip.sha256}.webm"
    assert pending[1].path.name == f"{snap.sha256}.jpg"
    assert sha256_of(pending[0].path) == clip.sha256
    ref = pending[0].ref()
    assert (ref.media_type, ref.role, ref.size_bytes) == ("video/webm", "clip", 10 * KB)
    assert reopened.backlog() == 2
    reopened.close()


def test_index_is_wal_and_synchronous_full(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    conn = store._conn
    assert conn is not None
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


def test_same_content_is_stored_once(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    first = store.add_bytes(_blob(1), "video/webm", "clip", flagged=False)
    again = store.add_bytes(_blob(1), "video/webm", "clip", flagged=True)
    assert again.sha256 == first.sha256
    assert again.flagged
    assert store.backlog() == 1
    assert list((tmp_path / "evidence" / "tmp").iterdir()) == []
    store.close()


def test_budget_evicts_oldest_unflagged_first(tmp_path: Path) -> None:
    events: list[StoreEvent] = []
    store = EvidenceStore(
        tmp_path, DiskBudget(max_bytes=40 * KB, min_free_bytes=0), on_event=events.append
    )
    old_unflagged = store.add_bytes(_blob(1), "video/webm", "clip", flagged=False)
    flagged = store.add_bytes(_blob(2), "video/webm", "clip", violation_id="v-2")
    new_unflagged = store.add_bytes(_blob(3), "image/jpeg", "snapshot", flagged=False)
    store.add_bytes(_blob(4), "video/webm", "clip", violation_id="v-4")  # 40 KB: full
    assert store.used_bytes() == 40 * KB
    store.add_bytes(_blob(5), "video/webm", "clip", violation_id="v-5")
    assert store.get(old_unflagged.sha256) is None
    assert not old_unflagged.path.exists()
    assert store.get(new_unflagged.sha256) is not None
    assert events == [StoreEvent("evicted", "deleted unflagged evidence", (old_unflagged.sha256,))]
    store.add_bytes(_blob(6), "video/webm", "clip", violation_id="v-6")
    assert store.get(new_unflagged.sha256) is None
    assert store.get(flagged.sha256) is not None
    with pytest.raises(EvidenceFullError, match="no room"):
        store.add_bytes(_blob(7), "video/webm", "clip", violation_id="v-7")
    assert events[-1].kind == "disk_full"
    assert store.get(flagged.sha256) is not None  # flagged evidence is never deleted for room
    assert store.used_bytes() == 40 * KB
    assert list((tmp_path / "evidence" / "tmp").iterdir()) == []
    store.close()


def test_unflagging_a_violation_makes_its_evidence_evictable(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, DiskBudget(max_bytes=20 * KB, min_free_bytes=0))
    first = store.add_bytes(_blob(1), "video/webm", "clip", violation_id="v-1")
    store.add_bytes(_blob(2), "video/webm", "clip", violation_id="v-2")
    with pytest.raises(EvidenceFullError):
        store.add_bytes(_blob(3), "video/webm", "clip", violation_id="v-3")
    assert store.set_flagged("v-1", False) == 1
    store.add_bytes(_blob(3), "video/webm", "clip", violation_id="v-3")
    assert store.get(first.sha256) is None
    store.close()


def test_free_disk_space_is_kept_for_everything_else(tmp_path: Path) -> None:
    def disk_free(root: Path) -> int:  # a 100 KB disk holding only the evidence
        return 100 * KB - sum(p.stat().st_size for p in root.glob("*.webm"))

    store = EvidenceStore(
        tmp_path, DiskBudget(max_bytes=10**9, min_free_bytes=70 * KB), disk_free=disk_free
    )
    first = store.add_bytes(_blob(1), "video/webm", "clip", flagged=False)
    store.add_bytes(_blob(2), "video/webm", "clip")
    store.add_bytes(_blob(3), "video/webm", "clip")  # 70 KB left: the floor
    assert store.get(first.sha256) is not None
    store.add_bytes(_blob(4), "video/webm", "clip")  # evicts the unflagged one...
    assert store.get(first.sha256) is None
    with pytest.raises(EvidenceFullError, match="free on disk"):
        store.add_bytes(_blob(5), "video/webm", "clip")  # ...then nothing is left to evict
    store.close()


def _answer(message_id: object, seq: int) -> AnswerSaved:
    return AnswerSaved(
        schema_version=1,
        centre_id="centre-1",
        device_id="kiosk-1",
        clock=DeviceClock(
            wall_time=datetime.now(UTC), monotonic_s=1.0, boot_id="boot", synced=True
        ),
        id=message_id,  # type: ignore[arg-type]
        seq=seq,
        kind="answer",
        subject=SessionRef(session_id="s-1"),
        question_id="q-1",
        answer="B",
    )


def test_full_evidence_budget_never_touches_the_outbox(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    outbox.enqueue(_answer)
    before = {p.name: p.stat().st_size for p in tmp_path.iterdir() if p.is_file()}
    store = EvidenceStore(tmp_path, DiskBudget(max_bytes=15 * KB, min_free_bytes=0))
    store.add_bytes(_blob(1), "video/webm", "clip")
    with pytest.raises(EvidenceFullError):
        store.add_bytes(_blob(2), "video/webm", "clip")
    after = {p.name: p.stat().st_size for p in tmp_path.iterdir() if p.is_file()}
    assert after == before
    assert outbox.depth() == 1
    store.close()
    outbox.close()


def test_open_repairs_index_and_files(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    kept = store.add_bytes(_blob(1), "video/webm", "clip", violation_id="v-1")
    lost = store.add_bytes(_blob(2), "image/jpeg", "snapshot", violation_id="v-1")
    store.close()
    root = tmp_path / "evidence"
    lost.path.unlink()  # the file vanished: its row goes
    orphan = _blob(3)
    orphan_sha = hashlib.sha256(orphan).hexdigest()
    (root / f"{orphan_sha}.webm").write_bytes(orphan)  # renamed, then a crash before indexing
    (root / f"{'0' * 64}.jpg").write_bytes(b"does not match its name")
    (root / "tmp" / "half-written.webm").write_bytes(b"partial")
    store = EvidenceStore(tmp_path)
    pending = {p.sha256: p for p in store.pending()}
    assert set(pending) == {kept.sha256, orphan_sha}
    assert pending[orphan_sha].role == "clip"
    assert not pending[orphan_sha].flagged
    assert not (root / f"{'0' * 64}.jpg").exists()
    assert list((root / "tmp").iterdir()) == []
    store.close()


def test_rejected_items_are_not_pending(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    item = store.add_bytes(_blob(1), "video/webm", "clip")
    store.record_failure(item.sha256, "HTTP 503")
    assert store.pending()[0].attempts == 1
    store.record_failure(item.sha256, "HTTP 400 hash", rejected=True)
    assert store.pending() == []
    assert store.backlog() == 0
    got = store.get(item.sha256)
    assert got is not None
    assert got.state == "rejected"
    store.remove(item.sha256)
    assert store.get(item.sha256) is None
    assert not item.path.exists()
    store.close()


def test_unusable_directory_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(EvidenceStorageError, match="cannot open evidence store"):
        EvidenceStore(tmp_path / "file")


def test_closed_store_refuses(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    store.close()
    with pytest.raises(EvidenceError, match="closed"):
        store.pending()
