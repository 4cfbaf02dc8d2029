"""Live console: commands to kiosks, alert acknowledgements, the live feed and its counter.

Revision ID: 0004_console
Revises: 0003_exam_domain
Create Date: 2026-12-04

Self-contained like 0001 and 0003: types spelled out here. The counter's single row is created
here, so feed writers only ever UPDATE it (the row lock is what orders them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004_console"
down_revision: str | None = "0003_exam_domain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL = ("mysql", "mariadb")
DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL)
JSON = sa.JSON(none_as_null=True)
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _id(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(64), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "commands",
        sa.Column("command_id", sa.String(36), nullable=False),
        _id("centre_id"),
        _id("device_id"),
        _id("seat_id", nullable=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("args", JSON, nullable=False),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("issued_at", DATETIME, nullable=False),
        sa.Column("expires_at", DATETIME, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("published_at", DATETIME, nullable=True),
        sa.Column("updated_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("command_id", name="pk_commands"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_commands_state_issued_at", "commands", ["state", "issued_at"])
    op.create_index("ix_commands_device_id_issued_at", "commands", ["device_id", "issued_at"])
    op.create_table(
        "alert_acks",
        sa.Column("violation_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("acked_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("violation_id", name="pk_alert_acks"),
        sa.ForeignKeyConstraint(
            ["violation_id"],
            ["violations.violation_id"],
            name="fk_alert_acks_violation_id_violations",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_alert_acks_user_id_users"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_alert_acks_user_id", "alert_acks", ["user_id"])
    op.create_table(
        "live_feed",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        _id("hall_id", nullable=True),
        _id("seat_id", nullable=True),
        _id("device_id", nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", DATETIME, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_live_feed"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_live_feed_hall_id_id", "live_feed", ["hall_id", "id"])
    op.create_index("ix_live_feed_at", "live_feed", ["at"])
    counter = op.create_table(
        "live_feed_counter",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_live_feed_counter"),
        **TABLE_OPTIONS,
    )
    op.bulk_insert(counter, [{"id": 1, "last_id": 0}])


def downgrade() -> None:
    op.drop_table("live_feed_counter")
    op.drop_index("ix_live_feed_at", table_name="live_feed")
    op.drop_index("ix_live_feed_hall_id_id", table_name="live_feed")
    op.drop_table("live_feed")
    op.drop_table("alert_acks")  # with its index (MariaDB keeps it for the foreign key)
    op.drop_index("ix_commands_device_id_issued_at", table_name="commands")
    op.drop_index("ix_commands_state_issued_at", table_name="commands")
    op.drop_table("commands")
