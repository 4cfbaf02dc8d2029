"""Identity: face_recognition's 128-d dlib ResNet encoding of the face MediaPipe found,
compared with the candidate's enrolled encoding by Euclidean distance.

The models come from the ``face_recognition_models`` package, loaded with dlib directly:
this computes exactly what ``face_recognition.face_encodings(image, known_face_locations=
[box])`` computes (checked: identical vectors), without importing ``face_recognition``,
whose import loads all four models (about 130 MB, including a 100 MB 68-point predictor and
a CNN detector we never use) and calls ``quit()`` when ``face_recognition_models`` cannot be
imported (it needs ``pkg_resources``, which recent setuptools no longer ships).

Encoding costs about 80-110 ms per face on one x86 core, so the pipeline runs it every few
seconds on the box the detector already found, never with HOG detection per frame, and off
the frame path. dlib holds Python's GIL for the whole call, so by default the encoder runs in
a child process (:mod:`edge_agent.vision.encoder`); ``close()`` stops it.
Tolerance: on the 153 pairs of ../shared/fixtures/faces/pairs.csv, with MediaPipe
full-range boxes, same-person distances reach 0.52 and different-person distances start at
0.65: face_recognition's default 0.6 sits in that gap, 0.05-0.08 from either side (accuracy
1.0; 0.55 also gives 1.0 with less margin on the same-person side, 0.5 gives 0.987). With
HOG boxes the figures are 0.52 and 0.66, so the box source does not shift the threshold.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from edge_agent.vision.encoder import DlibEncoder, EncoderProcess
from edge_agent.vision.facedetect import FaceDetectionConfig, MediaPipeFaceDetector
from edge_agent.vision.stages import Encoding, StageConfig, register
from edge_agent.vision.types import FaceBox, IdentityResult, Image

log = logging.getLogger(__name__)

ENCODER_FILE = "dlib_face_recognition_resnet_model_v1.dat"
PREDICTOR_FILES = {
    "small": "shape_predictor_5_face_landmarks.dat",
    "large": "shape_predictor_68_face_landmarks.dat",
}
ENCODING_SIZE = 128


class EnrolmentError(ValueError):
    """The enrolment photo cannot give one candidate's encoding."""


class NoFaceError(EnrolmentError):
    def __init__(self) -> None:
        super().__init__("no face found in the enrolment photo")


class MultipleFacesError(EnrolmentError):
    def __init__(self, count: int) -> None:
        super().__init__(f"{count} faces found in the enrolment photo; it must show one person")
        self.count = count


class FaceRecognitionConfig(StageConfig):
    type: Literal["face_recognition"] = "face_recognition"
    tolerance: float = Field(
        0.6,
        gt=0.0,
        le=2.0,
        description="Distance at or below which a face matches the enrolled one "
        "(face_recognition's default; smaller is stricter).",
    )
    landmark_model: Literal["small", "large"] = Field(
        "small",
        description="Face alignment before encoding: small = 5 points, 9 MB (face_recognition's "
        "default); large = 68 points, 100 MB.",
    )
    num_jitters: int = Field(
        1, ge=1, le=100, description="Re-samplings averaged per encoding (each costs as much)."
    )
    enrol_min_score: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Detector confidence for counting faces in the enrolment photo.",
    )
    models_dir: Path | None = Field(
        None,
        description="Folder with the dlib model files; default: the installed "
        "face_recognition_models package.",
    )
    separate_process: bool = Field(
        True,
        description="Encode in a child process. dlib holds Python's GIL for the whole 80-110 ms "
        "encoding, so in the agent's own process every check stalls the frame path that long "
        "(even from a worker thread); the child costs about 80 MB of memory.",
    )
    process_nice: int = Field(
        0,
        ge=0,
        le=19,
        description="Niceness of the child process. 0: a check shares the CPU equally with "
        "the frame path; on one x86 core that path needs about 10% of the core at 30 fps, "
        "so no frame is late, and a check (about 0.1 s of CPU) ends within about 0.3 s. "
        "Raise it (10 gives the child about a tenth of a busy core) where the frame path alone "
        "nearly fills a core: frames keep their rate and checks take longer instead.",
    )


def default_models_dir() -> Path:
    """The installed ``face_recognition_models`` folder, found without importing it."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("face_recognition_models is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@register("identity", "face_recognition")
class FaceRecognitionIdentity:
    """``encode(image_bgr, box) -> (128,)``, ``distance(a, b)``, ``compare(enrolled, image,
    box) -> IdentityResult`` and ``enrol(photo_bgr) -> encoding``."""

    def __init__(self, config: FaceRecognitionConfig | None = None) -> None:
        self.config = config or FaceRecognitionConfig()
        self.tolerance = self.config.tolerance
        folder = self.config.models_dir or default_models_dir()
        files = [folder / PREDICTOR_FILES[self.config.landmark_model], folder / ENCODER_FILE]
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            raise FileNotFoundError(f"face model files missing: {missing}")
        self._encoder: DlibEncoder | EncoderProcess
        if self.config.separate_process:
            self._encoder = EncoderProcess(*files, nice=self.config.process_nice)
        else:
            self._encoder = DlibEncoder(*files)

    def encode(self, image: Image, box: FaceBox) -> Encoding:
        """The 128-d encoding of the face in ``box`` (pixels of ``image``, BGR). Safe to call
        from several threads (calls are serialised)."""
        return self._encoder.encode(image, box, self.config.num_jitters)

    def close(self) -> None:
        self._encoder.close()

    @staticmethod
    def distance(a: Encoding, b: Encoding) -> float:
        return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))

    def compare(self, enrolled: Encoding, image: Image, box: FaceBox) -> IdentityResult:
        distance = self.distance(enrolled, self.encode(image, box))
        return IdentityResult(distance=distance, match=distance <= self.tolerance)

    def enrol(self, photo: Image) -> Encoding:
        """Encoding of the one face in ``photo``; :class:`NoFaceError` or
        :class:`MultipleFacesError` otherwise. Uses MediaPipe's full-range detector (photos
        come at any size), whose boxes match the ones the pipeline encodes at run time."""
        detector = MediaPipeFaceDetector(
            FaceDetectionConfig(model="full_range", min_score=self.config.enrol_min_score)
        )
        try:
            boxes = detector.infer(photo)
        finally:
            detector.close()
        if not boxes:
            raise NoFaceError()
        if len(boxes) > 1:
            raise MultipleFacesError(len(boxes))
        return self.encode(photo, boxes[0])


def check_encoding(encoding: Encoding) -> Encoding:
    """``encoding`` as a float64 vector of 128 finite numbers, or ValueError."""
    vector = np.asarray(encoding, dtype=np.float64).reshape(-1)
    if vector.shape != (ENCODING_SIZE,) or not np.all(np.isfinite(vector)):
        raise ValueError(f"a face encoding has {ENCODING_SIZE} finite numbers")
    return vector
