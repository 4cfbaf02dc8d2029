"""Tamper evidence: kiosks' public keys, and each stored message's signature check and chain
hashes.

Revision ID: 0005_integrity
Revises: 0004_console
Create Date: 2026-12-04

Self-contained like the earlier revisions: the types are spelled out here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0005_integrity"
down_revision: str | None = "0004_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL = ("mysql", "mariadb")
DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL)
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
CHECKED = ("events", "device_messages")


def upgrade() -> None:
    op.create_table(
        "device_keys",
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revoked_at", DATETIME, nullable=True),
        sa.Column("updated_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("device_id", name="pk_device_keys"),
        **TABLE_OPTIONS,
    )
    for table in CHECKED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("integrity", sa.String(16), nullable=True))
            batch.add_column(sa.Column("msg_hash", sa.String(64), nullable=True))
            batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    for table in CHECKED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("prev_hash")
            batch.drop_column("msg_hash")
            batch.drop_column("integrity")
    op.drop_table("device_keys")
