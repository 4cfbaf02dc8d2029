"""Builders for the messages the publisher makes itself: status, heartbeat, command receipt."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

import psutil

from edge_agent.clock import Clock
from protocol import CommandReceipt, DeviceStatus, ExamProgress, Heartbeat


@dataclass(frozen=True)
class Origin:
    """Who is speaking: the fields every device message carries besides the clock."""

    centre_id: str
    device_id: str
    simulated: bool = False


@dataclass(frozen=True)
class HealthSnapshot:
    """Pipeline health for the heartbeat; filled by whoever owns the camera pipeline."""

    fps: float | None = None
    dropped_frames: int = 0
    stage_ms: dict[str, float] = field(default_factory=dict)
    evidence_backlog: int = 0
    session_id: str | None = None
    exam: ExamProgress | None = None  # from the kiosk screen
    disabled_stages: dict[str, str] = field(default_factory=dict)  # stage -> why it is off
    audio_level_dbfs: float | None = None


def device_status(
    origin: Origin, clock: Clock, state: Literal["online", "offline"], reason: str = ""
) -> DeviceStatus:
    """Status with the current clock; the last will uses `last_will_status` instead."""
    return DeviceStatus(
        schema_version=1,
        kind="status",
        centre_id=origin.centre_id,
        device_id=origin.device_id,
        state=state,
        boot_id=clock.boot_id,
        reason=reason,
        clock=clock.now(),
        simulated=origin.simulated,
    )


def last_will_status(origin: Origin, boot_id: str) -> DeviceStatus:
    """Offline status written at connect time: it has no clock of the moment it is sent."""
    return DeviceStatus(
        schema_version=1,
        kind="status",
        centre_id=origin.centre_id,
        device_id=origin.device_id,
        state="offline",
        boot_id=boot_id,
        reason="connection lost",
        simulated=origin.simulated,
    )


def command_receipt(
    origin: Origin, clock: Clock, command_id: uuid.UUID, message_id: uuid.UUID, seq: int
) -> CommandReceipt:
    return CommandReceipt(
        schema_version=1,
        centre_id=origin.centre_id,
        device_id=origin.device_id,
        clock=clock.now(),
        simulated=origin.simulated,
        id=message_id,
        seq=seq,
        kind="receipt",
        command_id=command_id,
        status="received",
    )


class HeartbeatBuilder:
    """Makes heartbeats with this process's CPU and memory use and the caller's numbers."""

    def __init__(self, origin: Origin, clock: Clock) -> None:
        self._origin = origin
        self._clock = clock
        self._started_at = clock.monotonic()
        self._process = psutil.Process()

    def build(self, health: HealthSnapshot, outbox_depth: int) -> Heartbeat:
        with self._process.oneshot():
            cpu = self._process.cpu_percent(interval=None)
            rss_mb = self._process.memory_info().rss / (1024 * 1024)
        return Heartbeat(
            schema_version=1,
            kind="heartbeat",
            centre_id=self._origin.centre_id,
            device_id=self._origin.device_id,
            clock=self._clock.now(),
            simulated=self._origin.simulated,
            uptime_s=max(0.0, self._clock.monotonic() - self._started_at),
            fps=health.fps,
            dropped_frames=health.dropped_frames,
            stage_ms=health.stage_ms,
            cpu_percent=cpu,
            rss_mb=rss_mb,
            outbox_depth=outbox_depth,
            evidence_backlog=health.evidence_backlog,
            session_id=health.session_id,
            exam=health.exam,
            disabled_stages={name: why[:200] for name, why in health.disabled_stages.items()},
            audio_level_dbfs=health.audio_level_dbfs,
        )
