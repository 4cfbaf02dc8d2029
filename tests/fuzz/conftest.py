"""Fuzz fixtures: a migrated SQLite database shared by every example of a test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from central.db import create_db_engine, make_sessionmaker, upgrade_database


@pytest.fixture
def sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    upgrade_database(sqlite_url)
    engine = create_db_engine(sqlite_url)
    yield make_sessionmaker(engine)
    engine.dispose()
