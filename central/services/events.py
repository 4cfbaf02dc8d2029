"""Reading events back: filters and keyset paging ordered by event id (UUIDv7, time-ordered)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from central.models import Event
from central.services.errors import InvalidParameter
from protocol.models import ViolationType
from protocol.topics import ID_PATTERN

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_ID_HINT = "letters, digits, '_', '.', '-', at most 64"
_ID_RE = re.compile(ID_PATTERN)
_LIMIT_RE = re.compile(r"[0-9]{1,7}")


@dataclass(frozen=True)
class EventFilters:
    device_id: str | None = None
    session_id: str | None = None
    type: str | None = None
    since: datetime | None = None  # started_at >= since
    until: datetime | None = None  # started_at < until


@dataclass(frozen=True)
class EventQuery:
    filters: EventFilters
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> EventQuery:
        """Validate API query parameters; raises InvalidParameter naming the bad one."""
        filters = EventFilters(
            device_id=_id_param(params, "device"),
            session_id=_id_param(params, "session"),
            type=_type_param(params),
            since=_time_param(params, "since"),
            until=_time_param(params, "until"),
        )
        if filters.since and filters.until and filters.since >= filters.until:
            raise InvalidParameter("until", "must be later than since")
        return cls(filters, _cursor_param(params), parse_limit(params))


@dataclass(frozen=True)
class EventPage:
    items: list[Event]
    next_cursor: str | None


def list_events(
    session: Session,
    filters: EventFilters,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    newest_first: bool = False,
) -> EventPage:
    """One page of events matching `filters`, after `cursor` (the last id of the previous page).

    Oldest first by default, which suits incremental sync: follow next_cursor until it is None.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter("limit", f"must be between 1 and {MAX_LIMIT}")
    statement = _filtered(filters)
    if newest_first:
        if cursor is not None:
            statement = statement.where(Event.event_id < cursor)
        statement = statement.order_by(Event.event_id.desc())
    else:
        if cursor is not None:
            statement = statement.where(Event.event_id > cursor)
        statement = statement.order_by(Event.event_id)
    rows = list(session.scalars(statement.limit(limit + 1)))
    more = len(rows) > limit
    items = rows[:limit]
    return EventPage(items, items[-1].event_id if more and items else None)


def _filtered(filters: EventFilters) -> Select[Event]:
    statement = select(Event)
    if filters.device_id is not None:
        statement = statement.where(Event.device_id == filters.device_id)
    if filters.session_id is not None:
        statement = statement.where(Event.session_id == filters.session_id)
    if filters.type is not None:
        statement = statement.where(Event.type == filters.type)
    if filters.since is not None:
        statement = statement.where(Event.started_at >= filters.since)
    if filters.until is not None:
        statement = statement.where(Event.started_at < filters.until)
    return statement


def _id_param(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not _ID_RE.match(value):
        raise InvalidParameter(name, f"is not a valid id ({_ID_HINT})")
    return value


def _type_param(params: Mapping[str, str]) -> str | None:
    value = params.get("type")
    if value is None or value == "":
        return None
    try:
        return ViolationType(value).value
    except ValueError:
        raise InvalidParameter("type", f"is not a known violation type: {value[:40]!r}") from None


def _time_param(params: Mapping[str, str], name: str) -> datetime | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(name, "is not an ISO-8601 time, e.g. 2026-11-25T09:30:00Z") from None
    if parsed.tzinfo is None:
        raise InvalidParameter(name, "needs a timezone, e.g. 2026-11-25T09:30:00Z")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise InvalidParameter(name, "is out of range") from None


def _cursor_param(params: Mapping[str, str]) -> str | None:
    value = params.get("cursor")
    if value is None or value == "":
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidParameter("cursor", "is not a cursor returned by this API") from None


def parse_limit(params: Mapping[str, str]) -> int:
    value = params.get("limit")
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not _LIMIT_RE.fullmatch(value) or not 1 <= int(value) <= MAX_LIMIT:
        raise InvalidParameter("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(value)
