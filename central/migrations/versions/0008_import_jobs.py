"""Import jobs: a background candidate import's progress, readable by every web worker.

Revision ID: 0008_import_jobs
Revises: 0007_alert_response
Create Date: 2026-12-04

Self-contained like the earlier revisions: the types are spelled out here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008_import_jobs"
down_revision: str | None = "0007_alert_response"
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


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("imported", JSON, nullable=False),
        sa.Column("problems", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", DATETIME, nullable=False),
        sa.Column("updated_at", DATETIME, nullable=False),
        sa.Column("finished_at", DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("job_id", name="pk_import_jobs"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name="fk_import_jobs_owner_id_users"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_import_jobs_owner_id", "import_jobs", ["owner_id"])
    op.create_index("ix_import_jobs_updated_at", "import_jobs", ["updated_at"])


def downgrade() -> None:
    op.drop_table("import_jobs")  # with its indexes (MariaDB keeps one for the foreign key)
