"""Rows to JSON-ready dicts for the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from central.models import DeadLetter, Event

PAYLOAD_PREVIEW_CHARS = 4096


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def event_to_dict(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "violation_id": event.violation_id,
        "centre_id": event.centre_id,
        "device_id": event.device_id,
        "seat_id": event.seat_id,
        "session_id": event.session_id,
        "candidate_id": event.candidate_id,
        "exam_id": event.exam_id,
        "type": event.type,
        "state": event.state,
        "severity": event.severity,
        "confidence": event.confidence,
        "started_at": iso(event.started_at),
        "ended_at": iso(event.ended_at),
        "duration_s": event.duration_s,
        "details": event.details,
        "evidence": event.evidence,
        "device_time": iso(event.device_time),
        "monotonic_s": event.monotonic_s,
        "boot_id": event.boot_id,
        "clock_synced": event.clock_synced,
        "seq": event.seq,
        "simulated": event.simulated,
        "received_at": iso(event.received_at),
    }


def dead_letter_to_dict(letter: DeadLetter) -> dict[str, Any]:
    text = letter.payload.decode("utf-8", "replace")
    return {
        "id": letter.id,
        "received_at": iso(letter.received_at),
        "topic": letter.topic,
        "reason_code": letter.reason_code,
        "reason": letter.reason,
        "centre_id": letter.centre_id,
        "device_id": letter.device_id,
        "message_id": letter.message_id,
        "payload_size": letter.payload_size,
        "payload_preview": text[:PAYLOAD_PREVIEW_CHARS],
        "payload_truncated": letter.payload_size > len(letter.payload)
        or len(text) > PAYLOAD_PREVIEW_CHARS,
    }
