"""What a simulated kiosk says: a check-in, answers, violations with a lifecycle, a submit.

Violations follow the real rules' shape: a rule fires after its persistence threshold, so
`started_at` lies that far back; `updated` messages may raise the severity as it goes on;
`ended` carries `ended_at` and the full duration. All messages of one violation share its
`violation_id`, and every message says `simulated=True`.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from edge_agent.clock import Clock
from edge_agent.outbox import MessageFactory
from protocol import (
    AckedMessage,
    AnswerSaved,
    CheckIn,
    EventState,
    ExamSubmitted,
    SessionRef,
    Severity,
    ViolationEvent,
    ViolationType,
    uuid7,
)

_SEVERITIES: Final = list(Severity)
QUESTIONS: Final = 40


@dataclass(frozen=True)
class Profile:
    threshold_s: float  # how long the condition must last before the rule fires
    severity: Severity
    weight: float


PROFILES: Final[dict[ViolationType, Profile]] = {
    ViolationType.LOOKING_AWAY: Profile(2.0, Severity.LOW, 30),
    ViolationType.EYES_AWAY: Profile(2.0, Severity.LOW, 20),
    ViolationType.FACE_ABSENT: Profile(3.0, Severity.MEDIUM, 12),
    ViolationType.BACKGROUND_SPEECH: Profile(1.5, Severity.LOW, 10),
    ViolationType.CANDIDATE_TALKING: Profile(2.0, Severity.MEDIUM, 8),
    ViolationType.PHONE_IN_VIEW: Profile(1.0, Severity.HIGH, 6),
    ViolationType.MULTIPLE_FACES: Profile(1.0, Severity.HIGH, 6),
    ViolationType.BOOK_IN_VIEW: Profile(2.0, Severity.MEDIUM, 5),
    ViolationType.IDENTITY_MISMATCH: Profile(0.5, Severity.CRITICAL, 1),
}


@dataclass(frozen=True)
class SimIdentity:
    centre_id: str
    device_id: str
    seat_id: str
    session_id: str
    candidate_id: str
    exam_id: str

    def subject(self) -> SessionRef:
        return SessionRef(
            seat_id=self.seat_id,
            session_id=self.session_id,
            candidate_id=self.candidate_id,
            exam_id=self.exam_id,
        )


@dataclass
class _OpenViolation:
    violation_id: uuid.UUID
    type: ViolationType
    started_at: datetime
    severity: Severity
    details: Details = field(default_factory=dict)


Details = dict[str, str | int | float | bool | None]

_DETAILS: Final[dict[ViolationType, Callable[[random.Random], Details]]] = {
    ViolationType.LOOKING_AWAY: lambda r: {
        "yaw_deg": round(r.choice((-1, 1)) * r.uniform(30, 70), 1)
    },
    ViolationType.EYES_AWAY: lambda r: {
        "gaze_x": round(r.choice((-1, 1)) * r.uniform(0.35, 0.9), 2)
    },
    ViolationType.FACE_ABSENT: lambda r: {},
    ViolationType.MULTIPLE_FACES: lambda r: {"faces": r.choice((2, 2, 2, 3))},
    ViolationType.PHONE_IN_VIEW: lambda r: {"label": "phone", "boxes": r.choice((1, 1, 2))},
    ViolationType.BOOK_IN_VIEW: lambda r: {"label": "book", "boxes": 1},
    ViolationType.IDENTITY_MISMATCH: lambda r: {"distance": round(r.uniform(0.62, 0.9), 3)},
    ViolationType.BACKGROUND_SPEECH: lambda r: {"speech_ratio": round(r.uniform(0.4, 1.0), 2)},
    ViolationType.CANDIDATE_TALKING: lambda r: {"speech_ratio": round(r.uniform(0.4, 1.0), 2)},
}


class KioskScript:
    """Decides each next message; `total=None` means an endless exam."""

    def __init__(
        self, identity: SimIdentity, clock: Clock, rng: random.Random, total: int | None = None
    ) -> None:
        self.identity = identity
        self._clock = clock
        self._rng = rng
        self._total = total
        self._made = 0
        self._answered: set[str] = set()
        self._open: _OpenViolation | None = None

    @property
    def open_violation(self) -> bool:
        return self._open is not None

    def next_factory(self) -> MessageFactory:
        """The factory for the next message (the outbox gives it id and seq)."""
        remaining = None if self._total is None else self._total - self._made
        self._made += 1
        if self._made == 1:
            return self._checkin
        if remaining is not None and remaining <= 3:
            return self._wind_down(remaining)
        roll = self._rng.random()
        if self._open is None:
            return self._violation(EventState.STARTED) if roll < 0.3 else self._answer
        if roll < 0.25:
            return self._violation(EventState.UPDATED)
        if roll < 0.6:
            return self._violation(EventState.ENDED)
        return self._answer

    def _wind_down(self, remaining: int) -> MessageFactory:
        """Near the end of a counted run: close the open violation, then submit last."""
        if self._open is not None and remaining <= 2:
            return self._violation(EventState.ENDED)
        if remaining == 1:
            return self._submitted
        return self._answer

    def _common(self, message_id: uuid.UUID, seq: int) -> dict[str, object]:
        return {
            "schema_version": 1,
            "centre_id": self.identity.centre_id,
            "device_id": self.identity.device_id,
            "clock": self._clock.now(),
            "simulated": True,
            "id": message_id,
            "seq": seq,
        }

    def _checkin(self, message_id: uuid.UUID, seq: int) -> AckedMessage:
        return CheckIn.model_validate(
            {
                **self._common(message_id, seq),
                "kind": "checkin",
                "subject": self.identity.subject(),
                "method": "face_match",
                "match_distance": round(self._rng.uniform(0.25, 0.45), 3),
                "attempts": self._rng.choice((1, 1, 1, 2)),
            }
        )

    def _answer(self, message_id: uuid.UUID, seq: int) -> AckedMessage:
        question = f"q-{self._rng.randrange(1, QUESTIONS + 1):03d}"
        self._answered.add(question)
        value: str | int | list[str] = self._rng.choice("ABCD")
        if self._rng.random() < 0.2:
            value = self._rng.randrange(0, 1000)
        elif self._rng.random() < 0.2:
            value = sorted(self._rng.sample("ABCDE", k=2))
        return AnswerSaved.model_validate(
            {
                **self._common(message_id, seq),
                "kind": "answer",
                "subject": self.identity.subject(),
                "question_id": question,
                "answer": value,
                "flagged_for_review": self._rng.random() < 0.1,
            }
        )

    def _submitted(self, message_id: uuid.UUID, seq: int) -> AckedMessage:
        return ExamSubmitted.model_validate(
            {
                **self._common(message_id, seq),
                "kind": "submitted",
                "subject": self.identity.subject(),
                "reason": "candidate",
                "answered_count": len(self._answered),
            }
        )

    def _violation(self, state: EventState) -> MessageFactory:
        if state is EventState.STARTED:
            kinds = list(PROFILES)
            kind = self._rng.choices(kinds, weights=[PROFILES[k].weight for k in kinds])[0]
            lead = PROFILES[kind].threshold_s * self._rng.uniform(1.0, 1.5)
            self._open = _OpenViolation(
                violation_id=uuid7(),
                type=kind,
                started_at=self._clock.now().wall_time - timedelta(seconds=lead),
                severity=PROFILES[kind].severity,
                details=_DETAILS[kind](self._rng),
            )
        violation = self._open
        assert violation is not None
        if state is EventState.UPDATED:
            level = _SEVERITIES.index(violation.severity)
            if level < _SEVERITIES.index(Severity.HIGH) and self._rng.random() < 0.4:
                violation.severity = _SEVERITIES[level + 1]  # it went on: more serious
        if state is EventState.ENDED:
            self._open = None
        confidence = round(self._rng.uniform(0.6, 0.99), 2)

        def factory(message_id: uuid.UUID, seq: int) -> AckedMessage:
            common = self._common(message_id, seq)
            now = self._clock.now().wall_time
            return ViolationEvent.model_validate(
                {
                    **common,
                    "kind": "violation",
                    "violation_id": violation.violation_id,
                    "subject": self.identity.subject(),
                    "type": violation.type,
                    "state": state,
                    "started_at": violation.started_at,
                    "ended_at": now if state is EventState.ENDED else None,
                    "duration_s": max(0.0, (now - violation.started_at).total_seconds()),
                    "severity": violation.severity,
                    "confidence": confidence,
                    "details": violation.details,
                }
            )

        return factory
