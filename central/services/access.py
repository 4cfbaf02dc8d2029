"""Who may see which hall: admins and reviewers every hall, invigilators only the halls they are
assigned to. Seats, kiosks and evidence belong to the hall of their seat."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.domain_models import ExamSession, InvigilatorAssignment, Seat
from central.models import Evidence
from central.services.users import UserInfo

ALL_HALLS_ROLES = frozenset({"admin", "reviewer"})


def assigned_halls(session: Session, user_id: int) -> set[str]:
    statement = select(InvigilatorAssignment.hall_id).where(
        InvigilatorAssignment.user_id == user_id
    )
    return set(session.scalars(statement))


def may_see_hall(session: Session, user: UserInfo, hall_id: str | None) -> bool:
    """Whether the user may see this hall; a thing in no known hall is for all-hall roles only."""
    if user.role in ALL_HALLS_ROLES:
        return True
    if user.role != "invigilator" or hall_id is None:
        return False
    return hall_id in assigned_halls(session, user.id)


def hall_of_seat(session: Session, seat_id: str) -> str | None:
    return session.scalar(select(Seat.hall_id).where(Seat.seat_id == seat_id))


def hall_of_device(session: Session, device_id: str | None) -> str | None:
    if device_id is None:
        return None
    return session.scalar(select(Seat.hall_id).where(Seat.device_id == device_id))


def hall_of_session(session: Session, session_id: str) -> str | None:
    statement = (
        select(Seat.hall_id)
        .join(ExamSession, ExamSession.seat_id == Seat.seat_id)
        .where(ExamSession.session_id == session_id)
    )
    return session.scalar(statement)


def hall_of_evidence(session: Session, sha256: str) -> str | None:
    """The hall of the kiosk that uploaded the file (None if unknown or unbound)."""
    device_id = session.scalar(select(Evidence.device_id).where(Evidence.sha256 == sha256))
    return hall_of_device(session, device_id)
