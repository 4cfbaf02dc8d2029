"""Face detection (count) and FaceMesh landmarks on real photos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from mediapipe.framework.formats import landmark_pb2

from edge_agent.vision.facedetect import FaceDetectionConfig, MediaPipeFaceDetector
from edge_agent.vision.facemesh import FaceMeshConfig, MediaPipeFaceMesh, landmark_array
from tests.edge_agent.vision.media import read_image


@pytest.fixture(scope="module")
def mesh() -> Iterator[MediaPipeFaceMesh]:
    model = MediaPipeFaceMesh(FaceMeshConfig(static_image_mode=True, max_num_faces=3))
    yield model
    model.close()


@pytest.fixture(scope="module")
def detector() -> Iterator[MediaPipeFaceDetector]:
    model = MediaPipeFaceDetector()
    yield model
    model.close()


def test_landmarks_on_a_face_photo(mesh: MediaPipeFaceMesh, faces_dir: Path) -> None:
    image = read_image(faces_dir / "obama_small.jpg")
    faces = mesh.infer(image)
    assert len(faces) == 1
    face = faces[0]
    assert face.points.shape == (478, 3)
    assert face.has_iris
    height, width = image.shape[:2]
    box = face.box
    assert 0 <= box.x < box.x + box.width <= width
    assert 0 <= box.y < box.y + box.height <= height
    assert box.width > width / 5  # pixels, not normalised coordinates
    left_eye, right_eye = face.points[33], face.points[263]
    assert left_eye[0] < right_eye[0]  # image-left corner first


def test_no_landmarks_on_a_blank_image(
    mesh: MediaPipeFaceMesh, detector: MediaPipeFaceDetector
) -> None:
    blank = np.full((360, 640, 3), 128, dtype=np.uint8)
    assert mesh.infer(blank) == []
    assert detector.infer(blank) == []


def test_two_people_are_counted(detector: MediaPipeFaceDetector, faces_dir: Path) -> None:
    boxes = detector.infer(read_image(faces_dir / "two_people.jpg"))
    assert len(boxes) == 2
    assert boxes[0].width * boxes[0].height >= boxes[1].width * boxes[1].height
    assert all(0.5 <= box.score <= 1.0 for box in boxes)


def test_mesh_sorts_several_faces_largest_first(mesh: MediaPipeFaceMesh, faces_dir: Path) -> None:
    faces = mesh.infer(read_image(faces_dir / "two_people.jpg"))
    areas = [face.box.width * face.box.height for face in faces]
    assert len(faces) == 2
    assert areas == sorted(areas, reverse=True)


def test_full_range_model_is_selectable(faces_dir: Path) -> None:
    model = MediaPipeFaceDetector(FaceDetectionConfig(model="full_range"))
    try:
        assert len(model.infer(read_image(faces_dir / "test__obama_and_biden.jpg"))) == 2
    finally:
        model.close()


def test_wire_decoding_matches_the_proto_objects() -> None:
    plain = landmark_pb2.NormalizedLandmarkList()
    for i in range(5):
        plain.landmark.add(x=i / 10, y=1 - i / 10, z=-i / 100)
    expected = np.array([(p.x, p.y, p.z) for p in plain.landmark], dtype=np.float32)
    np.testing.assert_array_equal(landmark_array(plain), expected)
    # Any other layout (here an extra field) takes the slow path, with the same result.
    plain.landmark[2].visibility = 0.5
    np.testing.assert_array_equal(landmark_array(plain), expected)
    assert landmark_array(landmark_pb2.NormalizedLandmarkList()).shape == (0, 3)
