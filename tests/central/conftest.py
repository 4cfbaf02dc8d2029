"""Central's fixtures: a migrated throwaway SQLite database and sessions on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from central.db import create_db_engine, make_sessionmaker, upgrade_database


@pytest.fixture
def migrated_sqlite_url(sqlite_url: str) -> str:
    upgrade_database(sqlite_url)
    return sqlite_url


@pytest.fixture
def engine(migrated_sqlite_url: str) -> Iterator[Engine]:
    engine = create_db_engine(migrated_sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database of each kind: the same code must behave the same on both."""
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "mariadb_url")
    upgrade_database(url)
    return url


@pytest.fixture
def any_sessions(any_db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(any_db_url)
    yield make_sessionmaker(engine)
    engine.dispose()
