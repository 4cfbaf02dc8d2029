"""Evidence retention: a purged file's row stays as a tombstone saying when and why it went.

Revision ID: 0006_retention
Revises: 0005_integrity
Create Date: 2026-12-04

Self-contained like the earlier revisions: the types are spelled out here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0006_retention"
down_revision: str | None = "0005_integrity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL = ("mysql", "mariadb")
DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL)


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("purged_at", DATETIME, nullable=True))
        batch.add_column(sa.Column("purged_reason", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("purged_reason")
        batch.drop_column("purged_at")
