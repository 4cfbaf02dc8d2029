"""A hall's floor plan and a seat's events, for the pages and API that show them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from central.domain_models import Hall, Seat
from central.models import Event
from central.services.errors import NotFound

SEAT_EVENTS_LIMIT = 200


def get_hall(session: Session, hall_id: str) -> Hall:
    hall = session.get(Hall, hall_id)
    if hall is None:
        raise NotFound(f"no hall {hall_id!r}")
    return hall


def get_seat(session: Session, seat_id: str) -> Seat:
    seat = session.get(Seat, seat_id)
    if seat is None:
        raise NotFound(f"no seat {seat_id!r}")
    return seat


def floor_plan(session: Session, hall: Hall) -> dict[str, Any]:
    """The grid with its gaps and every seat at its cell."""
    seats = session.scalars(
        select(Seat).where(Seat.hall_id == hall.hall_id).order_by(Seat.grid_row, Seat.grid_column)
    )
    return {
        "hall_id": hall.hall_id,
        "centre_id": hall.centre_id,
        "name": hall.name,
        "rows": hall.grid_rows,
        "columns": hall.grid_columns,
        "gaps": hall.gaps,
        "seats": [
            {
                "seat_id": s.seat_id,
                "label": s.label,
                "row": s.grid_row,
                "column": s.grid_column,
                "device_id": s.device_id,
            }
            for s in seats
        ],
    }


def seat_events(session: Session, seat: Seat, limit: int = SEAT_EVENTS_LIMIT) -> list[Event]:
    """Newest first: events the kiosk named this seat in, or sent by the kiosk bound to it."""
    condition = Event.seat_id == seat.seat_id
    if seat.device_id is not None:
        condition = or_(condition, Event.device_id == seat.device_id)
    statement = select(Event).where(condition).order_by(Event.event_id.desc()).limit(limit)
    return list(session.scalars(statement))
