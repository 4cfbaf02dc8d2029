"""Tables of the exam domain: centres, halls and seats, exams, candidates, sessions, reviews,
invigilator assignments and the audit log (migration 0003); candidate import jobs (0008).

Ids of things the kiosks name (centre, seat, exam, candidate, session) are the protocol's text
ids, so `violations.seat_id` and friends join these tables directly. The kiosk-side tables
(events, violations, device_messages) keep no foreign keys: ingest must store whatever arrives,
even for a seat that is not configured yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from central.dbtypes import (
    BIG_ID_TYPE,
    ID_LEN,
    JSON_TYPE,
    MYSQL_TABLE_OPTIONS,
    UUID_LEN,
    UtcDateTime,
)
from central.models import Base

NAME_LEN = 200
LABEL_LEN = 16


class Centre(Base):
    __tablename__ = "centres"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    centre_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Hall(Base):
    """A room with a seat grid. `gaps` lists the [row, column] cells that are aisles or pillars
    (1-based), so the floor plan can be drawn before every seat exists."""

    __tablename__ = "halls"
    __table_args__ = (Index("ix_halls_centre_id", "centre_id"), MYSQL_TABLE_OPTIONS)

    hall_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.centre_id"))
    name: Mapped[str] = mapped_column(String(NAME_LEN))
    grid_rows: Mapped[int] = mapped_column(Integer)
    grid_columns: Mapped[int] = mapped_column(Integer)
    gaps: Mapped[list[list[int]]] = mapped_column(JSON_TYPE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Seat(Base):
    """One seat of a hall's grid, with the kiosk bound to it (at most one seat per kiosk)."""

    __tablename__ = "seats"
    __table_args__ = (
        UniqueConstraint("hall_id", "grid_row", "grid_column"),
        UniqueConstraint("hall_id", "label"),
        UniqueConstraint("device_id"),
        MYSQL_TABLE_OPTIONS,
    )

    seat_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    hall_id: Mapped[str] = mapped_column(ForeignKey("halls.hall_id"))
    label: Mapped[str] = mapped_column(String(LABEL_LEN))
    grid_row: Mapped[int] = mapped_column(Integer)
    grid_column: Mapped[int] = mapped_column(Integer)
    # No foreign key: a kiosk may be bound before it has ever reported (devices row).
    device_id: Mapped[str | None] = mapped_column(String(ID_LEN))


class Exam(Base):
    """An exam as sent to kiosks (`definition`: protocol.exam.ExamDefinition as JSON) and how
    central judges it (`proctoring`: central.scoring.policy.ProctoringPolicy as JSON)."""

    __tablename__ = "exams"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    exam_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    title: Mapped[str] = mapped_column(String(NAME_LEN))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    proctoring: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("candidate_number"), MYSQL_TABLE_OPTIONS)

    candidate_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    candidate_number: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(NAME_LEN))
    language: Mapped[str] = mapped_column(String(8))
    # 128-d face encoding computed on the server from the enrolment photo (None until then).
    encoding: Mapped[list[float] | None] = mapped_column(JSON_TYPE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ExamSession(Base):
    """One candidate sitting one exam at one seat, and (once released) the result."""

    __tablename__ = "exam_sessions"
    __table_args__ = (
        UniqueConstraint("exam_id", "candidate_id"),
        Index("ix_exam_sessions_seat_id", "seat_id"),
        Index("ix_exam_sessions_candidate_id", "candidate_id"),
        MYSQL_TABLE_OPTIONS,
    )

    session_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.exam_id"))
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.candidate_id"))
    seat_id: Mapped[str] = mapped_column(ForeignKey("seats.seat_id"))
    scheduled_start: Mapped[datetime] = mapped_column(UtcDateTime)
    scheduled_end: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))  # scheduled / running / submitted / ended
    # Result: filled in when released (central.services.results), None before.
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    passed: Mapped[bool | None] = mapped_column(Boolean)
    trust_score: Mapped[float | None] = mapped_column(Double)
    quiz_score: Mapped[float | None] = mapped_column(Double)
    quiz_percent: Mapped[float | None] = mapped_column(Double)
    result_reason: Mapped[str | None] = mapped_column(Text)
    result_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON_TYPE)


class Review(Base):
    """The one human decision about one violation."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_reviewer_id", "reviewer_id"), MYSQL_TABLE_OPTIONS)

    violation_id: Mapped[str] = mapped_column(
        ForeignKey("violations.violation_id"), primary_key=True
    )
    decision: Mapped[str] = mapped_column(String(16))  # confirmed / dismissed
    note: Mapped[str] = mapped_column(Text)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InvigilatorAssignment(Base):
    """Which halls an invigilator may see; an invigilator sees no other hall."""

    __tablename__ = "invigilator_halls"
    __table_args__ = (Index("ix_invigilator_halls_hall_id", "hall_id"), MYSQL_TABLE_OPTIONS)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    hall_id: Mapped[str] = mapped_column(ForeignKey("halls.hall_id"), primary_key=True)
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """Who did what to which target, when. No foreign key to users: entries outlive accounts,
    so the username is kept as it was."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_target_type_target_id", "target_type", "target_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(BIG_ID_TYPE, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(UUID_LEN + ID_LEN))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON_TYPE)


class ImportJob(Base):
    """A bulk import running in the background, and how far it got. The thread doing it
    updates the row (at least every few seconds while it runs), so any web worker can answer
    the status page; a `running` row that stopped changing belongs to a process that died."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        Index("ix_import_jobs_owner_id", "owner_id"),
        Index("ix_import_jobs_updated_at", "updated_at"),
        MYSQL_TABLE_OPTIONS,
    )

    job_id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # the admin who started it
    kind: Mapped[str] = mapped_column(String(16))  # candidates
    # running / finished / failed; "interrupted" is how a stale running row is reported.
    state: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer)
    imported: Mapped[list[str]] = mapped_column(JSON_TYPE)  # candidate numbers
    problems: Mapped[list[str]] = mapped_column(JSON_TYPE)  # sentences, at most a few hundred
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
