"""Face landmarks: MediaPipe FaceMesh (legacy ``face_mesh`` solution, model inside the wheel),
468 points plus 10 iris points with ``refine_landmarks``.

In video mode (``static_image_mode=False``) FaceMesh runs its own detector only until it
tracks a face, then the landmark model alone: 3.6-4.1 ms per frame on one x86 core for a
seated person, against 5.5 ms in static mode. With ``max_num_faces`` > 1 it runs the detector
on every frame that shows fewer faces than the maximum (6.3 ms p50 on the Hamilton clip), and
still misses faces the BlazeFace detector counts, so the pipeline keeps it at one face and
counts faces with :mod:`edge_agent.vision.facedetect`.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import Field

from edge_agent.vision.boxes import area, from_points
from edge_agent.vision.stages import StageConfig, import_optional, register
from edge_agent.vision.types import FaceLandmarks, Image

log = logging.getLogger(__name__)

# A serialized NormalizedLandmarkList (proto2) is, per landmark: field 1 tag + length 15, then
# x, y, z as tagged little-endian floats. Reading that with numpy takes 0.02 ms for 478 points;
# reading the Python proto objects point by point takes 0.2-0.3 ms, a twentieth of the frame.
_WIRE = np.dtype(
    [
        ("tag", "u1"),
        ("length", "u1"),
        ("tx", "u1"),
        ("x", "<f4"),
        ("ty", "u1"),
        ("y", "<f4"),
        ("tz", "u1"),
        ("z", "<f4"),
    ]
)
_WIRE_TAGS = {"tag": 0x0A, "length": 15, "tx": 0x0D, "ty": 0x15, "tz": 0x1D}


def landmark_array(landmarks: Any) -> npt.NDArray[np.float32]:
    """(N, 3) normalized x, y, z of a ``NormalizedLandmarkList``: decoded from its wire bytes
    when they have the plain layout, else point by point."""
    data = landmarks.SerializeToString()
    if data and len(data) % _WIRE.itemsize == 0:
        wire = np.frombuffer(data, dtype=_WIRE)
        if all(np.all(wire[name] == value) for name, value in _WIRE_TAGS.items()):
            return np.stack([wire["x"], wire["y"], wire["z"]], axis=1)
    points = [(p.x, p.y, p.z) for p in landmarks.landmark]
    return np.array(points, dtype=np.float32).reshape(len(points), 3)


class FaceMeshConfig(StageConfig):
    type: Literal["mediapipe_face_mesh"] = "mediapipe_face_mesh"
    static_image_mode: bool = Field(
        False,
        description="False for a video stream (tracks the face between frames, cheaper); "
        "True for unrelated single photos.",
    )
    max_num_faces: int = Field(
        1, ge=1, le=10, description="Faces to fit landmarks to; the pipeline needs one."
    )
    refine_landmarks: bool = Field(
        True, description="Adds the 10 iris points (468-477) the gaze stage needs."
    )
    min_detection_confidence: float = Field(
        0.5, ge=0.0, le=1.0, description="FaceMesh's own detector threshold."
    )
    min_tracking_confidence: float = Field(
        0.5, ge=0.0, le=1.0, description="Below this the face is re-detected (video mode)."
    )


@register("landmarks", "mediapipe_face_mesh")
class MediaPipeFaceMesh:
    """``infer(image_bgr) -> list[FaceLandmarks]``, largest face first, points in pixels
    (z scaled like x)."""

    def __init__(self, config: FaceMeshConfig | None = None) -> None:
        self.config = config or FaceMeshConfig()
        solutions: Any = import_optional("mediapipe").solutions
        self._mesh: Any = solutions.face_mesh.FaceMesh(
            static_image_mode=self.config.static_image_mode,
            max_num_faces=self.config.max_num_faces,
            refine_landmarks=self.config.refine_landmarks,
            min_detection_confidence=self.config.min_detection_confidence,
            min_tracking_confidence=self.config.min_tracking_confidence,
        )

    def infer(self, image: Image) -> list[FaceLandmarks]:
        height, width = image.shape[:2]
        result = self._mesh.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        scale = np.array([width, height, width], dtype=np.float32)
        faces = []
        for face in result.multi_face_landmarks or ():
            points = landmark_array(face) * scale
            faces.append(FaceLandmarks(box=from_points(points), points=points))
        faces.sort(key=lambda face: area(face.box), reverse=True)
        return faces

    def close(self) -> None:
        self._mesh.close()
