"""Initial schema: devices, events, violations, device messages, dead letters, users.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25

Self-contained on purpose: a revision must keep creating the same schema even after the models
change, so the types are spelled out here rather than imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL = ("mysql", "mariadb")
DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL)
PAYLOAD = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), *MYSQL)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _id(name: str, nullable: bool = False, **kw: object) -> sa.Column[str]:
    return sa.Column(name, sa.String(64), nullable=nullable, **kw)  # type: ignore[arg-type]


def _uuid(name: str, nullable: bool = False, **kw: object) -> sa.Column[str]:
    return sa.Column(name, sa.String(36), nullable=nullable, **kw)  # type: ignore[arg-type]


def _subject() -> list[sa.Column[str]]:
    return [_id(n, nullable=True) for n in ("seat_id", "session_id", "candidate_id", "exam_id")]


def upgrade() -> None:
    _create_devices()
    _create_events()
    _create_violations()
    _create_device_messages()
    _create_dead_letters()
    _create_users()


def _create_devices() -> None:
    op.create_table(
        "devices",
        _id("device_id"),
        _id("centre_id"),
        _id("seat_id", nullable=True),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", DATETIME, nullable=True),
        sa.Column("last_status", sa.String(16), nullable=True),
        sa.Column("last_heartbeat", sa.JSON(none_as_null=True), nullable=True),
        _id("boot_id", nullable=True),
        sa.PrimaryKeyConstraint("device_id", name="pk_devices"),
        **TABLE_OPTIONS,
    )


def _create_events() -> None:
    op.create_table(
        "events",
        _uuid("event_id"),
        _uuid("violation_id"),
        _id("device_id"),
        _id("centre_id"),
        *_subject(),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("started_at", DATETIME, nullable=False),
        sa.Column("ended_at", DATETIME, nullable=True),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("details", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("evidence", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("device_time", DATETIME, nullable=False),
        sa.Column("monotonic_s", sa.Double(), nullable=False),
        _id("boot_id"),
        sa.Column("clock_synced", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("received_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_events"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_events_device_id", "events", ["device_id"])
    op.create_index("ix_events_session_id", "events", ["session_id"])
    op.create_index("ix_events_type", "events", ["type"])
    op.create_index("ix_events_started_at", "events", ["started_at"])
    op.create_index("ix_events_device_id_seq", "events", ["device_id", "seq"])
    op.create_index("ix_events_violation_id", "events", ["violation_id"])


def _create_violations() -> None:
    op.create_table(
        "violations",
        _uuid("violation_id"),
        _id("device_id"),
        _id("centre_id"),
        *_subject(),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("started_at", DATETIME, nullable=False),
        sa.Column("ended_at", DATETIME, nullable=True),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        _uuid("last_event_id"),
        sa.Column("updated_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("violation_id", name="pk_violations"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_violations_device_id", "violations", ["device_id"])
    op.create_index("ix_violations_session_id", "violations", ["session_id"])
    op.create_index("ix_violations_started_at", "violations", ["started_at"])


def _create_device_messages() -> None:
    op.create_table(
        "device_messages",
        _uuid("message_id"),
        sa.Column("kind", sa.String(16), nullable=False),
        _id("device_id"),
        _id("centre_id"),
        _id("session_id", nullable=True),
        sa.Column("body", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("device_time", DATETIME, nullable=False),
        sa.Column("received_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("message_id", name="pk_device_messages"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_device_messages_session_id", "device_messages", ["session_id"])
    op.create_index("ix_device_messages_device_id_seq", "device_messages", ["device_id", "seq"])


def _create_dead_letters() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("received_at", DATETIME, nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("payload", PAYLOAD, nullable=False),
        sa.Column("payload_size", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _id("centre_id", nullable=True),
        _id("device_id", nullable=True),
        _uuid("message_id", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_dead_letters_device_id", "dead_letters", ["device_id"])


def _create_users() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        **TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_index("ix_dead_letters_device_id", table_name="dead_letters")
    op.drop_table("dead_letters")
    op.drop_index("ix_device_messages_device_id_seq", table_name="device_messages")
    op.drop_index("ix_device_messages_session_id", table_name="device_messages")
    op.drop_table("device_messages")
    for name in ("started_at", "session_id", "device_id"):
        op.drop_index(f"ix_violations_{name}", table_name="violations")
    op.drop_table("violations")
    for name in ("violation_id", "device_id_seq", "started_at", "type", "session_id", "device_id"):
        op.drop_index(f"ix_events_{name}", table_name="events")
    op.drop_table("events")
    op.drop_table("devices")
