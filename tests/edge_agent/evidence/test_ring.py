"""The JPEG ring buffer: bounded by seconds and by bytes, thread-safe, frames by time."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from edge_agent.evidence import FrameRing
from edge_agent.evidence.ring import decode_jpeg
from tests.edge_agent.evidence.helpers import T0, frame


def test_bounded_by_seconds() -> None:
    ring = FrameRing(max_seconds=2.0, max_bytes=10**9)
    for i in range(100):  # 5 s at 20 fps
        ring.push(frame(i))
    stats = ring.stats()
    assert stats.seconds <= 2.0
    assert stats.frames == 41  # 2 s at 20 fps, both ends included
    assert ring.newest_monotonic() == pytest.approx(T0 + 99 / 20)


def test_bounded_by_bytes() -> None:
    ring = FrameRing(max_seconds=1000, max_bytes=200_000)
    sizes = [len(ring.push(frame(i)).jpeg) for i in range(60)]
    stats = ring.stats()
    assert stats.bytes <= 200_000
    assert stats.bytes + min(sizes) > 200_000 or stats.frames == 60
    assert 1 < stats.frames < 60


def test_frames_between_is_inclusive_and_ordered() -> None:
    ring = FrameRing()
    for i in range(40):
        ring.push(frame(i))
    got = ring.frames_between(T0 + 0.5, T0 + 1.0)
    assert [f.index for f in got] == list(range(10, 21))
    assert ring.frames_between(T0 + 100, T0 + 200) == []


def test_jpeg_is_downscaled_and_decodes() -> None:
    ring = FrameRing(max_width=320, jpeg_quality=80)
    item = ring.push(frame(0))
    assert (item.width, item.height) == (320, 180)
    assert decode_jpeg(item.jpeg).shape == (180, 320, 3)
    assert ring.stats().jpeg_ms_per_frame > 0


def test_face_flags() -> None:
    ring = FrameRing(max_seconds=1.0)
    for i in range(30):
        ring.push(frame(i))
    ring.annotate(25, True)
    ring.annotate(26, False)
    ring.annotate(0, True)  # already evicted: ignored
    flags = {f.index: f.face for f in ring.frames_between(0, 10**9)}
    assert (flags[25], flags[26], flags[27]) == (True, False, None)
    assert 0 not in flags


def test_concurrent_push_and_read() -> None:
    ring = FrameRing(max_seconds=1.0)
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                frames = ring.frames_between(0, 10**9)
                times = [f.monotonic_s for f in frames]
                assert times == sorted(times)
                assert not frames or times[-1] - times[0] <= 1.0
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for i in range(150):
        ring.push(frame(i))
        ring.annotate(i, bool(i % 2))
    stop.set()
    for thread in threads:
        thread.join(5)
    assert errors == []
    assert len(ring) == 21


def test_invalid_bounds() -> None:
    with pytest.raises(ValueError, match="positive"):
        FrameRing(max_seconds=0)


def test_source_image_is_not_kept() -> None:
    image_frame = frame(0)
    item = FrameRing().push(image_frame)
    image_frame.image[:] = 0  # the caller may reuse its buffer
    assert np.asarray(decode_jpeg(item.jpeg)).mean() > 10
