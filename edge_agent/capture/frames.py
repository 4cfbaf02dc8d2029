"""Turning checked images into `Frame`s (clocks, index) and the bounded frame queue."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from edge_agent.capture.source import EndOfStream, FrameSource, check_image
from edge_agent.vision.types import Frame, Image

log = logging.getLogger(__name__)


class FrameStamper:
    """Gives each frame its index and capture times.

    Live frames get the time they were read. Replayed frames get the file's own timing
    (`media_s`) from an anchor taken at the first frame, so a file replayed as fast as possible
    still shows the rules its real durations.
    """

    def __init__(self, clock: Callable[[], float], wall_clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self._anchor: tuple[float, datetime, float] | None = None  # (mono, wall, media_s)
        self.next_index = 0

    def stamp(self, image: Image, media_s: float | None) -> Frame:
        if media_s is None:
            monotonic_s, wall = self._clock(), self._wall_clock()
        else:
            if self._anchor is None:
                self._anchor = (self._clock(), self._wall_clock(), media_s)
            mono0, wall0, media0 = self._anchor
            monotonic_s = mono0 + (media_s - media0)
            wall = wall0 + timedelta(seconds=media_s - media0)
        frame = Frame(image=image, index=self.next_index, monotonic_s=monotonic_s, wall_time=wall)
        self.next_index += 1
        return frame


def utc_now() -> datetime:
    return datetime.now(UTC)


class FrameQueue:
    """At most `maxsize` frames between capture and processing. `put` never blocks: when the
    queue is full the OLDEST frame is dropped (the consumer always gets the freshest frames,
    which keeps the rules' latency low) and `dropped` rises."""

    def __init__(self, maxsize: int = 2) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._frames: deque[Frame] = deque()
        self._maxsize = maxsize
        self._cond = threading.Condition()
        self._closed = False
        self.dropped = 0

    def put(self, frame: Frame) -> bool:
        """Add a frame; True if an older frame had to be dropped for it."""
        with self._cond:
            dropped = len(self._frames) >= self._maxsize
            if dropped:
                self._frames.popleft()
                self.dropped += 1
            self._frames.append(frame)
            self._cond.notify()
            return dropped

    def get(self, timeout: float | None = None) -> Frame | None:
        """The oldest queued frame; None after `timeout` seconds or once closed and empty."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._frames and not self._closed:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return self._frames.popleft() if self._frames else None

    def close(self) -> None:
        """No more frames will come: wake waiting consumers."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._frames)


def iter_frames(
    source: FrameSource, clock: Callable[[], float] = time.monotonic
) -> Iterator[Frame]:
    """Every frame of `source` in order on the caller's thread: no queue, no drops. For the
    replay tool and benchmarks, which must see every frame of a file. Corrupt frames are
    skipped; `SourceError` propagates; the source is closed at the end."""
    stamper = FrameStamper(clock, utc_now)
    source.open()
    try:
        while True:
            try:
                grab = source.read()
            except EndOfStream:
                return
            image = check_image(grab.image)
            if image is None:
                log.debug("%s: skipping a corrupt frame", source.name)
                continue
            yield stamper.stamp(image, grab.media_s)
    finally:
        source.close()
