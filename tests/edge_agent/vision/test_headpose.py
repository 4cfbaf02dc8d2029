"""Head pose: the angle convention on synthetic projections, signs on labelled photos."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import pytest

from edge_agent.vision.boxes import from_points
from edge_agent.vision.facemesh import FaceMeshConfig, MediaPipeFaceMesh
from edge_agent.vision.headpose import (
    LANDMARKS,
    MODEL_POINTS,
    Matrix,
    SolvePnPConfig,
    SolvePnPHeadPose,
    camera_matrix,
)
from edge_agent.vision.types import FaceLandmarks
from tests.edge_agent.vision.media import read_image

SIZE = (640, 360)


def rotation(yaw: float, pitch: float, roll: float) -> Matrix:
    """Model-to-camera rotation for the fixtures' convention (intrinsic XYZ: x = -pitch,
    y = yaw, z = roll)."""
    a, b, c = np.radians([-pitch, yaw, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    result: Matrix = rx @ ry @ rz
    return result


def synthetic_face(yaw: float, pitch: float, roll: float) -> FaceLandmarks:
    """The generic model posed and projected 60 cm in front of a 640x360 camera."""
    rvec, _ = cv2.Rodrigues(rotation(yaw, pitch, roll))
    projected, _ = cv2.projectPoints(
        MODEL_POINTS, rvec, np.array([0.0, 0.0, 60.0]), camera_matrix(SIZE), np.zeros(4)
    )
    points = np.zeros((478, 3), dtype=np.float32)
    points[LANDMARKS, :2] = projected.reshape(-1, 2)
    return FaceLandmarks(box=from_points(points[LANDMARKS]), points=points)


@pytest.mark.parametrize("method", ["sqpnp", "iterative"])
@pytest.mark.parametrize(
    "pose", [(0, 0, 0), (30, 0, 0), (-45, 10, 0), (10, -20, 15), (0, 25, -30), (60, -10, 5)]
)
def test_recovers_synthetic_poses(
    method: Literal["sqpnp", "iterative"], pose: tuple[float, float, float]
) -> None:
    estimator = SolvePnPHeadPose(SolvePnPConfig(method=method))
    estimate = estimator.infer(synthetic_face(*pose), SIZE)
    assert estimate is not None
    assert (estimate.yaw, estimate.pitch, estimate.roll) == pytest.approx(pose, abs=0.5)


def test_image_left_turn_is_positive_yaw() -> None:
    """Turning toward image-left moves the nose tip left of the eye midpoint."""
    face = synthetic_face(30, 0, 0)
    nose, eyes = face.points[1, 0], (face.points[33, 0] + face.points[263, 0]) / 2
    assert nose < eyes


def test_too_few_points_give_none() -> None:
    face = FaceLandmarks(
        box=from_points(np.zeros((3, 3), np.float32)), points=np.zeros((3, 3), np.float32)
    )
    assert SolvePnPHeadPose().infer(face, SIZE) is None


# Photos with a clear sign on one axis; estimates must agree within 8 degrees.
SIGN_CASES = {
    "image00026.jpg": "yaw",  # +25: turned toward image-left
    "image00076.jpg": "yaw",  # -28
    "image00002.jpg": "pitch",  # -23: chin down
    "image00080.jpg": "pitch",  # +10: chin up
    "image00020.jpg": "roll",  # -25: counter-clockwise
    "image00070.jpg": "roll",  # +15: clockwise
}


@pytest.fixture(scope="module")
def labels(fixtures_dir: Path) -> dict[str, dict[str, str]]:
    with (fixtures_dir / "headpose" / "labels.csv").open(newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def mesh() -> Iterator[MediaPipeFaceMesh]:
    model = MediaPipeFaceMesh(FaceMeshConfig(static_image_mode=True))
    yield model
    model.close()


@pytest.mark.parametrize("file", sorted(SIGN_CASES))
def test_signs_on_labelled_photos(
    file: str, labels: dict[str, dict[str, str]], mesh: MediaPipeFaceMesh, fixtures_dir: Path
) -> None:
    image = read_image(fixtures_dir / "headpose" / "images" / file)
    faces = mesh.infer(image)
    assert faces, f"no face in {file}"
    pose = SolvePnPHeadPose().infer(faces[0], (image.shape[1], image.shape[0]))
    assert pose is not None
    axis = SIGN_CASES[file]
    label, estimate = float(labels[file][axis]), getattr(pose, axis)
    assert np.sign(estimate) == np.sign(label)
    assert estimate == pytest.approx(label, abs=8.0)
    for other in {"yaw", "pitch", "roll"} - {axis}:
        assert getattr(pose, other) == pytest.approx(float(labels[file][other]), abs=10.0)
