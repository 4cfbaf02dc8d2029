"""Fake stages for pipeline tests. A frame's first pixel tells them what it shows:
channel 0 the number of faces the detector finds, channel 1 whether FaceMesh finds the main
face (non-zero), channel 2 the yaw that the fake head pose reads from the landmarks."""

from __future__ import annotations

import threading

import numpy as np

from edge_agent.vision.config import VisionConfig
from edge_agent.vision.identity import NoFaceError
from edge_agent.vision.pipeline import VisionPipeline
from edge_agent.vision.stages import Encoding
from edge_agent.vision.types import FaceBox, FaceLandmarks, Gaze, HeadPose, Image

BOX = FaceBox(250, 100, 120, 120, 0.9)


def scene(faces: int, mesh: bool = False, yaw: int = 0) -> Image:
    """A 640x360 frame with its script in the first pixel."""
    image = np.full((360, 640, 3), 100, dtype=np.uint8)
    image[0, 0] = (faces, int(mesh), yaw)
    return image


class FakeDetector:
    def __init__(self) -> None:
        self.broken = False
        self.calls = 0

    def infer(self, image: Image) -> list[FaceBox]:
        self.calls += 1
        if self.broken:
            raise RuntimeError("detector exploded")
        return [BOX] * int(image[0, 0, 0])

    def close(self) -> None:
        pass


class FakeLandmarks:
    """The main face at BOX when the frame says so; every point holds the frame's yaw."""

    def __init__(self) -> None:
        self.calls = 0
        self.box = BOX

    def infer(self, image: Image) -> list[FaceLandmarks]:
        self.calls += 1
        if not image[0, 0, 1]:
            return []
        points = np.full((478, 3), float(image[0, 0, 2]), dtype=np.float32)
        return [FaceLandmarks(box=self.box, points=points)]

    def close(self) -> None:
        pass


class FakeHeadPose:
    def infer(self, face: FaceLandmarks, image_size: tuple[int, int]) -> HeadPose | None:
        return HeadPose(yaw=float(face.points[0, 0]), pitch=0.0, roll=0.0)


class FakeGaze:
    def infer(self, face: FaceLandmarks) -> Gaze | None:
        return Gaze(0.5, 0.5)


class FakeIdentity:
    tolerance = 0.6

    def __init__(self) -> None:
        self.encoded: list[FaceBox] = []
        self.images: list[Image] = []

    def encode(self, image: Image, box: FaceBox) -> Encoding:
        self.images.append(image)
        self.encoded.append(box)
        return np.zeros(128)

    def distance(self, a: Encoding, b: Encoding) -> float:
        return 0.25

    def enrol(self, photo: Image) -> Encoding:
        if photo[0, 0, 0] == 0:
            raise NoFaceError()
        return np.ones(128)


class SlowIdentity(FakeIdentity):
    """Each encoding waits until ``release`` is set (or ``close()``); counts the encodings
    running at once."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.closed = False
        self.started = 0
        self.running = 0
        self.most_running = 0
        self._lock = threading.Lock()

    def encode(self, image: Image, box: FaceBox) -> Encoding:
        with self._lock:
            self.started += 1
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            self.release.wait(10.0)
            return super().encode(image, box)
        finally:
            with self._lock:
                self.running -= 1

    def close(self) -> None:
        self.closed = True
        self.release.set()


class BrokenIdentity(FakeIdentity):
    def encode(self, image: Image, box: FaceBox) -> Encoding:
        raise RuntimeError("encoder died")


def fake_pipeline(
    identity: FakeIdentity | None = None, *, landmarks: bool = False, **config: float
) -> VisionPipeline:
    """Fake detector and identity; with ``landmarks``, fake landmarks, head pose and gaze."""
    stages: dict[str, object] = {
        "detector": FakeDetector(),
        "landmarks": FakeLandmarks() if landmarks else None,
        "head_pose": FakeHeadPose() if landmarks else None,
        "gaze": FakeGaze() if landmarks else None,
        "identity": identity if identity is not None else FakeIdentity(),
    }
    return VisionPipeline(VisionConfig.model_validate(config), stages=stages)
