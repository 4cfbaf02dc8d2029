"""Revision 0006 (retention tombstones) upgrades and downgrades on SQLite and MariaDB, keeping
the evidence rows that were there before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text

from central.db import create_db_engine, current_revision, downgrade_database, upgrade_database

SHA = "ab" * 32
ROW = (
    "INSERT INTO evidence (sha256, size_bytes, media_type, stored_path, device_id, uploaded_at) "
    "VALUES (:sha, 10, 'video/webm', :path, 'kiosk-1', :at)"
)


def _evidence_columns(url: str) -> dict[str, str]:
    engine = create_db_engine(url)
    try:
        return {c["name"]: str(c["type"]) for c in inspect(engine).get_columns("evidence")}
    finally:
        engine.dispose()


def _shas(url: str) -> list[str]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(text("SELECT sha256 FROM evidence")))
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    upgrade_database(url, "0005_integrity")
    engine = create_db_engine(url)
    try:
        with engine.begin() as conn:
            at = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
            conn.execute(text(ROW), {"sha": SHA, "path": f"ab/{SHA}.webm", "at": at})
    finally:
        engine.dispose()
    assert "purged_at" not in _evidence_columns(url)
    upgrade_database(url, "0006_retention")
    assert current_revision(url) == "0006_retention"
    columns = _evidence_columns(url)
    assert {"purged_at", "purged_reason"} <= set(columns)
    assert _shas(url) == [SHA]
    downgrade_database(url, "0005_integrity")
    assert not {"purged_at", "purged_reason"} & set(_evidence_columns(url))
    assert _shas(url) == [SHA]
    upgrade_database(url)
    assert "purged_at" in _evidence_columns(url)


def test_sqlite_0006_up_down_up(sqlite_url: str) -> None:
    _round_trip(sqlite_url)


@pytest.mark.mariadb
def test_mariadb_0006_up_down_up(mariadb_url: str) -> None:
    _round_trip(mariadb_url)


@pytest.mark.mariadb
def test_mariadb_tombstone_columns(mariadb_url: str) -> None:
    upgrade_database(mariadb_url)
    engine = create_db_engine(mariadb_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT column_name, column_type, is_nullable FROM information_schema.columns "
                "WHERE table_schema = DATABASE() AND table_name = 'evidence'"
            ).all()
    finally:
        engine.dispose()
    columns = {name: (ctype, nullable) for name, ctype, nullable in rows}
    assert columns["purged_at"] == ("datetime(6)", "YES")
    assert columns["purged_reason"] == ("varchar(255)", "YES")
