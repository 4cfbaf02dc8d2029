"""Commands from the console to a seat's kiosk, and their delivery state.

A command is first a row (`queued`) committed with its audit entry; the web request ends
there. The publisher (central/command_publisher) sends queued rows over MQTT and marks them
`published` when the broker PUBACKs; the kiosk's receipts, stored by ingest, move them to
`received`, then `done` or `rejected`. States only move forward (a late PUBACK never undoes a
receipt), and every move is announced on the live feed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Table, select, update
from sqlalchemy.orm import Session

from central.console_models import DETAIL_LEN, OutgoingCommand
from central.domain_models import Hall, Seat
from central.services import feed
from central.services.audit import record
from central.services.errors import Conflict, InvalidParameter, NotFound
from central.services.users import UserInfo
from protocol import MAX_PAYLOAD_BYTES, Command, CommandReceipt, CommandType, encode, uuid7
from protocol.topics import TopicKind

COMMAND_TTL = timedelta(minutes=10)  # a warning or pause delivered later would do harm
MAX_TEXT = 500
# Rank of each state: a change applies only to a row whose state ranks lower.
STATE_RANK = {
    "queued": 0,
    "published": 1,
    "received": 2,
    "done": 3,
    "rejected": 3,
    "expired": 3,
    "failed": 3,
}
FINAL_STATES = frozenset(s for s, rank in STATE_RANK.items() if rank == 3)
_COMMANDS: Table = OutgoingCommand.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class CommandRequest:
    seat_id: str
    type: CommandType
    args: dict[str, Any]
    # None: COMMAND_TTL from now. An exam or an enrolment stays worth delivering until the
    # sitting's scheduled end, however long the kiosk is away.
    expires_at: datetime | None = None


def issue_command(session: Session, actor: UserInfo, request: CommandRequest) -> OutgoingCommand:
    """Queue a command for the kiosk bound to the seat, audit-logged, announced on the feed."""
    seat = session.get(Seat, request.seat_id)
    if seat is None:
        raise NotFound(f"no seat {request.seat_id!r}")
    if seat.device_id is None:
        raise Conflict(f"no kiosk is bound to seat {seat.label}")
    hall = session.get(Hall, seat.hall_id)
    if hall is None:  # the foreign key makes this impossible
        raise NotFound(f"no hall {seat.hall_id!r}")
    now = datetime.now(UTC)
    row = OutgoingCommand(
        command_id=str(uuid7()),
        centre_id=hall.centre_id,
        device_id=seat.device_id,
        seat_id=seat.seat_id,
        type=request.type.value,
        args=request.args,
        issued_by=actor.username,
        issued_at=now,
        expires_at=request.expires_at or now + COMMAND_TTL,
        state="queued",
        detail="",
        published_at=None,
        updated_at=now,
    )
    _check(row)
    session.add(row)
    record(
        session,
        actor,
        f"command.{request.type.value}",
        ("seat", seat.seat_id),
        {"command_id": row.command_id, "device_id": seat.device_id, "args": _audited(request)},
    )
    session.flush()
    feed.append(session.connection(), [_feed_item(row, hall.hall_id)], now)
    return row


def _audited(request: CommandRequest) -> dict[str, Any]:
    """Arguments as the audit log keeps them: an exam by id and version, an enrolment by
    session and candidate (never the questions, nor the candidate's face encoding)."""
    if request.type is CommandType.LOAD_EXAM:
        exam = request.args.get("exam") or {}
        return {"exam_id": exam.get("id"), "version": exam.get("version")}
    if request.type is CommandType.ENROL:
        enrolment = request.args.get("enrolment") or {}
        return {k: enrolment.get(k) for k in ("session_id", "candidate_id", "exam_id")}
    return request.args


def _check(row: OutgoingCommand) -> None:
    """The wire model checks everything the kiosk would (ids, args), before anything is kept."""
    text = row.args.get("text")
    if row.type in (CommandType.WARN, CommandType.MESSAGE) and (
        not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT
    ):
        raise InvalidParameter("text", f"a warning needs a text of 1 to {MAX_TEXT} characters")
    try:
        size = len(encode(to_wire(row)))
    except ValidationError as exc:
        raise InvalidParameter("command", str(exc.errors()[0]["msg"])) from None
    limit = MAX_PAYLOAD_BYTES[TopicKind.COMMAND]
    if size > limit:  # the kiosk would refuse it unread; say so while someone is looking
        raise InvalidParameter(
            "command", f"{size} bytes on the wire; a command may have at most {limit}"
        )


def to_wire(row: OutgoingCommand) -> Command:
    return Command(
        schema_version=1,
        kind="command",
        id=uuid.UUID(row.command_id),
        centre_id=row.centre_id,
        device_id=row.device_id,
        type=CommandType(row.type),
        args=row.args,
        issued_at=row.issued_at,
        issued_by=row.issued_by,
    )


def command_to_dict(row: Any) -> dict[str, Any]:
    """An OutgoingCommand, or a Core row of the commands table, as JSON-ready values."""
    return {
        "command_id": row.command_id,
        "seat_id": row.seat_id,
        "device_id": row.device_id,
        "type": row.type,
        "text": row.args.get("text"),
        "seconds": row.args.get("seconds"),
        "state": row.state,
        "detail": row.detail,
        "issued_by": row.issued_by,
        "issued_at": row.issued_at,
        "updated_at": row.updated_at,
    }


def _feed_item(row: Any, hall_id: str | None) -> feed.FeedItem:
    return feed.FeedItem("command", hall_id, row.seat_id, row.device_id, command_to_dict(row))


def due_commands(
    session: Session, now: datetime, skip: set[str], limit: int
) -> list[OutgoingCommand]:
    """Queued commands to publish, oldest first; those past their time to live expire."""
    expire_overdue(session, now)
    statement = (
        select(OutgoingCommand)
        .where(OutgoingCommand.state == "queued")
        .order_by(OutgoingCommand.issued_at)
        .limit(limit + len(skip))
    )
    rows = [r for r in session.scalars(statement) if r.command_id not in skip]
    return rows[:limit]


def expire_overdue(session: Session, now: datetime) -> None:
    statement = select(OutgoingCommand.command_id).where(
        OutgoingCommand.state == "queued", OutgoingCommand.expires_at < now
    )
    overdue = list(session.scalars(statement))
    if overdue:
        advance(session.connection(), overdue, "expired", "not delivered in time", now)


def advance(
    connection: Connection, command_ids: Sequence[str], state: str, detail: str, now: datetime
) -> list[str]:
    """Move the commands to `state` where they are behind it; announce the ones that moved."""
    lower = [s for s, rank in STATE_RANK.items() if rank < STATE_RANK[state]]
    values: dict[str, Any] = {"state": state, "detail": detail[:DETAIL_LEN], "updated_at": now}
    if state == "published":
        values["published_at"] = now
    moved = []
    for command_id in sorted(command_ids):  # one lock order for every writer
        result = connection.execute(
            update(_COMMANDS)
            .where(_COMMANDS.c.command_id == command_id, _COMMANDS.c.state.in_(lower))
            .values(**values)
        )
        if result.rowcount:
            moved.append(command_id)
    if moved:
        feed.append(connection, _moved_items(connection, moved), now)
    return moved


def _moved_items(connection: Connection, command_ids: list[str]) -> list[feed.FeedItem]:
    seats: Table = Seat.__table__  # type: ignore[assignment]
    statement = (
        select(_COMMANDS, seats.c.hall_id)
        .outerjoin(seats, seats.c.seat_id == _COMMANDS.c.seat_id)
        .where(_COMMANDS.c.command_id.in_(command_ids))
        .order_by(_COMMANDS.c.command_id)
    )
    return [_feed_item(row, row.hall_id) for row in connection.execute(statement)]


def apply_receipts(
    connection: Connection, receipts: Sequence[CommandReceipt], now: datetime
) -> None:
    """Receipts newly stored by ingest move their commands on (in the ingest transaction).
    A receipt for another kiosk's command id is ignored: only the addressee answers."""
    # By command id (the same lock order as `advance`, so concurrent writers cannot deadlock),
    # then by how far each receipt goes: a batch with `received` and `done` shows both.
    ordered = sorted(receipts, key=lambda r: (str(r.command_id), STATE_RANK[r.status], r.seq))
    for receipt in ordered:
        owner = connection.scalar(
            select(_COMMANDS.c.device_id).where(_COMMANDS.c.command_id == str(receipt.command_id))
        )
        if owner == receipt.device_id:
            advance(connection, [str(receipt.command_id)], receipt.status, receipt.detail, now)


def seat_commands(session: Session, seat_id: str, limit: int = 20) -> list[OutgoingCommand]:
    statement = (
        select(OutgoingCommand)
        .where(OutgoingCommand.seat_id == seat_id)
        .order_by(OutgoingCommand.issued_at.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def get_command(session: Session, command_id: str) -> OutgoingCommand:
    row = session.get(OutgoingCommand, command_id)
    if row is None:
        raise NotFound(f"no command {command_id!r}")
    return row
