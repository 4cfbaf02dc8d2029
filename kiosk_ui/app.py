"""The kiosk screen's Flask app factory. Serve it on 127.0.0.1 only (see `__main__`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, abort, g, request
from flask_babel import Babel

from kiosk_ui.agent_client import AgentClient
from kiosk_ui.i18n import LANGUAGES, TRANSLATIONS, text_direction
from kiosk_ui.quiz import KioskClock, SystemClock
from kiosk_ui.service import KioskService, KioskSettings
from kiosk_ui.store import QuizStore

LOOPBACK = "127.0.0.1"


def create_app(
    db_path: Path,
    agent_url: str,
    *,
    clock: KioskClock | None = None,
    settings: KioskSettings | None = None,
) -> Flask:
    app = Flask(__name__)
    app.config.update(
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        BABEL_DEFAULT_LOCALE="en",
        SEND_FILE_MAX_AGE_DEFAULT=0,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    service = KioskService(
        QuizStore(db_path), AgentClient(agent_url), clock or SystemClock(), settings
    )
    app.extensions["kiosk"] = service
    Babel(app, locale_selector=service.language)

    from kiosk_ui.api import api  # noqa: PLC0415 (views import the app's helpers)
    from kiosk_ui.views import screens  # noqa: PLC0415

    app.register_blueprint(screens)
    app.register_blueprint(api)
    app.before_request(_same_origin_only)
    app.after_request(_headers)
    app.context_processor(_template_globals)
    return app


def kiosk() -> KioskService:
    from flask import current_app  # noqa: PLC0415

    service: KioskService = current_app.extensions["kiosk"]
    return service


def _same_origin_only() -> None:
    """The screen is the only client: a POST from any other page's origin is refused."""
    if request.method == "POST":
        origin = request.headers.get("Origin")
        if origin and origin not in ("null", request.host_url.rstrip("/")):
            abort(403)


def _headers(response: Any) -> Any:
    # Everything is served by this app: no other origin for scripts, styles or images.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def _template_globals() -> dict[str, Any]:
    language = kiosk().language()
    return {
        "language": language,
        "direction": text_direction(language),
        "languages": LANGUAGES,
        "stage": getattr(g, "stage", None),
    }
