"""The live console of a hall: the page, its snapshot, its Server-Sent Events stream, a seat's
detail, and the invigilator's actions (acknowledge an alert, dispatch a named invigilator to
the seat, arrive at the seat; warn, pause, resume, end exam, give or take time).

Invigilators see and act on their assigned halls only (403 otherwise); admins on every hall;
reviewers may watch. Actions are JSON POSTs with the CSRF token in the X-CSRFToken header.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask.blueprints import BlueprintSetupState
from flask_login import current_user
from jinja2.utils import htmlsafe_json_dumps
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.domain_models import Hall
from central.services.access import may_see_hall
from central.services.alert_response import arrive_at_seat, dispatch_alert
from central.services.commands import CommandRequest, command_to_dict, issue_command, seat_commands
from central.services.errors import InvalidParameter
from central.services.feed import json_default
from central.services.hall_console import acknowledge_alert, hall_of_violation, hall_snapshot
from central.services.seats import seat_events
from central.web.access import current_info, require_hall, visible_hall, visible_seat
from central.web.auth import role_required
from central.web.console_words import console_words
from central.web.database import get_session
from central.web.feed_hub import FeedHub
from central.web.serializers import event_to_dict, iso
from central.web.sse import feed_stream, parse_cursor
from protocol import CommandType

bp = Blueprint("live", __name__)
WATCHERS = ("admin", "invigilator", "reviewer")
ACTORS = ("admin", "invigilator")
CONSOLE_COMMANDS = {
    "warn": CommandType.WARN,
    "pause": CommandType.PAUSE,
    "resume": CommandType.RESUME,
    "end_exam": CommandType.END_EXAM,
    "adjust_time": CommandType.ADJUST_TIME,
}
MAX_ADJUST_MIN = 240  # the kiosk refuses more than four hours either way
SEAT_DETAIL_EVENTS = 20
_SESSIONS_EXTENSION = "central.db"
_HUB_EXTENSION = "central.feed_hub"


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    state.app.extensions[_HUB_EXTENSION] = FeedHub(state.app.extensions[_SESSIONS_EXTENSION])


def jsonable(value: Any) -> Any:
    """Datetimes as ISO 8601 UTC ('Z'), recursively (Flask would write RFC 822 dates)."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


bp.after_request(_no_store)


@bp.get("/halls")
@role_required(*WATCHERS)
def halls() -> str:
    session = get_session()
    user = current_info()
    rows = session.scalars(select(Hall).order_by(Hall.centre_id, Hall.hall_id))
    return render_template(
        "halls.html", halls=[h for h in rows if may_see_hall(session, user, h.hall_id)]
    )


@bp.get("/halls/<hall_id>/console")
@role_required(*WATCHERS)
def console_page(hall_id: str) -> str:
    session = get_session()
    hall = visible_hall(hall_id)
    # Serialised once, HTML-safe (<, >, & escaped) for the page's JSON data block.
    snapshot = htmlsafe_json_dumps(
        hall_snapshot(session, hall), dumps=json.dumps, default=json_default
    )
    # The words console.js shows, in the page's language (it has no gettext of its own).
    words = htmlsafe_json_dumps(console_words(), dumps=json.dumps)
    return render_template(
        "hall_console.html",
        hall=hall,
        snapshot_json=snapshot,
        words_json=words,
        may_act=current_user.role in ACTORS,
    )


@bp.get("/api/v1/halls/<hall_id>/console")
@role_required(*WATCHERS)
def console_snapshot(hall_id: str) -> Response:
    session = get_session()
    hall = visible_hall(hall_id)
    body = json.dumps(hall_snapshot(session, hall), default=json_default)
    return Response(body, mimetype="application/json")


@bp.get("/api/v1/halls/<hall_id>/live")
@role_required(*WATCHERS)
def live_feed(hall_id: str) -> Response:
    session = get_session()
    hall = visible_hall(hall_id)
    session.close()  # the stream reads in its own short sessions
    cursor = parse_cursor(request.headers.get("Last-Event-ID"), request.args.get("after"))
    sessions: sessionmaker[Session] = current_app.extensions[_SESSIONS_EXTENSION]
    max_s = float(current_app.config.get("LIVE_STREAM_MAX_S", 300.0))
    hub: FeedHub = current_app.extensions[_HUB_EXTENSION]
    response = Response(
        feed_stream(sessions, hub, hall.hall_id, cursor, max_s), mimetype="text/event-stream"
    )
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


@bp.get("/api/v1/seats/<seat_id>/detail")
@role_required(*WATCHERS)
def seat_detail(seat_id: str) -> Response:
    session = get_session()
    seat = visible_seat(seat_id)
    events = seat_events(session, seat, SEAT_DETAIL_EVENTS)
    evidence = [
        {**ref, "event_id": e.event_id, "type": e.type, "url": f"/api/v1/evidence/{ref['sha256']}"}
        for e in events
        for ref in e.evidence
    ]
    snapshot = next((r for r in evidence if r.get("role") == "snapshot"), None)
    return jsonify(
        jsonable(
            {
                "seat_id": seat.seat_id,
                "label": seat.label,
                "device_id": seat.device_id,
                "events": [event_to_dict(e) for e in events],
                "latest_snapshot": snapshot,
                "clips": [r for r in evidence if r.get("role") == "clip"],
                "commands": [command_to_dict(c) for c in seat_commands(session, seat_id)],
            }
        )
    )


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidParameter("body", "must be a JSON object")
    return body


@bp.post("/api/v1/seats/<seat_id>/commands")
@role_required(*ACTORS)
def send_command(seat_id: str) -> tuple[Response, int]:
    session = get_session()
    visible_seat(seat_id)  # 404 or 403 before anything is queued
    body = _json_body()
    command_type = CONSOLE_COMMANDS.get(str(body.get("type")))
    if command_type is None:
        raise InvalidParameter("type", f"must be one of {', '.join(CONSOLE_COMMANDS)}")
    args: dict[str, Any] = {}
    if command_type is CommandType.WARN:
        args["text"] = str(body.get("text") or "").strip()
    elif command_type is CommandType.END_EXAM and body.get("reason"):
        args["reason"] = str(body["reason"]).strip()
    elif command_type is CommandType.ADJUST_TIME:
        args["seconds"] = _minutes(body.get("minutes")) * 60
    row = issue_command(session, current_info(), CommandRequest(seat_id, command_type, args))
    session.commit()
    return jsonify(jsonable(command_to_dict(row))), 202


def _minutes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidParameter("minutes", "must be a whole number of minutes")
    try:
        minutes = int(str(value).strip())
    except ValueError:
        raise InvalidParameter("minutes", "must be a whole number of minutes") from None
    if minutes == 0 or abs(minutes) > MAX_ADJUST_MIN:
        raise InvalidParameter(
            "minutes", f"must be between -{MAX_ADJUST_MIN} and {MAX_ADJUST_MIN}, not 0"
        )
    return minutes


@bp.post("/api/v1/alerts/<violation_id>/ack")
@role_required(*ACTORS)
def acknowledge(violation_id: str) -> Response:
    session = get_session()
    hall_id = hall_of_violation(session, violation_id)
    require_hall(hall_id)
    ack = acknowledge_alert(session, current_info(), violation_id, hall_id)
    session.commit()
    return jsonify(
        {"violation_id": ack.violation_id, "acked_by": ack.username, "acked_at": iso(ack.acked_at)}
    )


@bp.post("/api/v1/alerts/<violation_id>/dispatch")
@role_required(*ACTORS)
def dispatch(violation_id: str) -> Response:
    """Send a named invigilator of the hall to the seat: {"user_id": N}."""
    session = get_session()
    hall_id = hall_of_violation(session, violation_id)
    require_hall(hall_id)
    user_id = _json_body().get("user_id")
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise InvalidParameter("user_id", "must be the id of an invigilator of this hall")
    response = dispatch_alert(session, current_info(), violation_id, hall_id, user_id)
    session.commit()
    return jsonify(jsonable(response))


@bp.post("/api/v1/alerts/<violation_id>/at-seat")
@role_required(*ACTORS)
def at_seat(violation_id: str) -> Response:
    """The invigilator has reached the seat."""
    session = get_session()
    hall_id = hall_of_violation(session, violation_id)
    require_hall(hall_id)
    response = arrive_at_seat(session, current_info(), violation_id, hall_id)
    session.commit()
    return jsonify(jsonable(response))
