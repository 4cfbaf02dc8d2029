"""The candidate's result page: pass or fail with the reason (in the page's language,
central/web/result_words.py), the violation log with each decision and its cost, and the quiz
breakdown with its penalties."""

from __future__ import annotations

from flask import Blueprint, render_template

from central.domain_models import Candidate, Seat
from central.reports.translation import integrity_summary
from central.services.integrity import session_integrity
from central.services.results import session_result
from central.services.review import evidence_links
from central.web.auth import role_required
from central.web.database import get_session
from central.web.result_words import shown_reason
from central.web.review import REVIEW_ROLES, ActionForm

bp = Blueprint("results", __name__, url_prefix="/results")


@bp.get("/sessions/<session_id>")
@role_required(*REVIEW_ROLES)
def session_result_page(session_id: str) -> str:
    session = get_session()
    current = session_result(session, session_id)
    sitting = current.exam_session
    costs = {d.violation.violation_id: d.points for d in current.result.trust.deductions}
    return render_template(
        "result.html",
        current=current,
        reason=shown_reason(current),
        sitting=sitting,
        candidate=session.get(Candidate, sitting.candidate_id),
        seat=session.get(Seat, sitting.seat_id),
        costs=costs,
        evidence=evidence_links(session, [v.violation.violation_id for v in current.violations]),
        pending_flags=[v for v in current.flags if v.review is None],
        action_form=ActionForm(),
        integrity=session_integrity(session, session_id),
        integrity_summary=integrity_summary,
    )
