"""What a candidate report shows, gathered once from the result service, for the HTML page, the
PDF and the exports alike: nothing here scores anything again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.domain_models import Candidate, Centre, Hall, Seat
from central.models import User
from central.reports.timeline import Decision, TimelineItem, TimelineLayout, layout
from central.scoring.quiz import QuizScore
from central.services.errors import NotFound
from central.services.integrity import IntegrityReport, session_integrity
from central.services.results import SessionResult, SessionViolation, session_result
from central.services.review import EvidenceLink, evidence_links

EVIDENCE_PATH = "/api/v1/evidence/{sha256}"  # central.web.evidence serves it


@dataclass(frozen=True)
class LogRow:
    """One line of the violation log."""

    violation_id: str
    type: str
    severity: str
    started_at: datetime
    ended_at: datetime | None
    offset_s: float  # from the session's scheduled start
    duration_s: float
    decision: Decision
    note: str
    reviewer: str
    cost: float  # trust points it takes off now (0 when dismissed or information)
    evidence: tuple[EvidenceLink, ...]

    @property
    def evidence_paths(self) -> tuple[str, ...]:
        return tuple(EVIDENCE_PATH.format(sha256=link.sha256) for link in self.evidence)

    @property
    def end_offset_s(self) -> float:
        return self.offset_s + max(self.duration_s, 0.0)


@dataclass(frozen=True)
class CandidateReport:
    current: SessionResult
    candidate: Candidate
    seat: Seat
    hall: Hall
    centre: Centre
    rows: tuple[LogRow, ...]
    integrity: tuple[IntegrityReport, ...]

    @property
    def released(self) -> bool:
        return self.current.released

    @property
    def passed(self) -> bool:
        stored = self.current.exam_session.passed
        return stored if self.released and stored is not None else self.current.result.passed

    @property
    def reason(self) -> str:
        """The released reason, or the provisional one while unreleased."""
        stored = self.current.exam_session.result_reason
        return stored if self.released and stored else self.current.result.reason

    @property
    def trust_score(self) -> float:
        stored = self.current.exam_session.trust_score
        return stored if self.released and stored is not None else self.current.result.trust.score

    @property
    def quiz(self) -> QuizScore:
        return self.current.result.quiz

    @property
    def exam_s(self) -> float:
        sitting = self.current.exam_session
        return (sitting.scheduled_end - sitting.scheduled_start).total_seconds()

    def timeline(self) -> TimelineLayout:
        items = [
            TimelineItem(row.type, row.offset_s, row.end_offset_s, row.decision)
            for row in self.rows
        ]
        return layout(items, self.exam_s)


def _decision(current: SessionResult, item: SessionViolation) -> Decision:
    if not current.policy.is_flag(item.violation.type):
        return "information"
    return item.status


def _reviewers(session: Session, items: list[SessionViolation]) -> dict[int, str]:
    ids = sorted({v.review.reviewer_id for v in items if v.review is not None})
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(ids))).all()
    return dict(rows)


def log_rows(session: Session, current: SessionResult) -> tuple[LogRow, ...]:
    start = current.exam_session.scheduled_start
    items = current.violations
    evidence = evidence_links(session, [v.violation.violation_id for v in items])
    costs = {d.violation.violation_id: d.points for d in current.result.trust.deductions}
    reviewers = _reviewers(session, items)
    rows = []
    for item in items:
        v, review = item.violation, item.review
        rows.append(
            LogRow(
                violation_id=v.violation_id,
                type=v.type,
                severity=v.severity,
                started_at=v.started_at,
                ended_at=v.ended_at,
                offset_s=(v.started_at - start).total_seconds(),
                duration_s=v.duration_s,
                decision=_decision(current, item),
                note=review.note if review else "",
                reviewer=reviewers.get(review.reviewer_id, "") if review else "",
                cost=costs.get(v.violation_id, 0.0),
                evidence=tuple(evidence[v.violation_id]),
            )
        )
    return tuple(rows)


def candidate_report(session: Session, session_id: str) -> CandidateReport:
    """The report of one session (NotFound if there is no such session)."""
    current = session_result(session, session_id)
    sitting = current.exam_session
    candidate = session.get(Candidate, sitting.candidate_id)
    seat = session.get(Seat, sitting.seat_id)
    hall = session.get(Hall, seat.hall_id) if seat else None
    centre = session.get(Centre, hall.centre_id) if hall else None
    if candidate is None or seat is None or hall is None or centre is None:
        raise NotFound(f"session {session_id!r} has lost its candidate or seat")  # FKs forbid it
    return CandidateReport(
        current=current,
        candidate=candidate,
        seat=seat,
        hall=hall,
        centre=centre,
        rows=log_rows(session, current),
        integrity=tuple(session_integrity(session, session_id)),
    )
