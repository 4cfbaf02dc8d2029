"""Hall floor plans and seat events over the API, limited to the halls a user may see."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from central.services.seats import floor_plan, seat_events
from central.web.access import visible_hall, visible_seat
from central.web.auth import role_required
from central.web.database import get_session
from central.web.serializers import event_to_dict

bp = Blueprint("halls", __name__, url_prefix="/api/v1")
STAFF = ("admin", "invigilator", "reviewer")


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/halls/<hall_id>/seats")
@role_required(*STAFF)
def hall_seats(hall_id: str) -> Response:
    session = get_session()
    hall = visible_hall(hall_id)
    return jsonify(floor_plan(session, hall))


@bp.get("/seats/<seat_id>/events")
@role_required(*STAFF)
def seat_event_list(seat_id: str) -> Response:
    session = get_session()
    seat = visible_seat(seat_id)
    return jsonify({"items": [event_to_dict(e) for e in seat_events(session, seat)]})
