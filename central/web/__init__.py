"""Central's web app: login, REST API, minimal console. `create_app` is the factory."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Flask, Response, current_app, request
from pydantic import ValidationError

from central.config import CentralConfig, describe_errors
from central.web import (
    admin,
    api,
    auth,
    console,
    enrolments,
    evidence,
    halls,
    live,
    reports,
    results,
    review,
)
from central.web.database import init_database
from central.web.errors import register_error_handlers
from central.web.extensions import csrf, limiter, login_manager
from central.web.i18n import init_i18n

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'"
)


def _defaults(settings: CentralConfig) -> dict[str, Any]:
    return {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.cookie_secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": settings.cookie_secure,
        "WTF_CSRF_ENABLED": True,
        "EVIDENCE_DIR": settings.evidence_dir,
        "EVIDENCE_MAX_BYTES": settings.evidence_max_bytes,
        "RATELIMIT_STORAGE_URI": settings.rate_limit_storage,
        "CENTRE_DIR": settings.centre_dir,
    }


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Settings come from PROCTOR_* variables; `config` entries override them
    (e.g. {"DATABASE_URL": ..., "SECRET_KEY": ..., "TESTING": True})."""
    app = Flask(__name__)
    try:
        settings = CentralConfig.from_env()
    except ValidationError as exc:  # pydantic's own message would echo values, maybe secrets
        raise RuntimeError(f"invalid configuration: {describe_errors(exc)}") from None
    app.config.update(_defaults(settings))
    app.config.update(config or {})
    if not app.config["SECRET_KEY"]:
        log.warning("PROCTOR_SECRET_KEY is not set: using a random key, logins end on restart")
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    init_database(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    init_i18n(app)  # English and French pages; the /language switcher
    limiter.init_app(app)
    register_error_handlers(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(evidence.bp)
    app.register_blueprint(halls.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(results.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(live.bp)
    app.register_blueprint(enrolments.bp)
    app.register_blueprint(admin.bp)
    app.after_request(_security_headers)
    return app


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure or current_app.config["SESSION_COOKIE_SECURE"]:
        # Served over TLS (directly or behind a proxy that sets the cookie flag): browsers
        # must not fall back to plain HTTP for a year.
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    return response
