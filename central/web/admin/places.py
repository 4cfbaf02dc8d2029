"""Centres, halls and the seat-map editor: grid size and gaps, seats with labels, kiosks."""

from __future__ import annotations

import string

from flask import redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from central.domain_models import Centre, Hall, Seat
from central.services.delivery import deliver_seat
from central.services.errors import NotFound
from central.services.planning import (
    HallLayout,
    SeatPlace,
    add_seat,
    bind_kiosk,
    create_centre,
    create_hall,
    remove_seat,
    update_hall_layout,
)
from central.web.admin import bp, forms
from central.web.admin.deliveries import delivery_sentence
from central.web.database import get_session
from central.web.translation import _, ngettext


@bp.get("/")
def index() -> str:
    session = get_session()
    return render_template(
        "admin/index.html",
        centres=list(session.scalars(select(Centre).order_by(Centre.centre_id))),
        halls=list(session.scalars(select(Hall).order_by(Hall.centre_id, Hall.hall_id))),
        form=forms.CsrfForm(),
    )


@bp.post("/centres")
def new_centre() -> BaseResponse:
    def change() -> str:
        centre_id = forms.identifier("centre_id")
        create_centre(get_session(), current_user.info, centre_id, forms.text("name"))
        return _("Centre %(centre)s created.", centre=centre_id)

    return forms.apply_change(change, url_for("admin.index"))


@bp.post("/halls")
def new_hall() -> BaseResponse:
    created: list[str] = []

    def change() -> str:
        hall_id = forms.identifier("hall_id")
        layout = HallLayout(
            forms.whole("rows", 1, 100), forms.whole("columns", 1, 100), forms.cells("gaps")
        )
        hall = create_hall(
            get_session(), current_user.info, hall_id, forms.text("centre_id"), layout
        )
        hall.name = forms.text("name", required=False) or hall_id
        created.append(hall_id)
        return _("Hall %(hall)s created.", hall=hall_id)

    response = forms.apply_change(change, url_for("admin.index"))
    return redirect(url_for("admin.hall", hall_id=created[0]), 303) if created else response


@bp.get("/halls/<hall_id>")
def hall(hall_id: str) -> str:
    session = get_session()
    found = session.get(Hall, hall_id)
    if found is None:
        raise NotFound(_("no hall %(hall)r", hall=hall_id))
    seats = list(session.scalars(select(Seat).where(Seat.hall_id == hall_id)))
    by_cell = {(s.grid_row, s.grid_column): s for s in seats}
    gaps = {(row, column) for row, column in found.gaps}
    return render_template(
        "admin/hall.html",
        hall=found,
        by_cell=by_cell,
        gaps=gaps,
        seats=sorted(seats, key=lambda s: (s.grid_row, s.grid_column)),
        gap_text="; ".join(f"{r},{c}" for r, c in sorted(gaps)),
        form=forms.CsrfForm(),
    )


@bp.post("/halls/<hall_id>/layout")
def hall_layout(hall_id: str) -> BaseResponse:
    def change() -> str:
        layout = HallLayout(
            forms.whole("rows", 1, 100), forms.whole("columns", 1, 100), forms.cells("gaps")
        )
        update_hall_layout(get_session(), current_user.info, hall_id, layout)
        return _("Layout of %(hall)s saved.", hall=hall_id)

    return forms.apply_change(change, url_for("admin.hall", hall_id=hall_id))


@bp.post("/halls/<hall_id>/seats")
def new_seat(hall_id: str) -> BaseResponse:
    def change() -> str:
        label = forms.text("label", max_length=16)
        place = SeatPlace(
            seat_id=forms.text("seat_id", required=False) or f"{hall_id}-{label}",
            label=label,
            row=forms.whole("row", 1, 100),
            column=forms.whole("column", 1, 100),
            device_id=forms.text("device_id", max_length=64, required=False) or None,
        )
        add_seat(get_session(), current_user.info, hall_id, place)
        return _("Seat %(seat)s added.", seat=label)

    return forms.apply_change(change, url_for("admin.hall", hall_id=hall_id))


@bp.post("/halls/<hall_id>/fill")
def fill_seats(hall_id: str) -> BaseResponse:
    """A seat on every free cell, labelled row letter + column number (A1, A2, ..., B1)."""

    def change() -> str:
        session = get_session()
        found = session.get(Hall, hall_id)
        if found is None:
            raise NotFound(_("no hall %(hall)r", hall=hall_id))
        taken = {
            (s.grid_row, s.grid_column)
            for s in session.scalars(select(Seat).where(Seat.hall_id == hall_id))
        }
        gaps = {(r, c) for r, c in found.gaps}
        added = 0
        for row in range(1, found.grid_rows + 1):
            for column in range(1, found.grid_columns + 1):
                if (row, column) in taken or (row, column) in gaps:
                    continue
                label = f"{_row_name(row)}{column}"
                place = SeatPlace(f"{hall_id}-{label}", label, row, column)
                add_seat(session, current_user.info, hall_id, place)
                added += 1
        return ngettext("%(num)d seat(s) added.", "%(num)d seat(s) added.", added)

    return forms.apply_change(change, url_for("admin.hall", hall_id=hall_id))


@bp.post("/seats/<seat_id>/kiosk")
def seat_kiosk(seat_id: str) -> BaseResponse:
    session = get_session()
    seat = session.get(Seat, seat_id)
    if seat is None:
        raise NotFound(_("no seat %(seat)r", seat=seat_id))
    back = url_for("admin.hall", hall_id=seat.hall_id)

    def change() -> str:
        device_id = forms.text("device_id", max_length=64, required=False) or None
        if device_id is not None:
            device_id = forms.identifier("device_id")
        bind_kiosk(session, current_user.info, seat_id, device_id)
        if device_id is None:
            return _("Seat %(seat)s: kiosk unbound.", seat=seat.label)
        delivery = deliver_seat(session, current_user.info, seat_id)
        bound = _("Seat %(seat)s: kiosk %(kiosk)s.", seat=seat.label, kiosk=device_id)
        return bound if delivery.state == "no_sitting" else f"{bound} {delivery_sentence(delivery)}"

    return forms.apply_change(change, back)


@bp.post("/seats/<seat_id>/remove")
def seat_remove(seat_id: str) -> BaseResponse:
    session = get_session()
    seat = session.get(Seat, seat_id)
    if seat is None:
        raise NotFound(_("no seat %(seat)r", seat=seat_id))
    label, back = seat.label, url_for("admin.hall", hall_id=seat.hall_id)

    def change() -> str:
        remove_seat(session, current_user.info, seat_id)
        return _("Seat %(seat)s removed.", seat=label)

    return forms.apply_change(change, back)


def _row_name(row: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA: spreadsheet-style row letters."""
    name = ""
    while row:
        row, rest = divmod(row - 1, 26)
        name = string.ascii_uppercase[rest] + name
    return name
