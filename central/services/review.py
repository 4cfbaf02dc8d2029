"""The review queue of an exam and the decisions on its flags.

A flag is a violation of a type whose weight in the exam's policy is above zero. The queue
holds the flags of the exam's sessions, most severe first, then oldest first, each with its
evidence and any explanation the candidate gave for it. Every decision is audit-logged, and the
last one of a finished session releases its result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.domain_models import Exam, ExamSession, Review
from central.models import DeviceMessage, Event, Evidence, Violation
from central.services.audit import record
from central.services.errors import Conflict, InvalidParameter, NotFound
from central.services.planning import proctoring_policy
from central.services.results import release_if_ready
from central.services.users import UserInfo

Decision = Literal["confirmed", "dismissed"]
DECISIONS: tuple[Decision, ...] = ("confirmed", "dismissed")
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
MAX_NOTE_CHARS = 2000


@dataclass(frozen=True)
class EvidenceLink:
    sha256: str
    media_type: str
    role: str  # clip / snapshot
    purged_at: datetime | None = None  # deleted under the retention policy then


@dataclass(frozen=True)
class Flag:
    violation: Violation
    exam_session: ExamSession
    evidence: tuple[EvidenceLink, ...]
    explanations: tuple[str, ...]
    review: Review | None


def _exam_sessions(session: Session, exam_id: str) -> dict[str, ExamSession]:
    rows = session.scalars(select(ExamSession).where(ExamSession.exam_id == exam_id))
    return {row.session_id: row for row in rows}


def evidence_links(session: Session, violation_ids: list[str]) -> dict[str, list[EvidenceLink]]:
    """Every clip and snapshot any message of each violation carried, once each, in order."""
    found: dict[str, list[EvidenceLink]] = {vid: [] for vid in violation_ids}
    if not violation_ids:
        return found
    statement = (
        select(Event.violation_id, Event.evidence)
        .where(Event.violation_id.in_(violation_ids))
        .order_by(Event.seq)
    )
    for violation_id, refs in session.execute(statement).all():
        links = found[violation_id]
        for ref in refs or []:
            link = EvidenceLink(str(ref["sha256"]), str(ref["media_type"]), str(ref["role"]))
            if link not in links:
                links.append(link)
    return _with_purge_dates(session, found)


def _with_purge_dates(
    session: Session, found: dict[str, list[EvidenceLink]]
) -> dict[str, list[EvidenceLink]]:
    """Links to purged files carry the date, so pages explain them instead of linking."""
    hashes = {link.sha256 for links in found.values() for link in links}
    if not hashes:
        return found
    statement = select(Evidence.sha256, Evidence.purged_at).where(
        Evidence.sha256.in_(sorted(hashes)), Evidence.purged_at.is_not(None)
    )
    purged: dict[str, datetime | None] = dict(session.execute(statement).all())
    if not purged:
        return found
    return {
        vid: [replace(link, purged_at=purged.get(link.sha256)) for link in links]
        for vid, links in found.items()
    }


def _explanations(session: Session, session_ids: list[str]) -> dict[str, list[str]]:
    """The candidates' notes, by the violation they explain."""
    notes: dict[str, list[str]] = {}
    if not session_ids:
        return notes
    statement = (
        select(DeviceMessage.body)
        .where(DeviceMessage.session_id.in_(session_ids), DeviceMessage.kind == "explanation")
        .order_by(DeviceMessage.device_id, DeviceMessage.seq)
    )
    for body in session.scalars(statement):
        violation_id, note = body.get("violation_id"), body.get("note")
        if isinstance(violation_id, str) and isinstance(note, str):
            notes.setdefault(violation_id, []).append(note)
    return notes


def review_queue(session: Session, exam_id: str, *, decided: bool = False) -> list[Flag]:
    """The exam's flags still waiting for a decision (or, with decided=True, those decided)."""
    exam = session.get(Exam, exam_id)
    if exam is None:
        raise NotFound(f"no exam {exam_id!r}")
    policy = proctoring_policy(exam)
    sittings = _exam_sessions(session, exam_id)
    if not sittings:
        return []
    statement = (
        select(Violation, Review)
        .outerjoin(Review, Review.violation_id == Violation.violation_id)
        .where(Violation.session_id.in_(list(sittings)))
    )
    rows = [
        (v, r)
        for v, r in session.execute(statement).all()
        if policy.is_flag(v.type) and (r is not None) is decided
    ]
    rows.sort(key=lambda vr: (SEVERITY_RANK.get(vr[0].severity, 9), vr[0].started_at))
    evidence = evidence_links(session, [v.violation_id for v, _ in rows])
    notes = _explanations(session, sorted({v.session_id for v, _ in rows if v.session_id}))
    return [
        Flag(
            violation=v,
            exam_session=sittings[v.session_id or ""],
            evidence=tuple(evidence[v.violation_id]),
            explanations=tuple(notes.get(v.violation_id, [])),
            review=r,
        )
        for v, r in rows
    ]


def decide(session: Session, actor: UserInfo, violation_id: str, decision: str, note: str) -> bool:
    """Record (or change) the decision on one flag; True if it released the session's result.

    Refused once the session's result is released: a released result does not change."""
    if decision not in DECISIONS:
        raise InvalidParameter("decision", f"must be one of {', '.join(DECISIONS)}")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidParameter("note", f"must be at most {MAX_NOTE_CHARS} characters")
    violation = session.get(Violation, violation_id)
    if violation is None or violation.session_id is None:
        raise NotFound("no such flag")
    sitting = session.get(ExamSession, violation.session_id)
    if sitting is None:
        raise NotFound("no such flag")
    if not proctoring_policy(session.get(Exam, sitting.exam_id)).is_flag(violation.type):
        raise InvalidParameter("violation", "is information, not a flag to review")
    if sitting.released_at is not None:
        raise Conflict("the result of this session is released; its flags are closed")
    review = session.get(Review, violation_id)
    previous = review.decision if review is not None else None
    if review is None:
        review = Review(violation_id=violation_id)
        session.add(review)
    review.decision = decision
    review.note = note.strip()
    review.reviewer_id = actor.id
    review.decided_at = datetime.now(UTC)
    record(
        session,
        actor,
        f"review.{decision}",
        ("violation", violation_id),
        {"note": review.note, "previous": previous, "session_id": sitting.session_id},
    )
    session.flush()
    return release_if_ready(session, sitting.session_id, actor)
