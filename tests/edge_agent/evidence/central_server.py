"""The real central Flask app on a local port (werkzeug's server in a thread) over a migrated
SQLite database, for the uploader tests."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from central.db import create_db_engine, make_sessionmaker, upgrade_database
from central.models import Evidence
from central.services import create_user
from central.web import create_app
from tests.support.services import free_port

USER = "kiosk-uploader"
PASSWORD = "kiosk uploader password"


class CentralServer:
    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.database_url = f"sqlite:///{root / 'central.sqlite3'}"
        self.evidence_dir = root / "central-evidence"
        self.port = port or free_port()
        upgrade_database(self.database_url)
        engine = create_db_engine(self.database_url)
        with make_sessionmaker(engine).begin() as session:
            create_user(session, USER, PASSWORD, "invigilator")
        engine.dispose()
        self.app = create_app(
            {
                "DATABASE_URL": self.database_url,
                "SECRET_KEY": "test",
                "TESTING": True,
                "EVIDENCE_DIR": str(self.evidence_dir),
            }
        )
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CentralServer:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)

    def stored(self) -> dict[str, Evidence]:
        engine = create_db_engine(self.database_url)
        try:
            with make_sessionmaker(engine)() as session:
                return {row.sha256: row for row in session.scalars(select(Evidence))}
        finally:
            engine.dispose()
