"""The shapes a console shows for an event and a kiosk: one definition for the page snapshot
and the live feed, so what a reconnecting console replays equals what a reload shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from protocol.models import ViolationEvent

# Heartbeat fields a tile shows; the rest (stage timings, memory) stay on the device page.
HEARTBEAT_FIELDS = ("exam", "disabled_stages", "audio_level_dbfs", "fps", "session_id")


def event_summary(event: Any) -> dict[str, Any]:
    """An Event row (or a Core row of the events table) for a tile and the alert feed."""
    return {
        "event_id": event.event_id,
        "violation_id": event.violation_id,
        "session_id": event.session_id,
        "type": event.type,
        "state": event.state,
        "severity": event.severity,
        "started_at": event.started_at,
        "ended_at": event.ended_at,
        "duration_s": event.duration_s,
        "evidence": event.evidence,
        "received_at": event.received_at,
    }


def device_summary(
    last_status: str | None, last_seen_at: datetime | None, heartbeat: dict[str, Any] | None
) -> dict[str, Any]:
    beat = heartbeat or {}
    return {
        "last_status": last_status,
        "last_seen_at": last_seen_at,
        "heartbeat": {name: beat.get(name) for name in HEARTBEAT_FIELDS},
    }


def message_summary(event: ViolationEvent, received_at: datetime) -> dict[str, Any]:
    """The same as event_summary, from the message being stored (saves reading it back)."""
    return {
        "event_id": str(event.id),
        "violation_id": str(event.violation_id),
        "session_id": event.subject.session_id,
        "type": event.type.value,
        "state": event.state.value,
        "severity": event.severity.value,
        "started_at": event.started_at,
        "ended_at": event.ended_at,
        "duration_s": event.duration_s,
        "evidence": [ref.model_dump(mode="json") for ref in event.evidence],
        "received_at": received_at,
    }
