"""Exams: create from a question bank (CSV or JSON), replace the bank, edit the scoring policy,
the kiosk's exam policy, the proctoring policy and its evidence retention."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from central.domain_models import Exam
from central.scoring.policy import DEFAULT_WEIGHTS, ProctoringPolicy, RetentionPolicy
from central.services.errors import InvalidParameter, NotFound
from central.services.imports import (
    MAX_FILE_BYTES,
    ExamHeader,
    ImportRejected,
    Problem,
    question_bank,
)
from central.services.planning import (
    create_exam,
    exam_definition,
    proctoring_policy,
    replace_exam_definition,
    update_proctoring_policy,
)
from central.web.admin import bp, forms
from central.web.database import get_session
from central.web.translation import _, ngettext
from protocol.exam import ExamDefinition, ExamPolicy, ScoringPolicy
from protocol.models import ViolationType


@bp.get("/exams")
def exams() -> str:
    return _exams_page([])


def _exams_page(problems: list[Problem]) -> str:
    session = get_session()
    return render_template(
        "admin/exams.html",
        exams=list(session.scalars(select(Exam).order_by(Exam.exam_id))),
        problems=problems,
        form=forms.CsrfForm(),
    )


@bp.post("/exams")
def new_exam() -> BaseResponse | tuple[str, int]:
    problems: list[Problem] = []

    def change() -> str:
        header = ExamHeader(
            exam_id=forms.identifier("exam_id"),
            title=forms.text("title", max_length=200),
            policy=ExamPolicy(duration_s=forms.number("duration_min", 1, 1440) * 60),
        )
        definition = _read_bank(header, problems)
        create_exam(get_session(), current_user.info, definition, ProctoringPolicy())
        return ngettext(
            "Exam %(exam)s created with %(num)d question(s).",
            "Exam %(exam)s created with %(num)d question(s).",
            len(definition.questions),
            exam=header.exam_id,
        )

    response = forms.apply_change(change, url_for("admin.exams"))
    if problems:  # shown in full on the page, not squeezed into a message
        return _exams_page(problems), 422
    return response


@bp.get("/exams/<exam_id>")
def exam(exam_id: str) -> str:
    return _exam_page(exam_id, [])


def _exam_page(exam_id: str, problems: list[Problem]) -> str:
    found = _exam(exam_id)
    return render_template(
        "admin/exam.html",
        exam=found,
        definition=exam_definition(found),
        proctoring=proctoring_policy(found),
        violation_types=list(ViolationType),
        default_weights=DEFAULT_WEIGHTS,
        problems=problems,
        form=forms.CsrfForm(),
    )


@bp.post("/exams/<exam_id>/questions")
def exam_questions(exam_id: str) -> BaseResponse | tuple[str, int]:
    problems: list[Problem] = []

    def change() -> str:
        current = exam_definition(_exam(exam_id))
        header = ExamHeader(exam_id, current.title, current.policy, current.scoring)
        definition = _read_bank(header, problems)
        replace_exam_definition(get_session(), current_user.info, definition)
        return ngettext(
            "Question bank replaced: %(num)d question(s).",
            "Question bank replaced: %(num)d question(s).",
            len(definition.questions),
        )

    response = forms.apply_change(change, url_for("admin.exam", exam_id=exam_id))
    if problems:
        return _exam_page(exam_id, problems), 422
    return response


@bp.post("/exams/<exam_id>/scoring")
def exam_scoring(exam_id: str) -> BaseResponse:
    def change() -> str:
        current = exam_definition(_exam(exam_id))
        scoring = ScoringPolicy(
            negative_marks=forms.number("negative_marks", 0, 1000),
            time_penalty_s=forms.number("time_penalty_s", 0, 86_400),
            pass_percent=forms.number("pass_percent", 0, 100),
            floor_at_zero=forms.checked("floor_at_zero"),
        )
        policy = ExamPolicy(
            duration_s=forms.number("duration_min", 1, 1440) * 60,
            shuffle_questions=forms.checked("shuffle_questions"),
            shuffle_options=forms.checked("shuffle_options"),
            count_downtime=forms.checked("count_downtime"),
            warning_limit=forms.whole("warning_limit", 0, 100),
            end_at_warning_limit=forms.checked("end_at_warning_limit"),
            allow_review_flags=forms.checked("allow_review_flags"),
            show_score="after_review" if forms.checked("score_after_review") else "now",
        )
        title = forms.text("title", max_length=200)
        updated = current.model_copy(update={"scoring": scoring, "policy": policy, "title": title})
        replace_exam_definition(get_session(), current_user.info, updated, "exam.scoring")
        return _("Scoring and exam policy saved.")

    return forms.apply_change(change, url_for("admin.exam", exam_id=exam_id))


@bp.post("/exams/<exam_id>/proctoring")
def exam_proctoring(exam_id: str) -> BaseResponse:
    def change() -> str:
        current = proctoring_policy(_exam(exam_id))
        enabled = [t for t in ViolationType if forms.checked(f"rule_{t.value}")]
        weights = {
            t: forms.number(f"weight_{t.value}", 0, 100)
            for t in ViolationType
            if request.form.get(f"weight_{t.value}", "").strip()
        }
        policy = ProctoringPolicy(
            enabled_rules=enabled,
            weights={t: w for t, w in weights.items() if w != DEFAULT_WEIGHTS.get(t)},
            duration_unit_s=forms.number("duration_unit_s", 1, 3600),
            duration_cap_s=forms.number("duration_cap_s", 0, 86_400),
            pending_factor=forms.number("pending_factor", 0, 1),
            pass_threshold=forms.number("pass_threshold", 0, 100),
            auto_release_clean=forms.checked("auto_release_clean"),
            retention=current.retention,  # saved by its own form
        )
        update_proctoring_policy(get_session(), current_user.info, exam_id, policy)
        return _("Proctoring policy saved.")

    return forms.apply_change(change, url_for("admin.exam", exam_id=exam_id))


@bp.post("/exams/<exam_id>/retention")
def exam_retention(exam_id: str) -> BaseResponse:
    def change() -> str:
        current = proctoring_policy(_exam(exam_id))
        kept = request.form.get("flagged_days_after_release", "").strip()
        retention = RetentionPolicy(
            clean_days=forms.whole("clean_days", 0, 3650),
            # Empty: flagged sessions' evidence is kept until deleted by hand.
            flagged_days_after_release=(
                forms.whole("flagged_days_after_release", 0, 3650) if kept else None
            ),
        )
        policy = current.model_copy(update={"retention": retention})
        update_proctoring_policy(get_session(), current_user.info, exam_id, policy)
        return _("Evidence retention saved.")

    return forms.apply_change(change, url_for("admin.exam", exam_id=exam_id))


def _exam(exam_id: str) -> Exam:
    found = get_session().get(Exam, exam_id)
    if found is None:
        raise NotFound(_("no exam %(exam)r", exam=exam_id))
    return found


def _read_bank(header: ExamHeader, problems: list[Problem]) -> ExamDefinition:
    upload = request.files.get("bank")
    if upload is None or not upload.filename:
        raise InvalidParameter("bank", _("file is required (CSV or JSON)"))
    data = upload.read(MAX_FILE_BYTES + 1)
    try:
        return question_bank(data, upload.filename, header)
    except ImportRejected as exc:
        problems.extend(exc.problems)
        count = len(exc.problems)
        raise InvalidParameter(
            "bank",
            ngettext(
                "has %(num)d problem(s); nothing was stored",
                "has %(num)d problem(s); nothing was stored",
                count,
            ),
        ) from None
