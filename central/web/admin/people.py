"""Candidates (bulk import from a CSV roster plus a zip of photos, with a progress bar) and
sessions (candidate -> seat -> exam, with a schedule)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.wrappers import Response as BaseResponse

from central.domain_models import Candidate, Exam, ExamSession, Hall, Seat
from central.services.candidate_imports import MAX_ROSTER_BYTES, CandidateUpload
from central.services.delivery import deliver_seat, delivery_status
from central.services.errors import InvalidParameter, NotFound
from central.services.import_jobs import (
    INTERRUPTED,
    create_import,
    import_status,
    run_import,
)
from central.services.planning import Sitting, schedule_session
from central.web.admin import MAX_UPLOAD_BYTES, bp, forms
from central.web.admin.deliveries import delivery_sentence
from central.web.database import get_session
from central.web.translation import _

_SESSIONMAKER = "central.db"  # set by central.web.database.init_database
PAGE_SIZE = 500


@bp.get("/candidates")
def candidates() -> str:
    session = get_session()
    rows = session.scalars(select(Candidate).order_by(Candidate.candidate_number).limit(PAGE_SIZE))
    return render_template(
        "admin/candidates.html",
        candidates=list(rows),
        total=session.scalar(select(func.count()).select_from(Candidate)),
        form=forms.CsrfForm(),
    )


@bp.post("/candidates/import")
def import_candidates() -> BaseResponse:
    created: list[tuple[str, CandidateUpload]] = []

    def change() -> str:
        roster, photos = request.files.get("roster"), request.files.get("photos")
        if roster is None or not roster.filename:
            raise InvalidParameter("roster", _("file is required (CSV)"))
        if photos is None or not photos.filename:
            raise InvalidParameter("photos", _("file is required (zip)"))
        upload = CandidateUpload(roster.read(MAX_ROSTER_BYTES + 1), photos.read(MAX_UPLOAD_BYTES))
        created.append((create_import(get_session(), current_user.info), upload))
        return _("Import started.")

    response = forms.apply_change(change, url_for("admin.candidates"))
    # The thread starts once the job's row is committed (apply_change commits or rolls back).
    if created and import_status(get_session(), created[0][0]) is not None:
        job_id, upload = created[0]
        sessions: sessionmaker[Session] = current_app.extensions[_SESSIONMAKER]
        encoder: Any = current_app.config.get("CANDIDATE_ENCODER")  # tests swap in a fake
        run_import(sessions, job_id, current_user.info, upload, encoder)
        return redirect(url_for("admin.import_job", job_id=job_id), 303)
    return response


def _import_status(job_id: str, missing: str) -> dict[str, Any]:
    """From the table, so any web worker answers for an import another one runs."""
    status = import_status(get_session(), job_id)
    if status is None:
        raise NotFound(missing)
    if status["state"] == INTERRUPTED:  # the service's sentence, in the admin's language
        status["error"] = _(
            "The import was interrupted (the server stopped or restarted). The candidates "
            "imported before that are kept: run the same import again; they will be listed "
            "as already registered."
        )
    return status


@bp.get("/candidates/imports/<job_id>")
def import_job(job_id: str) -> str:
    status = _import_status(job_id, _("no such import (imports are kept for 7 days)"))
    return render_template("admin/import_job.html", status=status)


@bp.get("/candidates/imports/<job_id>/status")
def import_job_status(job_id: str) -> BaseResponse:
    status = _import_status(job_id, _("no such import"))
    response = jsonify(status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/sessions")
def sessions_page() -> str:
    session = get_session()
    seats = session.execute(
        select(Seat, Hall.name).join(Hall, Hall.hall_id == Seat.hall_id).order_by(Seat.seat_id)
    ).all()
    sittings = list(
        session.scalars(
            select(ExamSession)
            .order_by(ExamSession.scheduled_start, ExamSession.session_id)
            .limit(PAGE_SIZE)
        )
    )
    return render_template(
        "admin/sessions.html",
        sittings=sittings,
        deliveries=delivery_status(session, sittings),
        exams=list(session.scalars(select(Exam).order_by(Exam.exam_id))),
        candidates=list(session.scalars(select(Candidate).order_by(Candidate.candidate_number))),
        seats=seats,
        form=forms.CsrfForm(),
    )


@bp.post("/sessions/<session_id>/deliver")
def deliver_session(session_id: str) -> BaseResponse:
    """Send the sitting to its kiosk again (a kiosk that was reset or replaced)."""
    db = get_session()
    sitting = db.get(ExamSession, session_id)
    if sitting is None:
        raise NotFound(_("no session %(session)r", session=session_id))
    seat_id = sitting.seat_id

    def change() -> str:
        delivery = deliver_seat(db, current_user.info, seat_id, force=True)
        if delivery.session_id != session_id:
            raise InvalidParameter(
                "session",
                _(
                    "%(session)s is not its seat's next sitting; nothing was sent",
                    session=session_id,
                ),
            )
        return _(
            "Session %(session)s: %(outcome)s",
            session=session_id,
            outcome=delivery_sentence(delivery),
        )

    return forms.apply_change(change, url_for("admin.sessions_page"))


@bp.post("/sessions")
def new_session() -> BaseResponse:
    def change() -> str:
        session_id = forms.text("session_id", max_length=64, required=False)
        sitting = Sitting(
            session_id=forms.identifier("session_id")
            if session_id
            else f"sess-{uuid.uuid4().hex[:12]}",
            exam_id=forms.text("exam_id", max_length=64),
            candidate_id=forms.text("candidate_id", max_length=64),
            seat_id=forms.text("seat_id", max_length=64),
            start=forms.moment("start"),
            end=forms.moment("end"),
        )
        db = get_session()
        clash = select(ExamSession.session_id).where(
            ExamSession.exam_id == sitting.exam_id,
            ExamSession.candidate_id == sitting.candidate_id,
        )
        if db.scalar(clash) is not None or db.get(ExamSession, sitting.session_id) is not None:
            raise InvalidParameter(
                "session", _("this candidate already has a session of this exam")
            )
        schedule_session(db, current_user.info, sitting)
        delivery = deliver_seat(db, current_user.info, sitting.seat_id)
        outcome = delivery_sentence(delivery, sitting.session_id)
        return _(
            "Session %(session)s scheduled. %(outcome)s",
            session=sitting.session_id,
            outcome=outcome,
        )

    return forms.apply_change(change, url_for("admin.sessions_page"))
