"""AudioMonitor: the one object the agent needs for hearing.

It owns the capture runner (microphone or file → bounded queue, PCM ring, level meter) and a
VAD thread (Silero → speech tracker). The agent reads it from any thread:

- `level()` for the heartbeat (RMS/peak dBFS since the last call);
- `poll_changes()` / `poll_speech()` / `on_change` for speech started/ended, times on the
  monotonic clock;
- `poll_events()` / `on_event` for microphone_lost / microphone_restored / end_of_stream;
- `speaking` for the talking classifier;
- `pcm_between(t0, t1)` for the sound of an evidence clip.

Callbacks run on the monitor's threads: keep them quick and thread-safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from edge_agent.audio.capture import AudioCapture, AudioCaptureStats, AudioEvent
from edge_agent.audio.config import AudioConfig
from edge_agent.audio.level import Level
from edge_agent.audio.ring import PcmClip, PcmRing
from edge_agent.audio.source import AudioSource
from edge_agent.audio.vad import SileroVad, SpeechChange, SpeechTracker

log = logging.getLogger(__name__)

_KEEP_CHANGES = 1024  # unpolled changes kept (a consumer that never polls loses the oldest)


@dataclass(frozen=True)
class AudioMonitorStats:
    capture: AudioCaptureStats
    vad_blocks: int  # blocks the VAD processed
    vad_ms_per_block: float  # mean Silero time per 32 ms block
    speaking: bool
    last_probability: float


class AudioMonitor:
    def __init__(
        self,
        source: AudioSource,
        config: AudioConfig | None = None,
        *,
        vad: SileroVad | None = None,
        on_change: Callable[[SpeechChange], None] | None = None,
        on_event: Callable[[AudioEvent], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or AudioConfig()
        self.ring = PcmRing(self.config.ring_seconds)
        self._vad = vad or SileroVad()
        self._tracker = SpeechTracker(self.config.vad)
        self._on_change = on_change
        self._on_event = on_event
        self._lock = threading.Lock()
        self._changes: deque[SpeechChange] = deque(maxlen=_KEEP_CHANGES)
        self._events: deque[AudioEvent] = deque(maxlen=_KEEP_CHANGES)
        self._vad_blocks = 0
        self._vad_s = 0.0
        self._last_probability = 0.0
        self._done = threading.Event()
        self.capture = AudioCapture(
            source,
            self.config.capture_settings(),
            ring=self.ring,
            on_event=self._capture_event,
            clock=clock,
        )
        self._thread = threading.Thread(target=self._run, name="audio-vad", daemon=True)

    # lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.capture.start()
        self._thread.start()

    def stop(self) -> None:
        self.capture.stop()

    def join(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        self.capture.join(timeout)
        if self._thread.ident is not None:
            self._thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not self._thread.is_alive()

    @property
    def finished(self) -> bool:
        """Capture ended (stopped or end of file) and the VAD processed every queued block."""
        return self._done.is_set()

    def wait_finished(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    # what the agent reads --------------------------------------------------------------

    def level(self) -> Level:
        return self.capture.meter.read()

    @property
    def speaking(self) -> bool:
        with self._lock:
            return self._tracker.speaking

    def poll_changes(self) -> list[SpeechChange]:
        with self._lock:
            changes = list(self._changes)
            self._changes.clear()
        return changes

    def poll_speech(self) -> tuple[list[SpeechChange], bool]:
        """The changes since the last poll and `speaking`, taken together (consistent)."""
        with self._lock:
            changes = list(self._changes)
            self._changes.clear()
            return changes, self._tracker.speaking

    def poll_events(self) -> list[AudioEvent]:
        with self._lock:
            events = list(self._events)
            self._events.clear()
        return events

    def pcm_between(self, start_s: float, end_s: float) -> PcmClip | None:
        return self.ring.pcm_between(start_s, end_s)

    def stats(self) -> AudioMonitorStats:
        with self._lock:
            blocks, total = self._vad_blocks, self._vad_s
            return AudioMonitorStats(
                capture=self.capture.stats(),
                vad_blocks=blocks,
                vad_ms_per_block=total * 1000 / blocks if blocks else 0.0,
                speaking=self._tracker.speaking,
                last_probability=self._last_probability,
            )

    # VAD thread ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                block = self.capture.get(timeout=0.2)
                if block is None:
                    if self.capture.finished and self.capture.pending() == 0:
                        break
                    continue
                started = time.perf_counter()
                probability = self._vad.probability(block.samples)
                elapsed = time.perf_counter() - started
                with self._lock:
                    self._vad_blocks += 1
                    self._vad_s += elapsed
                    self._last_probability = probability
                    change = self._tracker.update(probability, block.start_s)
                    self._record(change)
                self._notify(change)
        except Exception:  # thread boundary: say so, the heartbeat shows speaking stopped
            log.exception("audio VAD thread crashed")
        finally:
            with self._lock:
                final = self._tracker.flush()
                self._record(final)
            self._notify(final)
            self._done.set()

    def _record(self, change: SpeechChange | None) -> None:
        """Under the lock, with the tracker update: `poll_speech` never sees `speaking`
        without the change that made it so."""
        if change is not None:
            self._changes.append(change)

    def _notify(self, change: SpeechChange | None) -> None:
        if change is None:
            return
        log.info("speech %s at %.2f", change.kind, change.end_s or change.start_s)
        if self._on_change is not None:
            try:
                self._on_change(change)
            except Exception:  # a broken listener must not stop the VAD
                log.exception("speech change listener failed")

    def _capture_event(self, event: AudioEvent) -> None:
        with self._lock:
            self._events.append(event)
        if self._on_event is not None:
            self._on_event(event)  # AudioCapture already guards its listener
