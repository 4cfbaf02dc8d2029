"""Clip requests: the clip spans pre-roll to post-roll, is VP8 WebM that decodes, is encoded
off the frame path at a lower priority; the snapshot is the sharpest frame with a face."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from edge_agent.capture import FileReplaySource, iter_frames
from edge_agent.evidence import (
    ClipRecorder,
    ClipResult,
    ClipSettings,
    DiskBudget,
    EvidenceStore,
    FrameRing,
    StoreEvent,
    best_snapshot,
    sharpness,
)
from edge_agent.evidence.encode import sample_by_time
from edge_agent.evidence.ring import decode_jpeg
from tests.edge_agent.evidence.helpers import T0, frame, has_square

FAST = ClipSettings(poll_s=0.02, stall_s=0.5)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EvidenceStore]:
    store = EvidenceStore(tmp_path)
    yield store
    store.close()


@pytest.fixture
def running() -> Iterator[list[ClipRecorder]]:
    recorders: list[ClipRecorder] = []
    yield recorders
    for recorder in recorders:
        recorder.stop()
        assert recorder.join(30)


def _recorder(
    ring: FrameRing, store: EvidenceStore, running: list[ClipRecorder], **kw: object
) -> ClipRecorder:
    settings = kw.pop("settings", FAST)
    recorder = ClipRecorder(ring, store, settings, **kw)  # type: ignore[arg-type]
    recorder.start()
    running.append(recorder)
    return recorder


def _webm_codec(path: Path) -> bytes:
    data = path.read_bytes()
    assert data[:4] == b"\x1a\x45\xdf\xa3"  # EBML header
    assert b"webm" in data[:64]
    return b"V_VP8" if b"V_VP8" in data[:4096] else b"?"


def test_clip_of_fixture_video_spans_pre_and_post_roll(
    fixtures_dir: Path, store: EvidenceStore, running: list[ClipRecorder]
) -> None:
    ring = FrameRing(max_seconds=30)
    recorder = _recorder(ring, store, running)
    source = FileReplaySource(
        fixtures_dir / "video" / "center_left_center.mp4", rotation="90cw", pacing="fast"
    )
    start_mono = None
    pushed = []
    for item in iter_frames(source):
        pushed.append(ring.push(item))
        ring.annotate(item.index, item.index % 2 == 1)  # "face" on odd frames only
        if item.index == 144:  # 6 s in: the violation starts
            start_mono = item.monotonic_s
            recorder.request("v-1", start_mono, None, pre_roll_s=5.0, post_roll_s=3.0)
    assert start_mono is not None
    result = recorder.wait_result("v-1", 60)
    assert result is not None
    assert result.error is None
    assert result.clip is not None
    assert result.snapshot is not None
    assert result.first_mono == pytest.approx(start_mono - 5.0, abs=0.05)
    assert result.last_mono == pytest.approx(start_mono + 3.0, abs=0.05)
    assert 78 <= result.frames <= 82  # 8 s at 10 fps
    clip = store.get(result.clip.sha256)
    assert clip is not None
    assert clip.path.name == f"{result.clip.sha256}.webm"
    assert (result.clip.media_type, result.clip.role) == ("video/webm", "clip")
    assert _webm_codec(clip.path) == b"V_VP8"
    capture = cv2.VideoCapture(str(clip.path))
    decoded = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        decoded += 1
        assert image.shape[1] == 320  # reduced size
    capture.release()
    assert abs(decoded - result.frames) <= 1
    assert result.encode_ms_per_frame is not None
    assert result.encode_ms_per_frame > 0
    snapshot = store.get(result.snapshot.sha256)
    assert snapshot is not None
    assert snapshot.path.suffix == ".jpg"
    chosen = [p for p in pushed if p.jpeg == snapshot.path.read_bytes()]
    assert len(chosen) == 1
    assert chosen[0].index % 2 == 1  # a frame with a face
    assert result.snapshot_has_face


def test_ended_violation_clip_and_cap(store: EvidenceStore, running: list[ClipRecorder]) -> None:
    ring = FrameRing(max_seconds=60, max_width=160)
    settings = ClipSettings(fps=5.0, max_clip_s=6.0, poll_s=0.02)
    recorder = _recorder(ring, store, running, settings=settings)
    recorder.request("long", T0 + 2.0, T0 + 20.0, pre_roll_s=1.0, post_roll_s=1.0)
    recorder.request("short", T0 + 2.0, T0 + 3.0, pre_roll_s=1.0, post_roll_s=1.0)
    for i in range(20 * 12):  # 12 s at 20 fps
        ring.push(frame(i))
    short = recorder.wait_result("short", 30)
    long = recorder.wait_result("long", 30)
    assert short is not None
    assert long is not None
    assert (short.first_mono, short.last_mono) == (T0 + 1.0, T0 + 4.0)
    assert short.frames == 16  # 3 s at 5 fps, both ends
    assert (long.first_mono, long.last_mono) == (T0 + 1.0, T0 + 7.0)  # cut at 6 s


def test_stalled_capture_encodes_what_there_is(
    store: EvidenceStore, running: list[ClipRecorder]
) -> None:
    ring = FrameRing(max_width=160)
    recorder = _recorder(ring, store, running)
    for i in range(40):  # 2 s, then the camera is lost
        ring.push(frame(i))
    recorder.request("lost", T0 + 1.9, None)
    assert recorder.result("lost") is None  # post-roll not there yet
    result = recorder.wait_result("lost", 10)
    assert result is not None
    assert result.clip is not None
    assert result.last_mono == pytest.approx(T0 + 39 / 20)


def test_flush_and_one_clip_per_violation(
    store: EvidenceStore, running: list[ClipRecorder]
) -> None:
    ring = FrameRing(max_width=160)
    done: list[ClipResult] = []
    settings = ClipSettings(poll_s=0.02, stall_s=3600)
    recorder = _recorder(ring, store, running, settings=settings, on_result=done.append)
    for i in range(60):
        ring.push(frame(i))
    recorder.request("v", T0 + 1.0, None)
    recorder.request("v", T0 + 0.5, T0 + 1.5)  # pending: updated, not duplicated
    time.sleep(0.2)
    assert recorder.pending_count() == 1
    recorder.flush()
    result = recorder.wait_result("v", 10)
    assert result is not None
    assert result.first_mono == pytest.approx(T0)  # 0.5 - 5 s pre-roll: from the oldest frame
    recorder.request("v", T0 + 2.0, None)  # already encoded: ignored
    time.sleep(0.2)
    assert recorder.pending_count() == 0
    assert len(done) == 1


def test_worker_runs_at_lower_priority(store: EvidenceStore, running: list[ClipRecorder]) -> None:
    recorder = _recorder(FrameRing(), store, running, settings=ClipSettings(niceness=5))
    deadline = time.monotonic() + 5
    while recorder.worker_nice is None and time.monotonic() < deadline:
        time.sleep(0.01)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert recorder.worker_nice is not None
    assert recorder.worker_nice >= min(19, mine + 5)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine  # not the caller


def test_request_never_blocks_on_encoding(
    store: EvidenceStore, running: list[ClipRecorder]
) -> None:
    ring = FrameRing()
    recorder = _recorder(ring, store, running)
    for i in range(200):
        ring.push(frame(i))
    started = time.perf_counter()
    for n in range(5):
        recorder.request(f"v-{n}", T0 + 5.0, None, pre_roll_s=3, post_roll_s=1)
    assert time.perf_counter() - started < 0.05
    for n in range(5):
        assert recorder.wait_result(f"v-{n}", 60) is not None


def test_full_disk_is_reported(tmp_path: Path, running: list[ClipRecorder]) -> None:
    events: list[StoreEvent] = []
    store = EvidenceStore(
        tmp_path, DiskBudget(max_bytes=1000, min_free_bytes=0), on_event=events.append
    )
    ring = FrameRing(max_width=160)
    recorder = _recorder(ring, store, running)
    for i in range(80):
        ring.push(frame(i))
    recorder.request("v", T0 + 2.0, None)
    result = recorder.wait_result("v", 30)
    assert result is not None
    assert result.clip is None
    assert result.error is not None
    assert "no room" in result.error
    assert [e.kind for e in events] == ["disk_full", "disk_full"]  # clip, then snapshot
    assert list((tmp_path / "evidence" / "tmp").iterdir()) == []
    recorder.stop()
    store.close()


def test_no_frames_is_an_error_result(store: EvidenceStore, running: list[ClipRecorder]) -> None:
    recorder = _recorder(FrameRing(), store, running)
    recorder.request("v", T0, None)
    recorder.flush()
    result = recorder.wait_result("v", 10)
    assert result is not None
    assert result.error == "no frames in the ring buffer for this window"


def test_snapshot_is_sharpest_face_frame() -> None:
    ring = FrameRing()
    items = [
        ring.push(frame(0, face=False)),  # the sharpest overall, but no face
        ring.push(frame(1, face=True, blur=3)),
        ring.push(frame(2, face=True, blur=1)),  # the sharpest with a face
        ring.push(frame(3, face=True, blur=6)),
    ]
    for item in items:
        ring.annotate(item.index, item.index != 0)
    flagged = ring.frames_between(0, 10**9)
    best = best_snapshot(flagged)
    assert best is not None
    assert (best[0].index, best[1]) == (2, True)
    scores = [sharpness(decode_jpeg(f.jpeg)) for f in flagged]
    assert scores[0] > scores[2] > scores[1] > scores[3]
    unflagged = list(items)  # no flags: ask the detector
    best = best_snapshot(unflagged, has_face=has_square)
    assert best is not None
    assert (best[0].index, best[1]) == (2, True)
    no_faces = best_snapshot([items[0], items[1]], has_face=lambda _image: False)
    assert no_faces is not None
    assert (no_faces[0].index, no_faces[1]) == (0, False)  # sharpest overall, said so
    assert best_snapshot([]) is None


def test_sampling_keeps_real_durations() -> None:
    ring = FrameRing(max_width=64)
    slow = [ring.push(frame(i, fps=4.0)) for i in range(9)]  # a 4 fps camera, 2 s
    picked = sample_by_time(slow, fps=10.0)
    assert len(picked) == 21  # 2 s at 10 fps: frames repeat
    assert [p.index for p in picked[:6]] == [0, 0, 0, 1, 1, 2]


def test_disk_already_full_skips_encoding(tmp_path: Path, running: list[ClipRecorder]) -> None:
    events: list[StoreEvent] = []
    store = EvidenceStore(
        tmp_path,
        DiskBudget(min_free_bytes=1024),
        on_event=events.append,
        disk_free=lambda _root: 0,
    )
    ring = FrameRing(max_width=160)
    recorder = _recorder(ring, store, running)
    for i in range(80):
        ring.push(frame(i))
    recorder.request("v", T0 + 2.0, None)
    result = recorder.wait_result("v", 30)
    assert result is not None
    assert (result.clip, result.snapshot, result.frames) == (None, None, 0)
    assert result.error is not None
    assert "free on disk" in result.error
    assert [e.kind for e in events] == ["disk_full"]
