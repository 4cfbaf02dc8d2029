"""Sound level for the heartbeat: RMS and peak in dBFS (0 dBFS = a full-scale int16 sine's
peak), over the blocks since the last reading."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from edge_agent.audio.source import Pcm

SILENCE_DBFS = -120.0  # what digital silence reads as (log of zero is not a number)
_FULL_SCALE = 32768.0


@dataclass(frozen=True)
class Level:
    rms_dbfs: float
    peak_dbfs: float
    blocks: int  # how many blocks the reading covers (0: none arrived)


def dbfs(amplitude: float) -> float:
    """An amplitude in int16 units as dBFS, floored at SILENCE_DBFS."""
    if amplitude <= 0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * math.log10(amplitude / _FULL_SCALE))


def block_level(samples: Pcm) -> Level:
    wide = samples.astype(np.float64)
    rms = math.sqrt(float(np.mean(wide * wide))) if len(wide) else 0.0
    peak = float(np.max(np.abs(wide))) if len(wide) else 0.0
    return Level(dbfs(rms), dbfs(peak), 1)


class LevelMeter:
    """Accumulates blocks (capture thread) and reports their level (heartbeat thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sum_squares = 0.0
        self._samples = 0
        self._peak = 0.0
        self._blocks = 0
        self._last = Level(SILENCE_DBFS, SILENCE_DBFS, 0)

    def add(self, samples: Pcm) -> None:
        wide = samples.astype(np.float64)
        squares = float(np.dot(wide, wide))
        peak = float(np.max(np.abs(wide))) if len(wide) else 0.0
        with self._lock:
            self._sum_squares += squares
            self._samples += len(wide)
            self._peak = max(self._peak, peak)
            self._blocks += 1

    def read(self, reset: bool = True) -> Level:
        """The level since the previous reset; with no new block, the previous reading with
        blocks=0 (so a silent microphone and a dead one look different)."""
        with self._lock:
            if self._samples == 0:
                return Level(self._last.rms_dbfs, self._last.peak_dbfs, 0)
            rms = math.sqrt(self._sum_squares / self._samples)
            level = Level(round(dbfs(rms), 1), round(dbfs(self._peak), 1), self._blocks)
            if reset:
                self._sum_squares, self._samples, self._peak, self._blocks = 0.0, 0, 0.0, 0
                self._last = level
            return level
