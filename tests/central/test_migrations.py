"""The same Alembic migrations upgrade, downgrade and re-upgrade on SQLite and MariaDB, and leave
a schema that matches the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from central import (
    console_models,  # noqa: F401  (and the live-console tables)
    domain_models,  # noqa: F401  (the exam-domain tables are on Base too)
)
from central.db import create_db_engine, current_revision, downgrade_database, upgrade_database
from central.models import Base

TABLES = {
    "devices",
    "events",
    "violations",
    "device_messages",
    "dead_letters",
    "users",
    "evidence",
    "centres",
    "halls",
    "seats",
    "exams",
    "candidates",
    "exam_sessions",
    "reviews",
    "invigilator_halls",
    "audit_log",
    "commands",
    "alert_acks",
    "alert_responses",
    "live_feed",
    "live_feed_counter",
    "device_keys",
    "import_jobs",
}


def _tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _schema_diff(url: str) -> list[object]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    assert current_revision(url) is None
    upgrade_database(url)
    assert current_revision(url) is not None
    assert _tables(url) == TABLES
    assert _schema_diff(url) == []
    downgrade_database(url, "base")
    assert current_revision(url) is None
    assert _tables(url) == set()
    upgrade_database(url)
    assert _tables(url) == TABLES


def test_sqlite_upgrade_downgrade_upgrade(sqlite_url: str) -> None:
    _round_trip(sqlite_url)


@pytest.mark.mariadb
def test_mariadb_upgrade_downgrade_upgrade(mariadb_url: str) -> None:
    _round_trip(mariadb_url)


@pytest.mark.mariadb
def test_mariadb_columns_keep_microseconds_and_case(mariadb_url: str) -> None:
    upgrade_database(mariadb_url)
    engine = create_db_engine(mariadb_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT column_name, column_type, collation_name FROM information_schema.columns "
                "WHERE table_schema = DATABASE() AND table_name = 'events'"
            ).all()
    finally:
        engine.dispose()
    columns = {name: (ctype, collation) for name, ctype, collation in rows}
    assert columns["started_at"][0] == "datetime(6)"
    assert columns["event_id"][1] == "utf8mb4_bin"
    assert columns["confidence"][0] == "double"
