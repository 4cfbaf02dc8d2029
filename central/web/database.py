"""One SQLAlchemy session per request, closed at teardown."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from central.db import create_db_engine, make_sessionmaker

_EXTENSION = "central.db"


def init_database(app: Flask) -> None:
    engine = create_db_engine(app.config["DATABASE_URL"])
    app.extensions[_EXTENSION] = make_sessionmaker(engine)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    if "db_session" not in g:
        factory: sessionmaker[Session] = current_app.extensions[_EXTENSION]
        g.db_session = factory()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
