"""The devices table: who was heard from, when, and their latest heartbeat and status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from central.models import Device
from central.services.upsert import insert_all_ignoring_duplicates
from protocol.models import AckedMessage, DeviceStatus, Heartbeat

FromDevice = AckedMessage | Heartbeat | DeviceStatus  # what kiosks publish to central

_DEVICES: Table = Device.__table__  # type: ignore[assignment]


def update_devices(connection: Connection, messages: Sequence[FromDevice], now: datetime) -> None:
    """Record that each sender was seen; apply heartbeats and status (latest in batch wins)."""
    if not messages:
        return
    latest: dict[str, FromDevice] = {}
    seats: dict[str, str] = {}
    heartbeats: dict[str, Heartbeat] = {}
    statuses: dict[str, DeviceStatus] = {}
    for message in messages:
        latest[message.device_id] = message
        seat = _seat_of(message)
        if seat is not None:
            seats[message.device_id] = seat
        if isinstance(message, Heartbeat):
            heartbeats[message.device_id] = message
        elif isinstance(message, DeviceStatus):
            statuses[message.device_id] = message
    rows = [
        {
            "device_id": device_id,
            "centre_id": message.centre_id,
            "seat_id": seats.get(device_id),
            "simulated": message.simulated,
            "last_seen_at": now,
        }
        for device_id, message in sorted(latest.items())
    ]
    insert_all_ignoring_duplicates(connection, _DEVICES, rows)
    _touch(connection, rows)
    _apply_heartbeats(connection, heartbeats)
    _apply_statuses(connection, statuses)


def _seat_of(message: FromDevice) -> str | None:
    subject = getattr(message, "subject", None)
    seat = getattr(subject, "seat_id", None)
    return seat if isinstance(seat, str) else None


def _touch(connection: Connection, rows: list[dict[str, Any]]) -> None:
    table = _DEVICES
    statement = (
        update(table)
        .where(table.c.device_id == bindparam("b_device_id"))
        .values(
            centre_id=bindparam("b_centre_id"),
            seat_id=func.coalesce(bindparam("b_seat_id"), table.c.seat_id),
            simulated=bindparam("b_simulated"),
            last_seen_at=bindparam("b_last_seen_at"),
        )
    )
    connection.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in rows])


def _apply_heartbeats(connection: Connection, heartbeats: dict[str, Heartbeat]) -> None:
    if not heartbeats:
        return
    table = _DEVICES
    statement = (
        update(table)
        .where(table.c.device_id == bindparam("b_device_id"))
        .values(last_heartbeat=bindparam("b_heartbeat"), boot_id=bindparam("b_boot_id"))
    )
    params = [
        {
            "b_device_id": device_id,
            "b_heartbeat": hb.model_dump(mode="json"),
            "b_boot_id": hb.clock.boot_id,
        }
        for device_id, hb in sorted(heartbeats.items())
    ]
    connection.execute(statement, params)


def _apply_statuses(connection: Connection, statuses: dict[str, DeviceStatus]) -> None:
    """Online always applies. Offline applies unless the device is online under another boot:
    that offline is the last will of an earlier connection, published after the new one."""
    table = _DEVICES
    for state in ("online", "offline"):
        params = [
            {"b_device_id": d, "b_state": s.state, "b_boot_id": s.boot_id}
            for d, s in sorted(statuses.items())
            if s.state == state
        ]
        if not params:
            continue
        statement = (
            update(table)
            .where(table.c.device_id == bindparam("b_device_id"))
            .values(last_status=bindparam("b_state"), boot_id=bindparam("b_boot_id"))
        )
        if state == "offline":
            statement = statement.where(
                or_(
                    table.c.last_status.is_(None),
                    table.c.last_status != "online",
                    table.c.boot_id.is_(None),
                    table.c.boot_id == bindparam("b_boot_id"),
                )
            )
        connection.execute(statement, params)


def list_devices(session: Session, limit: int = 500) -> list[Device]:
    """Devices by centre and seat (console overview)."""
    statement = (
        select(Device).order_by(Device.centre_id, Device.seat_id, Device.device_id).limit(limit)
    )
    return list(session.scalars(statement))
