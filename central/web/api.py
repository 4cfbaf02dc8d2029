"""REST API v1: read-only for now. Auth: the login session or HTTP Basic."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask_login import login_required

from central.services import EventQuery, list_dead_letters, list_events, parse_dead_letter_params
from central.web.access import require_event_scope
from central.web.auth import role_required
from central.web.database import get_session
from central.web.serializers import dead_letter_to_dict, event_to_dict

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/events")
@login_required  # type: ignore[untyped-decorator]
def events() -> Response:
    query = EventQuery.from_params(request.args)
    require_event_scope(query.filters.device_id, query.filters.session_id)
    page = list_events(get_session(), query.filters, query.cursor, query.limit)
    return jsonify(
        {"items": [event_to_dict(e) for e in page.items], "next_cursor": page.next_cursor}
    )


@bp.get("/dead-letters")
@role_required("admin")
def dead_letters() -> Response:
    cursor, limit = parse_dead_letter_params(request.args)
    page = list_dead_letters(get_session(), cursor, limit)
    next_cursor = str(page.next_cursor) if page.next_cursor is not None else None
    return jsonify(
        {"items": [dead_letter_to_dict(d) for d in page.items], "next_cursor": next_cursor}
    )
