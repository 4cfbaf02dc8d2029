"""Check-in face match on the real fixture photos (../shared/fixtures/faces)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_agent.seat.face_match import FaceMatcher
from edge_agent.vision.identity import FaceRecognitionConfig
from edge_agent.vision.types import Image
from tests.edge_agent.vision.media import read_image


@pytest.fixture(scope="module")
def faces_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "faces"


@pytest.fixture(scope="module")
def matcher() -> Iterator[FaceMatcher]:
    # In-process dlib: no child process to start for a handful of encodings.
    model = FaceMatcher.create(FaceRecognitionConfig(separate_process=False))
    yield model
    model.close()


@pytest.fixture(scope="module")
def obama(matcher: FaceMatcher, faces_dir: Path) -> list[float]:
    """The enrolment as central computes it: from the registration photo."""
    identity = matcher.identity
    return [float(v) for v in identity.enrol(read_image(faces_dir / "train__obama__obama.jpg"))]


@pytest.fixture(scope="module")
def obama2(faces_dir: Path) -> Image:
    return read_image(faces_dir / "train__obama__obama2.jpg")


def test_the_same_person_matches(matcher: FaceMatcher, obama: list[float], obama2: Image) -> None:
    result = matcher.match(obama2, obama)
    assert result.status == "match"
    assert result.distance is not None
    assert 0.0 < result.distance <= 0.6


def test_another_person_does_not_match(
    matcher: FaceMatcher, obama: list[float], faces_dir: Path
) -> None:
    result = matcher.match(read_image(faces_dir / "train__biden__biden2.jpg"), obama)
    assert result.status == "no_match"
    assert result.distance is not None
    assert result.distance > 0.6


def test_two_people_in_view(matcher: FaceMatcher, obama: list[float], faces_dir: Path) -> None:
    result = matcher.match(read_image(faces_dir / "two_people.jpg"), obama)
    assert (result.status, result.distance) == ("multiple_faces", None)


def test_a_dark_frame_asks_for_more_light(
    matcher: FaceMatcher, obama: list[float], obama2: Image
) -> None:
    dark = (obama2.astype(np.float32) * 0.25).astype(np.uint8)
    assert matcher.match(dark, obama).status == "more_light"
    black = np.zeros_like(obama2)  # no face to find either: light is still the advice
    assert matcher.match(black, obama).status == "more_light"


def test_a_distant_face_asks_to_move_closer(
    matcher: FaceMatcher, obama: list[float], obama2: Image
) -> None:
    height, width = obama2.shape[:2]
    far = np.full_like(obama2, 128)
    small = cv2.resize(obama2, (width // 5, height // 5), interpolation=cv2.INTER_AREA)
    top, left = height // 3, width // 3
    far[top : top + small.shape[0], left : left + small.shape[1]] = small
    assert matcher.match(far, obama).status == "move_closer"


def test_an_empty_seat_has_no_face(matcher: FaceMatcher, obama: list[float]) -> None:
    empty = np.full((480, 640, 3), 140, dtype=np.uint8)
    assert matcher.match(empty, obama).status == "no_face"


def test_a_malformed_enrolment_encoding_is_refused(matcher: FaceMatcher, obama2: Image) -> None:
    with pytest.raises(ValueError, match="128 finite numbers"):
        matcher.match(obama2, [0.1] * 127)
