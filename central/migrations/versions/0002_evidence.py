"""Evidence files uploaded by kiosks, named by sha256.

Revision ID: 0002_evidence
Revises: 0001_initial
Create Date: 2026-11-25

Self-contained like 0001: the types are spelled out here rather than imported from the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002_evidence"
down_revision: str | None = "0001_initial"
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
        "evidence",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("stored_path", sa.String(255), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=True),
        sa.Column("uploaded_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_evidence"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_evidence_device_id", "evidence", ["device_id"])


def downgrade() -> None:
    op.drop_index("ix_evidence_device_id", table_name="evidence")
    op.drop_table("evidence")
