"""Objects in view become violations with the same minimum duration and hysteresis as the
vision rules: one detector frame is evidence, never a verdict."""

from __future__ import annotations

from dataclasses import replace

from edge_agent.rules.config import RulesConfig, Timing
from edge_agent.rules.engine import RuleEngine, ViolationChange
from edge_agent.vision.objects import ObjectObservation
from edge_agent.vision.objects_config import ObjectsConfig, ObjectThresholds
from edge_agent.vision.objects_decode import Detection
from edge_agent.vision.types import Observation
from protocol import ViolationType as V
from tests.edge_agent.rules.streams import CALM, stream

PHONE = Detection(67, "cell phone", 0.55, 10, 20, 40, 80)
LAPTOP = Detection(63, "laptop", 0.9, 100, 100, 300, 250)


def seeing(observations: list[Observation], *found: Detection) -> list[Observation]:
    return [
        replace(o, objects=ObjectObservation(o.frame_index, o.monotonic_s, tuple(found)))
        for o in observations
    ]


def run(observations: list[Observation], engine: RuleEngine) -> list[ViolationChange]:
    changes: list[ViolationChange] = []
    for obs in observations:
        changes += engine.observe(obs)
    return changes


def of(changes: list[ViolationChange], kind: V) -> list[ViolationChange]:
    return [c for c in changes if c.type is kind]


def test_a_phone_held_for_five_seconds_is_one_violation_of_five_seconds() -> None:
    calm = stream((CALM, 2.0))
    held = seeing(stream((CALM, 5.0), start_s=102.0), PHONE)
    after = stream((CALM, 4.0), start_s=107.0)
    changes = of(run(calm + held + after, RuleEngine()), V.PHONE_IN_VIEW)
    assert [c.state.value for c in changes] == ["started", "ended"]
    assert abs(changes[-1].duration_s - 5.0) < 0.1
    assert changes[0].details["score"] == 0.55
    assert changes[0].details["boxes"] == 1.0


def test_a_phone_seen_shorter_than_the_minimum_raises_nothing() -> None:
    glimpse = seeing(stream((CALM, 1.5)), PHONE)
    changes = run(glimpse + stream((CALM, 4.0), start_s=101.5), RuleEngine())
    assert of(changes, V.PHONE_IN_VIEW) == []


def test_thresholds_come_from_the_object_config() -> None:
    strict = ObjectsConfig(thresholds=ObjectThresholds(cell_phone=0.6))
    held = seeing(stream((CALM, 5.0)), PHONE)  # 0.55: below 0.6
    assert of(run(held, RuleEngine(objects=strict)), V.PHONE_IN_VIEW) == []
    assert of(run(held, RuleEngine()), V.PHONE_IN_VIEW) != []


def test_a_laptop_is_a_second_screen_and_rules_can_be_turned_off() -> None:
    held = seeing(stream((CALM, 4.0)), LAPTOP)
    changes = run(held, RuleEngine())
    assert [c.state.value for c in of(changes, V.SECOND_SCREEN)] == ["started"]
    off = RuleEngine(RulesConfig(second_screen=Timing(enabled=False)))
    assert of(run(held, off), V.SECOND_SCREEN) == []


def test_no_object_stage_raises_no_object_violation() -> None:
    changes = run(stream((CALM, 10.0)), RuleEngine())
    kinds = {V.PHONE_IN_VIEW, V.BOOK_IN_VIEW, V.SECOND_SCREEN}
    assert not [c for c in changes if c.type in kinds]
