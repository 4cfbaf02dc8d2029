"""Candidate reports (printable HTML, PDF) and per exam exports (results CSV, violations JSON).

Same roles as the result page (admins and reviewers). The hall rules apply on top, so that a
role given these pages later still sees only its halls: a session in another hall is a 403,
and an exam export holds only the sessions of halls the user may see (central.reports.exports).
Every report or export reveals evidence references, so each download is audit-logged.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, render_template
from markupsafe import Markup

from central.reports.data import CandidateReport, candidate_report
from central.reports.exports import results_csv, violations_export
from central.reports.pdf import report_pdf
from central.reports.timeline import STYLES, clock, render_svg, type_label
from central.reports.translation import integrity_summary
from central.services.audit import record
from central.web.access import current_info, require_hall
from central.web.auth import role_required
from central.web.database import get_session
from central.web.result_words import shown_reason
from central.web.review import REVIEW_ROLES
from central.web.translation import _

bp = Blueprint("reports", __name__, url_prefix="/results")
REPORT_ROLES = REVIEW_ROLES
UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(*parts: str, suffix: str) -> str:
    """ASCII letters, digits, dot, dash and underscore only: safe in any header and file system."""
    stem = "-".join(UNSAFE_FILENAME.sub("_", part).strip("._") for part in parts if part)
    return f"{stem[:120] or 'report'}{suffix}"


def _visible_report(session_id: str, action: str) -> CandidateReport:
    """The report (404 if none), if the user may see its hall (403); the view is audit-logged."""
    session = get_session()
    report = candidate_report(session, session_id)
    require_hall(report.seat.hall_id)
    record(session, current_info(), action, ("session", session_id))
    session.commit()
    return report


@bp.get("/sessions/<session_id>/report")
@role_required(*REPORT_ROLES)
def report_page(session_id: str) -> str:
    report = _visible_report(session_id, "report.html")
    title = _("Timeline of violations, %(number)s", number=report.candidate.candidate_number)
    return render_template(
        "report.html",
        report=report,
        current=report.current,
        sitting=report.current.exam_session,
        reason=shown_reason(report.current),
        chart=Markup(render_svg(report.timeline(), title)),  # noqa: S704 - escaped in render_svg
        clock=clock,
        type_label=type_label,
        styles=STYLES,
        integrity_summary=integrity_summary,
    )


@bp.get("/sessions/<session_id>/report.pdf")
@role_required(*REPORT_ROLES)
def report_download(session_id: str) -> Response:
    report = _visible_report(session_id, "report.pdf")
    name = safe_filename(
        "report",
        report.current.exam.exam_id,
        report.candidate.candidate_number,
        session_id,
        suffix=".pdf",
    )
    return _attachment(Response(report_pdf(report), mimetype="application/pdf"), name)


def _audit_export(exam_id: str, action: str, sessions: int) -> None:
    session = get_session()
    record(session, current_info(), action, ("exam", exam_id), {"sessions": sessions})
    session.commit()


def _attachment(response: Response, name: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/exams/<exam_id>/results.csv")
@role_required(*REPORT_ROLES)
def results_export(exam_id: str) -> Response:
    session = get_session()
    body, rows = results_csv(session, exam_id, current_info())
    _audit_export(exam_id, "export.results", rows)
    response = Response(body, content_type="text/csv; charset=utf-8")
    day = datetime.now(UTC).strftime("%Y%m%d")
    return _attachment(response, safe_filename("results", exam_id, day, suffix=".csv"))


@bp.get("/exams/<exam_id>/violations.json")
@role_required(*REPORT_ROLES)
def violations_download(exam_id: str) -> Response:
    export = violations_export(get_session(), exam_id, current_info())
    _audit_export(exam_id, "export.violations", len(export["sessions"]))
    response = jsonify(export)
    return _attachment(response, safe_filename("violations", exam_id, suffix=".json"))
