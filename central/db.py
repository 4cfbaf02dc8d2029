"""Engines, sessions and migrations for SQLite (demo) and MySQL/MariaDB (production).

SQLite runs in WAL mode with foreign keys on and a busy timeout, and SQLAlchemy emits BEGIN
IMMEDIATE itself so that a SELECT and the INSERT after it share one snapshot (the sqlite3
module's legacy mode would run the SELECT outside the transaction) and never fail to upgrade
to a write.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
MYSQL_CONNECT_TIMEOUT_S = 5
MIGRATIONS = "central:migrations"


def redact(url: str | URL) -> str:
    """The URL with its password hidden, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


def _is_mysql(url: URL) -> bool:
    return url.get_backend_name() in ("mysql", "mariadb")


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")  # acked means on disk, even on power loss
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE: take the write lock up front. A deferred transaction that reads and then
        # writes fails at once with "database is locked" (no busy wait) when another process
        # committed in between, as the web (evidence upload, audit entries) and the ingest
        # workers do. SQLite is the demo's database, so serialising writers costs nothing.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_db_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine configured for its backend; extra keyword arguments go to create_engine."""
    parsed = make_url(url)
    # Statement parameters are candidates' data (answers, ids): keep them out of error messages.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    if _is_mysql(parsed):
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_recycle", 3600)
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", MYSQL_CONNECT_TIMEOUT_S)
        return create_engine(parsed, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (the web layer renders after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration pointing at the migrations shipped inside this package."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_database(url: str | URL, revision: str = "head") -> None:
    """Apply migrations up to `revision` (default: the newest)."""
    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            log.info("migrating %s to %s", redact(url), revision)
            command.upgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()


def downgrade_database(url: str | URL, revision: str = "base") -> None:
    """Revert migrations down to `revision` (default: an empty database)."""
    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            log.info("downgrading %s to %s", redact(url), revision)
            command.downgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()


def current_revision(url: str | URL) -> str | None:
    """The revision the database is at, or None for an unmigrated database."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
