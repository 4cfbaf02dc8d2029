"""``[vision]`` config: one table per stage, each naming its implementation by ``type``.

A missing ``type`` means the default implementation; ``type = "disabled"`` turns the stage
off. Each implementation's own fields are checked by its config model (unknown keys are
rejected, with the key path in the error).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag

from edge_agent.vision.facedetect import FaceDetectionConfig
from edge_agent.vision.facemesh import FaceMeshConfig
from edge_agent.vision.gaze import IrisRatioConfig
from edge_agent.vision.headpose import SolvePnPConfig
from edge_agent.vision.identity import FaceRecognitionConfig
from edge_agent.vision.quality import GreyStatsConfig
from edge_agent.vision.stages import DisabledConfig, StageConfig


def _slot(default: str) -> Discriminator:
    """Pick the config class by its ``type`` key, ``default`` when the key is absent."""

    def tag(value: Any) -> str:
        if isinstance(value, Mapping):
            return str(value.get("type", default))
        return str(getattr(value, "type", default))

    return Discriminator(tag)


_OFF = Annotated[DisabledConfig, Tag("disabled")]
DetectorSlot = Annotated[
    Annotated[FaceDetectionConfig, Tag("mediapipe_face_detection")] | _OFF,
    _slot("mediapipe_face_detection"),
]
LandmarksSlot = Annotated[
    Annotated[FaceMeshConfig, Tag("mediapipe_face_mesh")] | _OFF, _slot("mediapipe_face_mesh")
]
HeadPoseSlot = Annotated[Annotated[SolvePnPConfig, Tag("solvepnp")] | _OFF, _slot("solvepnp")]
GazeSlot = Annotated[Annotated[IrisRatioConfig, Tag("iris_ratio")] | _OFF, _slot("iris_ratio")]
IdentitySlot = Annotated[
    Annotated[FaceRecognitionConfig, Tag("face_recognition")] | _OFF, _slot("face_recognition")
]
QualitySlot = Annotated[Annotated[GreyStatsConfig, Tag("grey_stats")] | _OFF, _slot("grey_stats")]


class VisionConfig(StageConfig):
    """``[vision]``: one table per stage, each with a ``type`` (``"disabled"`` turns it off)."""

    detector: DetectorSlot = Field(
        default_factory=FaceDetectionConfig, description="Face detector: face count and boxes."
    )
    landmarks: LandmarksSlot = Field(
        default_factory=FaceMeshConfig, description="Landmarks of the main face."
    )
    head_pose: HeadPoseSlot = Field(
        default_factory=SolvePnPConfig, description="Yaw, pitch, roll from the landmarks."
    )
    gaze: GazeSlot = Field(default_factory=IrisRatioConfig, description="Iris position.")
    identity: IdentitySlot = Field(
        default_factory=FaceRecognitionConfig, description="Face encoding and comparison."
    )
    quality: QualitySlot = Field(
        default_factory=GreyStatsConfig, description="Brightness and contrast of the frame."
    )
    identity_interval_s: float = Field(
        5.0, gt=0.0, description="Seconds between identity checks while the face stays."
    )
    track_lost_after_s: float = Field(
        0.5,
        ge=0.0,
        description="A face absent at least this long and then present again is checked "
        "for identity at once (a new person may have sat down).",
    )
    mask_other_faces: bool = Field(
        True,
        description="When several faces are seen, show FaceMesh only the largest one, so "
        "head pose and gaze are the candidate's.",
    )
