"""Violation lifecycles shared by every rule engine: per violation type, a debounced tracker
turns the condition's truth at each instant into `started`, periodic `updated` and `ended`
changes that share one violation id.

The vision rules (:mod:`edge_agent.rules.engine`) and the audio rules
(:mod:`edge_agent.rules.audio_rules`) differ only in where the truths come from and what
details they attach; this is the part they have in common.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from edge_agent.rules.config import RulesConfig, Timing
from edge_agent.rules.tracker import ConditionTracker, Instant, Phase, Transition
from protocol import EventState, Severity, uuid7
from protocol import ViolationType as V

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


def _no_details(_: V) -> dict[str, DetailValue]:
    return {}


def _nothing(_: V) -> None:
    return None


class Lifecycles:
    """``step(kind, flag, now)`` for each instant a condition is evaluated; ``finish(now)``
    ends whatever is active. Types whose timing is disabled in ``config`` never change.

    ``details(kind)`` gives the details of a change as it is built; ``forget(kind)`` is
    called when a violation of that kind is over (ended, or a pending one that never
    started), so per-violation details (peaks) do not leak into the next one.
    """

    def __init__(
        self,
        severities: Mapping[V, Severity],
        config: RulesConfig,
        *,
        details: Callable[[V], dict[str, DetailValue]] = _no_details,
        forget: Callable[[V], None] = _nothing,
    ) -> None:
        self.severities = severities
        self.update_interval_s = config.update_interval_s
        self._details = details
        self._forget = forget
        self.trackers: dict[V, ConditionTracker] = {}
        for kind in severities:
            timing: Timing = getattr(config, kind.value)
            if timing.enabled:
                self.trackers[kind] = ConditionTracker(timing)
        self._ids: dict[V, uuid.UUID] = {}
        self._last_sent: dict[V, float] = {}

    def step(
        self, kind: V, flag: bool, now: Instant, onset: Instant | None = None
    ) -> list[ViolationChange]:
        tracker = self.trackers.get(kind)
        if tracker is None:
            return []
        transition = tracker.update(flag, now, onset)
        if tracker.phase is Phase.IDLE and transition is None:
            self._forget(kind)  # peaks cover one violation only
        if transition is not None:
            return [self._change(kind, transition, now)]
        due = now.monotonic_s - self._last_sent.get(kind, now.monotonic_s)
        if tracker.active and tracker.began is not None and due >= self.update_interval_s:
            self._last_sent[kind] = now.monotonic_s
            duration = now.monotonic_s - tracker.began.monotonic_s
            return [self._build(kind, EventState.UPDATED, tracker.began, None, duration)]
        return []

    def finish(self, now: Instant) -> list[ViolationChange]:
        """End every active violation (end of exam or of the stream)."""
        changes = []
        for kind, tracker in self.trackers.items():
            transition = tracker.force_end(now)
            if transition is not None:
                changes.append(self._change(kind, transition, now))
        return changes

    def _change(self, kind: V, transition: Transition, now: Instant) -> ViolationChange:
        if transition.kind == "started":
            self._ids[kind] = uuid7()
            self._last_sent[kind] = now.monotonic_s
            duration = now.monotonic_s - transition.began.monotonic_s
            return self._build(kind, EventState.STARTED, transition.began, None, duration)
        change = self._build(
            kind, EventState.ENDED, transition.began, transition.cleared, transition.duration_s
        )
        self._ids.pop(kind, None)
        self._last_sent.pop(kind, None)
        self._forget(kind)
        return change

    def _build(
        self, kind: V, state: EventState, began: Instant, ended: Instant | None, duration: float
    ) -> ViolationChange:
        return ViolationChange(
            violation_id=self._ids[kind],
            type=kind,
            state=state,
            started=began,
            ended=ended,
            duration_s=max(0.0, duration),
            severity=self.severities[kind],
            confidence=round(self.trackers[kind].confidence, 3),
            details=self._details(kind),
        )
