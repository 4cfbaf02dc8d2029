"""Stage cadence: which frames run the detector and the landmarks, and what skipped frames
carry (fake stages; see fakes.scene for how a frame scripts them)."""

from __future__ import annotations

from edge_agent.vision.cadence import Cadence
from edge_agent.vision.pipeline import VisionPipeline
from edge_agent.vision.types import FaceBox, Observation
from tests.edge_agent.vision.fakes import BOX, FakeDetector, FakeLandmarks, fake_pipeline, scene
from tests.edge_agent.vision.media import frame_at

FPS = 30


def ran(cadence: Cadence, times: list[float]) -> list[bool]:
    return [cadence.tick(t) for t in times]


def test_cadence_every_n_frames_within_a_max_age() -> None:
    times = [i / FPS for i in range(7)]
    assert ran(Cadence(1, 0.1), times) == [True] * 7
    assert ran(Cadence(3, 1.0), times) == [True, False, False] * 2 + [True]
    assert ran(Cadence(3, 0.05), times) == [True, False] * 3 + [True]  # 0.067 s is too old
    assert ran(Cadence(3, 1.0), [1.0, 1.1, 0.5]) == [True, False, True]  # clock went back
    forced = Cadence(3, 1.0)
    assert forced.tick(0.0)
    forced.force()
    assert forced.tick(0.03)


def test_a_run_due_by_count_may_wait_one_frame_within_its_max_age() -> None:
    cadence = Cadence(3, 0.2)
    assert not cadence.can_wait(0.0)  # never ran
    assert ran(cadence, [0.0, 1 / FPS, 2 / FPS]) == [True, False, False]
    assert cadence.due(3 / FPS)
    assert cadence.can_wait(3 / FPS)  # 0.133 s old on the next frame
    cadence.update(3 / FPS, ran=False)
    assert cadence.due(4 / FPS)
    assert not cadence.can_wait(4 / FPS)  # it waited once already
    slow = Cadence(3, 0.2)
    assert ran(slow, [0.0, 0.06, 0.12]) == [True, False, False]
    assert slow.due(0.18)
    assert not slow.can_wait(0.18)  # 0.24 s old on the next frame
    every = Cadence(1, 1.0)
    assert every.tick(0.0)
    assert not every.can_wait(1 / FPS)  # every frame means every frame


def stages(pipeline: VisionPipeline) -> tuple[FakeDetector, FakeLandmarks]:
    detector, landmarks = pipeline.detector, pipeline.landmarks
    assert isinstance(detector, FakeDetector)
    assert isinstance(landmarks, FakeLandmarks)
    return detector, landmarks


def play(pipeline: VisionPipeline, frames: list[tuple[int, bool, int]]) -> list[Observation]:
    """(faces, mesh face, yaw) per frame at 30 fps."""
    return [
        pipeline.process(frame_at(scene(*script), index, index / FPS))
        for index, script in enumerate(frames)
    ]


def yaws(observations: list[Observation]) -> list[float | None]:
    return [None if o.head_pose is None else o.head_pose.yaw for o in observations]


def test_cadence_of_one_runs_every_stage_on_every_frame() -> None:
    pipeline = fake_pipeline(landmarks=True, detector_every_n_frames=1, landmarks_every_n_frames=1)
    script = [(1, True, 10), (1, True, 11), (0, False, 0), (1, False, 0), (1, True, 14)]
    observations = play(pipeline, script)
    assert stages(pipeline)[0].calls == stages(pipeline)[1].calls == len(script)
    assert [o.face_count for o in observations] == [1, 1, 0, 1, 1]
    assert yaws(observations) == [10, 11, None, None, 14]
    assert all({"detector", "landmarks"} <= set(o.stage_ms) for o in observations)


def test_skipped_frames_carry_the_last_results() -> None:
    pipeline = fake_pipeline(
        landmarks=True,
        detector_every_n_frames=3,
        landmarks_every_n_frames=2,
        detector_max_age_s=1.0,
        landmarks_max_age_s=1.0,
    )
    observations = play(pipeline, [(1, True, yaw) for yaw in range(10, 21)])
    assert [o.face_count for o in observations] == [1] * 11
    assert yaws(observations) == [10, 10, 12, 12, 14, 14, 16, 16, 18, 18, 20]
    detected = [i for i, o in enumerate(observations) if "detector" in o.stage_ms]
    marked = [i for i, o in enumerate(observations) if "landmarks" in o.stage_ms]
    assert marked == [0, 2, 4, 6, 8, 10]
    # Due together on frames 6 and 10, the detector waits a frame: no frame runs both models.
    assert detected == [0, 3, 7]
    assert all(o.main_face == BOX for o in observations)


def test_nothing_is_carried_past_its_max_age() -> None:
    pipeline = fake_pipeline(landmarks=True)  # default cadence and ages
    observations = [
        pipeline.process(frame_at(scene(1, True, index), index, index * 0.25))  # 4 fps
        for index in range(4)
    ]
    assert yaws(observations) == [0, 1, 2, 3]
    assert stages(pipeline)[0].calls == stages(pipeline)[1].calls == 4


def test_a_landmark_run_without_a_face_clears_pose_and_gaze_at_once() -> None:
    pipeline = fake_pipeline(landmarks=True, detector_every_n_frames=1, landmarks_every_n_frames=2)
    observations = play(pipeline, [(1, True, 10), (1, True, 11), (1, False, 0), (1, False, 0)])
    assert yaws(observations) == [10, 10, None, None]
    assert [o.gaze is None for o in observations] == [False, False, True, True]


def test_a_face_found_by_landmarks_counts_while_the_detection_is_carried() -> None:
    pipeline = fake_pipeline(
        landmarks=True,
        detector_every_n_frames=3,
        landmarks_every_n_frames=1,
        detector_max_age_s=1.0,
    )
    detector, _ = stages(pipeline)
    observations = play(pipeline, [(0, False, 0), (1, True, 5), (1, True, 6), (1, True, 7)])
    assert [o.face_count for o in observations] == [0, 1, 1, 1]
    assert yaws(observations) == [None, 5, 6, 7]
    # Landmarks saw a face the carried detection did not: the detector ran on the next frame.
    assert ["detector" in o.stage_ms for o in observations] == [True, False, True, False]
    assert detector.calls == 2


def test_a_detection_without_the_carried_face_reruns_the_landmarks() -> None:
    pipeline = fake_pipeline(
        landmarks=True,
        detector_every_n_frames=1,
        landmarks_every_n_frames=3,
        landmarks_max_age_s=1.0,
    )
    observations = play(pipeline, [(1, True, 5), (0, False, 0), (0, False, 0), (0, False, 0)])
    # Frame 1: the detector finds nobody, the 33 ms old landmarks still count a face; the
    # landmarks run again on frame 2 and find nobody either.
    assert [o.face_count for o in observations] == [1, 1, 0, 0]
    assert yaws(observations) == [5, 5, None, None]
    assert ["landmarks" in o.stage_ms for o in observations] == [True, False, True, False]


def test_a_moved_face_is_not_counted_twice_while_the_detection_is_carried() -> None:
    pipeline = fake_pipeline(
        landmarks=True,
        detector_every_n_frames=3,
        landmarks_every_n_frames=1,
        detector_max_age_s=1.0,
    )
    _, landmarks = stages(pipeline)
    pipeline.process(frame_at(scene(1, True, 0), 0, 0.0))
    landmarks.box = moved = FaceBox(450, 100, 120, 120)  # no longer inside the carried box
    carried = pipeline.process(frame_at(scene(1, True, 0), 1, 1 / FPS))
    assert "detector" not in carried.stage_ms
    assert carried.face_count == 1  # one face that moved, not a second one
    assert carried.main_face == moved
    fresh = pipeline.process(frame_at(scene(1, True, 0), 2, 2 / FPS))
    assert "detector" in fresh.stage_ms  # the disagreement made the detector run again
    assert fresh.face_count == 2  # both fresh: the fake detector still sees BOX as well


def test_a_lasting_disagreement_does_not_make_both_run_on_every_frame() -> None:
    pipeline = fake_pipeline(
        landmarks=True,
        detector_every_n_frames=3,
        landmarks_every_n_frames=3,
        detector_max_age_s=1.0,
        landmarks_max_age_s=1.0,
    )
    detector, landmarks = stages(pipeline)
    observations = play(pipeline, [(1, False, 0)] * 30)  # FaceMesh never finds that face
    assert all(o.face_count == 1 for o in observations)
    assert detector.calls + landmarks.calls <= 22  # 10 + 10, and once more each at most
