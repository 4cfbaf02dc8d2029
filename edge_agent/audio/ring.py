"""The last seconds of PCM in memory, so evidence clips of flagged moments can have sound.

Audio is never written anywhere else: the ring is bounded (`max_seconds`, oldest blocks go
first) and only `pcm_between` copies a window out of it, for a clip.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from edge_agent.audio.source import SAMPLE_RATE, Pcm


@dataclass(frozen=True, eq=False)
class PcmClip:
    """Samples from `start_s` (kiosk monotonic clock) on, at SAMPLE_RATE; gaps where no audio
    was captured (a lost microphone) are silence, so the sound stays in step with the video."""

    start_s: float
    samples: Pcm
    sample_rate: int = SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


class PcmRing:
    def __init__(self, max_seconds: float = 30.0) -> None:
        if max_seconds <= 0:
            raise ValueError("max_seconds must be positive")
        self.max_seconds = max_seconds
        self._blocks: deque[tuple[float, Pcm]] = deque()
        self._lock = threading.Lock()

    def push(self, start_s: float, samples: Pcm) -> None:
        """Append a block that starts at `start_s`; blocks must come in time order."""
        with self._lock:
            self._blocks.append((start_s, samples))
            newest_end = start_s + len(samples) / SAMPLE_RATE
            while self._blocks and newest_end - self._blocks[0][0] > self.max_seconds:
                self._blocks.popleft()

    def pcm_between(self, start_s: float, end_s: float) -> PcmClip | None:
        """The audio from `start_s` to `end_s`, cut to what the ring holds; None if it holds
        nothing of that window."""
        with self._lock:
            blocks = [
                (t, s) for t, s in self._blocks if t < end_s and t + len(s) / SAMPLE_RATE > start_s
            ]
        if not blocks:
            return None
        first = max(start_s, blocks[0][0])
        last = min(end_s, blocks[-1][0] + len(blocks[-1][1]) / SAMPLE_RATE)
        out = np.zeros(max(0, round((last - first) * SAMPLE_RATE)), dtype=np.int16)
        for t, samples in blocks:
            offset = round((t - first) * SAMPLE_RATE)  # may be negative: cut the block's head
            lo, hi = max(0, offset), min(len(out), offset + len(samples))
            if hi > lo:
                out[lo:hi] = samples[lo - offset : hi - offset]
        return PcmClip(first, out)

    def seconds(self) -> float:
        with self._lock:
            if not self._blocks:
                return 0.0
            start, (t, s) = self._blocks[0][0], self._blocks[-1]
            return t + len(s) / SAMPLE_RATE - start

    def __len__(self) -> int:
        with self._lock:
            return len(self._blocks)
