"""RuleEngine: Observations in, violation lifecycle changes (started/updated/ended) out.

Pure logic: no clocks, no I/O. Time comes from the observations (the kiosk's monotonic clock
at capture), so replaying a file gives the same violations as living through it.
"""

from __future__ import annotations

from datetime import timedelta

from edge_agent.rules.calibration import Neutral
from edge_agent.rules.conditions import ConditionState, GazeSmoother, evaluate
from edge_agent.rules.config import RulesConfig
from edge_agent.rules.lifecycle import DetailValue, Lifecycles, ViolationChange
from edge_agent.rules.tracker import Instant
from edge_agent.vision.objects_config import ObjectsConfig
from edge_agent.vision.types import Observation
from protocol import Severity
from protocol import ViolationType as V

__all__ = ["SEVERITY", "DetailValue", "RuleEngine", "ViolationChange"]

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
        self._rules = Lifecycles(
            SEVERITY, self.config, details=self._details, forget=self._forget_details
        )
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
        return self._rules.finish(now)

    def _step(
        self, kind: V, flag: bool, now: Instant, onset: Instant | None = None
    ) -> list[ViolationChange]:
        return self._rules.step(kind, flag, now, onset)

    def _details(self, kind: V) -> dict[str, DetailValue]:
        details: dict[str, DetailValue] = {
            k: round(v, 3) for k, v in self._state.details.get(kind, {}).items()
        }
        details["calibrated"] = self.neutral.calibrated
        return details

    def _forget_details(self, kind: V) -> None:
        self._state.details.pop(kind, None)
