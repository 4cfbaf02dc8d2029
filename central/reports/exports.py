"""Per exam exports: a CSV of the results (one row per session) and a JSON of the violations.

Only sessions in halls the user may see are exported (central.services.access): admins and
reviewers get every session, an invigilator only those of their halls, never a 403 for the
whole exam, so a role widened later still cannot read other halls.

The CSV is for spreadsheet apps: UTF-8 with a byte order mark (Excel reads it as UTF-8 only
then), and a cell starting with = + - @ (or a tab or carriage return) gets a leading quote so it
is shown as text, never run as a formula (OWASP "CSV injection"). Numbers we write ourselves
are not text a person typed and stay as they are, so a negative number remains a number.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.domain_models import Candidate, Exam, ExamSession, Seat
from central.reports.data import LogRow, log_rows
from central.services.access import may_see_hall
from central.services.errors import NotFound
from central.services.results import SessionResult, session_result
from central.services.users import UserInfo

RESULT_COLUMNS = (
    "candidate_number",
    "name",
    "seat",
    "state",
    "released",
    "passed",
    "reason",
    "trust_score",
    "quiz_score",
    "quiz_percent",
    "confirmed_flags",
    "dismissed_flags",
    "pending_flags",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def safe_cell(value: object) -> str:
    """A cell's text that a spreadsheet shows as text: formula-like text gets a leading quote."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:g}"
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def visible_sessions(session: Session, exam_id: str, user: UserInfo) -> list[ExamSession]:
    """The exam's sessions in halls the user may see, by session id (NotFound: no such exam)."""
    if session.get(Exam, exam_id) is None:
        raise NotFound(f"no exam {exam_id!r}")
    rows = session.execute(
        select(ExamSession, Seat.hall_id)
        .join(Seat, Seat.seat_id == ExamSession.seat_id)
        .where(ExamSession.exam_id == exam_id)
        .order_by(ExamSession.session_id)
    ).all()
    halls = {hall for _, hall in rows}
    allowed = {hall for hall in halls if may_see_hall(session, user, hall)}
    return [sitting for sitting, hall in rows if hall in allowed]


def _flag_counts(current: SessionResult) -> dict[str, int]:
    statuses = [v.status for v in current.flags]
    return {s: statuses.count(s) for s in ("confirmed", "dismissed", "pending")}


def _result_row(session: Session, sitting: ExamSession) -> dict[str, object]:
    current = session_result(session, sitting.session_id)
    candidate = session.get(Candidate, sitting.candidate_id)
    seat = session.get(Seat, sitting.seat_id)
    result = current.result
    released = current.released  # released figures are stored and final; others provisional
    counts = _flag_counts(current)
    return {
        "candidate_number": candidate.candidate_number if candidate else "",
        "name": candidate.display_name if candidate else "",
        "seat": seat.label if seat else "",
        "state": sitting.state,
        "released": released,
        "passed": sitting.passed if released else result.passed,
        "reason": sitting.result_reason if released else result.reason,
        "trust_score": sitting.trust_score if released else result.trust.score,
        "quiz_score": sitting.quiz_score if released else result.quiz.score,
        "quiz_percent": sitting.quiz_percent if released else result.quiz.percent,
        "confirmed_flags": counts["confirmed"],
        "dismissed_flags": counts["dismissed"],
        "pending_flags": counts["pending"],
    }


def results_csv(session: Session, exam_id: str, user: UserInfo) -> tuple[bytes, int]:
    """The exam's results as CSV bytes (UTF-8 with BOM), one row per visible session, and
    the number of those rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RESULT_COLUMNS)
    sittings = visible_sessions(session, exam_id, user)
    for sitting in sittings:
        row = _result_row(session, sitting)
        writer.writerow([safe_cell(row[column]) for column in RESULT_COLUMNS])
    return (BOM + out.getvalue()).encode("utf-8"), len(sittings)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _violation_json(sitting: ExamSession, number: str, seat: str, row: LogRow) -> dict[str, Any]:
    return {
        "violation_id": row.violation_id,
        "session_id": sitting.session_id,
        "candidate_number": number,
        "seat": seat,
        "type": row.type,
        "severity": row.severity,
        "start": _iso(row.started_at),
        "end": _iso(row.ended_at),
        "start_offset_s": round(row.offset_s, 3),
        "duration_s": row.duration_s,
        "decision": row.decision,
        "note": row.note,
        "reviewer": row.reviewer or None,
        "evidence": list(row.evidence_paths),
    }


def violations_export(session: Session, exam_id: str, user: UserInfo) -> dict[str, Any]:
    """Every violation of the exam's visible sessions, in session then time order."""
    exam = session.get(Exam, exam_id)
    sittings = visible_sessions(session, exam_id, user)
    violations: list[dict[str, Any]] = []
    for sitting in sittings:
        candidate = session.get(Candidate, sitting.candidate_id)
        seat = session.get(Seat, sitting.seat_id)
        number = candidate.candidate_number if candidate else ""
        label = seat.label if seat else ""
        current = session_result(session, sitting.session_id)
        rows = log_rows(session, current)
        violations += [_violation_json(sitting, number, label, row) for row in rows]
    return {
        "exam_id": exam_id,
        "title": exam.title if exam else "",
        "exported_at": datetime.now(UTC).isoformat(),
        "sessions": [s.session_id for s in sittings],
        "violations": violations,
    }
