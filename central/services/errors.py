"""Domain errors raised by the service layer; the web layer maps them to HTTP statuses."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of the errors a caller is expected to handle. `code` is stable and machine-readable."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidParameter(ServiceError):
    """A caller-supplied value is wrong; `parameter` names it."""

    code = "invalid_parameter"

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter} {message}")
        self.parameter = parameter


class Conflict(ServiceError):
    code = "conflict"


class NotFound(ServiceError):
    code = "not_found"
