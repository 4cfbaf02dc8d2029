"""Reading the dead-letter table (admin only in the API)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.models import DeadLetter
from central.services.errors import InvalidParameter
from central.services.events import DEFAULT_LIMIT, MAX_LIMIT, parse_limit


@dataclass(frozen=True)
class DeadLetterPage:
    items: list[DeadLetter]
    next_cursor: int | None


def list_dead_letters(
    session: Session, cursor: int | None = None, limit: int = DEFAULT_LIMIT
) -> DeadLetterPage:
    """Newest first; `cursor` is the smallest id of the previous page."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter("limit", f"must be between 1 and {MAX_LIMIT}")
    statement = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit + 1)
    if cursor is not None:
        statement = statement.where(DeadLetter.id < cursor)
    rows = list(session.scalars(statement))
    items = rows[:limit]
    return DeadLetterPage(items, items[-1].id if len(rows) > limit and items else None)


def parse_dead_letter_params(params: Mapping[str, str]) -> tuple[int | None, int]:
    """(cursor, limit) from API query parameters; raises InvalidParameter."""
    raw = params.get("cursor") or None
    cursor = None
    if raw is not None:
        if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
            raise InvalidParameter("cursor", "is not a cursor returned by this API")
        cursor = int(raw)
    return cursor, parse_limit(params)
