"""In-process values passed between capture, vision stages and rules (frozen dataclasses).

Conventions (same as ../shared/fixtures/README.md): head yaw > 0 = face turned toward
image-left (the subject's own right), pitch > 0 = chin up, roll > 0 = clockwise in the image,
all in degrees. Gaze ratios are the iris position between the eye corners: 0.5 is centred,
smaller is toward image-left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # objects.py imports this module
    from edge_agent.vision.objects import ObjectObservation

Image = npt.NDArray[np.uint8]  # H x W x 3, BGR (OpenCV order)


@dataclass(frozen=True, eq=False)
class Frame:
    image: Image
    index: int  # counts captured frames from 0, dropped ones included
    monotonic_s: float  # capture time on the kiosk's monotonic clock
    wall_time: datetime  # capture time on the wall clock (may be wrong: no RTC)


@dataclass(frozen=True)
class FaceBox:
    """Pixel box of one face; `score` is the detector's confidence."""

    x: int
    y: int
    width: int
    height: int
    score: float = 1.0


@dataclass(frozen=True, eq=False)
class FaceLandmarks:
    """FaceMesh landmarks of one face in pixel coordinates (N x 3, z in pixel-ish units).
    With refine_landmarks there are 478 points; 468 and 473 are the iris centres."""

    box: FaceBox
    points: npt.NDArray[np.float32]

    @property
    def has_iris(self) -> bool:
        return len(self.points) >= 478


@dataclass(frozen=True)
class HeadPose:
    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class Gaze:
    horizontal: float  # 0.5 centred
    vertical: float  # 0.5 centred


@dataclass(frozen=True)
class IdentityResult:
    """One identity check. Checks run off the frame path, so the result reaches the rules on
    a later Observation than the frame that was checked: ``frame_index`` and ``monotonic_s``
    say which frame that was (None when not known)."""

    distance: float  # face_recognition distance to the enrolled encoding
    match: bool  # distance <= tolerance
    frame_index: int | None = None  # the frame whose face was encoded
    monotonic_s: float | None = None  # that frame's capture time


@dataclass(frozen=True)
class FrameQuality:
    """For camera_covered: a covered lens gives dark or uniform frames."""

    brightness: float  # mean grey level 0..255
    contrast: float  # standard deviation of grey levels


@dataclass(frozen=True)
class Observation:
    """What the vision stages saw in one frame: the only input of the rules."""

    frame_index: int
    monotonic_s: float
    wall_time: datetime
    face_count: int
    quality: FrameQuality
    head_pose: HeadPose | None = None  # of the main (largest) face
    gaze: Gaze | None = None  # of the main face, when iris landmarks exist
    # A finished check, on the first Observation made after it finished (its own frame and
    # time are in the result); None on every other frame.
    identity: IdentityResult | None = None
    main_face: FaceBox | None = None
    stage_ms: dict[str, float] = field(default_factory=dict)
    # Objects in view (the last detector run, carried); None when the stage is off.
    objects: ObjectObservation | None = None
    # Inner-lip gap over mouth width of the main face, on frames where landmarks ran.
    lip_opening: float | None = None
