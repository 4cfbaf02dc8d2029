"""Face detection for the face count: MediaPipe's BlazeFace (legacy ``face_detection``
solution, model inside the wheel).

Why a separate detector rather than FaceMesh with ``max_num_faces``: on the 275 frames of
``short_hamilton_clip.mp4`` (640x360, one x86 core) FaceMesh with ``max_num_faces=5`` never
reported more than 2 faces and found a face in 172 frames, while this detector (short range)
counted up to 3 faces and found one in 226 frames, at 2.1 ms per frame (p50) against 6.1 ms.
So the pipeline counts faces with this detector and runs FaceMesh for the main face only.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import cv2
from pydantic import Field

from edge_agent.vision.boxes import largest_first
from edge_agent.vision.stages import StageConfig, import_optional, register
from edge_agent.vision.types import FaceBox, Image

log = logging.getLogger(__name__)


class FaceDetectionConfig(StageConfig):
    type: Literal["mediapipe_face_detection"] = "mediapipe_face_detection"
    model: Literal["short_range", "full_range"] = Field(
        "short_range",
        description="short_range: faces within about 2 m of the camera (a seat), about 2 ms "
        "per 640x360 frame; full_range: up to about 5 m and photos, about 6 ms.",
    )
    min_score: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Detections below this confidence are ignored. Real faces in the "
        "background score about 0.5-0.6, a candidate at the seat above 0.8.",
    )


@register("detector", "mediapipe_face_detection")
class MediaPipeFaceDetector:
    """``infer(image_bgr) -> list[FaceBox]``, largest first, in pixels (boxes may reach past
    the image edge for a face that is partly outside)."""

    def __init__(self, config: FaceDetectionConfig | None = None) -> None:
        self.config = config or FaceDetectionConfig()
        solutions: Any = import_optional("mediapipe").solutions
        self._detector: Any = solutions.face_detection.FaceDetection(
            model_selection=1 if self.config.model == "full_range" else 0,
            min_detection_confidence=self.config.min_score,
        )

    def infer(self, image: Image) -> list[FaceBox]:
        height, width = image.shape[:2]
        result = self._detector.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        boxes = []
        for detection in result.detections or ():
            rel = detection.location_data.relative_bounding_box
            box = FaceBox(
                x=round(rel.xmin * width),
                y=round(rel.ymin * height),
                width=round(rel.width * width),
                height=round(rel.height * height),
                score=float(detection.score[0]),
            )
            if box.width > 0 and box.height > 0:
                boxes.append(box)
        return largest_first(boxes)

    def close(self) -> None:
        self._detector.close()
