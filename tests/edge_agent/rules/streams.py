"""Synthetic observation streams: a timeline of segments, each a state held for a while."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from edge_agent.vision.types import FrameQuality, Gaze, HeadPose, IdentityResult, Observation

FPS = 30.0
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LIT = FrameQuality(brightness=120.0, contrast=40.0)


@dataclass(frozen=True)
class Seat:
    """What the camera shows for a while."""

    faces: int = 1
    yaw: float = 0.0
    pitch: float = 0.0
    gaze_h: float = 0.5
    gaze_v: float = 0.5
    quality: FrameQuality = LIT
    identity: IdentityResult | None = None


CALM = Seat()


def stream(*segments: tuple[Seat, float], start_s: float = 100.0) -> list[Observation]:
    """Observations at FPS for each (seat, seconds) segment in turn."""
    out: list[Observation] = []
    t = start_s
    for seat, seconds in segments:
        for _ in range(round(seconds * FPS)):
            out.append(observe(seat, len(out), t))
            t += 1 / FPS
    return out


def observe(seat: Seat, index: int, t: float) -> Observation:
    has_face = seat.faces > 0
    return Observation(
        frame_index=index,
        monotonic_s=t,
        wall_time=T0 + timedelta(seconds=t),
        face_count=seat.faces,
        quality=seat.quality,
        head_pose=HeadPose(seat.yaw, seat.pitch, 0.0) if has_face else None,
        gaze=Gaze(seat.gaze_h, seat.gaze_v) if has_face else None,
        identity=seat.identity,
    )


def with_identity_every(
    observations: list[Observation], every_s: float, result: IdentityResult
) -> list[Observation]:
    """Put an identity result on one frame every `every_s` seconds."""
    out, next_at = [], observations[0].monotonic_s
    for obs in observations:
        if obs.monotonic_s >= next_at and obs.face_count:
            out.append(replace(obs, identity=result))
            next_at += every_s
        else:
            out.append(obs)
    return out
