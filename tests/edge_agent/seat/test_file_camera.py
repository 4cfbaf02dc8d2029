"""The dev server's camera: a photo or a video file, and the sensors answered from it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_agent.seat.face_match import FaceMatcher
from edge_agent.seat.file_camera import FileCamera, FileSensors
from edge_agent.vision.identity import FaceRecognitionConfig


@pytest.fixture(scope="module")
def sensors() -> Iterator[FileSensors]:
    matcher = FaceMatcher.create(FaceRecognitionConfig(separate_process=False))
    file_sensors = FileSensors(FileCamera(None), matcher)
    yield file_sensors
    file_sensors.close()


def test_a_photo_is_read_again_when_the_file_changes(tmp_path: Path, fixtures_dir: Path) -> None:
    faces = fixtures_dir / "faces"
    path = tmp_path / "camera.jpg"
    shutil.copy(faces / "obama_small.jpg", path)
    camera = FileCamera(path)
    first = camera.frame()
    assert first is not None
    assert first.shape == (240, 320, 3)
    shutil.copy(faces / "train__biden__biden2.jpg", path)
    os.utime(path, (1_000_000, 1_000_000))  # a new mtime even on a coarse file system
    second = camera.frame()
    assert second is not None
    assert second.shape == (1200, 1200, 3)
    path.unlink()
    assert camera.frame() is None


def test_a_video_gives_its_frames(fixtures_dir: Path) -> None:
    camera = FileCamera(fixtures_dir / "video" / "short_hamilton_clip.mp4")
    frame = camera.frame()
    camera.close()
    assert frame is not None
    assert frame.shape == (360, 640, 3)


def test_calibration_on_a_photo_finds_the_resting_pose(
    sensors: FileSensors, fixtures_dir: Path
) -> None:
    sensors.camera.switch(fixtures_dir / "faces" / "train__obama__obama2.jpg")
    result = sensors.calibrate(1.0)
    assert (result.status, result.face_found_ratio) == ("ok", 1.0)
    assert result.neutral is not None
    assert abs(result.neutral.yaw) < 30
    assert sensors.health()["face_found_ratio"] == 1.0


def test_calibration_without_a_face(sensors: FileSensors, tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), np.full((360, 640, 3), 120, dtype=np.uint8))
    sensors.camera.switch(empty)
    result = sensors.calibrate(1.0)
    assert (result.status, result.neutral, result.face_found_ratio) == ("no_face", None, 0.0)
    sensors.camera.switch(None)
    assert sensors.calibrate(1.0).face_found_ratio == 0.0
    assert sensors.preview_jpeg() is None
    assert sensors.health()["camera"] == "lost"
