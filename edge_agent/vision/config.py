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
from edge_agent.vision.objects_config import ObjectsConfig
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
    objects: ObjectsConfig = Field(
        default_factory=ObjectsConfig,
        description="Phones, books and second screens (YOLOX ONNX). Without model_path the "
        "stage is off and the heartbeat says so.",
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
    detector_every_n_frames: int = Field(
        4,
        ge=1,
        description="Run the face detector on every n-th frame (1: every frame); in between, "
        "the face count and boxes are the last detection's. The rules act on counts that "
        "last seconds (face_absent 3 s, multiple_faces 2 s by default), so a count at most "
        "n frames old (0.13 s at 30 fps; the detector may wait a frame to stay off the "
        "landmarks' frames) changes nothing they decide; 4 saves three quarters of the "
        "detector's 3.5 ms per 640x360 frame. Measured on short_hamilton_clip.mp4, a busy "
        "scene with 24 count changes in 9 s: per-frame counts equal every-frame detection on "
        "89% of frames (93% at 3); every difference is a lag of at most 4 frames. With "
        "landmarks every 3rd frame, 4 instead of 3 raised the pipeline from 254 to 270 fps "
        "on one core.",
    )
    detector_max_age_s: float = Field(
        0.2,
        gt=0.0,
        description="A face count is never carried longer than this: with slower frames the "
        "detector runs more often (on every frame at 5 fps or less).",
    )
    landmarks_every_n_frames: int = Field(
        3,
        ge=1,
        description="Run FaceMesh, and head pose and gaze from it, on every n-th frame (1: "
        "every frame); in between, they are the last run's. looking_away and eyes_away need "
        "3 s and 2 s by default and gaze is smoothed over 0.3 s: 10 samples a second (3 at 30 "
        "fps) still give three per smoothing time, and save two thirds of FaceMesh's 4.3 ms "
        "per frame. Measured on center_left_center.mp4 (a seated candidate, labelled): the "
        "eyes_away violation starts 0.04 s later than with every frame and smoothed gaze "
        "differs by at most 0.0044 on 95% of frames (threshold 0.05). Faster movement tracks "
        "coarser (yaw differs by 2 degrees median on the dancer of short_hamilton_clip.mp4); 2 "
        "halves that for about 0.5 ms more per frame.",
    )
    landmarks_max_age_s: float = Field(
        0.1,
        gt=0.0,
        description="Head pose and gaze are never carried longer than this, so landmarks run "
        "at least 10 times a second whatever the frame rate (on every frame at 10 fps or "
        "less). A run that finds no face makes them None at once.",
    )
    mask_other_faces: bool = Field(
        True,
        description="When several faces are seen, show FaceMesh only the largest one, so "
        "head pose and gaze are the candidate's.",
    )
