from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pytest

from edge_agent.clock import FakeClock
from edge_agent.outbox import Outbox
from edge_agent.sim_script import PROFILES, KioskScript, SimIdentity
from protocol import (
    AckedMessage,
    AnswerSaved,
    CheckIn,
    EventState,
    ExamSubmitted,
    ViolationEvent,
    decode,
)

IDENTITY = SimIdentity("centre-1", "sim-kiosk-01", "seat-01", "sess-1", "cand-1", "exam-1")


def run_script(tmp_path: Path, total: int | None, count: int, seed: int) -> list[AckedMessage]:
    clock = FakeClock()
    script = KioskScript(IDENTITY, clock, random.Random(seed), total)
    messages: list[AckedMessage] = []
    with Outbox(tmp_path / f"o-{seed}-{total}.sqlite3") as outbox:
        for _ in range(count):
            messages.append(outbox.enqueue(script.next_factory()))
            clock.advance(random.Random(seed).uniform(0.2, 3))
        for row in outbox.pending(count):  # everything decodes strictly on its topic
            decode(row.topic, row.payload)
    return messages


@pytest.mark.parametrize("seed", range(8))
def test_counted_run_is_a_whole_exam(tmp_path: Path, seed: int) -> None:
    messages = run_script(tmp_path, 60, 60, seed)
    assert isinstance(messages[0], CheckIn)
    assert isinstance(messages[-1], ExamSubmitted)
    assert all(m.simulated for m in messages)
    assert [m.seq for m in messages] == list(range(60))
    assert any(isinstance(m, AnswerSaved) for m in messages)
    lifecycles: dict[object, list[ViolationEvent]] = defaultdict(list)
    for message in messages:
        if isinstance(message, ViolationEvent):
            lifecycles[message.violation_id].append(message)
    assert lifecycles, "no violations at all"
    for events in lifecycles.values():
        states = [e.state for e in events]
        assert states[0] is EventState.STARTED
        assert states[-1] is EventState.ENDED  # nothing left open at the end
        assert set(states[1:-1]) <= {EventState.UPDATED}
        assert len({(e.type, e.started_at) for e in events}) == 1
        threshold = PROFILES[events[0].type].threshold_s
        assert events[0].duration_s >= threshold  # a rule fires after its threshold
        durations = [e.duration_s for e in events]
        assert durations == sorted(durations)
        assert events[-1].ended_at is not None
        assert events[-1].ended_at >= events[-1].started_at


def test_tiny_runs(tmp_path: Path) -> None:
    assert [type(m) for m in run_script(tmp_path, 1, 1, 0)] == [CheckIn]
    assert [type(m) for m in run_script(tmp_path, 2, 2, 0)] == [CheckIn, ExamSubmitted]


def test_endless_run_keeps_going(tmp_path: Path) -> None:
    messages = run_script(tmp_path, None, 200, 3)
    assert not any(isinstance(m, ExamSubmitted) for m in messages)
    kinds = {type(m) for m in messages}
    assert {CheckIn, AnswerSaved, ViolationEvent} <= kinds
