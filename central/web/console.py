"""The minimal console: recent events and devices. The full console is a later issue."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template
from flask_login import login_required

from central.services import EventFilters, database_ok, list_devices, list_events
from central.web.database import get_session
from central.web.errors import error_response

bp = Blueprint("console", __name__)
RECENT_EVENTS = 50


@bp.get("/")
@login_required  # type: ignore[untyped-decorator]
def index() -> str:
    session = get_session()
    page = list_events(session, EventFilters(), limit=RECENT_EVENTS, newest_first=True)
    return render_template("index.html", events=page.items, devices=list_devices(session))


@bp.get("/healthz")
def healthz() -> Response:
    if database_ok(get_session()):
        return jsonify({"status": "ok", "database": "ok"})
    response = error_response(503, "database_unavailable", "The database is not reachable.")
    return response
