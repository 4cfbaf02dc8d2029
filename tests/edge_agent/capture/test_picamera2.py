"""Picamera2Source against a fake `picamera2` module: configuration, frames, unplug and
replug (camera_lost then camera_restored), corrupt frames, and a missing module."""

from __future__ import annotations

import sys
import time

import pytest

from edge_agent.capture import (
    Capture,
    CaptureEvent,
    CaptureEventKind,
    CaptureSettings,
    Picamera2Source,
    Rotation,
    SourceError,
)
from tests.edge_agent.capture.fake_picamera2 import FakeCameraWorld
from tests.edge_agent.capture.helpers import wait_until


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> FakeCameraWorld:
    fake = FakeCameraWorld()
    monkeypatch.setitem(sys.modules, "picamera2", fake.module())
    return fake


def test_configures_rgb888_video_and_reads_bgr_frames(world: FakeCameraWorld) -> None:
    source = Picamera2Source((64, 48), fps=15)
    source.open()
    grab = source.read()
    source.close()
    assert world.configs == [
        {
            "use_case": "video",
            "main": {"size": (64, 48), "format": "RGB888"},
            "controls": {"FrameRate": 15.0},
        }
    ]
    assert grab.image.shape == (48, 64, 3)  # type: ignore[attr-defined]
    assert grab.media_s is None
    assert source.live
    assert world.closed == 1


def test_rotation_is_applied(world: FakeCameraWorld) -> None:
    source = Picamera2Source((64, 48), rotation=Rotation.CW90)
    source.open()
    assert source.read().image.shape == (64, 48, 3)  # type: ignore[attr-defined]
    source.close()


def test_no_camera_is_a_source_error(world: FakeCameraWorld) -> None:
    world.unplugged = True
    with pytest.raises(SourceError, match="cannot open"):
        Picamera2Source().open()


def test_stalled_camera_times_out_instead_of_blocking(world: FakeCameraWorld) -> None:
    source = Picamera2Source((64, 48), frame_timeout_s=0.05)
    source.open()
    world.unplugged = True
    started = time.monotonic()
    with pytest.raises(SourceError, match="no frame"):
        source.read()
    assert time.monotonic() - started < 1
    source.close()


def test_missing_module_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # import raises ImportError
    with pytest.raises(SourceError, match="python3-picamera2"):
        Picamera2Source().open()


def test_unplugged_camera_is_lost_then_restored(world: FakeCameraWorld) -> None:
    events: list[CaptureEvent] = []
    settings = CaptureSettings(lost_timeout_s=0.3, reopen_min_s=0.05, reopen_max_s=0.2)
    capture = Capture(
        Picamera2Source((64, 48), frame_timeout_s=0.1), settings, on_event=events.append
    )
    capture.start()
    assert wait_until(lambda: capture.stats().frames >= 5)
    world.unplugged = True
    assert wait_until(lambda: bool(events), 3)
    assert [e.kind for e in events] == [CaptureEventKind.CAMERA_LOST]
    assert events[0].source == "picamera2:0"
    time.sleep(0.3)
    world.unplugged = False
    assert wait_until(lambda: len(events) == 2, 3)
    assert events[1].kind is CaptureEventKind.CAMERA_RESTORED
    assert events[1].monotonic_s > events[0].monotonic_s
    count = capture.stats().frames
    assert wait_until(lambda: capture.stats().frames > count + 3)
    capture.stop()
    assert capture.join(5)
    assert world.opened >= 2  # it was reopened
    assert world.closed == world.opened


def test_corrupt_camera_frames_are_counted(world: FakeCameraWorld) -> None:
    world.corrupt_next = 4
    capture = Capture(Picamera2Source((64, 48)))
    capture.start()
    assert wait_until(lambda: capture.stats().frames >= 3)
    capture.stop()
    assert capture.join(5)
    assert capture.stats().corrupt == 4
