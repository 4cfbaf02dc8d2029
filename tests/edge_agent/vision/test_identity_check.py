"""Identity off the frame path: process() never waits for a check, one check at a time,
results on a later frame, faults, and close() joining the worker (fake identity models)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from edge_agent.vision import pipeline as pipeline_module
from edge_agent.vision.identity_check import IdentitySchedule
from tests.edge_agent.vision.fakes import BrokenIdentity, SlowIdentity, fake_pipeline, scene
from tests.edge_agent.vision.media import frame_at


def workers_alive() -> int:
    return sum(t.name == "vision-identity" and t.is_alive() for t in threading.enumerate())


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_process_does_not_wait_for_a_slow_check() -> None:
    identity = SlowIdentity()
    pipeline = fake_pipeline(identity, identity_interval_s=0.1, detector_every_n_frames=1)
    pipeline.set_enrolment(np.ones(128))
    started = time.perf_counter()
    observations = [pipeline.process(frame_at(scene(1), i, i / 10)) for i in range(20)]
    assert time.perf_counter() - started < 1.0  # the check blocks for up to 10 s
    assert all(o.identity is None for o in observations)
    wait_until(lambda: identity.started == 1)
    more = [pipeline.process(frame_at(scene(1), i, i / 10)) for i in range(20, 30)]
    assert all(o.identity is None for o in more)
    assert (identity.started, identity.most_running) == (1, 1)  # due on every frame: one ran

    identity.release.set()
    assert pipeline.wait_identity(5.0)
    later = pipeline.process(frame_at(scene(1), 30, 3.0))
    assert later.identity is not None
    assert (later.identity.frame_index, later.identity.monotonic_s) == (0, 0.0)
    assert later.identity.match
    assert later.stage_ms["identity"] > 0  # the check's own duration, in the worker
    assert pipeline.wait_identity(5.0)  # the next check started on frame 30
    assert pipeline.process(frame_at(scene(1), 31, 3.1)).identity is not None
    assert identity.most_running == 1
    pipeline.close()


def test_close_joins_the_worker_after_the_check_in_progress() -> None:
    before = workers_alive()
    identity = SlowIdentity()
    pipeline = fake_pipeline(identity, detector_every_n_frames=1)
    pipeline.set_enrolment(np.ones(128))
    pipeline.process(frame_at(scene(1), 0, 0.0))
    assert workers_alive() == before + 1
    wait_until(lambda: identity.started == 1)
    timer = threading.Timer(0.2, identity.release.set)  # a check that takes 0.2 s
    timer.start()
    pipeline.close()
    assert identity.encoded  # it finished before close() returned
    assert identity.closed
    assert workers_alive() == before
    timer.join()


def test_close_ends_a_stuck_check_by_closing_its_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline_module, "JOIN_TIMEOUT_S", 0.2)
    before = workers_alive()
    identity = SlowIdentity()
    pipeline = fake_pipeline(identity, detector_every_n_frames=1)
    pipeline.set_enrolment(np.ones(128))
    pipeline.process(frame_at(scene(1), 0, 0.0))
    started = time.perf_counter()
    pipeline.close()
    assert time.perf_counter() - started < 2.0
    assert identity.closed
    assert workers_alive() == before


def test_a_failing_check_is_a_fault_on_the_next_frame() -> None:
    pipeline = fake_pipeline(BrokenIdentity(), detector_every_n_frames=1)
    pipeline.set_enrolment(np.ones(128))
    pipeline.process(frame_at(scene(1), 0, 0.0))
    assert pipeline.wait_identity(5.0)
    observation = pipeline.process(frame_at(scene(1), 1, 0.1))
    assert observation.identity is None
    assert "identity" in observation.stage_ms
    faults = pipeline.take_faults()
    assert [(f.stage, f.type, f.loaded) for f in faults] == [("identity", "face_recognition", True)]
    assert "encoder died" in faults[0].error
    assert pipeline.failures == {"identity": 1}
    pipeline.close()


def test_a_check_against_a_replaced_enrolment_is_dropped() -> None:
    identity = SlowIdentity()
    pipeline = fake_pipeline(identity, detector_every_n_frames=1)
    pipeline.set_enrolment(np.ones(128))
    pipeline.process(frame_at(scene(1), 0, 0.0))  # checked against the first enrolment
    pipeline.set_enrolment(np.full(128, 0.5))
    identity.release.set()
    assert pipeline.wait_identity(5.0)
    assert pipeline.process(frame_at(scene(1), 1, 0.1)).identity is None
    assert pipeline.wait_identity(5.0)  # the new enrolment was checked on frame 1
    result = pipeline.process(frame_at(scene(1), 2, 0.2)).identity
    assert result is not None
    assert result.frame_index == 1
    pipeline.close()


def test_a_due_check_waits_for_a_frame_with_a_fresh_detection() -> None:
    identity = SlowIdentity()
    identity.release.set()
    pipeline = fake_pipeline(identity, detector_every_n_frames=3, detector_max_age_s=1.0)
    pipeline.process(frame_at(scene(1), 0, 0.0))  # the detector runs on frames 0, 3, 6
    pipeline.set_enrolment(np.ones(128))
    checked = []
    for index in range(1, 6):
        observation = pipeline.process(frame_at(scene(1), index, index / 30))
        assert pipeline.wait_identity(5.0)
        if observation.identity is not None:
            checked.append(observation.identity.frame_index)
    assert checked == [3]  # due from frame 1, handed off with frame 3's box
    pipeline.close()


def test_schedule_without_a_pipeline() -> None:
    schedule = IdentitySchedule(interval_s=5.0, lost_after_s=0.5)
    assert schedule.due(0.0)
    schedule.started(0.0)
    assert not schedule.due(4.9)
    assert schedule.due(5.0)
    schedule.started(5.0)
    schedule.track(6.0, face_present=False)
    schedule.track(6.6, face_present=True)
    assert schedule.due(6.6)  # the face came back after 0.6 s away
    schedule.started(6.6)
    schedule.track(7.0, face_present=False)
    schedule.track(7.3, face_present=True)
    assert not schedule.due(7.3)  # 0.3 s away is not a lost track
