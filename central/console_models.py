"""Tables of the live console (migrations 0004, 0007): commands sent to kiosks, invigilators'
acknowledgements of alerts and what they did about them, and the live feed with its counter.

`live_feed` is what the console's Server-Sent Events stream replays: one row per change a
console must show (an event stored, a heartbeat or status, a command's delivery state, an
acknowledgement), numbered by `live_feed_counter` in commit order (central/services/feed.py
explains why a plain autoincrement would not do).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from central.dbtypes import ID_LEN, JSON_TYPE, MYSQL_TABLE_OPTIONS, UUID_LEN, UtcDateTime
from central.models import Base

COMMAND_TYPE_LEN = 16
DETAIL_LEN = 500  # protocol ShortText: a receipt's detail


class OutgoingCommand(Base):
    """One command to one kiosk and how far it got: queued (in this table only) → published
    (the broker PUBACKed it) → received / done / rejected (the kiosk's receipts). A command
    not published within its time to live becomes `expired`; one the broker refuses, `failed`."""

    __tablename__ = "commands"
    __table_args__ = (
        Index("ix_commands_state_issued_at", "state", "issued_at"),
        Index("ix_commands_device_id_issued_at", "device_id", "issued_at"),
        MYSQL_TABLE_OPTIONS,
    )

    command_id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    centre_id: Mapped[str] = mapped_column(String(ID_LEN))
    device_id: Mapped[str] = mapped_column(String(ID_LEN))
    seat_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    type: Mapped[str] = mapped_column(String(COMMAND_TYPE_LEN))
    args: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    issued_by: Mapped[str] = mapped_column(String(64))  # username, kept as it was
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(DETAIL_LEN))
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AlertAck(Base):
    """An invigilator has seen a live alert (a violation); it leaves the open alerts. This is
    not a review decision: the flag still goes to the review queue."""

    __tablename__ = "alert_acks"
    __table_args__ = (Index("ix_alert_acks_user_id", "user_id"), MYSQL_TABLE_OPTIONS)

    violation_id: Mapped[str] = mapped_column(
        ForeignKey("violations.violation_id"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64))
    acked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AlertResponse(Base):
    """What was done about a live alert on the floor: dispatched to a named invigilator, then
    that invigilator (or another) at the seat. Re-dispatching replaces the first; the audit
    log keeps every step."""

    __tablename__ = "alert_responses"
    __table_args__ = (
        Index("ix_alert_responses_dispatched_to_id", "dispatched_to_id"),
        MYSQL_TABLE_OPTIONS,
    )

    violation_id: Mapped[str] = mapped_column(
        ForeignKey("violations.violation_id"), primary_key=True
    )
    dispatched_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dispatched_to: Mapped[str | None] = mapped_column(String(64))
    dispatched_by: Mapped[str | None] = mapped_column(String(64))
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    at_seat_by: Mapped[str | None] = mapped_column(String(64))
    at_seat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class FeedEntry(Base):
    """One change for the consoles of one hall; `data` is JSON text, sent to browsers as is."""

    __tablename__ = "live_feed"
    __table_args__ = (
        Index("ix_live_feed_hall_id_id", "hall_id", "id"),
        Index("ix_live_feed_at", "at"),
        MYSQL_TABLE_OPTIONS,
    )

    # Assigned from live_feed_counter, not by the database: see central/services/feed.py.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hall_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    seat_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    device_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    data: Mapped[str] = mapped_column(Text)


class FeedCounter(Base):
    """A single row (id 1): the last feed id handed out. Its row lock orders feed writers."""

    __tablename__ = "live_feed_counter"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger)
