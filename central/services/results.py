"""Results from the tables: the trust and quiz scores of a session, and their release.

A result is released only when the session is finished and every flag has a decision; a clean
session is released unasked when its exam's policy says so. Released results are stored on the
session and no longer change (docs/trust-score.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.domain_models import Exam, ExamSession, Review
from central.models import DeviceMessage, Violation
from central.scoring.policy import ProctoringPolicy
from central.scoring.quiz import SavedAnswer, latest_answers, score_quiz
from central.scoring.result import ExamResult, exam_result
from central.scoring.trust import ScoredViolation, Status, trust_score
from central.services.audit import record
from central.services.errors import Conflict, NotFound
from central.services.planning import exam_definition, proctoring_policy
from central.services.users import UserInfo

FINISHED_STATES = frozenset({"submitted", "ended"})


@dataclass(frozen=True)
class SessionViolation:
    violation: Violation
    review: Review | None

    @property
    def status(self) -> Status:
        if self.review is None:
            return "pending"
        return "confirmed" if self.review.decision == "confirmed" else "dismissed"


@dataclass(frozen=True)
class SessionResult:
    exam_session: ExamSession
    exam: Exam
    policy: ProctoringPolicy
    violations: list[SessionViolation]
    result: ExamResult
    finished: bool

    @property
    def released(self) -> bool:
        return self.exam_session.released_at is not None

    @property
    def flags(self) -> list[SessionViolation]:
        return [v for v in self.violations if self.policy.is_flag(v.violation.type)]

    @property
    def ready(self) -> bool:
        """Finished, and every flag decided."""
        return self.finished and self.result.final


def session_violations(session: Session, session_id: str) -> list[SessionViolation]:
    statement = (
        select(Violation, Review)
        .outerjoin(Review, Review.violation_id == Violation.violation_id)
        .where(Violation.session_id == session_id)
        .order_by(Violation.started_at, Violation.violation_id)
    )
    return [SessionViolation(v, r) for v, r in session.execute(statement).all()]


def saved_answers(session: Session, session_id: str) -> list[SavedAnswer]:
    statement = select(DeviceMessage).where(
        DeviceMessage.session_id == session_id, DeviceMessage.kind == "answer"
    )
    return [
        SavedAnswer(
            question_id=str(m.body.get("question_id")),
            answer=m.body.get("answer"),
            device_id=m.device_id,
            seq=m.seq,
            received_at=m.received_at,
        )
        for m in session.scalars(statement)
    ]


def _submitted(session: Session, session_id: str) -> bool:
    statement = select(DeviceMessage.message_id).where(
        DeviceMessage.session_id == session_id, DeviceMessage.kind == "submitted"
    )
    return session.scalar(statement.limit(1)) is not None


def finished_sessions(session: Session, sittings: list[ExamSession]) -> set[str]:
    """Which of these sessions are finished: ended by staff, or submitted by the kiosk."""
    finished = {s.session_id for s in sittings if s.state in FINISHED_STATES}
    others = [s.session_id for s in sittings if s.session_id not in finished]
    if others:
        statement = select(DeviceMessage.session_id).where(
            DeviceMessage.session_id.in_(others), DeviceMessage.kind == "submitted"
        )
        finished.update(sid for sid in session.scalars(statement) if sid is not None)
    return finished


def session_result(session: Session, session_id: str) -> SessionResult:
    """The result as it stands now (provisional while flags are pending)."""
    row = session.get(ExamSession, session_id)
    if row is None:
        raise NotFound(f"no session {session_id!r}")
    exam = session.get(Exam, row.exam_id)
    if exam is None:  # the foreign key makes this impossible; keeps mypy honest
        raise NotFound(f"no exam {row.exam_id!r}")
    policy = proctoring_policy(exam)
    violations = session_violations(session, session_id)
    trust = trust_score(
        (
            ScoredViolation(
                v.violation.violation_id, v.violation.type, v.violation.duration_s, v.status
            )
            for v in violations
        ),
        policy,
    )
    quiz = score_quiz(exam_definition(exam), latest_answers(saved_answers(session, session_id)))
    finished = row.state in FINISHED_STATES or _submitted(session, session_id)
    return SessionResult(
        exam_session=row,
        exam=exam,
        policy=policy,
        violations=violations,
        result=exam_result(trust, quiz, policy),
        finished=finished,
    )


def _detail(result: ExamResult) -> dict[str, Any]:
    quiz = result.quiz
    return {
        "deductions": [
            {
                "violation_id": d.violation.violation_id,
                "type": d.violation.type,
                "status": d.violation.status,
                "duration_s": d.violation.duration_s,
                "weight": d.weight,
                "duration_factor": round(d.duration_factor, 4),
                "points": round(d.points, 3),
            }
            for d in result.trust.deductions
        ],
        "quiz": {
            "earned": quiz.earned,
            "penalty": quiz.penalty,
            "score": quiz.score,
            "max_marks": quiz.max_marks,
            "percent": quiz.percent,
            "pass_percent": quiz.pass_percent,
            "floored": quiz.floored,
            "correct": quiz.count("correct"),
            "wrong": quiz.count("wrong"),
            "unanswered": quiz.count("unanswered"),
            "unmarked": quiz.count("unmarked"),
        },
    }


def _release(session: Session, current: SessionResult, actor: UserInfo) -> None:
    row = current.exam_session
    result = current.result
    row.released_at = datetime.now(UTC)
    row.released_by = actor.id or None
    row.passed = result.passed
    row.trust_score = result.trust.score
    row.quiz_score = result.quiz.score
    row.quiz_percent = result.quiz.percent
    row.result_reason = result.reason
    row.result_detail = _detail(result)
    record(
        session,
        actor,
        "result.release",
        ("session", row.session_id),
        {"passed": result.passed, "reason": result.reason},
    )
    session.flush()


def release_if_ready(session: Session, session_id: str, actor: UserInfo) -> bool:
    """Release the result if the session is finished and its flags are all decided; a session
    with no flags only when the policy auto-releases clean sessions. True if released now."""
    current = session_result(session, session_id)
    if current.released or not current.ready:
        return False
    if not current.flags and not current.policy.auto_release_clean:
        return False
    _release(session, current, actor)
    return True


def release(session: Session, session_id: str, actor: UserInfo) -> None:
    """A reviewer's explicit release (e.g. of a clean session when auto-release is off)."""
    current = session_result(session, session_id)
    if current.released:
        raise Conflict("the result is already released")
    if not current.finished:
        raise Conflict("the session has not finished")
    if not current.result.final:
        raise Conflict("some flags are not reviewed yet")
    _release(session, current, actor)


def release_ready_sessions(session: Session, exam_id: str, actor: UserInfo) -> list[str]:
    """Release every ready session of the exam (clean ones per policy); their ids."""
    statement = select(ExamSession.session_id).where(
        ExamSession.exam_id == exam_id, ExamSession.released_at.is_(None)
    )
    return [
        sid for sid in list(session.scalars(statement)) if release_if_ready(session, sid, actor)
    ]
