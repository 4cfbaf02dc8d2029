"""The capture runner: bounded queue with counted drops, corrupt frames, end of stream, camera
loss with backoff and restore, lifecycle."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from edge_agent.capture import (
    Capture,
    CaptureEvent,
    CaptureEventKind,
    CaptureSettings,
    FileReplaySource,
    FrameQueue,
)
from edge_agent.vision.types import Frame
from tests.edge_agent.capture.helpers import FlakyCamera, ListSource, image, wait_until

FAST_LOSS = CaptureSettings(lost_timeout_s=0.3, reopen_min_s=0.05, reopen_max_s=0.2)


def _kinds(events: list[CaptureEvent]) -> list[CaptureEventKind]:
    return [event.kind for event in events]


def test_queue_drops_the_oldest_and_counts() -> None:
    queue = FrameQueue(2)
    frames = [Frame(image(i), i, float(i), datetime.now(UTC)) for i in range(5)]
    dropped = [queue.put(frame) for frame in frames]
    assert dropped == [False, False, True, True, True]
    assert queue.dropped == 3
    got = [queue.get(0), queue.get(0), queue.get(0.01)]
    assert [f.index for f in got if f is not None] == [3, 4]
    assert got[2] is None


def test_slow_consumer_makes_capture_drop_and_count_never_wait() -> None:
    source = ListSource([image(i) for i in range(200)])
    seen: list[int] = []
    capture = Capture(source, on_frame=lambda frame: seen.append(frame.index))
    started = time.monotonic()
    capture.start()
    consumed: list[Frame] = []
    for frame in capture.frames(poll_s=0.05):
        consumed.append(frame)
        time.sleep(0.02)  # a consumer far slower than capture
    assert capture.join(5)
    stats = capture.stats()
    assert stats.frames == 200 == len(seen)  # every frame was captured and shown to listeners
    assert stats.dropped > 100
    assert stats.dropped + len(consumed) == 200
    indexes = [f.index for f in consumed]
    assert indexes == sorted(indexes)
    assert indexes[-1] == 199  # the freshest frame is never the one dropped
    assert time.monotonic() - started < 0.02 * len(consumed) + 2


def test_capture_without_consumer_keeps_only_two_frames() -> None:
    capture = Capture(ListSource([image(i) for i in range(50)]))
    capture.start()
    assert capture.join(5)
    stats = capture.stats()
    assert (stats.frames, stats.dropped) == (50, 48)
    assert [capture.get(0), capture.get(0)] != [None, None]
    assert capture.get(0.01) is None


def test_corrupt_frames_are_counted_and_skipped() -> None:
    bad: list[object] = [
        None,
        np.zeros((48, 64), dtype=np.uint8),  # grey: wrong shape
        np.zeros((48, 64, 3), dtype=np.float32),  # wrong type
        np.zeros((48, 64, 2), dtype=np.uint8),
        "not an image",
        np.zeros((0, 64, 3), dtype=np.uint8),
    ]
    items = [image(1), *bad, image(2), np.zeros((48, 64, 4), dtype=np.uint8)]
    capture = Capture(ListSource(items))
    capture.start()
    frames = list(capture.frames())
    stats = capture.stats()
    assert stats.corrupt == len(bad)
    assert stats.frames == 3  # the 4-channel (XBGR) frame is cut to BGR
    assert all(f.image.shape == (48, 64, 3) for f in frames)


def test_live_frame_of_another_shape_is_corrupt() -> None:
    items = [image(1), image(2, (10, 10)), image(3)]
    capture = Capture(ListSource(items, live=True))
    capture.start()
    assert wait_until(lambda: capture.stats().frames == 2)
    capture.stop()
    assert capture.join(5)
    assert capture.stats().corrupt == 1


def test_end_of_file_is_end_of_stream_not_camera_loss() -> None:
    events: list[CaptureEvent] = []
    capture = Capture(ListSource([image(i) for i in range(5)]), FAST_LOSS, on_event=events.append)
    capture.start()
    frames = list(capture.frames())
    assert capture.join(5)
    time.sleep(0.4)  # longer than the loss timeout: still no camera_lost
    assert _kinds(events) == [CaptureEventKind.END_OF_STREAM]
    assert capture.finished
    assert capture.stats().ended
    assert 1 <= len(frames) <= 5


def test_replayed_frames_carry_file_timing() -> None:
    stamps: list[float] = []
    capture = Capture(
        ListSource([image(i) for i in range(5)], fps=10.0),
        on_frame=lambda f: stamps.append(f.monotonic_s),
    )
    capture.start()
    assert capture.join(5)
    assert np.allclose(np.diff(stamps), 0.1)


def test_missing_file_is_reported_and_not_retried(tmp_path: Path) -> None:
    events: list[CaptureEvent] = []
    capture = Capture(FileReplaySource(tmp_path / "nope.mp4"), FAST_LOSS, on_event=events.append)
    capture.start()
    assert capture.join(5)
    assert _kinds(events) == [CaptureEventKind.SOURCE_FAILED]
    assert "no such file" in events[0].detail


def test_unplugged_camera_is_lost_reopened_with_backoff_and_restored() -> None:
    camera = FlakyCamera()
    events: list[CaptureEvent] = []
    capture = Capture(camera, FAST_LOSS, on_event=events.append)
    capture.start()
    assert wait_until(lambda: capture.stats().frames >= 5)
    camera.plugged = False
    unplugged_at = time.monotonic()
    assert wait_until(lambda: CaptureEventKind.CAMERA_LOST in _kinds(events), 3)
    lost = events[-1]
    assert lost.monotonic_s <= unplugged_at + 0.05  # dated from the last good frame
    assert capture.stats().camera_lost
    time.sleep(0.5)
    opens_while_unplugged = camera.opens
    assert opens_while_unplugged >= 3  # retried...
    assert opens_while_unplugged < 20  # ...with backoff, not in a busy loop
    camera.plugged = True
    assert wait_until(lambda: CaptureEventKind.CAMERA_RESTORED in _kinds(events), 3)
    restored = events[-1]
    assert restored.lost_for_s is not None
    assert restored.lost_for_s >= 0.3
    assert _kinds(events) == [CaptureEventKind.CAMERA_LOST, CaptureEventKind.CAMERA_RESTORED]
    frames_before = capture.stats().frames
    assert wait_until(lambda: capture.stats().frames > frames_before + 3)
    capture.stop()
    assert capture.join(5)
    stats = capture.stats()
    assert not stats.camera_lost
    assert stats.read_errors >= 3
    assert stats.reopens >= 1


def test_camera_that_never_opens_is_reported_lost() -> None:
    camera = FlakyCamera()
    camera.plugged = False
    events: list[CaptureEvent] = []
    capture = Capture(camera, FAST_LOSS, on_event=events.append)
    capture.start()
    assert wait_until(lambda: bool(events), 3)
    assert _kinds(events) == [CaptureEventKind.CAMERA_LOST]
    capture.stop()
    assert capture.join(5)


def test_a_broken_listener_does_not_stop_capture() -> None:
    def explode(_frame: Frame) -> None:
        raise RuntimeError("listener bug")

    capture = Capture(ListSource([image(i) for i in range(10)]), on_frame=explode)
    capture.start()
    assert capture.join(5)
    assert capture.stats().frames == 10


def test_fps_is_measured() -> None:
    camera = FlakyCamera(interval_s=0.02)
    capture = Capture(camera)
    capture.start()
    assert wait_until(lambda: capture.stats().frames >= 25)
    fps = capture.stats().fps
    capture.stop()
    assert capture.join(5)
    assert 25 < fps < 55
