"""Is it the candidate who is talking? Lip opening over time from FaceMesh landmarks,
combined with voice activity.

`lip_opening` is the gap between the inner lips (landmarks 13 upper, 14 lower) divided by the
mouth width (inner corners 78 and 308), or by the face height (10 forehead, 152 chin) when
the mouth width is unreliable (e.g. a wide grin): a number that does not depend on how far
the face is from the camera. Talking makes it move; a closed or still mouth keeps it flat.

`TalkingClassifier` keeps the openings of the last `window_s` seconds. While the VAD hears
speech, lips that move (std of the opening above `min_lip_motion`) make it
`candidate_talking`; a face that is seen with still lips makes it `background_speech`
(someone else, a phone on speaker); too few face samples to decide is `unknown`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from edge_agent.audio.config import TalkingConfig
from edge_agent.vision.mouth import lip_opening

__all__ = ["Talking", "TalkingClassifier", "TalkingVerdict", "lip_opening"]


class Talking(StrEnum):
    SILENT = "silent"  # no speech heard
    CANDIDATE_TALKING = "candidate_talking"
    BACKGROUND_SPEECH = "background_speech"
    UNKNOWN = "unknown"  # speech heard, but too few face samples to say whose


@dataclass(frozen=True)
class TalkingVerdict:
    talking: Talking
    lip_motion: float | None  # std of the opening over the window
    samples: int  # face samples in the window


class TalkingClassifier:
    """`add_face(t, opening)` for every processed frame (None when no face was measured),
    `classify(t, speech)` whenever a decision is wanted (e.g. once per frame)."""

    def __init__(self, config: TalkingConfig | None = None) -> None:
        self.config = config or TalkingConfig()
        self._openings: deque[tuple[float, float]] = deque()

    def add_face(self, monotonic_s: float, opening: float | None) -> None:
        if opening is not None and np.isfinite(opening):
            self._openings.append((monotonic_s, opening))
        self._forget(monotonic_s)

    def _forget(self, now_s: float) -> None:
        while self._openings and now_s - self._openings[0][0] > self.config.window_s:
            self._openings.popleft()

    def lip_motion(self, now_s: float) -> tuple[float | None, int]:
        self._forget(now_s)
        values = [v for t, v in self._openings if t <= now_s]
        if len(values) < self.config.min_samples:
            return None, len(values)
        return float(np.std(values)), len(values)

    def classify(self, now_s: float, speech: bool) -> TalkingVerdict:
        motion, samples = self.lip_motion(now_s)
        if not speech:
            return TalkingVerdict(Talking.SILENT, motion, samples)
        if motion is None:
            return TalkingVerdict(Talking.UNKNOWN, motion, samples)
        moving = motion >= self.config.min_lip_motion
        verdict = Talking.CANDIDATE_TALKING if moving else Talking.BACKGROUND_SPEECH
        return TalkingVerdict(verdict, motion, samples)
