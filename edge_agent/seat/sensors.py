"""What only the running agent (or the dev server's file camera) knows: the camera's view.

The local API asks a `SeatSensors` for a face match, a calibration, a preview frame and the
devices' health; the agent implements it over its frame loop, the dev server over a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict

from edge_agent.vision.types import HeadPose

FaceMatchStatus = Literal[
    "match",
    "no_match",
    "no_face",
    "multiple_faces",
    "move_closer",
    "more_light",
    "no_enrolment",
    "wrong_candidate",
    "camera_lost",
]
DeviceState = Literal["ok", "lost", "off"]


@dataclass(frozen=True)
class FaceMatchResult:
    status: FaceMatchStatus
    distance: float | None = None  # to the enrolled encoding, when a face was encoded


@dataclass(frozen=True)
class CalibrationResult:
    status: Literal["ok", "no_face"]
    neutral: HeadPose | None  # the candidate's resting head pose, None without a face
    face_found_ratio: float  # frames with exactly one face / frames seen


class SensorHealth(TypedDict):
    camera: DeviceState
    microphone: DeviceState
    face_found_ratio: float | None
    network: Literal["online", "offline"]


class SeatSensors(Protocol):
    def face_match(self, encoding: list[float], candidate_number: str) -> FaceMatchResult:
        """Compare the face in front of the camera now with `encoding` (the enrolment's)."""
        ...

    def calibrate(self, seconds: float) -> CalibrationResult:
        """Watch for `seconds` while the candidate looks at the screen centre (blocks)."""
        ...

    def preview_jpeg(self) -> bytes | None:
        """The latest camera frame as JPEG, None when there is none."""
        ...

    def read_qr(self) -> str | None:
        """The text of a QR code in the latest camera frame (a candidate number), if any."""
        ...

    def health(self) -> SensorHealth: ...
