"""RuleEngine: Observations in, violation lifecycle changes (started/updated/ended) out.

Pure logic: no clocks, no I/O. Time comes from the observations (the kiosk's monotonic clock
at capture), so replaying a file gives the same violations as living through it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from edge_agent.rules.calibration import Neutral
from edge_agent.rules.conditions import ConditionState, GazeSmoother, evaluate
from edge_agent.rules.config import RulesConfig, Timing
from edge_agent.rules.tracker import ConditionTracker, Instant, Phase, Transition
from edge_agent.vision.objects_config import ObjectsConfig
from edge_agent.vision.types import Observation
from protocol import EventState, Severity, uuid7
from protocol import ViolationType as V

SEVERITY = {
    V.FACE_ABSENT: Severity.MEDIUM,
    V.MULTIPLE_FACES: Severity.HIGH,
    V.LOOKING_AWAY: Severity.MEDIUM,
    V.EYES_AWAY: Severity.LOW,
    V.IDENTITY_MISMATCH: Severity.CRITICAL,
    V.CAMERA_COVERED: Severity.HIGH,
    V.CAMERA_LOST: Severity.HIGH,
    V.PHONE_IN_VIEW: Severity.HIGH,
    V.BOOK_IN_VIEW: Severity.MEDIUM,
    V.SECOND_SCREEN: Severity.HIGH,
}
DetailValue = str | int | float | bool | None


@dataclass(frozen=True)
class ViolationChange:
    violation_id: uuid.UUID
    type: V
    state: EventState
    started: Instant
    ended: Instant | None
    duration_s: float
    severity: Severity
    confidence: float
    details: dict[str, DetailValue] = field(default_factory=dict)


class RuleEngine:
    def __init__(
        self,
        config: RulesConfig | None = None,
        neutral: Neutral | None = None,
        *,
        objects: ObjectsConfig | None = None,
    ) -> None:
        """``objects`` gives the per-class thresholds of the object rules (the defaults of
        ObjectsConfig when None)."""
        self.config = config or RulesConfig()
        self.objects = objects or ObjectsConfig()
        self.neutral = neutral or Neutral()
        self._state = ConditionState(GazeSmoother(self.config.eyes_away.smoothing_s))
        self._trackers: dict[V, ConditionTracker] = {}
        for kind in SEVERITY:
            timing: Timing = getattr(self.config, kind.value)
            if timing.enabled:
                self._trackers[kind] = ConditionTracker(timing)
        self._ids: dict[V, uuid.UUID] = {}
        self._last_sent: dict[V, float] = {}
        self.last_flags: dict[V, bool] = {}

    def set_neutral(self, neutral: Neutral) -> None:
        self.neutral = neutral

    def observe(self, obs: Observation) -> list[ViolationChange]:
        now = Instant(obs.monotonic_s, obs.wall_time)
        self.last_flags = evaluate(obs, self.config, self.neutral, self._state, self.objects)
        changes: list[ViolationChange] = []
        for kind, flag in self.last_flags.items():
            changes += self._step(kind, flag, now, self._onset(kind, now))
        return changes

    def _onset(self, kind: V, now: Instant) -> Instant | None:
        """An identity mismatch began at the checked frame, not when the check finished."""
        since = self._state.mismatch_since_s
        if kind is not V.IDENTITY_MISMATCH or since is None:
            return None
        return Instant(since, now.wall_time - timedelta(seconds=now.monotonic_s - since))

    def camera_lost(self, now: Instant) -> list[ViolationChange]:
        return self._step(V.CAMERA_LOST, True, now)

    def camera_restored(self, now: Instant) -> list[ViolationChange]:
        return self._step(V.CAMERA_LOST, False, now)

    def finish(self, now: Instant) -> list[ViolationChange]:
        """End every active violation (end of exam or of the stream)."""
        changes = []
        for kind, tracker in self._trackers.items():
            transition = tracker.force_end(now)
            if transition is not None:
                changes.append(self._change(kind, transition, now))
        return changes

    def _step(
        self, kind: V, flag: bool, now: Instant, onset: Instant | None = None
    ) -> list[ViolationChange]:
        tracker = self._trackers.get(kind)
        if tracker is None:
            return []
        transition = tracker.update(flag, now, onset)
        if tracker.phase is Phase.IDLE and transition is None:
            self._state.details.pop(kind, None)  # peaks cover one violation only
        if transition is not None:
            return [self._change(kind, transition, now)]
        due = now.monotonic_s - self._last_sent.get(kind, now.monotonic_s)
        if tracker.active and due >= self.config.update_interval_s:
            return [self._updated(kind, tracker, now)]
        return []

    def _change(self, kind: V, transition: Transition, now: Instant) -> ViolationChange:
        tracker = self._trackers[kind]
        if transition.kind == "started":
            self._ids[kind] = uuid7()
            self._last_sent[kind] = now.monotonic_s
            return self._build(
                kind,
                EventState.STARTED,
                began=transition.began,
                ended=None,
                duration_s=now.monotonic_s - transition.began.monotonic_s,
                tracker=tracker,
            )
        change = self._build(
            kind,
            EventState.ENDED,
            began=transition.began,
            ended=transition.cleared,
            duration_s=transition.duration_s,
            tracker=tracker,
        )
        self._ids.pop(kind, None)
        self._last_sent.pop(kind, None)
        self._state.details.pop(kind, None)
        return change

    def _updated(self, kind: V, tracker: ConditionTracker, now: Instant) -> ViolationChange:
        assert tracker.began is not None
        self._last_sent[kind] = now.monotonic_s
        return self._build(
            kind,
            EventState.UPDATED,
            began=tracker.began,
            ended=None,
            duration_s=now.monotonic_s - tracker.began.monotonic_s,
            tracker=tracker,
        )

    def _build(
        self,
        kind: V,
        state: EventState,
        *,
        began: Instant,
        ended: Instant | None,
        duration_s: float,
        tracker: ConditionTracker,
    ) -> ViolationChange:
        details: dict[str, DetailValue] = {
            k: round(v, 3) for k, v in self._state.details.get(kind, {}).items()
        }
        details["calibrated"] = self.neutral.calibrated
        return ViolationChange(
            violation_id=self._ids[kind],
            type=kind,
            state=state,
            started=began,
            ended=ended,
            duration_s=max(0.0, duration_s),
            severity=SEVERITY[kind],
            confidence=round(tracker.confidence, 3),
            details=details,
        )
