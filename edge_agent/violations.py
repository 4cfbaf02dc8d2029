"""From rule changes and device problems to outbox messages.

`started` and `updated` go to the outbox at once (an invigilator sees a flag within the rule's
minimum duration). `ended` asks for the clip and snapshot and is held until the encoder has
them (or `clip_wait_s` after the post-roll has passed), so the final message of a violation
names its evidence. A problem an invigilator must know about (a vision stage that failed, the
evidence disk full, a camera source that cannot be opened) becomes a `device_fault`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from edge_agent.clock import Clock
from edge_agent.evidence.clips import ClipRecorder
from edge_agent.messages import Origin
from edge_agent.outbox import Outbox
from edge_agent.rules.engine import ViolationChange
from edge_agent.rules.tracker import Instant
from edge_agent.rules.wire import violation_factory
from protocol import EventState, EvidenceRef, SessionRef, Severity, uuid7
from protocol import ViolationType as V

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvidencePolicy:
    pre_roll_s: float = 5.0
    post_roll_s: float = 3.0
    clip_wait_s: float = 30.0  # after the post-roll: give up waiting and send without a clip


@dataclass
class _Held:
    change: ViolationChange
    give_up_at: float  # monotonic


class ViolationSink:
    def __init__(
        self,
        outbox: Outbox,
        origin: Origin,
        clock: Clock,
        subject: Callable[[], SessionRef],
        *,
        clips: ClipRecorder | None = None,
        policy: EvidencePolicy | None = None,
    ) -> None:
        self._outbox = outbox
        self._origin = origin
        self._clock = clock
        self._subject = subject
        self._clips = clips
        self.policy = policy or EvidencePolicy()
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    def handle(self, change: ViolationChange) -> None:
        if change.state is not EventState.ENDED or self._clips is None:
            self._send(change)
            return
        end = change.started.monotonic_s + change.duration_s
        self._clips.request(
            str(change.violation_id),
            change.started.monotonic_s,
            end,
            self.policy.pre_roll_s,
            self.policy.post_roll_s,
        )
        give_up = self._clock.monotonic() + self.policy.post_roll_s + self.policy.clip_wait_s
        with self._lock:
            self._held[str(change.violation_id)] = _Held(change, give_up)

    def poll(self) -> None:
        """Send held `ended` messages whose evidence is ready (or overdue)."""
        now = self._clock.monotonic()
        with self._lock:
            ready = [(k, h) for k, h in self._held.items() if self._ready(k, h, now)]
            for key, _ in ready:
                del self._held[key]
        for key, held in ready:
            self._send_with_evidence(key, held.change)

    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def _ready(self, key: str, held: _Held, now: float) -> bool:
        assert self._clips is not None
        return self._clips.result(key) is not None or now >= held.give_up_at

    def _send_with_evidence(self, key: str, change: ViolationChange) -> None:
        assert self._clips is not None
        result = self._clips.result(key)
        refs: list[EvidenceRef] = []
        details = dict(change.details)
        if result is None:
            details["evidence_error"] = "clip not ready in time"
        else:
            refs = [r for r in (result.clip, result.snapshot) if r is not None]
            if result.error:
                details["evidence_error"] = result.error[:200]
        self._send(replace(change, details=details), refs)

    def fault(self, now: Instant, what: str, error: str) -> None:
        """A device problem, as a point event (started and ended at the same instant)."""
        details: dict[str, str | int | float | bool | None] = {
            "component": what[:100],
            "error": error[:400],
        }
        violation_id = uuid7()
        for state in (EventState.STARTED, EventState.ENDED):
            self._send(ViolationChange(
                violation_id=violation_id, type=V.DEVICE_FAULT, state=state, started=now,
                ended=now if state is EventState.ENDED else None, duration_s=0.0,
                severity=Severity.HIGH, confidence=1.0, details=details,
            ))  # fmt: skip

    def _send(self, change: ViolationChange, evidence: list[EvidenceRef] | None = None) -> None:
        factory = violation_factory(
            change, self._origin, self._clock, self._subject(), evidence or []
        )
        message = self._outbox.enqueue(factory)
        log.info(
            "%s %s %s (%.1f s)",
            change.type.value,
            change.state.value,
            message.id,
            change.duration_s,
        )
