"""The pipeline: identity schedule on a fake clock, faults, config, and real frames."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from edge_agent.vision.config import VisionConfig
from edge_agent.vision.facedetect import FaceDetectionConfig
from edge_agent.vision.identity import FaceRecognitionConfig, NoFaceError
from edge_agent.vision.pipeline import VisionPipeline
from edge_agent.vision.stages import DisabledConfig, StageLoadError
from edge_agent.vision.types import FaceBox, Image
from tests.edge_agent.vision.fakes import BOX, FakeDetector, FakeIdentity, fake_pipeline, scene
from tests.edge_agent.vision.media import frame_at, read_image, video_frames


def run(pipeline: VisionPipeline, start_s: float, end_s: float, faces: int) -> list[float]:
    """Frames at 10 fps in [start_s, end_s), each followed by waiting for a check in flight;
    the capture times of the frames that were checked. A result comes with the next frame."""
    checked = []
    for index in range(round(start_s * 10), round(end_s * 10)):
        observation = pipeline.process(frame_at(scene(faces), index, index / 10))
        assert pipeline.wait_identity(5.0)
        assert observation.face_count == faces
        if observation.identity is not None:
            assert observation.identity.match
            assert "identity" in observation.stage_ms
            assert observation.identity.frame_index == index - 1
            assert observation.identity.monotonic_s is not None
            checked.append(observation.identity.monotonic_s)
    return checked


def test_identity_every_interval_and_on_reacquire() -> None:
    pipeline = fake_pipeline(
        identity_interval_s=5.0, track_lost_after_s=0.5, detector_every_n_frames=1
    )
    assert run(pipeline, 0.0, 1.0, 1) == []  # nothing enrolled yet
    pipeline.set_enrolment(np.ones(128))
    assert run(pipeline, 1.0, 12.0, 1) == [1.0, 6.0, 11.0]
    assert run(pipeline, 12.0, 12.3, 0) == []  # a 0.3 s dropout is not a lost track
    assert run(pipeline, 12.3, 17.0, 1) == [16.0]
    assert run(pipeline, 17.0, 18.0, 0) == []  # gone for a second ...
    assert run(pipeline, 18.0, 24.0, 1) == [18.0, 23.0]  # ... checked as soon as back
    pipeline.set_enrolment(None)
    assert run(pipeline, 24.0, 35.0, 1) == []
    pipeline.close()


def test_identity_encodes_a_copy_around_the_detected_box_and_enrols() -> None:
    identity = FakeIdentity()
    pipeline = fake_pipeline(identity)
    with pytest.raises(NoFaceError):
        pipeline.enrol(scene(0))
    pipeline.enrol(scene(1))
    image = scene(1)
    image[BOX.y : BOX.y + BOX.height, BOX.x : BOX.x + BOX.width] = 200
    pipeline.process(frame_at(image, 0, 0.0))
    assert pipeline.wait_identity(5.0)
    [crop], [box] = identity.images, identity.encoded
    assert not np.shares_memory(crop, image)
    assert (box.width, box.height, box.score) == (BOX.width, BOX.height, BOX.score)
    assert (crop[box.y : box.y + box.height, box.x : box.x + box.width] == 200).all()
    assert crop.shape[0] * crop.shape[1] < image.shape[0] * image.shape[1]
    with pytest.raises(ValueError, match="128"):
        pipeline.set_enrolment(np.ones(3))
    pipeline.close()


def test_a_failing_stage_is_reported_and_the_rest_keep_running() -> None:
    pipeline = fake_pipeline(detector_every_n_frames=1)
    detector = pipeline.detector
    assert isinstance(detector, FakeDetector)
    detector.broken = True
    for index in range(5):
        observation = pipeline.process(frame_at(scene(1), index, index / 10))
        assert observation.face_count == 0
        assert observation.quality.brightness == pytest.approx(100, abs=1)
        assert "detector" in observation.stage_ms
    faults = pipeline.take_faults()
    assert [(f.stage, f.type, f.loaded) for f in faults] == [
        ("detector", "mediapipe_face_detection", True)
    ]
    assert "exploded" in faults[0].error
    assert pipeline.take_faults() == []
    detector.broken = False
    assert pipeline.process(frame_at(scene(1), 5, 0.5)).face_count == 1
    detector.broken = True
    pipeline.process(frame_at(scene(1), 6, 0.6))
    assert pipeline.take_faults() == []  # flapping: at most one report a minute
    pipeline.process(frame_at(scene(1), 7, 61.0))
    assert len(pipeline.take_faults()) == 1
    assert pipeline.failures == {"detector": 7}


class ScriptedDetector:
    def __init__(self, script: list[list[FaceBox]]) -> None:
        self.script = iter(script)

    def infer(self, image: Image) -> list[FaceBox]:
        return next(self.script)


def test_main_face_does_not_swap_between_similar_faces() -> None:
    a, b, big = FaceBox(50, 50, 100, 100), FaceBox(400, 50, 98, 98), FaceBox(300, 0, 200, 200)
    script = [[a], [a, b], [b, a], [a, b], [b, a], [big, a]]
    stages: dict[str, object] = {"detector": ScriptedDetector(script), "landmarks": None}
    every_frame = VisionConfig(detector_every_n_frames=1)
    pipeline = VisionPipeline(every_frame, stages=stages | {"identity": None})
    mains = [pipeline.process(frame_at(scene(0), i, i / 10)).main_face for i in range(6)]
    assert mains == [a, a, a, a, a, big]


def test_config_picks_stages_by_type() -> None:
    config = VisionConfig.model_validate(
        {"head_pose": {"type": "disabled"}, "identity": {"tolerance": 0.5}}
    )
    assert isinstance(config.head_pose, DisabledConfig)
    assert isinstance(config.identity, FaceRecognitionConfig)
    assert config.identity.tolerance == 0.5
    assert isinstance(config.detector, FaceDetectionConfig)
    for bad in (
        {"head_pose": {"type": "magic"}},
        {"gaze": {"type": "iris_ratio", "colour": "blue"}},
        {"detector": {"min_score": 2}},
        {"identity_interval": 5},
        {"detector_every_n_frames": 0},
        {"landmarks_max_age_s": 0},
        {"identity": {"process_nice": 20}},
    ):
        with pytest.raises(ValidationError):
            VisionConfig.model_validate(bad)


# -- real stages -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline() -> Iterator[VisionPipeline]:
    """Real stages, each on every frame (the cadence is tested with fakes)."""
    real = VisionPipeline(VisionConfig(detector_every_n_frames=1, landmarks_every_n_frames=1))
    assert real.faults == []
    yield real
    real.close()


def fit(image: Image) -> Image:
    """Letterbox into 640x360, the pipeline's working size."""
    height, width = image.shape[:2]
    scale = min(640 / width, 360 / height)
    small = cv2.resize(image, (round(width * scale), round(height * scale)))
    canvas = np.zeros((360, 640, 3), dtype=np.uint8)
    y, x = (360 - small.shape[0]) // 2, (640 - small.shape[1]) // 2
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas


def test_two_people_on_real_stages(pipeline: VisionPipeline, faces_dir: Path) -> None:
    observation = pipeline.process(frame_at(fit(read_image(faces_dir / "two_people.jpg")), 0, 0.0))
    assert observation.face_count == 2
    assert observation.main_face is not None
    assert observation.head_pose is not None
    assert set(observation.stage_ms) >= {"quality", "detector", "landmarks", "head_pose", "gaze"}


def composed(faces_dir: Path, with_big_face: bool) -> Image:
    """A small face on the left; optionally a face twice its size on the right."""
    source = read_image(faces_dir / "two_people.jpg")
    canvas = np.full((360, 640, 3), 60, dtype=np.uint8)
    canvas[100:250, 40:190] = cv2.resize(source[0:300, 170:470], (150, 150))
    if with_big_face:
        canvas[30:330, 320:620] = cv2.resize(source[0:320, 740:1060], (300, 300))
    return canvas


def test_landmarks_follow_the_largest_face(pipeline: VisionPipeline, faces_dir: Path) -> None:
    """FaceMesh in video mode keeps following the face it found first; the pipeline shows it
    only the largest face when several are in view, so pose and gaze are the main face's."""
    observations = [
        pipeline.process(frame_at(composed(faces_dir, index >= 3), index, index / 10))
        for index in range(6)
    ]
    assert [o.face_count for o in observations] == [1, 1, 1, 2, 2, 2]
    first, last = observations[2], observations[-1]
    assert first.main_face is not None
    assert first.main_face.x < 200
    assert first.head_pose is not None
    assert first.head_pose.yaw < -15  # the left face looks toward image-right
    assert last.main_face is not None
    assert last.main_face.x > 300
    assert last.head_pose is not None
    assert abs(last.head_pose.yaw) < 10


def test_candidate_video_on_real_stages(pipeline: VisionPipeline, fixtures_dir: Path) -> None:
    video = fixtures_dir / "video" / "center_left_center.mp4"
    seconds = [0.5, 1.0, 1.5, 2.0, 7.0, 7.5]
    frames = [fit(f) for f in video_frames(video, seconds, cv2.ROTATE_90_CLOCKWISE)]
    pipeline.enrol(frames[0])
    observations = []
    for i, (f, s) in enumerate(zip(frames, seconds, strict=True)):
        observations.append(pipeline.process(frame_at(f, i, s)))
        assert pipeline.wait_identity(30.0)  # results come with the next frame
    assert [o.face_count for o in observations] == [1] * len(frames)
    # In video mode FaceMesh first follows the face of the previous frame; after a jump to
    # another scene (the photo of the test before) it finds the new face one frame later.
    tracked = observations[1:]
    assert all(o.head_pose is not None and abs(o.head_pose.yaw) < 15 for o in tracked)
    gazes = [o.gaze.horizontal for o in tracked if o.gaze is not None]
    assert len(gazes) == len(tracked)
    assert max(gazes[3:]) < min(gazes[:3])  # eyes left at 7 s
    checked = [o.identity.monotonic_s for o in observations if o.identity is not None]
    assert checked == [0.5, 7.0]  # the first face, then 5 s or more later
    assert all(o.identity.match for o in observations if o.identity is not None)


def test_a_stage_that_fails_to_load_leaves_the_others(tmp_path: Path, faces_dir: Path) -> None:
    broken = VisionConfig(identity=FaceRecognitionConfig(models_dir=tmp_path))
    with VisionPipeline(broken) as degraded:
        faults = degraded.take_faults()
        assert [(f.stage, f.type, f.loaded) for f in faults] == [
            ("identity", "face_recognition", False)
        ]
        assert "missing" in faults[0].error
        assert degraded.identity is None
        with pytest.raises(StageLoadError):
            degraded.enrol(read_image(faces_dir / "obama_small.jpg"))
        degraded.set_enrolment(np.ones(128))
        frame = frame_at(fit(read_image(faces_dir / "obama_small.jpg")), 0, 0.0)
        observation = degraded.process(frame)
        assert observation.face_count == 1
        assert observation.head_pose is not None
        assert observation.gaze is not None
        assert observation.identity is None
