"""Revision 0002 (evidence) upgrades and downgrades on SQLite and MariaDB, leaving 0001 alone."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from central.db import create_db_engine, current_revision, downgrade_database, upgrade_database

BEFORE = {"devices", "events", "violations", "device_messages", "dead_letters", "users"}


def _schema(url: str) -> tuple[set[str], list[str]]:
    engine = create_db_engine(url)
    try:
        inspector = inspect(engine)
        tables = set(inspector.get_table_names()) - {"alembic_version"}
        indexes = (
            sorted(ix["name"] or "" for ix in inspector.get_indexes("evidence"))
            if "evidence" in tables
            else []
        )
        return tables, indexes
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    upgrade_database(url, "0001_initial")
    assert _schema(url) == (BEFORE, [])
    upgrade_database(url, "0002_evidence")
    assert current_revision(url) == "0002_evidence"
    assert _schema(url) == (BEFORE | {"evidence"}, ["ix_evidence_device_id"])
    downgrade_database(url, "0001_initial")
    assert current_revision(url) == "0001_initial"
    assert _schema(url) == (BEFORE, [])
    upgrade_database(url, "0002_evidence")
    assert _schema(url)[0] == BEFORE | {"evidence"}
    downgrade_database(url, "base")
    assert _schema(url) == (set(), [])


def test_sqlite_0002_up_down_up(sqlite_url: str) -> None:
    _round_trip(sqlite_url)


@pytest.mark.mariadb
def test_mariadb_0002_up_down_up(mariadb_url: str) -> None:
    _round_trip(mariadb_url)


@pytest.mark.mariadb
def test_mariadb_evidence_columns(mariadb_url: str) -> None:
    upgrade_database(mariadb_url)
    engine = create_db_engine(mariadb_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT column_name, column_type, collation_name FROM information_schema.columns "
                "WHERE table_schema = DATABASE() AND table_name = 'evidence'"
            ).all()
    finally:
        engine.dispose()
    columns = {name: (ctype, collation) for name, ctype, collation in rows}
    assert columns["sha256"] == ("varchar(64)", "utf8mb4_bin")
    assert columns["size_bytes"][0].startswith("bigint")
    assert columns["uploaded_at"][0] == "datetime(6)"
