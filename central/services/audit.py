"""The audit log: every action that changes data or reveals evidence leaves one entry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.domain_models import AuditEntry
from central.services.users import UserInfo

SYSTEM = UserInfo(id=0, username="system", role="system")  # actions nobody clicked


def record(
    session: Session,
    actor: UserInfo,
    action: str,
    target: tuple[str, str],
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an entry in the caller's transaction, so it commits (or not) with the change."""
    target_type, target_id = target
    session.add(
        AuditEntry(
            at=datetime.now(UTC),
            user_id=actor.id or None,
            username=actor.username,
            action=action,
            target_type=target_type,
            target_id=target_id,
            detail=detail,
        )
    )


def entries_for(session: Session, target_type: str, target_id: str) -> list[AuditEntry]:
    statement = (
        select(AuditEntry)
        .where(AuditEntry.target_type == target_type, AuditEntry.target_id == target_id)
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(statement))
