"""The audio capture runner: a thread that reads a source into a bounded queue of blocks.

Mirrors `edge_agent.capture.runner` for the camera. Capture never waits for processing: when
the VAD falls behind the oldest queued block is dropped and counted. Every block also goes to
the PCM ring and the level meter on the capture thread (both cheap), so evidence keeps its
sound even when the VAD dropped blocks. A live microphone that delivers nothing for
`lost_timeout_s` is reported once as `microphone_lost` (stamped with its last block) and
reopened with exponential backoff; its first block after that is `microphone_restored`.

Blocks are stamped on an audio clock: consecutive blocks are exactly 32 ms apart (so speech
times do not jitter with thread scheduling); the clock is re-anchored to the monotonic clock
after a gap (a reopen) or when it drifts by more than `resync_s`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum

from edge_agent.audio.level import LevelMeter
from edge_agent.audio.ring import PcmRing
from edge_agent.audio.source import (
    BLOCK_S,
    AudioRead,
    AudioSource,
    AudioSourceError,
    EndOfAudio,
    Pcm,
    check_block,
)
from edge_agent.reopen import Attempt, keep_reopening

log = logging.getLogger(__name__)


class AudioEventKind(StrEnum):
    MICROPHONE_LOST = "microphone_lost"
    MICROPHONE_RESTORED = "microphone_restored"
    END_OF_STREAM = "end_of_stream"
    SOURCE_FAILED = "source_failed"  # a replayed file could not be opened or read


@dataclass(frozen=True)
class AudioEvent:
    """For `microphone_lost` the time is that of the last good block; `lost_for_s` is set on
    `microphone_restored`."""

    kind: AudioEventKind
    monotonic_s: float
    source: str
    detail: str = ""
    lost_for_s: float | None = None


@dataclass(frozen=True, eq=False)
class AudioBlock:
    samples: Pcm
    index: int  # counts captured blocks from 0, dropped ones included
    start_s: float  # first sample's time on the kiosk's monotonic clock

    @property
    def end_s(self) -> float:
        return self.start_s + BLOCK_S


@dataclass(frozen=True)
class AudioCaptureSettings:
    queue_blocks: int = 16  # about half a second waiting for the VAD
    lost_timeout_s: float = 2.0
    reopen_min_s: float = 0.5
    reopen_max_s: float = 30.0
    resync_s: float = 0.2


@dataclass(frozen=True)
class AudioCaptureStats:
    blocks: int
    dropped: int  # dropped because the VAD was behind
    bad_blocks: int  # reads that gave no usable block
    read_errors: int
    reopens: int
    microphone_lost: bool
    ended: bool


class BlockQueue:
    """At most `maxsize` blocks; `put` never blocks and drops the oldest when full."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._blocks: deque[AudioBlock] = deque()
        self._maxsize = maxsize
        self._cond = threading.Condition()
        self._closed = False
        self.dropped = 0

    def put(self, block: AudioBlock) -> None:
        with self._cond:
            if len(self._blocks) >= self._maxsize:
                self._blocks.popleft()
                self.dropped += 1
            self._blocks.append(block)
            self._cond.notify()

    def get(self, timeout: float | None = None) -> AudioBlock | None:
        """The oldest block; None after `timeout` or once closed and empty."""
        with self._cond:
            self._cond.wait_for(lambda: self._blocks or self._closed, timeout)
            return self._blocks.popleft() if self._blocks else None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._blocks)


class _Outcome(Enum):
    STOPPED = "stopped"
    ENDED = "ended"
    FAILED = "failed"


class AudioCapture:
    """Runs `source` on its own thread; the consumer calls `get()`."""

    def __init__(
        self,
        source: AudioSource,
        settings: AudioCaptureSettings | None = None,
        *,
        ring: PcmRing | None = None,
        on_event: Callable[[AudioEvent], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.settings = settings or AudioCaptureSettings()
        self.ring = ring
        self.meter = LevelMeter()
        self._on_event = on_event
        self._clock = clock
        self._queue = BlockQueue(self.settings.queue_blocks)
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._lock = threading.RLock()
        self._last_good = clock()
        self._lost = False
        self._ended = False
        self._next_start: float | None = None  # the audio clock
        self._media_anchor: tuple[float, float] | None = None  # (monotonic, media_s)
        self._counts = {"blocks": 0, "bad_blocks": 0, "read_errors": 0, "reopens": 0}
        self._threads = [threading.Thread(target=self._run, name="audio-capture", daemon=True)]
        if source.live:
            self._threads.append(
                threading.Thread(target=self._watch, name="audio-watchdog", daemon=True)
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
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            if thread.ident is not None:
                thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def get(self, timeout: float | None = None) -> AudioBlock | None:
        return self._queue.get(timeout)

    def pending(self) -> int:
        return len(self._queue)

    def stats(self) -> AudioCaptureStats:
        with self._lock:
            return AudioCaptureStats(
                blocks=self._counts["blocks"],
                dropped=self._queue.dropped,
                bad_blocks=self._counts["bad_blocks"],
                read_errors=self._counts["read_errors"],
                reopens=self._counts["reopens"],
                microphone_lost=self._lost,
                ended=self._ended,
            )

    # reader thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # loop boundary: report, never die silently
            log.exception("audio capture from %s crashed", self.source.name)
            self._emit(AudioEventKind.SOURCE_FAILED, self._clock(), "capture crashed")
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
        blocks_before = self._counts["blocks"]
        outcome = self._open_and_read()
        self._close_source()
        retry = outcome is _Outcome.FAILED and self.source.live
        return Attempt(retry, self._counts["blocks"] > blocks_before)

    def _open_and_read(self) -> _Outcome:
        try:
            self.source.open()
        except AudioSourceError as exc:
            return self._failed(exc, "cannot open")
        self._next_start = None
        while not self._stop.is_set():
            try:
                read = self.source.read()
            except EndOfAudio as exc:
                with self._lock:
                    self._ended = True
                self._emit(AudioEventKind.END_OF_STREAM, self._clock(), str(exc))
                return _Outcome.ENDED
            except AudioSourceError as exc:
                return self._failed(exc, "read failed")
            self._deliver(read)
        return _Outcome.STOPPED

    def _failed(self, exc: AudioSourceError, what: str) -> _Outcome:
        self._count("read_errors")
        log.warning("%s: %s: %s", self.source.name, what, exc)
        if not self.source.live:
            self._emit(AudioEventKind.SOURCE_FAILED, self._clock(), str(exc))
        return _Outcome.FAILED

    def _deliver(self, read: AudioRead) -> None:
        samples = check_block(read.samples)
        if samples is None:
            self._count("bad_blocks")
            return
        now = self._clock()
        with self._lock:
            if self._lost:
                self._lost = False
                lost_for = now - self._last_good
                self._emit_locked(AudioEventKind.MICROPHONE_RESTORED, now, "audio again", lost_for)
            self._last_good = now
            index = self._counts["blocks"]
            self._counts["blocks"] += 1
        start_s = self._stamp(now, read.media_s)
        block = AudioBlock(samples, index, start_s)
        self.meter.add(samples)
        if self.ring is not None:
            self.ring.push(start_s, samples)
        self._queue.put(block)

    def _stamp(self, now: float, media_s: float | None) -> float:
        if media_s is not None:  # a file: its own timing from an anchor at its first block
            if self._media_anchor is None:
                self._media_anchor = (now, media_s)
            return self._media_anchor[0] + media_s - self._media_anchor[1]
        measured = now - BLOCK_S  # the block was complete when read returned
        expected = self._next_start
        start = measured
        if expected is not None and abs(measured - expected) <= self.settings.resync_s:
            start = expected
        self._next_start = start + BLOCK_S
        return start

    def _close_source(self) -> None:
        try:
            self.source.close()
        except AudioSourceError as exc:
            log.warning("closing %s failed: %s", self.source.name, exc)

    # watchdog thread -------------------------------------------------------------------

    def _watch(self) -> None:
        interval = max(0.02, min(0.25, self.settings.lost_timeout_s / 4))
        while not self._stop.wait(interval) and not self._finished.is_set():
            with self._lock:
                since = self._last_good
                if not self._lost and self._clock() - since > self.settings.lost_timeout_s:
                    self._lost = True
                    self._emit_locked(AudioEventKind.MICROPHONE_LOST, since, "no audio")

    # helpers ---------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def _emit(self, kind: AudioEventKind, at: float, detail: str) -> None:
        with self._lock:
            self._emit_locked(kind, at, detail)

    def _emit_locked(
        self, kind: AudioEventKind, at: float, detail: str, lost_for: float | None = None
    ) -> None:
        """Called with the lock held, so lost and restored are reported in order."""
        event = AudioEvent(kind, at, self.source.name, detail, lost_for)
        level = logging.INFO if kind is AudioEventKind.END_OF_STREAM else logging.WARNING
        log.log(level, "%s: %s %s", self.source.name, kind.value, detail)
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a broken listener must not stop capture
            log.exception("audio event listener failed on %s", kind.value)
