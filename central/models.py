"""Database tables. Ids made on the kiosk (UUIDv7 text) are primary keys: redelivery is harmless.

Times are aware UTC in Python and naive UTC in the database (`UtcDateTime`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Double, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from central.dbtypes import (
    BIG_ID_TYPE,
    ID_LEN,
    JSON_TYPE,
    MYSQL_TABLE_OPTIONS,
    PAYLOAD_TYPE,
    TOPIC_LEN,
    UUID_LEN,
    UtcDateTime,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Device(Base):
    """One kiosk, as last heard from. Heartbeats and status messages update it (latest wins)."""

    __tablename__ = "devices"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    device_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    centre_id: Mapped[str] = mapped_column(String(ID_LEN))
    seat_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status: Mapped[str | None] = mapped_column(String(16))  # online / offline
    last_heartbeat: Mapped[dict[str, Any] | None] = mapped_column(JSON_TYPE)
    boot_id: Mapped[str | None] = mapped_column(String(ID_LEN))


class Event(Base):
    """One ViolationEvent message, exactly as first delivered."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_device_id", "device_id"),
        Index("ix_events_session_id", "session_id"),
        Index("ix_events_type", "type"),
        Index("ix_events_started_at", "started_at"),
        Index("ix_events_device_id_seq", "device_id", "seq"),
        Index("ix_events_violation_id", "violation_id"),
        MYSQL_TABLE_OPTIONS,
    )

    event_id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    violation_id: Mapped[str] = mapped_column(String(UUID_LEN))
    device_id: Mapped[str] = mapped_column(String(ID_LEN))
    centre_id: Mapped[str] = mapped_column(String(ID_LEN))
    seat_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    session_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    candidate_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    exam_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    type: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Double)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_s: Mapped[float] = mapped_column(Double)
    details: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON_TYPE)
    device_time: Mapped[datetime] = mapped_column(UtcDateTime)
    monotonic_s: Mapped[float] = mapped_column(Double)
    boot_id: Mapped[str] = mapped_column(String(ID_LEN))
    clock_synced: Mapped[bool] = mapped_column(Boolean)
    seq: Mapped[int] = mapped_column(BigInteger)
    simulated: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Tamper evidence, checked on arrival (central/services/integrity.py).
    integrity: Mapped[str | None] = mapped_column(String(16))
    msg_hash: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))


class Violation(Base):
    """Lifecycle summary of one violation: the message with the highest seq wins."""

    __tablename__ = "violations"
    __table_args__ = (
        Index("ix_violations_device_id", "device_id"),
        Index("ix_violations_session_id", "session_id"),
        Index("ix_violations_started_at", "started_at"),
        MYSQL_TABLE_OPTIONS,
    )

    violation_id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(ID_LEN))
    centre_id: Mapped[str] = mapped_column(String(ID_LEN))
    seat_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    session_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    candidate_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    exam_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    type: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_s: Mapped[float] = mapped_column(Double)
    simulated: Mapped[bool] = mapped_column(Boolean)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_event_id: Mapped[str] = mapped_column(String(UUID_LEN))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeviceMessage(Base):
    """Session messages (checkin, answer, submitted) and command receipts, as first delivered."""

    __tablename__ = "device_messages"
    __table_args__ = (
        Index("ix_device_messages_session_id", "session_id"),
        Index("ix_device_messages_device_id_seq", "device_id", "seq"),
        MYSQL_TABLE_OPTIONS,
    )

    message_id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str] = mapped_column(String(ID_LEN))
    centre_id: Mapped[str] = mapped_column(String(ID_LEN))
    session_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    body: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    seq: Mapped[int] = mapped_column(BigInteger)
    device_time: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    integrity: Mapped[str | None] = mapped_column(String(16))
    msg_hash: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))


class DeviceKey(Base):
    """A kiosk's Ed25519 public key from the provisioning registry (`python -m central
    sync-devices`). A revoked key's later messages are dead-lettered, never stored."""

    __tablename__ = "device_keys"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    device_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, base64
    status: Mapped[str] = mapped_column(String(16))  # active / revoked
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeadLetter(Base):
    """A payload that failed validation, kept for diagnosis (and acked as `rejected`)."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_device_id", "device_id"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(BIG_ID_TYPE, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    topic: Mapped[str] = mapped_column(String(TOPIC_LEN))
    payload: Mapped[bytes] = mapped_column(PAYLOAD_TYPE)
    payload_size: Mapped[int] = mapped_column(Integer)
    reason_code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    centre_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    device_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    message_id: Mapped[str | None] = mapped_column(String(UUID_LEN))


class User(Base):
    __tablename__ = "users"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Evidence(Base):
    """One evidence file (clip or snapshot) uploaded by a kiosk, named by its sha256. The file
    lives under the evidence directory at `stored_path`, which the server derived from the
    hash (never from client input). A purged file's row stays as a tombstone (`purged_at`), so
    its links can say when and why it went (central/services/retention.py)."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_device_id", "device_id"), MYSQL_TABLE_OPTIONS)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(32))
    stored_path: Mapped[str] = mapped_column(String(255))
    device_id: Mapped[str | None] = mapped_column(String(ID_LEN))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    purged_reason: Mapped[str | None] = mapped_column(String(255))
