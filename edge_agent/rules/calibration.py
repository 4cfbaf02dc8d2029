"""The candidate's neutral pose, measured while they look at the screen centre at check-in.

Thresholds are offsets from this neutral, so a camera mounted low or to one side does not
make an attentive candidate look away. Without calibration the defaults assume a camera
straight ahead (yaw 0, pitch 0, iris centred).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from edge_agent.vision.types import Observation

MIN_FACE_SHARE = 0.8
MAX_NEUTRAL_YAW_DEG = 25.0


@dataclass(frozen=True)
class Neutral:
    yaw: float = 0.0
    pitch: float = 0.0
    gaze_horizontal: float = 0.5
    gaze_vertical: float = 0.5
    calibrated: bool = False


class CalibrationError(Exception):
    """Calibration could not measure a neutral pose; the message is for the candidate."""


def calibrate(observations: Sequence[Observation]) -> Neutral:
    if not observations:
        raise CalibrationError("No camera frames were received during calibration.")
    with_face = [o for o in observations if o.face_count == 1]
    share = len(with_face) / len(observations)
    if share < MIN_FACE_SHARE:
        raise CalibrationError(
            f"Your face was found in {share:.0%} of the frames; sit in front of the camera "
            "with your face well lit, then try again."
        )
    # Head pose may be unavailable (stage disabled or failed): calibrate what there is.
    poses = [o.head_pose for o in with_face if o.head_pose is not None]
    yaw = statistics.median(p.yaw for p in poses) if poses else 0.0
    if abs(yaw) > MAX_NEUTRAL_YAW_DEG:
        raise CalibrationError(
            f"Your head was turned {abs(yaw):.0f} degrees; look at the centre of the screen."
        )
    gazes = [o.gaze for o in with_face if o.gaze is not None]
    return Neutral(
        yaw=yaw,
        pitch=statistics.median(p.pitch for p in poses) if poses else 0.0,
        gaze_horizontal=statistics.median(g.horizontal for g in gazes) if gazes else 0.5,
        gaze_vertical=statistics.median(g.vertical for g in gazes) if gazes else 0.5,
        calibrated=True,
    )
