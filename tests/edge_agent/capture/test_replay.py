"""File replay: the fixture video with rotation, fast and real-time pacing, image folders with
a corrupt file, and the OpenCV camera source."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_agent.capture import (
    Capture,
    CaptureEvent,
    CaptureEventKind,
    FileReplaySource,
    OpenCVCameraSource,
    Pacing,
    Rotation,
    SourceError,
    iter_frames,
)
from edge_agent.capture.config import CaptureConfig, build_source
from edge_agent.vision.types import Frame


def _video(tmp_path: Path, frames: int, fps: float = 24.0) -> Path:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), i * 10 % 256, dtype=np.uint8))
    writer.release()
    return path


def test_fixture_video_rotated_fast_and_resized(fixtures_dir: Path) -> None:
    path = fixtures_dir / "video" / "center_left_center.mp4"
    source = FileReplaySource(path, rotation="90cw", pacing=Pacing.FAST, width=320)
    events: list[CaptureEvent] = []
    seen: list[Frame] = []
    capture = Capture(source, on_event=events.append, on_frame=seen.append)
    started = time.monotonic()
    capture.start()
    consumed = list(capture.frames())
    elapsed = time.monotonic() - started
    assert capture.join(5)
    assert len(seen) == 368  # every frame of the file
    assert capture.stats().dropped + len(consumed) == 368
    assert [e.kind for e in events] == [CaptureEventKind.END_OF_STREAM]
    assert seen[0].image.shape == (566, 320, 3)  # stored sideways: upright after rotation
    assert source.fps == pytest.approx(24, abs=0.01)  # the file's own rate
    assert np.allclose(np.diff([f.monotonic_s for f in seen]), 1 / source.fps)
    assert seen[-1].monotonic_s - seen[0].monotonic_s == pytest.approx(367 / source.fps)
    assert elapsed < 15.3  # faster than real time


def test_rotation_matches_opencv(fixtures_dir: Path) -> None:
    path = fixtures_dir / "video" / "center_left_center.mp4"
    capture = cv2.VideoCapture(str(path))
    ok, raw = capture.read()
    capture.release()
    assert ok
    first = next(iter_frames(FileReplaySource(path, rotation=Rotation.CW90, pacing="fast")))
    assert np.array_equal(first.image, cv2.rotate(raw, cv2.ROTATE_90_CLOCKWISE))


def test_realtime_pacing_follows_the_file_rate(tmp_path: Path) -> None:
    path = _video(tmp_path, 12, fps=24.0)
    started = time.monotonic()
    frames = list(iter_frames(FileReplaySource(path, pacing=Pacing.REALTIME)))
    elapsed = time.monotonic() - started
    assert len(frames) == 12
    assert 11 / 24 - 0.05 <= elapsed < 1.5


def test_fast_pacing_does_not_wait(tmp_path: Path) -> None:
    path = _video(tmp_path, 48, fps=2.0)  # 24 s of video
    started = time.monotonic()
    frames = list(iter_frames(FileReplaySource(path, pacing="fast")))
    assert time.monotonic() - started < 2
    assert frames[-1].monotonic_s - frames[0].monotonic_s == pytest.approx(23.5)


def test_image_folder_with_a_corrupt_file(tmp_path: Path) -> None:
    for i in range(4):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), np.full((30, 40, 3), i * 50, np.uint8))
    (tmp_path / "002b.jpg").write_bytes(b"this is not a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    stamps: list[float] = []
    capture = Capture(
        FileReplaySource(tmp_path, pacing="fast", fps=5.0),
        on_frame=lambda f: stamps.append(f.monotonic_s),
    )
    capture.start()
    assert capture.join(5)
    stats = capture.stats()
    assert (stats.frames, stats.corrupt, stats.ended) == (4, 1, True)
    assert np.allclose(np.diff(stamps), [0.2, 0.2, 0.4])  # the corrupt image kept its slot


def test_empty_folder_cannot_open(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no images"):
        FileReplaySource(tmp_path).open()


def test_opencv_camera_missing_device() -> None:
    with pytest.raises(SourceError, match="cannot open"):
        OpenCVCameraSource("/dev/video-does-not-exist").open()


def test_opencv_camera_reads_through_videocapture(tmp_path: Path) -> None:
    source = OpenCVCameraSource(
        str(_video(tmp_path, 5)), size=None, rotation="180", api=cv2.CAP_ANY
    )
    source.open()
    grabs = [source.read() for _ in range(5)]
    with pytest.raises(SourceError, match="read failed"):
        source.read()  # for a camera, no frame is a failure (the runner reopens it)
    source.close()
    assert all(g.image.shape == (48, 64, 3) for g in grabs)  # type: ignore[attr-defined]


def test_build_source_from_config(tmp_path: Path) -> None:
    assert isinstance(build_source(CaptureConfig(type="opencv", device="2")), OpenCVCameraSource)
    file_source = build_source(CaptureConfig(type="file", path=tmp_path, rotate=Rotation.R180))
    assert isinstance(file_source, FileReplaySource)
    assert file_source.rotation is Rotation.R180
    with pytest.raises(ValueError, match=r"capture\.path"):
        build_source(CaptureConfig(type="file"))


def test_loop_starts_again_with_time_still_counting_up(tmp_path: Path) -> None:
    path = _video(tmp_path, 6, fps=2.0)  # 3 s of video, frames 0, 10, 20, ... in grey levels
    source = FileReplaySource(path, pacing="fast", loop=True)
    source.open()
    try:
        grabs = [source.read() for _ in range(15)]  # two and a half passes
    finally:
        source.close()
    times = [g.media_s for g in grabs]
    assert times == pytest.approx([i / 2.0 for i in range(15)])
    levels = [int(np.asarray(g.image).mean()) for g in grabs]
    assert levels[6:12] == pytest.approx(levels[0:6], abs=3)  # the same frames again


def test_loop_over_an_image_folder(tmp_path: Path) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), np.full((30, 40, 3), i * 50, np.uint8))
    source = FileReplaySource(tmp_path, pacing="fast", fps=5.0, loop=True)
    source.open()
    try:
        levels = [int(np.asarray(source.read().image).mean()) for _ in range(7)]
    finally:
        source.close()
    assert levels == [0, 50, 100, 0, 50, 100, 0]
