"""Every error is JSON: {"error": code, "message": sentence}, with the right status."""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, jsonify
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from central.services import Conflict, InvalidParameter, NotFound, ServiceError
from central.web.translation import _

log = logging.getLogger(__name__)

_STATUS = {InvalidParameter: 400, NotFound: 404, Conflict: 409}


def error_response(status: int, code: str, message: str, **extra: str) -> Response:
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    return response


def _code(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _http_error(exc: HTTPException) -> BaseResponse:
    response = exc.get_response()  # keeps headers such as Allow and WWW-Authenticate
    body = error_response(exc.code or 500, _code(exc.name), exc.description or exc.name)
    response.set_data(body.get_data())
    response.content_type = "application/json"
    return response


def _csrf_error(exc: CSRFError) -> Response:
    return error_response(400, "csrf_failed", exc.description or _("The CSRF token is invalid."))


def _service_error(exc: ServiceError) -> Response:
    status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
    if isinstance(exc, InvalidParameter):
        return error_response(status, exc.code, exc.message, parameter=exc.parameter)
    return error_response(status, exc.code, exc.message)


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error: %s", type(exc).__name__)
    return error_response(500, "internal_error", _("Something went wrong on the server."))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(Exception, _unexpected)
