"""What invigilators do about a live alert, after seeing it: send a named invigilator to the
seat (dispatch), and say they are there (at seat). Both acknowledge the alert if nobody had,
are audit-logged and announced on the live feed as an `ack` item carrying the whole response,
so every console in the hall shows who is on the way and who has arrived.

A raised hand also tells the candidate: the kiosk gets a message "An invigilator is on the
way." through the command channel, with its delivery state shown like any command.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.console_models import AlertAck, AlertResponse
from central.domain_models import InvigilatorAssignment, Seat
from central.models import User, Violation
from central.services import feed
from central.services.audit import record
from central.services.commands import CommandRequest, issue_command
from central.services.errors import InvalidParameter, NotFound
from central.services.hall_console import acknowledge_alert, response_fields
from central.services.users import UserInfo
from protocol import CommandType
from protocol.models import ViolationType

ON_THE_WAY = "An invigilator is on the way."


def dispatch_alert(
    session: Session, actor: UserInfo, violation_id: str, hall_id: str | None, user_id: int
) -> dict[str, Any]:
    """Send invigilator `user_id` (assigned to the alert's hall) to the seat."""
    violation = _violation(session, violation_id)
    target = session.get(User, user_id)
    assigned = hall_id is not None and (
        session.get(InvigilatorAssignment, (user_id, hall_id)) is not None
    )
    if target is None or target.role != "invigilator" or not assigned:
        raise InvalidParameter("user_id", "must be an invigilator assigned to this hall")
    now = datetime.now(UTC)
    ack = acknowledge_alert(session, actor, violation_id, hall_id)
    response = _response(session, violation_id)
    response.dispatched_to_id = target.id
    response.dispatched_to = target.username
    response.dispatched_by = actor.username
    response.dispatched_at = now
    response.at_seat_by = None  # a new dispatch: whoever went before is not the one coming
    response.at_seat_at = None
    record(
        session,
        actor,
        "alert.dispatch",
        ("violation", violation_id),
        {"to": target.username},
    )
    if violation.type == ViolationType.RAISED_HAND.value:
        _tell_candidate(session, actor, violation)
    session.flush()
    return _announce(session, violation, hall_id, ack, response)


def arrive_at_seat(
    session: Session, actor: UserInfo, violation_id: str, hall_id: str | None
) -> dict[str, Any]:
    """The invigilator is at the seat (dispatched or not). Idempotent: the first arrival stays."""
    violation = _violation(session, violation_id)
    now = datetime.now(UTC)
    ack = acknowledge_alert(session, actor, violation_id, hall_id)
    response = _response(session, violation_id)
    if response.at_seat_at is None:
        response.at_seat_by = actor.username
        response.at_seat_at = now
        record(session, actor, "alert.at_seat", ("violation", violation_id))
        session.flush()
    return _announce(session, violation, hall_id, ack, response)


def _violation(session: Session, violation_id: str) -> Violation:
    violation = session.get(Violation, violation_id)
    if violation is None:
        raise NotFound(f"no violation {violation_id!r}")
    return violation


def _response(session: Session, violation_id: str) -> AlertResponse:
    response = session.get(AlertResponse, violation_id)
    if response is None:
        response = AlertResponse(violation_id=violation_id)
        session.add(response)
    return response


def _tell_candidate(session: Session, actor: UserInfo, violation: Violation) -> None:
    seat_id = session.scalar(select(Seat.seat_id).where(Seat.device_id == violation.device_id))
    if seat_id is not None:
        request = CommandRequest(seat_id, CommandType.MESSAGE, {"text": ON_THE_WAY})
        issue_command(session, actor, request)


def _announce(
    session: Session,
    violation: Violation,
    hall_id: str | None,
    ack: AlertAck,
    response: AlertResponse,
) -> dict[str, Any]:
    data = {"violation_id": violation.violation_id, **response_fields(ack.username, response)}
    item = feed.FeedItem("ack", hall_id, None, violation.device_id, data)
    feed.append(session.connection(), [item], datetime.now(UTC))
    return data
