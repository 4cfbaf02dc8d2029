"""Hall access in the web layer: 403 when an invigilator asks about a hall not assigned to
them. The rules themselves are in central.services.access."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from central.domain_models import Hall, Seat
from central.services.access import (
    hall_of_device,
    hall_of_evidence,
    hall_of_seat,
    hall_of_session,
    may_see_hall,
)
from central.services.seats import get_hall, get_seat
from central.services.users import UserInfo
from central.web.database import get_session
from central.web.translation import _


def current_info() -> UserInfo:
    info: UserInfo = current_user.info
    return info


def require_hall(hall_id: str | None) -> None:
    if not may_see_hall(get_session(), current_info(), hall_id):
        abort(403, description=_("This belongs to a hall you are not assigned to."))


def visible_hall(hall_id: str) -> Hall:
    """The hall (404 when there is none), if the user may see it (403 otherwise)."""
    hall = get_hall(get_session(), hall_id)
    require_hall(hall.hall_id)
    return hall


def visible_seat(seat_id: str) -> Seat:
    """The seat (404 when there is none), if the user may see its hall (403 otherwise)."""
    seat = get_seat(get_session(), seat_id)
    require_hall(seat.hall_id)
    return seat


def require_seat(seat_id: str) -> None:
    require_hall(hall_of_seat(get_session(), seat_id))


def require_evidence(sha256: str) -> None:
    require_hall(hall_of_evidence(get_session(), sha256))


def require_event_scope(device_id: str | None, session_id: str | None) -> None:
    """Invigilators list events of one kiosk or session of their halls, never everyone's."""
    user = current_info()
    if user.role != "invigilator":
        return
    if device_id is None and session_id is None:
        abort(403, description=_("Invigilators list events by device or session of their halls."))
    session = get_session()
    if device_id is not None:
        require_hall(hall_of_device(session, device_id))
    if session_id is not None:
        require_hall(hall_of_session(session, session_id))
