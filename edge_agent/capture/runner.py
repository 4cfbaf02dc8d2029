"""The capture runner: a thread that reads a source into a queue of two frames.

Capture never waits for processing: when the consumer is slow the oldest queued frame is
dropped and counted (Frigate's rule). A live camera that delivers no good frame for
`lost_timeout_s` is reported once as `camera_lost` (stamped with the time of its last good
frame) and reopened with exponential backoff; its first good frame after that is reported as
`camera_restored`. A replayed file that ends is `end_of_stream`, never a camera loss.

Event and frame callbacks run on the capture threads: they must be quick and thread-safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, StrEnum

from edge_agent.capture.frames import FrameQueue, FrameStamper, utc_now
from edge_agent.capture.source import EndOfStream, FrameSource, SourceError, check_image
from edge_agent.reopen import Attempt, keep_reopening
from edge_agent.vision.types import Frame, Image

log = logging.getLogger(__name__)


class CaptureEventKind(StrEnum):
    CAMERA_LOST = "camera_lost"
    CAMERA_RESTORED = "camera_restored"
    END_OF_STREAM = "end_of_stream"
    SOURCE_FAILED = "source_failed"  # a replayed file could not be opened or read


@dataclass(frozen=True)
class CaptureEvent:
    """Something the agent must know. For `camera_lost` the times are those of the last good
    frame (when the camera stopped delivering); `lost_for_s` is set on `camera_restored`."""

    kind: CaptureEventKind
    monotonic_s: float
    wall_time: datetime
    source: str
    detail: str = ""
    lost_for_s: float | None = None


@dataclass(frozen=True)
class CaptureSettings:
    queue_size: int = 2
    lost_timeout_s: float = 2.0  # no good frame for this long: camera_lost
    reopen_min_s: float = 0.5  # first wait before reopening a failed camera
    reopen_max_s: float = 30.0  # the wait doubles up to this
    fps_window_s: float = 2.0  # fps is measured over this many seconds


@dataclass(frozen=True)
class CaptureStats:
    frames: int  # good frames captured (queued or dropped)
    dropped: int  # dropped because the consumer was behind
    corrupt: int  # reads that gave no usable image (None, wrong shape or type)
    read_errors: int  # reads or opens that raised SourceError
    reopens: int
    fps: float
    camera_lost: bool
    ended: bool


class _Outcome(Enum):
    STOPPED = "stopped"
    ENDED = "ended"
    FAILED = "failed"


class Capture:
    """Runs `source` on its own thread; the consumer calls `get()` or iterates `frames()`."""

    def __init__(
        self,
        source: FrameSource,
        settings: CaptureSettings | None = None,
        *,
        on_event: Callable[[CaptureEvent], None] | None = None,
        on_frame: Callable[[Frame], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.settings = settings or CaptureSettings()
        self._on_event = on_event
        self._on_frame = on_frame
        self._clock = clock
        self._queue = FrameQueue(self.settings.queue_size)
        self._stamper = FrameStamper(clock, utc_now)
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._lock = threading.RLock()  # listeners called under it may ask for stats()
        self._last_good = clock()
        self._lost = False
        self._ended = False
        self._expected_shape: tuple[int, ...] | None = None
        self._recent: deque[float] = deque()
        self._counts = {"frames": 0, "corrupt": 0, "read_errors": 0, "reopens": 0}
        self._threads = [threading.Thread(target=self._run, name="capture", daemon=True)]
        if source.live:
            self._threads.append(
                threading.Thread(target=self._watch, name="capture-watchdog", daemon=True)
            )

    # lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            self._last_good = self._clock()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the threads; True if they all ended within `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            if thread.ident is None:
                continue
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    @property
    def finished(self) -> bool:
        """The reader has ended (stopped, end of stream or a failed file); frames may remain."""
        return self._finished.is_set()

    # consumer side ---------------------------------------------------------------------

    def get(self, timeout: float | None = None) -> Frame | None:
        """The next frame; None after `timeout` or when capture finished and nothing is left."""
        return self._queue.get(timeout)

    def frames(self, poll_s: float = 0.2) -> Iterator[Frame]:
        """Frames until capture finishes and the queue is empty (or `stop()` is called)."""
        while True:
            frame = self._queue.get(poll_s)
            if frame is not None:
                yield frame
            elif self._finished.is_set() and len(self._queue) == 0:
                return

    def stats(self) -> CaptureStats:
        with self._lock:
            recent = list(self._recent)
            span = recent[-1] - recent[0] if len(recent) > 1 else 0.0
            return CaptureStats(
                frames=self._counts["frames"],
                dropped=self._queue.dropped,
                corrupt=self._counts["corrupt"],
                read_errors=self._counts["read_errors"],
                reopens=self._counts["reopens"],
                fps=(len(recent) - 1) / span if span > 0 else 0.0,
                camera_lost=self._lost,
                ended=self._ended,
            )

    # reader thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # loop boundary: report, never die silently
            log.exception("capture from %s crashed", self.source.name)
            self._emit(CaptureEventKind.SOURCE_FAILED, self._clock(), "capture crashed")
        finally:
            self._close_source()
            self._finished.set()
            self._queue.close()

    def _loop(self) -> None:
        settings = self.settings
        keep_reopening(
            self._stop,
            settings.reopen_min_s,
            settings.reopen_max_s,
            self._attempt,
            lambda: self._count("reopens"),
        )

    def _attempt(self) -> Attempt:
        frames_before = self._counts["frames"]
        outcome = self._open_and_read()
        self._close_source()
        retry = outcome is _Outcome.FAILED and self.source.live
        return Attempt(retry, self._counts["frames"] > frames_before)

    def _open_and_read(self) -> _Outcome:
        try:
            self.source.open()
        except SourceError as exc:
            self._count("read_errors")
            log.warning("cannot open %s: %s", self.source.name, exc)
            if not self.source.live:
                self._emit(CaptureEventKind.SOURCE_FAILED, self._clock(), str(exc))
            return _Outcome.FAILED
        self._expected_shape = None
        return self._read_frames()

    def _read_frames(self) -> _Outcome:
        timeout = self.settings.lost_timeout_s
        while not self._stop.is_set():
            try:
                grab = self.source.read()
            except EndOfStream as exc:
                with self._lock:
                    self._ended = True
                self._emit(CaptureEventKind.END_OF_STREAM, self._clock(), str(exc))
                return _Outcome.ENDED
            except SourceError as exc:
                self._count("read_errors")
                log.warning("%s failed: %s", self.source.name, exc)
                if not self.source.live:
                    self._emit(CaptureEventKind.SOURCE_FAILED, self._clock(), str(exc))
                return _Outcome.FAILED
            image = check_image(grab.image, self._expected_shape)
            if image is None:
                self._count("corrupt")
                if self.source.live and self._clock() - self._last_good > timeout:
                    return _Outcome.FAILED  # only garbage for too long: reopen
                continue
            if self.source.live:
                self._expected_shape = image.shape
            self._deliver(image, grab.media_s)
        return _Outcome.STOPPED

    def _deliver(self, image: Image, media_s: float | None) -> None:
        now = self._clock()
        with self._lock:
            if self._lost:
                self._lost = False
                self._emit_locked(
                    CaptureEventKind.CAMERA_RESTORED, now, "frames again", now - self._last_good
                )
            self._last_good = now
            self._counts["frames"] += 1
            self._recent.append(now)
            while self._recent and now - self._recent[0] > self.settings.fps_window_s:
                self._recent.popleft()
        frame = self._stamper.stamp(image, media_s)
        if self._on_frame is not None:
            try:
                self._on_frame(frame)
            except Exception:  # a broken listener must not stop capture
                log.exception("frame listener failed on frame %d", frame.index)
        self._queue.put(frame)

    def _close_source(self) -> None:
        try:
            self.source.close()
        except SourceError as exc:
            log.warning("closing %s failed: %s", self.source.name, exc)

    # watchdog thread -------------------------------------------------------------------

    def _watch(self) -> None:
        interval = max(0.02, min(0.25, self.settings.lost_timeout_s / 4))
        while not self._stop.wait(interval) and not self._finished.is_set():
            with self._lock:
                since = self._last_good
                if not self._lost and self._clock() - since > self.settings.lost_timeout_s:
                    self._lost = True
                    self._emit_locked(CaptureEventKind.CAMERA_LOST, since, "no frames")

    # helpers ---------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def _emit(self, kind: CaptureEventKind, at: float, detail: str) -> None:
        with self._lock:
            self._emit_locked(kind, at, detail)

    def _emit_locked(
        self, kind: CaptureEventKind, at: float, detail: str, lost_for: float | None = None
    ) -> None:
        """Called with the lock held, so lost and restored are reported in order."""
        wall = utc_now() - timedelta(seconds=max(0.0, self._clock() - at))
        event = CaptureEvent(kind, at, wall, self.source.name, detail, lost_for)
        level = logging.INFO if kind is CaptureEventKind.END_OF_STREAM else logging.WARNING
        log.log(level, "%s: %s %s", self.source.name, kind.value, detail)
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a broken listener must not stop capture
            log.exception("capture event listener failed on %s", kind.value)
