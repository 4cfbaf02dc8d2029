"""Rules: minimum duration to start, hysteresis to end, durations that mean what they say."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from edge_agent.clock import FakeClock
from edge_agent.messages import Origin
from edge_agent.outbox import Outbox
from edge_agent.rules.calibration import Neutral
from edge_agent.rules.config import RulesConfig
from edge_agent.rules.engine import RuleEngine, ViolationChange
from edge_agent.rules.tracker import Instant
from edge_agent.rules.wire import violation_factory
from edge_agent.vision.types import FrameQuality, IdentityResult, Observation
from protocol import EventState, SessionRef, ViolationEvent, decode, encode, topic_for
from protocol import ViolationType as V
from tests.edge_agent.rules.streams import CALM, FPS, T0, Seat, stream, with_identity_every


def run(observations: list[Observation], engine: RuleEngine | None = None) -> list[ViolationChange]:
    engine = engine or RuleEngine()
    changes: list[ViolationChange] = []
    for obs in observations:
        changes += engine.observe(obs)
    return changes


def of(changes: list[ViolationChange], kind: V) -> list[ViolationChange]:
    return [c for c in changes if c.type is kind]


def test_calm_candidate_raises_nothing() -> None:
    assert run(stream((CALM, 60))) == []


def test_looking_away_14_s_is_reported_as_14_s() -> None:
    away = Seat(yaw=45)
    changes = of(run(stream((CALM, 5), (away, 14), (CALM, 5))), V.LOOKING_AWAY)
    assert [c.state for c in changes] == [EventState.STARTED, EventState.UPDATED, EventState.ENDED]
    started, _, ended = changes
    assert started.started.monotonic_s == pytest.approx(105.0, abs=1 / FPS)
    assert started.duration_s == pytest.approx(3.0, abs=1 / FPS)  # confirmed after 3 s
    assert ended.ended is not None
    assert ended.duration_s == pytest.approx(14.0, abs=1 / FPS)
    assert len({c.violation_id for c in changes}) == 1
    assert ended.details["yaw_offset_deg"] == pytest.approx(45.0)
    assert ended.confidence == pytest.approx(1.0)


@pytest.mark.parametrize("seconds", [0.5, 1.0, 2.9])
def test_shorter_than_minimum_raises_nothing(seconds: float) -> None:
    assert run(stream((CALM, 2), (Seat(yaw=60), seconds), (CALM, 10))) == []


def test_flicker_inside_a_violation_does_not_split_it() -> None:
    away, glance = Seat(yaw=45), 0.5  # brief glances back shorter than end_after_s (1 s)
    segments = [
        (CALM, 2),
        (away, 4),
        (CALM, glance),
        (away, 4),
        (CALM, glance),
        (away, 4),
        (CALM, 3),
    ]
    changes = of(run(stream(*segments)), V.LOOKING_AWAY)
    assert [c.state for c in changes] == [EventState.STARTED, EventState.UPDATED, EventState.ENDED]
    assert changes[-1].duration_s == pytest.approx(13.0, abs=2 / FPS)
    assert 0.9 < changes[-1].confidence < 1.0


def test_face_absent_needs_three_seconds_and_ends_when_face_returns() -> None:
    changes = of(run(stream((CALM, 2), (Seat(faces=0), 6), (CALM, 3))), V.FACE_ABSENT)
    assert [c.state for c in changes] == [EventState.STARTED, EventState.ENDED]
    assert changes[1].duration_s == pytest.approx(6.0, abs=1 / FPS)


def test_second_person_is_multiple_faces() -> None:
    changes = of(run(stream((CALM, 2), (Seat(faces=2), 5), (CALM, 3))), V.MULTIPLE_FACES)
    assert [c.state for c in changes] == [EventState.STARTED, EventState.ENDED]
    assert changes[1].details["max_faces"] == 2


def test_eyes_away_while_the_head_stays_still() -> None:
    changes = of(run(stream((CALM, 5), (Seat(gaze_h=0.41), 5), (CALM, 5))), V.EYES_AWAY)
    assert [c.state for c in changes] == [EventState.STARTED, EventState.ENDED]
    assert changes[1].duration_s == pytest.approx(5.0, abs=0.5)  # smoothing shifts both edges


def test_turned_head_is_not_also_flagged_as_eyes_away() -> None:
    changes = run(stream((CALM, 2), (Seat(yaw=50, gaze_h=0.3), 6), (CALM, 3)))
    assert {c.type for c in changes} == {V.LOOKING_AWAY}


def test_covered_camera_is_reported_as_covered_not_as_absent_face() -> None:
    dark = Seat(faces=0, quality=FrameQuality(brightness=5.0, contrast=2.0))
    changes = run(stream((CALM, 2), (dark, 6), (CALM, 3)))
    assert {c.type for c in changes} == {V.CAMERA_COVERED}


def test_thresholds_are_relative_to_the_calibrated_neutral() -> None:
    """A camera mounted to the side: the attentive candidate's yaw is 25 degrees."""
    side = Seat(yaw=25)
    assert of(run(stream((side, 10))), V.LOOKING_AWAY) == []  # 25 < 30 by default
    calibrated = RuleEngine(neutral=Neutral(yaw=25, calibrated=True))
    assert run(stream((side, 10)), calibrated) == []
    changes = of(run(stream((side, 2), (Seat(yaw=-10), 5), (side, 3)), calibrated), V.LOOKING_AWAY)
    assert [c.state for c in changes] == [EventState.STARTED, EventState.ENDED]  # 35 degrees off
    assert changes[0].details["calibrated"] is True


def test_identity_mismatch_needs_consecutive_mismatched_checks() -> None:
    wrong = IdentityResult(distance=0.8, match=False)
    right = IdentityResult(distance=0.3, match=True)
    one_bad = with_identity_every(stream((CALM, 12)), 5.0, right)
    one_bad[5 * 30] = replace(one_bad[5 * 30], identity=wrong)  # one bad check among good ones
    assert of(run(one_bad), V.IDENTITY_MISMATCH) == []
    impostor = with_identity_every(stream((CALM, 20)), 5.0, wrong)
    changes = of(run(impostor), V.IDENTITY_MISMATCH)
    assert changes[0].state is EventState.STARTED
    assert changes[0].details["distance"] == pytest.approx(0.8)


def test_camera_lost_and_restored_start_and_end_at_once() -> None:
    engine = RuleEngine()
    lost = engine.camera_lost(Instant(10.0, T0))
    restored = engine.camera_restored(Instant(17.5, T0))
    assert [c.state for c in lost + restored] == [EventState.STARTED, EventState.ENDED]
    assert restored[0].duration_s == pytest.approx(7.5)


def test_finish_ends_whatever_is_active() -> None:
    engine = RuleEngine()
    run(stream((Seat(faces=0), 10)), engine)
    ended = engine.finish(Instant(200.0, T0))
    assert [(c.type, c.state) for c in ended] == [(V.FACE_ABSENT, EventState.ENDED)]


def test_disabled_rule_never_fires() -> None:
    config = RulesConfig.model_validate({"face_absent": {"enabled": False}})
    assert run(stream((Seat(faces=0), 10)), RuleEngine(config)) == []


def test_updates_repeat_while_active() -> None:
    changes = of(run(stream((Seat(faces=0), 35))), V.FACE_ABSENT)
    assert [c.state for c in changes].count(EventState.UPDATED) == 3  # at 13, 23, 33 s
    durations = [c.duration_s for c in changes]
    assert durations == sorted(durations)


def test_changes_become_valid_wire_events_even_when_the_wall_clock_steps_back(
    tmp_path: Path,
) -> None:
    """Time sync steps the wall clock back 1 h mid-violation: the event still validates and
    its end is start + the monotonic duration."""
    observations = stream((CALM, 2), (Seat(faces=0), 6), (CALM, 3))
    for i in range(len(observations) // 2, len(observations)):
        observations[i] = replace(
            observations[i], wall_time=observations[i].wall_time - timedelta(hours=1)
        )
    changes = run(observations)
    clock = FakeClock()
    origin = Origin("centre-1", "kiosk-a07")
    subject = SessionRef(seat_id="A-07", session_id="sess-1")
    with Outbox(tmp_path / "outbox.sqlite3") as outbox:
        events = [outbox.enqueue(violation_factory(c, origin, clock, subject)) for c in changes]
        assert outbox.depth() == len(changes) == 2
    ended = events[-1]
    assert isinstance(ended, ViolationEvent)
    assert ended.ended_at is not None
    assert ended.ended_at - ended.started_at == timedelta(seconds=ended.duration_s)
    assert ended.duration_s == pytest.approx(6.0, abs=1 / FPS)
    assert decode(topic_for(ended), encode(ended)).message == ended


def test_identity_mismatch_dates_from_the_checked_frame_not_the_late_result() -> None:
    """Identity checks finish off the frame path, here 1.5 s after the frame they encoded: the
    violation starts at the first mismatched frame, and its duration counts from there."""
    frames = stream((CALM, 20))
    lag_s, impostor_from = 1.5, frames[0].monotonic_s + 4.0
    late: list[Observation] = []
    next_check = frames[0].monotonic_s
    for obs in frames:
        checked_at = obs.monotonic_s - lag_s
        if obs.monotonic_s >= next_check and checked_at >= frames[0].monotonic_s:
            match = checked_at < impostor_from
            result = IdentityResult(
                distance=0.3 if match else 0.8, match=match, monotonic_s=checked_at
            )
            late.append(replace(obs, identity=result))
            next_check += 5.0
        else:
            late.append(obs)
    engine, reported_at = RuleEngine(), None
    for obs in late:
        found = of(engine.observe(obs), V.IDENTITY_MISMATCH)
        if found and reported_at is None:
            started, reported_at = found[0], obs
    assert reported_at is not None
    assert started.state is EventState.STARTED
    first_bad = min(
        o.identity.monotonic_s
        for o in late
        if o.identity is not None and not o.identity.match and o.identity.monotonic_s is not None
    )
    assert started.started.monotonic_s == pytest.approx(first_bad)
    assert reported_at.monotonic_s - first_bad >= lag_s  # seen late, dated from the frame
    delay = timedelta(seconds=reported_at.monotonic_s - first_bad)
    expected = reported_at.wall_time - delay
    assert abs(started.started.wall_time - expected) < timedelta(milliseconds=1)
