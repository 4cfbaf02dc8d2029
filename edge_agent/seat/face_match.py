"""Check-in face match: is the person in front of the camera the enrolled candidate?

One frame, the identity stage's own models: MediaPipe's full-range detector (the one
enrolment uses, so boxes match the enrolled encoding's) and face_recognition's 128-d
encoding compared at the identity stage's tolerance (0.6; see vision/identity.py for the
figures). Before encoding, the frame must show exactly one face, large and bright enough to
encode well; otherwise the answer is a hint the screen turns into an instruction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_agent.seat.sensors import FaceMatchResult, FaceMatchStatus
from edge_agent.vision import boxes as box_ops
from edge_agent.vision.facedetect import FaceDetectionConfig, MediaPipeFaceDetector
from edge_agent.vision.identity import (
    FaceRecognitionConfig,
    FaceRecognitionIdentity,
    check_encoding,
)
from edge_agent.vision.quality import GreyStatsConfig, GreyStatsQuality
from edge_agent.vision.stages import FaceDetector, IdentityModel
from edge_agent.vision.types import FaceBox, Image

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceMatchPolicy:
    # dlib encodes a 150x150 chip: much smaller faces are upscaled and match less reliably.
    min_face_px: int = 80
    # A face this small a share of the frame height sits too far from a seat camera.
    min_face_fraction: float = 0.12
    # Mean grey of the face box. Faces in the fixture photos measure 93-166; the same photos
    # at a quarter of their brightness, 27-50.
    min_face_brightness: float = 60.0
    # With no face found, a frame this dark asks for light rather than saying "no face".
    dark_frame_brightness: float = 40.0


class FaceMatcher:
    """``match(image_bgr, enrolled_encoding) -> FaceMatchResult``; safe from several threads
    (calls are serialised: MediaPipe graphs are not thread-safe)."""

    def __init__(
        self,
        detector: FaceDetector,
        identity: IdentityModel,
        policy: FaceMatchPolicy | None = None,
    ) -> None:
        self.detector = detector
        self.identity = identity
        self.policy = policy or FaceMatchPolicy()
        self._quality = GreyStatsQuality(GreyStatsConfig(downscale=2))
        self._lock = threading.Lock()

    @classmethod
    def create(
        cls, identity: FaceRecognitionConfig | None = None, policy: FaceMatchPolicy | None = None
    ) -> FaceMatcher:
        """With its own detector and identity models (``close()`` closes them). The agent
        can pass its pipeline's identity model to the constructor instead."""
        detector = MediaPipeFaceDetector(FaceDetectionConfig(model="full_range"))
        return cls(detector, FaceRecognitionIdentity(identity), policy)

    def match(self, image: Image, enrolled: Sequence[float]) -> FaceMatchResult:
        encoding = check_encoding(np.asarray(enrolled, dtype=np.float64))
        with self._lock:
            boxes = self.detector.infer(image)
            hint = self._hint(image, boxes)
            if hint is not None:
                return FaceMatchResult(hint)
            distance = self.identity.distance(encoding, self.identity.encode(image, boxes[0]))
        status: FaceMatchStatus = "match" if distance <= self.identity.tolerance else "no_match"
        return FaceMatchResult(status, round(distance, 4))

    def _hint(self, image: Image, boxes: list[FaceBox]) -> FaceMatchStatus | None:
        """Why the frame cannot be matched, or None when its one face can be encoded."""
        policy = self.policy
        if not boxes:
            dark = self._quality.infer(image).brightness < policy.dark_frame_brightness
            return "more_light" if dark else "no_face"
        if len(boxes) > 1:
            return "multiple_faces"
        face = boxes[0]
        height, width = image.shape[:2]
        if face.height < max(policy.min_face_px, policy.min_face_fraction * height):
            return "move_closer"
        x0, y0, x1, y1 = box_ops.expand(face, 1.0, (width, height))
        if x1 <= x0 or y1 <= y0:
            return "no_face"
        brightness = self._quality.infer(image[y0:y1, x0:x1]).brightness
        if brightness < policy.min_face_brightness:
            return "more_light"
        return None

    def close(self) -> None:
        for model in (self.detector, self.identity):
            close = getattr(model, "close", None)
            if callable(close):
                close()
