"""Serve the local API on the loopback interface from a background thread.

Only 127.0.0.1 (or ::1) is accepted: the API takes answers and check-ins without a password,
so nothing outside the kiosk may reach it. Port 0 picks a free port (tests, dev server);
`url` says which. Lifecycle: `start()`, `stop()` (shuts the listener and joins the thread).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Final

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

log = logging.getLogger(__name__)

ALLOWED_HOSTS: Final = frozenset({"127.0.0.1", "::1"})
DEFAULT_PORT: Final = 8771
STOP_TIMEOUT_S: Final = 5.0
POLL_S: Final = 0.05  # how soon stop() is noticed


class NotLoopbackError(ValueError):
    """The local API was asked to listen somewhere other than the loopback address."""


class _QuietHandler(WSGIRequestHandler):
    """Request lines at DEBUG: the screen polls /v1/state every second or so."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug('"%s" %s %s', self.requestline, code, size)


class LocalApiServer:
    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        if host not in ALLOWED_HOSTS:
            raise NotLoopbackError(f"the local API listens on 127.0.0.1 or ::1 only, not {host!r}")
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_S,), name="local-api", daemon=True
        )

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        """Base URL of the API, e.g. http://127.0.0.1:8771/v1"""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def start(self) -> None:
        self._thread.start()
        log.info("local API listening on %s", self.url)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(STOP_TIMEOUT_S)
        self._server.server_close()

    def __enter__(self) -> LocalApiServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
