"""The candidate's screens, in order: language → check-in → calibration and readiness → rules
and consent → quiz → result. Each screen is allowed only at its stage (kept in the store, so a
restarted kiosk comes back to the same screen); any other address leads to the current one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from kiosk_ui.agent_client import AgentUnavailable
from kiosk_ui.app import kiosk
from kiosk_ui.i18n import LANGUAGES
from kiosk_ui.quiz import InvalidAnswer, Quiz, QuizClosed
from kiosk_ui.service import RULES_VERSION

screens = Blueprint("screens", __name__)

FACE_MATCH_HINTS = {
    "match": _l("Your face matches the enrolled photo."),
    "no_match": _l("Your face does not match the enrolled photo. Look straight at the camera."),
    "no_face": _l("No face found. Sit facing the camera."),
    "multiple_faces": _l("More than one face is visible. Only you may be in view."),
    "move_closer": _l("Move closer to the camera."),
    "more_light": _l("More light is needed. Face the light."),
    "no_enrolment": _l("Nobody is enrolled at this seat yet. Ask the invigilator."),
    "wrong_candidate": _l("This candidate number is not the one enrolled at this seat."),
    "camera_lost": _l("The camera is not working. Ask the invigilator."),
    "agent_down": _l("The kiosk is not ready. Wait a moment and try again."),
}
STAGE_VIEWS = {
    "language": "screens.language",
    "checkin": "screens.checkin",
    "calibration": "screens.calibration",
    "consent": "screens.consent",
    "quiz": "screens.quiz",
    "result": "screens.result",
}


def _quiz_at(stage: str) -> tuple[Quiz | None, Response | None]:
    """The quiz if the candidate is at `stage`, else where to send them."""
    quiz = kiosk().quiz()
    if quiz is None:
        return None, redirect(url_for("screens.waiting"))
    current = "result" if quiz.submitted_reason is not None else quiz.stage
    g.stage = current
    if current != stage:
        return None, redirect(url_for(STAGE_VIEWS[current]))
    return quiz, None


@screens.get("/")
def index() -> Response:
    quiz = kiosk().quiz()
    if quiz is None:
        return redirect(url_for("screens.waiting"))
    stage = "result" if quiz.submitted_reason is not None else quiz.stage
    return redirect(url_for(STAGE_VIEWS[stage]))


@screens.get("/waiting")
def waiting() -> str | Response:
    if kiosk().refresh() is not None and kiosk().quiz() is not None:
        return redirect(url_for("screens.index"))
    return render_template("waiting.html", online=kiosk().agent_online)


@screens.route("/language", methods=["GET", "POST"])
def language() -> str | Response:
    if request.method == "POST":
        chosen = request.form.get("language", "")
        if chosen in LANGUAGES:
            quiz = kiosk().quiz()  # first: a new candidate's session resets the language
            kiosk().set_language(chosen)
            if quiz is not None and quiz.stage == "language":
                quiz.set_stage("checkin")
        return redirect(url_for("screens.index"))
    quiz, elsewhere = _quiz_at("language")
    return elsewhere or render_template("language.html")


def _attempts_key(quiz: Quiz) -> str:
    return f"checkin_attempts:{quiz.session_id}"


@screens.route("/checkin", methods=["GET", "POST"])
def checkin() -> str | Response:
    quiz, elsewhere = _quiz_at("checkin")
    if quiz is None:
        return elsewhere or redirect(url_for("screens.index"))
    service = kiosk()
    attempts = int(service.store.get(_attempts_key(quiz)) or 0)
    status = None
    number = request.form.get("candidate_number", "").strip()[:64]
    if request.method == "POST" and number and attempts < service.settings.max_face_attempts:
        status, distance = _face_match(number)
        if status != "agent_down":
            attempts += 1
            service.store.put(_attempts_key(quiz), str(attempts))
        if status == "match":
            service.send(
                {
                    "kind": "checkin",
                    "method": "face_match",
                    "match_distance": distance,
                    "attempts": attempts,
                }
            )
            quiz.set_stage("calibration")
            return redirect(url_for("screens.calibration"))
    return render_template(
        "checkin.html",
        status=status,
        hint=FACE_MATCH_HINTS.get(status or ""),
        attempts=attempts,
        max_attempts=service.settings.max_face_attempts,
        candidate_number=number,
    )


def _face_match(number: str) -> tuple[str, float | None]:
    try:
        reply = kiosk().agent.request(
            "POST", "/v1/face-match", {"candidate_number": number}, timeout_s=10
        )
    except AgentUnavailable:
        return "agent_down", None
    body = reply.body if isinstance(reply.body, dict) else {}
    status = str(body.get("status", "agent_down"))
    distance = body.get("distance")
    return status, float(distance) if isinstance(distance, int | float) else None


@screens.post("/checkin/override")
def checkin_override() -> str | Response:
    """After the allowed face-match attempts the invigilator confirms the candidate in person;
    recorded as a check-in by override, with who confirmed it."""
    quiz, elsewhere = _quiz_at("checkin")
    if quiz is None:
        return elsewhere or redirect(url_for("screens.index"))
    service = kiosk()
    attempts = int(service.store.get(_attempts_key(quiz)) or 0)
    invigilator = request.form.get("invigilator", "").strip()[:200]
    if attempts < service.settings.max_face_attempts or not invigilator:
        return redirect(url_for("screens.checkin"))
    service.send(
        {"kind": "checkin", "method": "override", "attempts": attempts, "override_by": invigilator}
    )
    quiz.set_stage("calibration")
    return redirect(url_for("screens.calibration"))


@screens.route("/calibration", methods=["GET", "POST"])
def calibration() -> str | Response:
    quiz, elsewhere = _quiz_at("calibration")
    if quiz is None:
        return elsewhere or redirect(url_for("screens.index"))
    service = kiosk()
    result: dict[str, Any] | None = None
    if request.method == "POST":
        result = _calibrate(service.settings.calibration_s)
        service.store.put(f"calibrated:{quiz.session_id}", str(result.get("status") == "ok"))
    health = (service.refresh() or {}).get("health", {})
    ratio = result.get("face_found_ratio") if result else health.get("face_found_ratio")
    calibrated = service.store.get(f"calibrated:{quiz.session_id}") == "True"
    ready = (
        calibrated
        and health.get("camera") == "ok"
        and isinstance(ratio, int | float)
        and ratio >= service.settings.min_face_found_ratio
    )
    return render_template(
        "calibration.html",
        result=result,
        calibrated=calibrated,
        health=health,
        ratio=ratio,
        min_ratio=service.settings.min_face_found_ratio,
        ready=ready,
        seconds=service.settings.calibration_s,
    )


def _calibrate(seconds: float) -> dict[str, Any]:
    try:
        # The agent answers after watching for `seconds`.
        reply = kiosk().agent.request(
            "POST", "/v1/calibrate", {"seconds": seconds}, timeout_s=seconds + 5
        )
    except AgentUnavailable:
        return {"status": "agent_down"}
    return reply.body if isinstance(reply.body, dict) else {"status": "agent_down"}


@screens.post("/calibration/continue")
def calibration_done() -> Response:
    quiz, _ = _quiz_at("calibration")
    if quiz is not None and kiosk().store.get(f"calibrated:{quiz.session_id}") == "True":
        quiz.set_stage("consent")
    return redirect(url_for("screens.index"))


@screens.route("/consent", methods=["GET", "POST"])
def consent() -> str | Response:
    quiz, elsewhere = _quiz_at("consent")
    if quiz is None:
        return elsewhere or redirect(url_for("screens.index"))
    service = kiosk()
    if request.method == "POST" and request.form.get("accept") == "yes":
        service.send(
            {
                "kind": "consent",
                "rules_version": RULES_VERSION,
                "language": service.language(),
                "accepted": True,
            }
        )
        with service.lock:
            quiz.start()
        return redirect(url_for("screens.quiz"))
    return render_template(
        "consent.html",
        retention_days=service.settings.retention_days,
        missing=request.method == "POST",
        exam=quiz.exam,
    )


@screens.get("/quiz")
def quiz() -> str | Response:
    current, elsewhere = _quiz_at("quiz")
    if current is None:
        return elsewhere or redirect(url_for("screens.index"))
    view = current.view()
    answers = current.answers()
    palette = [(i, answers.get(qid)) for i, qid in enumerate(current.question_ids)]
    return render_template(
        "quiz.html",
        quiz=current,
        view=view,
        palette=palette,
        remaining=current.remaining_s(),
        error=request.args.get("error"),
    )


@screens.post("/quiz")
def quiz_action() -> Response:
    """The form posts the shown answer with a navigation action; saving first means nothing
    typed is lost whichever button was pressed (scripts also save on every change)."""
    current, elsewhere = _quiz_at("quiz")
    if current is None:
        return elsewhere or redirect(url_for("screens.index"))
    with kiosk().lock:  # the heartbeat thread ticks the same quiz
        return _apply_quiz_form(current, request.form.get("action", "stay"))


def _apply_quiz_form(current: Quiz, action: str) -> Response:
    view = current.view()
    error = None
    try:
        raw: Any = request.form.getlist("answer")
        if view.question.kind.value != "multiple":
            raw = raw[0] if raw else None
        current.answer(view.question.id, raw)
        if action == "flag":
            current.toggle_flag(view.question.id)
    except InvalidAnswer:
        error = "invalid"
    except QuizClosed:
        return redirect(url_for("screens.index"))
    if action == "next":
        current.go(view.index + 1)
    elif action == "prev":
        current.go(view.index - 1)
    elif action.startswith("goto:") and action[5:].isdigit():
        current.go(int(action[5:]))
    elif action == "review":
        current.settle(view.question.id)
        return redirect(url_for("screens.submit"))
    return redirect(url_for("screens.quiz", error=error) if error else url_for("screens.quiz"))


@screens.route("/submit", methods=["GET", "POST"])
def submit() -> str | Response:
    current, elsewhere = _quiz_at("quiz")
    if current is None:
        return elsewhere or redirect(url_for("screens.index"))
    if request.method == "POST" and request.form.get("confirm") == "yes":
        with kiosk().lock:
            current.submit("candidate")
        kiosk().forward_now.set()
        return redirect(url_for("screens.result"))
    return render_template(
        "submit.html",
        quiz=current,
        unanswered=current.total - current.answered_count(),
        flagged=current.flagged_count(),
    )


@screens.get("/result")
def result() -> str | Response:
    current, elsewhere = _quiz_at("result")
    if current is None:
        return elsewhere or redirect(url_for("screens.index"))
    return render_template(
        "result.html", quiz=current, score=current.score(), reason=current.submitted_reason
    )
