"""Turn a rule's ViolationChange into the wire's ViolationEvent, through the outbox factory."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from edge_agent.clock import Clock
from edge_agent.messages import Origin
from edge_agent.outbox import MessageFactory
from edge_agent.rules.engine import ViolationChange
from protocol import EventState, EvidenceRef, SessionRef, ViolationEvent


def violation_factory(
    change: ViolationChange,
    origin: Origin,
    clock: Clock,
    subject: SessionRef,
    evidence: Sequence[EvidenceRef] = (),
) -> MessageFactory:
    """A factory for `Outbox.enqueue`: the outbox supplies the id and the seq.

    The end time is the start plus the duration measured on the monotonic clock: the wall
    clock of a kiosk without an RTC may be stepped by time sync in the middle of a violation,
    which must neither change its duration nor put its end before its start.
    """

    def factory(message_id: uuid.UUID, seq: int) -> ViolationEvent:
        ended_at = None
        if change.state is EventState.ENDED:
            ended_at = change.started.wall_time + timedelta(seconds=change.duration_s)
        return ViolationEvent(
            schema_version=1, kind="violation", id=message_id, seq=seq,
            centre_id=origin.centre_id, device_id=origin.device_id, clock=clock.now(),
            simulated=origin.simulated, violation_id=change.violation_id, subject=subject,
            type=change.type, state=change.state, started_at=change.started.wall_time,
            ended_at=ended_at, duration_s=change.duration_s, severity=change.severity,
            confidence=change.confidence, details=dict(change.details), evidence=list(evidence),
        )  # fmt: skip

    return factory
