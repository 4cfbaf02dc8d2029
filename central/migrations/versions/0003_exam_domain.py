"""Exam domain: centres, halls, seats, exams, candidates, exam sessions, reviews, invigilator
hall assignments, audit log.

Revision ID: 0003_exam_domain
Revises: 0002_evidence
Create Date: 2026-12-04

Self-contained like 0001: the types are spelled out here rather than imported from the models.
Tables are created parents first and dropped children first, so the foreign keys hold on both
SQLite (foreign_keys=ON) and MariaDB.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003_exam_domain"
down_revision: str | None = "0002_evidence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL = ("mysql", "mariadb")
DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON(none_as_null=True)
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _id(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(64), nullable=nullable)


def _fk(table: str, column: str, parent: str, parent_column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{parent}.{parent_column}"], name=f"fk_{table}_{column}_{parent}"
    )


def upgrade() -> None:
    _create_places()
    _create_exams_and_candidates()
    _create_exam_sessions()
    _create_reviews_and_assignments()
    _create_audit_log()


def _create_places() -> None:
    op.create_table(
        "centres",
        _id("centre_id"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("centre_id", name="pk_centres"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "halls",
        _id("hall_id"),
        _id("centre_id"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("grid_rows", sa.Integer(), nullable=False),
        sa.Column("grid_columns", sa.Integer(), nullable=False),
        sa.Column("gaps", JSON, nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("hall_id", name="pk_halls"),
        _fk("halls", "centre_id", "centres", "centre_id"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_halls_centre_id", "halls", ["centre_id"])
    op.create_table(
        "seats",
        _id("seat_id"),
        _id("hall_id"),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("grid_row", sa.Integer(), nullable=False),
        sa.Column("grid_column", sa.Integer(), nullable=False),
        _id("device_id", nullable=True),
        sa.PrimaryKeyConstraint("seat_id", name="pk_seats"),
        _fk("seats", "hall_id", "halls", "hall_id"),
        sa.UniqueConstraint(
            "hall_id", "grid_row", "grid_column", name="uq_seats_hall_id_grid_row_grid_column"
        ),
        sa.UniqueConstraint("hall_id", "label", name="uq_seats_hall_id_label"),
        sa.UniqueConstraint("device_id", name="uq_seats_device_id"),
        **TABLE_OPTIONS,
    )


def _create_exams_and_candidates() -> None:
    op.create_table(
        "exams",
        _id("exam_id"),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("proctoring", JSON, nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("updated_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("exam_id", name="pk_exams"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "candidates",
        _id("candidate_id"),
        sa.Column("candidate_number", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("encoding", JSON, nullable=True),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("candidate_id", name="pk_candidates"),
        sa.UniqueConstraint("candidate_number", name="uq_candidates_candidate_number"),
        **TABLE_OPTIONS,
    )


def _create_exam_sessions() -> None:
    op.create_table(
        "exam_sessions",
        _id("session_id"),
        _id("exam_id"),
        _id("candidate_id"),
        _id("seat_id"),
        sa.Column("scheduled_start", DATETIME, nullable=False),
        sa.Column("scheduled_end", DATETIME, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("released_at", DATETIME, nullable=True),
        sa.Column("released_by", sa.Integer(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("trust_score", sa.Double(), nullable=True),
        sa.Column("quiz_score", sa.Double(), nullable=True),
        sa.Column("quiz_percent", sa.Double(), nullable=True),
        sa.Column("result_reason", sa.Text(), nullable=True),
        sa.Column("result_detail", JSON, nullable=True),
        sa.PrimaryKeyConstraint("session_id", name="pk_exam_sessions"),
        _fk("exam_sessions", "exam_id", "exams", "exam_id"),
        _fk("exam_sessions", "candidate_id", "candidates", "candidate_id"),
        _fk("exam_sessions", "seat_id", "seats", "seat_id"),
        _fk("exam_sessions", "released_by", "users", "id"),
        sa.UniqueConstraint(
            "exam_id", "candidate_id", name="uq_exam_sessions_exam_id_candidate_id"
        ),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_exam_sessions_seat_id", "exam_sessions", ["seat_id"])
    op.create_index("ix_exam_sessions_candidate_id", "exam_sessions", ["candidate_id"])


def _create_reviews_and_assignments() -> None:
    op.create_table(
        "reviews",
        sa.Column("violation_id", sa.String(36), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("violation_id", name="pk_reviews"),
        _fk("reviews", "violation_id", "violations", "violation_id"),
        _fk("reviews", "reviewer_id", "users", "id"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_reviews_reviewer_id", "reviews", ["reviewer_id"])
    op.create_table(
        "invigilator_halls",
        sa.Column("user_id", sa.Integer(), nullable=False),
        _id("hall_id"),
        sa.Column("assigned_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "hall_id", name="pk_invigilator_halls"),
        _fk("invigilator_halls", "user_id", "users", "id"),
        _fk("invigilator_halls", "hall_id", "halls", "hall_id"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_invigilator_halls_hall_id", "invigilator_halls", ["hall_id"])


def _create_audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", DATETIME, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(100), nullable=False),
        sa.Column("detail", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_target_type_target_id", "audit_log", ["target_type", "target_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_target_type_target_id", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    # MariaDB refuses to drop an index a foreign key needs: the tables go with their indexes.
    op.drop_table("invigilator_halls")
    op.drop_table("reviews")
    op.drop_table("exam_sessions")
    op.drop_table("candidates")
    op.drop_table("exams")
    op.drop_table("seats")
    op.drop_table("halls")
    op.drop_table("centres")
