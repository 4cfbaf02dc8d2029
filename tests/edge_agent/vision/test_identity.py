"""Identity encodings on real photos, and enrolment errors."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from edge_agent.vision.encoder import EncoderProcess, EncoderProcessError
from edge_agent.vision.identity import (
    EnrolmentError,
    FaceRecognitionConfig,
    FaceRecognitionIdentity,
    MultipleFacesError,
    NoFaceError,
    check_encoding,
)
from edge_agent.vision.stages import Encoding
from edge_agent.vision.types import FaceBox
from tests.edge_agent.vision.media import read_image


@pytest.fixture(scope="module")
def identity() -> Iterator[FaceRecognitionIdentity]:
    """The default: dlib in a child process."""
    model = FaceRecognitionIdentity()
    yield model
    model.close()


@pytest.fixture(scope="module")
def obama(identity: FaceRecognitionIdentity, faces_dir: Path) -> Encoding:
    return identity.enrol(read_image(faces_dir / "train__obama__obama.jpg"))


def test_enrolment_gives_a_128_vector(obama: Encoding) -> None:
    assert obama.shape == (128,)
    assert obama.dtype == np.float64


def test_same_person_matches(
    identity: FaceRecognitionIdentity, obama: Encoding, faces_dir: Path
) -> None:
    other_photo = identity.enrol(read_image(faces_dir / "train__obama__obama2.jpg"))
    assert identity.distance(obama, other_photo) <= identity.tolerance


def test_different_person_does_not_match(
    identity: FaceRecognitionIdentity, obama: Encoding, faces_dir: Path
) -> None:
    biden = identity.enrol(read_image(faces_dir / "train__biden__biden.jpg"))
    assert identity.distance(obama, biden) > identity.tolerance


def test_compare_encodes_the_given_box(
    identity: FaceRecognitionIdentity, obama: Encoding, faces_dir: Path
) -> None:
    """At run time the box comes from the frame's detector, not from a detector of its own."""
    image = read_image(faces_dir / "obama_small.jpg")
    result = identity.compare(obama, image, FaceBox(98, 67, 125, 125))
    assert result.match
    assert result.distance == pytest.approx(
        identity.distance(obama, identity.encode(image, FaceBox(98, 67, 125, 125)))
    )
    elsewhere = identity.compare(obama, image, FaceBox(0, 0, 60, 60))
    assert not elsewhere.match


def test_enrolment_without_a_face(identity: FaceRecognitionIdentity) -> None:
    with pytest.raises(NoFaceError):
        identity.enrol(np.full((480, 640, 3), 90, dtype=np.uint8))


def test_enrolment_with_two_faces(identity: FaceRecognitionIdentity, faces_dir: Path) -> None:
    with pytest.raises(MultipleFacesError) as caught:
        identity.enrol(read_image(faces_dir / "two_people.jpg"))
    assert caught.value.count == 2
    assert isinstance(caught.value, EnrolmentError)
    assert "2 faces" in str(caught.value)


def test_missing_model_files_fail_at_load(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing"):
        FaceRecognitionIdentity(FaceRecognitionConfig(models_dir=tmp_path))


def test_check_encoding_rejects_bad_vectors() -> None:
    assert check_encoding(np.zeros(128, np.float32)).dtype == np.float64
    with pytest.raises(ValueError, match="128"):
        check_encoding(np.zeros(127))
    with pytest.raises(ValueError, match="128"):
        check_encoding(np.full(128, np.nan))


def test_the_child_process_encodes_exactly_as_dlib_in_this_process(
    identity: FaceRecognitionIdentity, faces_dir: Path
) -> None:
    image = read_image(faces_dir / "obama_small.jpg")
    box = FaceBox(98, 67, 125, 125)
    local = FaceRecognitionIdentity(FaceRecognitionConfig(separate_process=False))
    assert np.array_equal(local.encode(image, box), identity.encode(image, box))


def test_a_dead_encoder_process_is_started_again(faces_dir: Path) -> None:
    model = FaceRecognitionIdentity()
    image, box = read_image(faces_dir / "obama_small.jpg"), FaceBox(98, 67, 125, 125)
    first = model.encode(image, box)
    encoder = model._encoder
    assert isinstance(encoder, EncoderProcess)
    pid = encoder.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert np.array_equal(model.encode(image, box), first)
    assert encoder.pid not in (None, pid)
    model.close()
    assert encoder.pid is None
    with pytest.raises(EncoderProcessError, match="closed"):
        model.encode(image, box)


def test_a_corrupt_model_file_fails_at_load(tmp_path: Path) -> None:
    for name in (
        "shape_predictor_5_face_landmarks.dat",
        "dlib_face_recognition_resnet_model_v1.dat",
    ):
        (tmp_path / name).write_bytes(b"not a model")
    with pytest.raises(EncoderProcessError, match="did not start"):
        FaceRecognitionIdentity(FaceRecognitionConfig(models_dir=tmp_path))
