"""Lip opening from FaceMesh landmarks (on real fixture video through the project's FaceMesh
stage, and on hand-made points), and the classifier that combines lip movement with voice
activity into candidate_talking or background_speech."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_agent.audio import Talking, TalkingClassifier, TalkingConfig, lip_opening
from edge_agent.vision.facemesh import MediaPipeFaceMesh
from edge_agent.vision.types import FaceBox, FaceLandmarks


def read_openings(
    path: Path, first: int, count: int, rotate: int | None = None
) -> list[tuple[float, float | None]]:
    """(seconds, lip opening or None without a face) for `count` frames from `first` on."""
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.set(cv2.CAP_PROP_POS_FRAMES, first)
    mesh = MediaPipeFaceMesh()
    out: list[tuple[float, float | None]] = []
    try:
        for index in range(first, first + count):
            ok, image = capture.read()
            assert ok, f"no frame {index} in {path}"
            if rotate is not None:
                image = cv2.rotate(image, rotate)
            faces = mesh.infer(np.asarray(image, dtype=np.uint8))
            out.append((index / fps, lip_opening(faces[0]) if faces else None))
    finally:
        mesh.close()
        capture.release()
    return out


@pytest.fixture(scope="module")
def closed_mouth(fixtures_dir: Path) -> list[tuple[float, float | None]]:
    """A person reading at a desk, mouth closed (the eyes move, not the lips)."""
    video = fixtures_dir / "video" / "center_left_center.mp4"
    return read_openings(video, 100, 60, cv2.ROTATE_90_CLOCKWISE)


@pytest.fixture(scope="module")
def singing(fixtures_dir: Path) -> list[tuple[float, float | None]]:
    """Stage performers singing: the main face's mouth opens and closes."""
    return read_openings(fixtures_dir / "video" / "short_hamilton_clip.mp4", 110, 90)


def test_a_closed_mouth_reads_near_zero(closed_mouth: list[tuple[float, float | None]]) -> None:
    values = [v for _t, v in closed_mouth if v is not None]
    assert len(values) == len(closed_mouth)  # a face in every frame
    assert max(values) < 0.02
    assert float(np.std(values)) < TalkingConfig().min_lip_motion / 3


def test_a_singing_mouth_opens_wide_and_moves(singing: list[tuple[float, float | None]]) -> None:
    values = [v for _t, v in singing if v is not None]
    assert len(values) >= 30
    assert max(values) > 0.2  # open: the inner-lip gap is a fifth of the mouth width
    assert min(values) < 0.05
    assert float(np.std(values)) > 3 * TalkingConfig().min_lip_motion


def classify_sequence(openings: list[tuple[float, float | None]], speech: bool) -> list[Talking]:
    classifier = TalkingClassifier()
    verdicts = []
    for t, opening in openings:
        classifier.add_face(t, opening)
        verdicts.append(classifier.classify(t, speech).talking)
    return verdicts


def test_speech_with_still_lips_is_background_speech(
    closed_mouth: list[tuple[float, float | None]],
) -> None:
    verdicts = classify_sequence(closed_mouth, speech=True)
    settled = verdicts[TalkingConfig().min_samples :]
    assert settled
    assert set(settled) == {Talking.BACKGROUND_SPEECH}


def test_speech_with_moving_lips_is_the_candidate_talking(
    singing: list[tuple[float, float | None]],
) -> None:
    verdicts = classify_sequence(singing, speech=True)
    talking = verdicts.count(Talking.CANDIDATE_TALKING)
    assert talking >= len(verdicts) // 2
    assert Talking.BACKGROUND_SPEECH not in verdicts[len(verdicts) // 3 :]


def test_no_speech_is_silent_whatever_the_lips_do(
    singing: list[tuple[float, float | None]],
) -> None:
    assert set(classify_sequence(singing, speech=False)) == {Talking.SILENT}


# Hand-made landmarks ---------------------------------------------------------------------


def face(gap: float, mouth_width: float = 40.0, face_height: float = 200.0) -> FaceLandmarks:
    points = np.zeros((478, 3), dtype=np.float32)
    points[78] = (100 - mouth_width / 2, 150, 0)
    points[308] = (100 + mouth_width / 2, 150, 0)
    points[13] = (100, 150 - gap / 2, 0)
    points[14] = (100, 150 + gap / 2, 0)
    points[10] = (100, 50, 0)
    points[152] = (100, 50 + face_height, 0)
    return FaceLandmarks(FaceBox(0, 0, 200, 260), points)


def test_opening_is_gap_over_mouth_width_or_face_height() -> None:
    assert lip_opening(face(8.0)) == pytest.approx(0.2)
    assert lip_opening(face(8.0), by="face_height") == pytest.approx(0.04)
    assert lip_opening(face(8.0).points) == pytest.approx(0.2)  # a bare array works too


def test_opening_does_not_depend_on_distance_to_the_camera() -> None:
    near, far = face(8.0), face(4.0, mouth_width=20.0)
    assert lip_opening(near) == pytest.approx(lip_opening(far))


def test_unusable_landmarks_give_none() -> None:
    assert lip_opening(face(8.0, mouth_width=0.0)) is None
    assert lip_opening(np.zeros((68, 2), dtype=np.float32)) is None  # not a FaceMesh
    broken = face(8.0).points.copy()
    broken[13] = np.nan
    assert lip_opening(broken) is None


def feed(
    classifier: TalkingClassifier, seconds: float, opening_at: object, fps: float = 15.0
) -> None:
    for i in range(int(seconds * fps)):
        t = i / fps
        classifier.add_face(t, opening_at(t))  # type: ignore[operator]


def test_moving_lips_then_still_lips_change_the_verdict_within_the_window() -> None:
    classifier = TalkingClassifier(TalkingConfig(window_s=1.0))
    feed(classifier, 2.0, lambda t: 0.15 + 0.12 * math.sin(2 * math.pi * 4 * t))  # ~4 syllables/s
    assert classifier.classify(2.0, speech=True).talking is Talking.CANDIDATE_TALKING
    for i in range(30, 45):  # then one second of a still mouth
        classifier.add_face(2.0 + (i - 30) / 15, 0.01)
    verdict = classifier.classify(3.0, speech=True)
    assert verdict.talking is Talking.BACKGROUND_SPEECH
    assert verdict.lip_motion is not None
    assert verdict.lip_motion < 0.01


def test_without_enough_face_samples_the_speaker_is_unknown() -> None:
    classifier = TalkingClassifier(TalkingConfig(min_samples=5))
    for i in range(10):
        classifier.add_face(i / 10, None)  # no face measured
    verdict = classifier.classify(1.0, speech=True)
    assert verdict.talking is Talking.UNKNOWN
    assert verdict.samples == 0
