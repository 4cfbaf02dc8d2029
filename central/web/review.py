"""Review pages: the queue of an exam's flags, decisions with a note, and result release.

Every form carries a CSRF token (Flask-WTF). Service errors on a form become a message on the
page they came from, not a JSON error."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as BaseResponse
from wtforms import TextAreaField
from wtforms.validators import Length

from central.domain_models import Exam, ExamSession
from central.models import Violation
from central.services.errors import NotFound, ServiceError
from central.services.planning import proctoring_policy
from central.services.results import finished_sessions, release, release_ready_sessions
from central.services.review import MAX_NOTE_CHARS, decide, review_queue
from central.web import labels
from central.web.auth import role_required
from central.web.database import get_session
from central.web.translation import _, _l, ngettext

bp = Blueprint("review", __name__, url_prefix="/review")
REVIEW_ROLES = ("admin", "reviewer")


class DecisionForm(FlaskForm):  # type: ignore[misc]
    note = TextAreaField(_l("Note"), validators=[Length(max=MAX_NOTE_CHARS)])


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button with nothing to fill in (release): only the CSRF token."""


@bp.get("/")
@role_required(*REVIEW_ROLES)
def index() -> str:
    session = get_session()
    exams = list(session.scalars(select(Exam).order_by(Exam.exam_id)))
    pending = {exam.exam_id: len(review_queue(session, exam.exam_id)) for exam in exams}
    return render_template("review_index.html", exams=exams, pending=pending)


@bp.get("/exams/<exam_id>")
@role_required(*REVIEW_ROLES)
def queue(exam_id: str) -> str:
    session = get_session()
    exam = session.get(Exam, exam_id)
    if exam is None:
        raise NotFound(f"no exam {exam_id!r}")
    sittings = list(
        session.scalars(
            select(ExamSession)
            .where(ExamSession.exam_id == exam_id)
            .order_by(ExamSession.session_id)
        )
    )
    return render_template(
        "review_queue.html",
        exam=exam,
        policy=proctoring_policy(exam),
        flags=review_queue(session, exam_id),
        decided=review_queue(session, exam_id, decided=True),
        sittings=sittings,
        finished=finished_sessions(session, sittings),
        form=DecisionForm(),
        action_form=ActionForm(),
    )


@bp.post("/violations/<violation_id>")
@role_required(*REVIEW_ROLES)
def decide_flag(violation_id: str) -> BaseResponse:
    session = get_session()
    violation = session.get(Violation, violation_id)
    sitting = session.get(ExamSession, violation.session_id or "") if violation else None
    if violation is None or sitting is None:
        raise NotFound("no such flag")
    back = url_for("review.queue", exam_id=sitting.exam_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(back, 303)
    decision = request.form.get("decision", "")
    try:
        released = decide(session, current_user.info, violation_id, decision, form.note.data or "")
        session.commit()
    except ServiceError as exc:
        session.rollback()
        flash(exc.message, "error")
        return redirect(back, 303)
    except IntegrityError:  # another reviewer decided the same flag at the same moment
        session.rollback()
        flash(_("Someone else decided this flag at the same time; see their decision."), "error")
        return redirect(back, 303)
    what = labels.violation_type(violation.type)
    words = {"what": what[:1].upper() + what[1:], "seat": violation.seat_id}
    flash(
        _("%(what)s at seat %(seat)s: %(decision)s.", **words, decision=labels.decision(decision)),
        "ok",
    )
    if released:
        flash(_("Result of session %(session)s released.", session=violation.session_id), "ok")
    return redirect(back, 303)


@bp.post("/exams/<exam_id>/release")
@role_required(*REVIEW_ROLES)
def release_exam(exam_id: str) -> BaseResponse:
    session = get_session()
    if session.get(Exam, exam_id) is None:
        raise NotFound(f"no exam {exam_id!r}")
    if ActionForm().validate_on_submit():
        released = release_ready_sessions(session, exam_id, current_user.info)
        session.commit()
        names = ", ".join(released) or _("none ready")
        count = len(released)
        flash(
            ngettext(
                "Released %(num)d result(s): %(names)s.",
                "Released %(num)d result(s): %(names)s.",
                count,
                names=names,
            ),
            "ok",
        )
    return redirect(url_for("review.queue", exam_id=exam_id), 303)


@bp.post("/sessions/<session_id>/release")
@role_required(*REVIEW_ROLES)
def release_session(session_id: str) -> BaseResponse:
    session = get_session()
    sitting = session.get(ExamSession, session_id)
    if sitting is None:
        raise NotFound(f"no session {session_id!r}")
    back = url_for("results.session_result_page", session_id=session_id)
    if ActionForm().validate_on_submit():
        try:
            release(session, session_id, current_user.info)
        except ServiceError as exc:
            session.rollback()
            flash(exc.message, "error")
            return redirect(back, 303)
        session.commit()
        flash(_("Result released."), "ok")
    return redirect(back, 303)
