"""What `store_batch` announces on the live feed, in its own transaction: newly stored events,
the kiosks whose heartbeat or status arrived (as the devices table now has them), and the
commands that newly stored receipts moved on. Duplicates announce nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, select

from central.domain_models import Seat
from central.models import Device
from central.services import feed
from central.services.commands import apply_receipts
from central.services.live_views import device_summary, message_summary
from protocol.models import AckResult, CommandReceipt, DeviceStatus, Heartbeat, ViolationEvent

_SEATS: Table = Seat.__table__  # type: ignore[assignment]
_DEVICES: Table = Device.__table__  # type: ignore[assignment]
Places = dict[str, tuple[str, str]]


def record_stored(
    connection: Connection,
    items: Sequence[object],
    results: Sequence[AckResult | None],
    now: datetime,
) -> None:
    """Call last in the store transaction (feed ids are taken in commit order)."""
    stored = [m for m, r in zip(items, results, strict=True) if r and r.status == "stored"]
    events = [m for m in stored if isinstance(m, ViolationEvent)]
    receipts = [m for m in stored if isinstance(m, CommandReceipt)]
    beating = sorted({m.device_id for m in items if isinstance(m, Heartbeat | DeviceStatus)})
    if receipts:
        apply_receipts(connection, receipts, now)
    if not events and not beating:
        return
    places = _places(connection, events, beating)
    entries = [_event_item(e, places, now) for e in events]
    entries += _device_items(connection, beating, places)
    feed.append(connection, entries, now)


def _places(connection: Connection, events: list[ViolationEvent], devices: list[str]) -> Places:
    """device id -> (seat id, hall id) of the seat the kiosk is bound to; an unbound kiosk's
    events go to the seat they name."""
    wanted = sorted({e.device_id for e in events} | set(devices))
    statement = select(_SEATS.c.device_id, _SEATS.c.seat_id, _SEATS.c.hall_id).where(
        _SEATS.c.device_id.in_(wanted)
    )
    places = {row.device_id: (row.seat_id, row.hall_id) for row in connection.execute(statement)}
    named = sorted(
        {e.subject.seat_id for e in events if e.device_id not in places and e.subject.seat_id}
    )
    if named:
        statement = select(_SEATS.c.seat_id, _SEATS.c.hall_id).where(_SEATS.c.seat_id.in_(named))
        places.update(
            {f"seat:{r.seat_id}": (r.seat_id, r.hall_id) for r in connection.execute(statement)}
        )
    return places


def _event_item(event: ViolationEvent, places: Places, now: datetime) -> feed.FeedItem:
    place = places.get(event.device_id) or places.get(f"seat:{event.subject.seat_id}")
    seat_id, hall_id = place if place is not None else (None, None)
    return feed.FeedItem("event", hall_id, seat_id, event.device_id, message_summary(event, now))


def _device_items(
    connection: Connection, device_ids: list[str], places: Places
) -> list[feed.FeedItem]:
    bound = [d for d in device_ids if d in places]
    if not bound:
        return []
    statement = select(
        _DEVICES.c.device_id,
        _DEVICES.c.last_status,
        _DEVICES.c.last_seen_at,
        _DEVICES.c.last_heartbeat,
    ).where(_DEVICES.c.device_id.in_(bound))
    items = []
    for row in connection.execute(statement):
        seat_id, hall_id = places[row.device_id]
        data: dict[str, Any] = device_summary(row.last_status, row.last_seen_at, row.last_heartbeat)
        items.append(feed.FeedItem("device", hall_id, seat_id, row.device_id, data))
    return items
