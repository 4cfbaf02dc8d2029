"""Alert responses: an alert dispatched to a named invigilator, and the invigilator at the seat.

Revision ID: 0007_alert_response
Revises: 0006_retention
Create Date: 2026-12-04

Self-contained like the earlier revisions: the types are spelled out here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0007_alert_response"
down_revision: str | None = "0006_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL = ("mysql", "mariadb")
DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL)
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def upgrade() -> None:
    op.create_table(
        "alert_responses",
        sa.Column("violation_id", sa.String(36), nullable=False),
        sa.Column("dispatched_to_id", sa.Integer(), nullable=True),
        sa.Column("dispatched_to", sa.String(64), nullable=True),
        sa.Column("dispatched_by", sa.String(64), nullable=True),
        sa.Column("dispatched_at", DATETIME, nullable=True),
        sa.Column("at_seat_by", sa.String(64), nullable=True),
        sa.Column("at_seat_at", DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("violation_id", name="pk_alert_responses"),
        sa.ForeignKeyConstraint(
            ["violation_id"],
            ["violations.violation_id"],
            name="fk_alert_responses_violation_id_violations",
        ),
        sa.ForeignKeyConstraint(
            ["dispatched_to_id"], ["users.id"], name="fk_alert_responses_dispatched_to_id_users"
        ),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_alert_responses_dispatched_to_id", "alert_responses", ["dispatched_to_id"])


def downgrade() -> None:
    op.drop_table("alert_responses")  # with its index (MariaDB keeps it for the foreign key)
