"""Builders of valid kiosk messages for central's tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from protocol import (
    CheckIn,
    CommandReceipt,
    Consent,
    DeviceClock,
    DeviceStatus,
    EventState,
    Explanation,
    Heartbeat,
    SessionRef,
    Severity,
    ViolationEvent,
    ViolationType,
    uuid7,
)

CENTRE = "centre-1"
T0 = datetime(2026, 11, 25, 9, 30, 0, 123456, tzinfo=UTC)


def clock(at: datetime = T0, boot: str = "boot-1", monotonic: float = 100.0) -> DeviceClock:
    return DeviceClock(wall_time=at, monotonic_s=monotonic, boot_id=boot, synced=True)


def subject(session: str = "sess-1", seat: str = "A-01") -> SessionRef:
    return SessionRef(seat_id=seat, session_id=session, candidate_id="cand-1", exam_id="exam-1")


def event(
    device: str = "kiosk-1",
    *,
    seq: int = 1,
    violation_id: uuid.UUID | None = None,
    state: EventState = EventState.STARTED,
    started_at: datetime = T0,
    event_id: uuid.UUID | None = None,
    **fields: Any,
) -> ViolationEvent:
    ended = state is EventState.ENDED
    values: dict[str, Any] = {
        "schema_version": 1,
        "kind": "violation",
        "centre_id": CENTRE,
        "device_id": device,
        "clock": clock(started_at),
        "id": event_id or uuid7(),
        "seq": seq,
        "violation_id": violation_id or uuid7(),
        "subject": subject(),
        "type": ViolationType.LOOKING_AWAY,
        "state": state,
        "started_at": started_at,
        "ended_at": started_at + timedelta(seconds=5) if ended else None,
        "duration_s": 5.0 if ended else 0.0,
        "severity": Severity.MEDIUM,
        "confidence": 0.8,
        "details": {"yaw_deg": 38.5},
    }
    values.update(fields)
    return ViolationEvent(**values)


def checkin(device: str = "kiosk-1", seq: int = 1) -> CheckIn:
    return CheckIn(
        schema_version=1,
        kind="checkin",
        centre_id=CENTRE,
        device_id=device,
        clock=clock(),
        id=uuid7(),
        seq=seq,
        subject=subject(),
        method="face_match",
        match_distance=0.4,
        attempts=1,
    )


def explanation(violation_id: uuid.UUID, device: str = "kiosk-1", seq: int = 1) -> Explanation:
    return Explanation(
        schema_version=1,
        kind="explanation",
        centre_id=CENTRE,
        device_id=device,
        clock=clock(),
        id=uuid7(),
        seq=seq,
        subject=subject(),
        violation_id=violation_id,
        note="I was reading the question aloud to myself.",
    )


def consent(device: str = "kiosk-1", seq: int = 1) -> Consent:
    return Consent(
        schema_version=1,
        kind="consent",
        centre_id=CENTRE,
        device_id=device,
        clock=clock(),
        id=uuid7(),
        seq=seq,
        subject=subject(),
        rules_version="2026-12",
        language="fr",
        accepted=True,
    )


def receipt(device: str = "kiosk-1", seq: int = 1) -> CommandReceipt:
    return CommandReceipt(
        schema_version=1,
        kind="receipt",
        centre_id=CENTRE,
        device_id=device,
        clock=clock(),
        id=uuid7(),
        seq=seq,
        command_id=uuid7(),
        status="done",
    )


def heartbeat(device: str = "kiosk-1", uptime: float = 10.0, boot: str = "boot-1") -> Heartbeat:
    return Heartbeat(
        schema_version=1,
        kind="heartbeat",
        centre_id=CENTRE,
        device_id=device,
        clock=clock(boot=boot),
        uptime_s=uptime,
        fps=25.0,
        simulated=True,
    )


def status(device: str = "kiosk-1", state: str = "online", boot: str = "boot-1") -> DeviceStatus:
    return DeviceStatus(
        schema_version=1,
        kind="status",
        centre_id=CENTRE,
        device_id=device,
        state=state,  # type: ignore[arg-type]
        boot_id=boot,
    )
