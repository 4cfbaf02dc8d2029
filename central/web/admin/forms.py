"""Reading admin form fields into checked values (a wrong one raises InvalidParameter), and
applying a change with its outcome shown as a message."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime

from flask import flash, redirect, request
from flask_wtf import FlaskForm
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as BaseResponse

from central.services.errors import InvalidParameter, ServiceError
from central.web.database import get_session
from central.web.translation import _
from protocol.topics import ID_PATTERN

_ID_RE = re.compile(ID_PATTERN)


class CsrfForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the fields are read with the helpers below."""


def text(name: str, *, max_length: int = 200, required: bool = True) -> str:
    value = request.form.get(name, "").strip()
    if required and not value:
        raise InvalidParameter(name, _("is required"))
    if len(value) > max_length:
        raise InvalidParameter(name, _("is longer than %(max)d characters", max=max_length))
    return value


def identifier(name: str) -> str:
    value = text(name, max_length=64)
    if not _ID_RE.match(value):
        raise InvalidParameter(name, _("must be 1-64 letters, digits, '_', '.', '-'"))
    return value


def number(name: str, low: float, high: float) -> float:
    raw = request.form.get(name, "").strip()
    try:
        value = float(raw)
    except ValueError:
        raise InvalidParameter(name, _("%(value)r is not a number", value=raw[:20])) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidParameter(name, _("must be between %(low)g and %(high)g", low=low, high=high))
    return value


def whole(name: str, low: int, high: int) -> int:
    value = number(name, low, high)
    if value != int(value):
        raise InvalidParameter(name, _("must be a whole number"))
    return int(value)


def checked(name: str) -> bool:
    return request.form.get(name) in ("on", "1", "true", "yes")


def cells(name: str) -> frozenset[tuple[int, int]]:
    """Grid cells written "row,column" separated by ";" or spaces (e.g. "1,3; 2,3")."""
    raw = request.form.get(name, "").strip()
    found: set[tuple[int, int]] = set()
    for part in filter(None, re.split(r"[;\s]+", raw)):
        match = re.fullmatch(r"(\d{1,3}),(\d{1,3})", part)
        if match is None:
            raise InvalidParameter(name, _("%(value)r is not a cell like 2,3", value=part[:20]))
        found.add((int(match.group(1)), int(match.group(2))))
    return frozenset(found)


def moment(name: str) -> datetime:
    """A datetime-local field, read as UTC."""
    raw = request.form.get(name, "").strip()
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidParameter(name, _("must be a date and time (UTC)")) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def apply_change(change: Callable[[], str], back: str) -> BaseResponse:
    """Run the change (it returns the message to show), commit, go back with 303. CSRF is
    checked before any view by Flask-WTF's CSRFProtect; this checks it once more for forms
    posted when CSRFProtect is switched off in a test config."""
    session = get_session()
    if not CsrfForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(back, 303)
    try:
        message = change()
        session.commit()
    except ServiceError as exc:
        session.rollback()
        flash(exc.message, "error")
        return redirect(back, 303)
    except ValidationError as exc:  # a policy model refused a combination of values
        session.rollback()
        flash("; ".join(f"{_where(e['loc'])}{e['msg']}" for e in exc.errors()), "error")
        return redirect(back, 303)
    except IntegrityError:  # someone else made the same change at the same moment
        session.rollback()
        flash(_("That conflicts with a change made at the same moment; reload and retry."), "error")
        return redirect(back, 303)
    flash(message, "ok")
    return redirect(back, 303)


def _where(loc: tuple[int | str, ...]) -> str:
    return f"{'.'.join(str(part) for part in loc)}: " if loc else ""
