"""One condition's debounced state machine: idle -> pending -> active -> clearing -> idle.

A violation starts only after the condition has held for `min_duration_s`, but its start is
dated from when the condition began; it ends after the condition has been clear for
`end_after_s`, dated from when it cleared. So the reported duration is how long the condition
really held, and brief flickers neither start nor end anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from edge_agent.rules.config import Timing


class Phase(Enum):
    IDLE = "idle"
    PENDING = "pending"
    ACTIVE = "active"
    CLEARING = "clearing"


@dataclass(frozen=True)
class Instant:
    monotonic_s: float
    wall_time: datetime


@dataclass(frozen=True)
class Transition:
    """What a tracker reports: `started` (with the condition's start) or `ended` (with both)."""

    kind: str  # "started" | "ended"
    began: Instant
    cleared: Instant | None = None

    @property
    def duration_s(self) -> float:
        end = self.cleared.monotonic_s if self.cleared else self.began.monotonic_s
        return max(0.0, end - self.began.monotonic_s)


class ConditionTracker:
    def __init__(self, timing: Timing) -> None:
        self.timing = timing
        self.phase = Phase.IDLE
        self.began: Instant | None = None
        self._cleared: Instant | None = None
        self.frames_true = 0
        self.frames_seen = 0
        self._trailing_false = 0  # frames since the condition last cleared

    @property
    def active(self) -> bool:
        return self.phase in (Phase.ACTIVE, Phase.CLEARING)

    def update(
        self, condition: bool, now: Instant, onset: Instant | None = None
    ) -> Transition | None:
        """`onset`: when the condition really began, if it was seen late (never after now)."""
        if self.phase is not Phase.IDLE or condition:
            self._count(condition)
        if condition:
            return self._on_true(now, onset)
        return self._on_false(now)

    def _on_true(self, now: Instant, onset: Instant | None = None) -> Transition | None:
        if self.phase is Phase.IDLE:
            began = onset if onset is not None and onset.monotonic_s <= now.monotonic_s else now
            self.phase, self.began = Phase.PENDING, began
            self.frames_true = self.frames_seen = 1
        elif self.phase is Phase.CLEARING:
            self.phase, self._cleared = Phase.ACTIVE, None  # it came back: same violation
        held = _since(self.began, now)
        if self.phase is Phase.PENDING and held >= self.timing.min_duration_s:
            assert self.began is not None
            self.phase = Phase.ACTIVE
            return Transition("started", self.began)
        return None

    def _on_false(self, now: Instant) -> Transition | None:
        if self.phase is Phase.PENDING:
            self.phase, self.began = Phase.IDLE, None
        elif self.phase is Phase.ACTIVE:
            self.phase, self._cleared = Phase.CLEARING, now
        clear_for = _since(self._cleared, now)
        if self.phase is Phase.CLEARING and clear_for >= self.timing.end_after_s:
            assert self._cleared is not None
            return self._end(self._cleared)
        return None

    def force_end(self, now: Instant) -> Transition | None:
        """End an active violation now (e.g. the exam is over or the stream ended)."""
        if not self.active:
            self.phase, self.began = Phase.IDLE, None
            return None
        return self._end(self._cleared or now)

    def _end(self, cleared: Instant) -> Transition:
        assert self.began is not None
        transition = Transition("ended", self.began, cleared)
        self.phase, self.began, self._cleared = Phase.IDLE, None, None
        return transition

    def _count(self, condition: bool) -> None:
        self.frames_seen += 1
        self.frames_true += int(condition)
        self._trailing_false = 0 if condition else self._trailing_false + 1

    @property
    def confidence(self) -> float:
        """Share of frames from the condition's start to its clearing on which it held (the
        hysteresis frames after it cleared do not count)."""
        seen = self.frames_seen - self._trailing_false
        return self.frames_true / seen if seen > 0 else 1.0


def _since(then: Instant | None, now: Instant) -> float:
    return -1.0 if then is None else now.monotonic_s - then.monotonic_s
