"""JSON endpoints for the screen's scripts: status for the timer and banners, instant answer
saving, lockdown signals, raise hand, explain, and the camera preview."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from kiosk_ui.agent_client import AgentUnavailable
from kiosk_ui.app import kiosk
from kiosk_ui.quiz import InvalidAnswer, QuizClosed

api = Blueprint("api", __name__, url_prefix="/api")

WARNING_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # goes into the agent's URL path

LOCKDOWN_SIGNALS = frozenset(
    {
        "fullscreen_exit",
        "visibility_hidden",
        "focus_lost",
        "blocked_shortcut",
        "navigation_attempt",
        "context_menu",
        "clipboard",
    }
)


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message}}), status


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True, force=True)
    return body if isinstance(body, dict) else {}


@api.get("/status")
def status() -> Response | tuple[Response, int]:
    service = kiosk()
    quiz = service.quiz()
    if quiz is None:
        return _error(409, "no_session", "nobody is enrolled at this seat")
    with service.lock:
        control = service.control()
        warnings = control.get("warnings", [])
        return jsonify(
            {
                "stage": "result" if quiz.submitted_reason else quiz.stage,
                "running": quiz.running,
                "paused": quiz.paused,
                "submitted": quiz.submitted_reason,
                "remaining_s": round(quiz.remaining_s(), 1),
                "answered": quiz.answered_count(),
                "total": quiz.total,
                "warning_count": int(control.get("warning_count", len(warnings))),
                "warning_limit": quiz.exam.policy.warning_limit,
                "warnings": warnings[-3:],
                "messages": control.get("messages", [])[-3:],
                "agent_online": service.agent_online,
                "can_explain": service.last_flag() is not None,
            }
        )


@api.post("/answer")
def answer() -> Response | tuple[Response, int]:
    service = kiosk()
    body = _body()
    quiz = service.quiz()
    if quiz is None:
        return _error(409, "no_session", "nobody is enrolled at this seat")
    with service.lock:
        try:
            # `final`: the candidate confirmed (Enter), so a wrong answer costs time now.
            settle = True if body.get("final") is True else None
            changed = quiz.answer(str(body.get("question_id")), body.get("answer"), settle=settle)
        except KeyError:
            return _error(400, "invalid", "question_id: unknown question")
        except InvalidAnswer as error:
            return _error(400, "invalid", f"answer: {error}")
        except QuizClosed as error:
            return _error(409, "closed", str(error))
        remaining = quiz.remaining_s()
    if changed:
        service.forward_now.set()
    return jsonify({"saved": changed, "remaining_s": round(remaining, 1)})


@api.post("/signal")
def signal() -> Response | tuple[Response, int]:
    body = _body()
    name = str(body.get("signal", ""))
    if name not in LOCKDOWN_SIGNALS:
        return _error(400, "invalid", "signal: unknown")
    kiosk().signal(
        {"kind": "lockdown", "signal": name, "detail": str(body.get("detail", ""))[:200]}
    )
    return jsonify({"queued": True})


@api.post("/raise-hand")
def raise_hand() -> Response:
    kiosk().signal({"kind": "raise_hand"})
    return jsonify({"queued": True})


@api.post("/explain")
def explain() -> Response | tuple[Response, int]:
    service = kiosk()
    note = str(_body().get("note", "")).strip()[:1000]
    flag = service.last_flag()
    if not note:
        return _error(400, "invalid", "note: empty")
    if flag is None:
        return _error(409, "no_flag", "there is no flag to explain")
    service.send({"kind": "explanation", "violation_id": flag, "note": note})
    return jsonify({"queued": True, "violation_id": flag})


@api.post("/warnings/<warning_id>/seen")
def warning_seen(warning_id: str) -> Response | tuple[Response, int]:
    if not WARNING_ID.fullmatch(warning_id):
        return _error(400, "invalid", "warning id")
    try:
        reply = kiosk().agent.request("POST", f"/v1/warnings/{warning_id}/seen")
    except AgentUnavailable:
        return _error(503, "agent", "the agent is not answering")
    return Response(status=204 if reply.status == 204 else reply.status)


@api.get("/qr")
def qr() -> Response:
    """The check-in screen polls this: a QR code held up to the camera fills the number."""
    return jsonify({"text": kiosk().agent.read_qr()})


@api.get("/preview.jpg")
def preview() -> Response:
    jpeg = kiosk().agent.preview_jpeg()
    if jpeg is None:
        return Response(status=503)
    return Response(jpeg, mimetype="image/jpeg")
