"""Revision 0003 (exam domain) upgrades and downgrades on SQLite and MariaDB, leaves 0002 alone,
and its keys hold on both: foreign keys, one seat per kiosk, one decision per violation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, inspect
from sqlalchemy.exc import IntegrityError

from central.db import (
    create_db_engine,
    current_revision,
    downgrade_database,
    make_sessionmaker,
    upgrade_database,
)
from central.domain_models import Centre, Hall, Review, Seat
from central.models import Base
from central.services import create_user, store_batch
from tests.central import factories as f

BEFORE = {"devices", "events", "violations", "device_messages", "dead_letters", "users", "evidence"}
ADDED = {
    "centres",
    "halls",
    "seats",
    "exams",
    "candidates",
    "exam_sessions",
    "reviews",
    "invigilator_halls",
    "audit_log",
}
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def _tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    upgrade_database(url, "0002_evidence")
    assert _tables(url) == BEFORE
    upgrade_database(url, "0003_exam_domain")
    assert current_revision(url) == "0003_exam_domain"
    assert _tables(url) == BEFORE | ADDED
    downgrade_database(url, "0002_evidence")
    assert current_revision(url) == "0002_evidence"
    assert _tables(url) == BEFORE
    upgrade_database(url, "0003_exam_domain")
    assert _tables(url) == BEFORE | ADDED
    downgrade_database(url, "base")
    assert _tables(url) == set()


def test_sqlite_0003_up_down_up(sqlite_url: str) -> None:
    _round_trip(sqlite_url)


@pytest.mark.mariadb
def test_mariadb_0003_up_down_up(mariadb_url: str) -> None:
    _round_trip(mariadb_url)


def _hall(url: str) -> None:
    engine = create_db_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Centre), {"centre_id": "c1", "name": "C", "created_at": NOW})
            conn.execute(
                insert(Hall),
                {
                    "hall_id": "h1",
                    "centre_id": "c1",
                    "name": "H",
                    "grid_rows": 2,
                    "grid_columns": 2,
                    "gaps": [[1, 2]],
                    "created_at": NOW,
                },
            )
            conn.execute(
                insert(Seat),
                {
                    "seat_id": "s1",
                    "hall_id": "h1",
                    "label": "A1",
                    "grid_row": 1,
                    "grid_column": 1,
                    "device_id": "kiosk-1",
                },
            )
    finally:
        engine.dispose()


def _insert_fails(url: str, table: type[Base], row: dict[str, object]) -> None:
    engine = create_db_engine(url)
    try:
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert(table), row)
    finally:
        engine.dispose()


def test_keys_hold(any_db_url: str) -> None:
    _hall(any_db_url)
    seat = {"hall_id": "h1", "label": "B1", "grid_row": 2, "grid_column": 1}
    _insert_fails(any_db_url, Seat, {**seat, "seat_id": "s2", "hall_id": "nope"})  # no such hall
    _insert_fails(any_db_url, Seat, {**seat, "seat_id": "s2", "device_id": "kiosk-1"})  # bound
    _insert_fails(any_db_url, Seat, {**seat, "seat_id": "s2", "grid_row": 1})  # cell taken
    _insert_fails(any_db_url, Seat, {**seat, "seat_id": "s2", "label": "A1"})  # label taken
    review = {
        "violation_id": "0190d2f2-0000-7000-8000-000000000000",
        "decision": "confirmed",
        "note": "",
        "reviewer_id": 1,
        "decided_at": NOW,
    }
    _insert_fails(any_db_url, Review, review)  # no such violation (nor user)


def test_one_review_per_violation(any_db_url: str) -> None:
    engine = create_db_engine(any_db_url)
    event = f.event()
    try:
        with make_sessionmaker(engine).begin() as session:
            user = create_user(session, "rita", "correct horse battery", "reviewer")
            store_batch(session, [event])
        row = {
            "violation_id": str(event.violation_id),
            "decision": "confirmed",
            "note": "seen",
            "reviewer_id": user.id,
            "decided_at": NOW,
        }
        with engine.begin() as conn:
            conn.execute(insert(Review), row)
    finally:
        engine.dispose()
    _insert_fails(any_db_url, Review, {**row, "decision": "dismissed"})


@pytest.mark.mariadb
def test_mariadb_domain_columns(mariadb_url: str) -> None:
    upgrade_database(mariadb_url)
    engine = create_db_engine(mariadb_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT table_name, column_name, column_type, collation_name "
                "FROM information_schema.columns WHERE table_schema = DATABASE() "
                "AND table_name IN ('seats', 'exam_sessions', 'audit_log')"
            ).all()
            engines: dict[str, str] = dict(
                conn.exec_driver_sql(
                    "SELECT table_name, engine FROM information_schema.tables "
                    "WHERE table_schema = DATABASE()"
                ).all()
            )
    finally:
        engine.dispose()
    columns = {(t, c): (ctype, coll) for t, c, ctype, coll in rows}
    assert columns[("seats", "seat_id")] == ("varchar(64)", "utf8mb4_bin")
    assert columns[("exam_sessions", "scheduled_start")][0] == "datetime(6)"
    assert columns[("exam_sessions", "trust_score")][0] == "double"
    assert columns[("audit_log", "id")][0].startswith("bigint")
    assert all(engines[t] == "InnoDB" for t in ADDED)
