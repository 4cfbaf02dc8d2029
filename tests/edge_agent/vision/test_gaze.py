"""Gaze ratios: synthetic eyes, and the eyes-left segment of center_left_center.mp4."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_agent.vision.boxes import from_points
from edge_agent.vision.facemesh import FaceMeshConfig, MediaPipeFaceMesh
from edge_agent.vision.gaze import EYES, IrisRatioGaze
from edge_agent.vision.types import FaceLandmarks, Image
from tests.edge_agent.vision.media import video_frames


def synthetic_eyes(
    iris_x: float, iris_y: float, lid_gap: float = 4.0, n: int = 478
) -> FaceLandmarks:
    """Two 20-pixel-wide eyes; the iris at (iris_x, iris_y) as fractions of width and lid gap."""
    points = np.zeros((n, 3), dtype=np.float32)
    for x0, eye in zip((100.0, 160.0), EYES, strict=True):
        left, right, upper, lower, iris = eye
        points[left, :2] = (x0, 50)
        points[right, :2] = (x0 + 20, 50)
        points[upper, :2] = (x0 + 10, 50 - lid_gap / 2)
        points[lower, :2] = (x0 + 10, 50 + lid_gap / 2)
        if iris < n:
            points[iris, :2] = (x0 + 20 * iris_x, 50 - lid_gap / 2 + lid_gap * iris_y)
    return FaceLandmarks(box=from_points(points[:468]), points=points)


def test_centred_iris_is_one_half() -> None:
    gaze = IrisRatioGaze().infer(synthetic_eyes(0.5, 0.5))
    assert gaze is not None
    assert (gaze.horizontal, gaze.vertical) == pytest.approx((0.5, 0.5))


def test_iris_toward_image_left_is_smaller() -> None:
    gaze = IrisRatioGaze().infer(synthetic_eyes(0.3, 0.8))
    assert gaze is not None
    assert (gaze.horizontal, gaze.vertical) == pytest.approx((0.3, 0.8))


def test_no_iris_points_or_closed_eyes_give_none() -> None:
    assert IrisRatioGaze().infer(synthetic_eyes(0.5, 0.5, n=468)) is None
    assert IrisRatioGaze().infer(synthetic_eyes(0.5, 0.5, lid_gap=0.5)) is None


def horizontal_ratios(mesh: MediaPipeFaceMesh, frames: list[Image]) -> list[float]:
    ratios = []
    for image in frames:
        faces = mesh.infer(image)
        assert faces
        gaze = IrisRatioGaze().infer(faces[0])
        assert gaze is not None
        ratios.append(gaze.horizontal)
    return ratios


def test_eyes_left_on_video(fixtures_dir: Path) -> None:
    video = fixtures_dir / "video" / "center_left_center.mp4"
    centre = video_frames(video, [1.0, 2.0, 3.0, 4.0, 11.0, 13.0], cv2.ROTATE_90_CLOCKWISE)
    left = video_frames(video, [6.0, 7.0, 8.0, 9.0], cv2.ROTATE_90_CLOCKWISE)
    mesh = MediaPipeFaceMesh(FaceMeshConfig(static_image_mode=True))
    try:
        centre_ratios = horizontal_ratios(mesh, centre)
        left_ratios = horizontal_ratios(mesh, left)
    finally:
        mesh.close()
    assert float(np.median(centre_ratios)) == pytest.approx(0.5, abs=0.04)
    assert float(np.median(left_ratios)) == pytest.approx(0.41, abs=0.04)
    assert max(left_ratios) < min(centre_ratios)
