"""Audio rules: a spoken fixture sentence raises one `speech` violation over its labelled
time, a short burst raises none, talking verdicts become candidate_talking or
background_speech, and a lost microphone starts and ends at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from edge_agent.audio import (
    BLOCK_S,
    SileroVad,
    SpeechChange,
    SpeechTracker,
    Talking,
    VadConfig,
    block_probabilities,
    load_wav,
)
from edge_agent.rules.audio_rules import AudioRuleEngine
from edge_agent.rules.config import RulesConfig, Timing
from edge_agent.rules.engine import ViolationChange
from edge_agent.rules.tracker import Instant
from protocol import EventState, Severity
from protocol import ViolationType as V

WALL0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def at(seconds: float) -> Instant:
    return Instant(seconds, WALL0 + timedelta(seconds=seconds))


def speech_changes(probabilities: list[float] | npt.NDArray[Any]) -> list[ViolationChange]:
    tracker, engine = SpeechTracker(VadConfig()), AudioRuleEngine()
    changes: list[ViolationChange] = []
    t = 0.0
    for i, p in enumerate(probabilities):
        t = i * BLOCK_S
        change = tracker.update(float(p), t)
        if change is not None:
            changes += engine.speech_change(change, at(t + BLOCK_S))
        changes += engine.speech(tracker.speaking, at(t + BLOCK_S))
    tracker.flush()
    for k in range(1, 80):  # let the rule see the silence after the clip
        changes += engine.speech(False, at(t + k * BLOCK_S))
    return changes


def test_a_spoken_sentence_is_one_speech_violation_over_its_time(fixtures_dir: Path) -> None:
    clips = fixtures_dir / "audio" / "clips"
    speech = np.flatnonzero(np.load(clips / "labels_sp03.npy")) / 100
    probabilities = block_probabilities(SileroVad(), load_wav(clips / "clean_sp03.wav"))
    changes = speech_changes(probabilities)
    assert [(c.type, c.state) for c in changes] == [
        (V.SPEECH, EventState.STARTED),
        (V.SPEECH, EventState.ENDED),
    ]
    started, ended = changes
    assert started.violation_id == ended.violation_id
    assert started.severity is Severity.MEDIUM
    assert started.started.monotonic_s == pytest.approx(speech[0], abs=0.15)
    assert ended.ended is not None
    assert ended.ended.monotonic_s == pytest.approx(speech[-1], abs=0.5)
    assert ended.duration_s == pytest.approx(speech[-1] - speech[0], abs=0.6)


def test_a_segment_told_only_when_it_ended_still_counts() -> None:
    engine = AudioRuleEngine()
    told = engine.speech_change(SpeechChange("ended", 1.0, 3.5, 0.9), at(3.9))
    assert [(c.type, c.state) for c in told] == [(V.SPEECH, EventState.STARTED)]
    assert told[0].started.monotonic_s == 1.0
    assert told[0].started.wall_time == WALL0 + timedelta(seconds=1.0)
    ended = engine.speech(False, at(5.0))  # silence for end_after_s (1.5 s) since 3.5
    assert [(c.state, c.ended and c.ended.monotonic_s) for c in ended] == [(EventState.ENDED, 3.5)]
    assert ended[0].duration_s == pytest.approx(2.5)


def test_a_short_burst_of_speech_raises_nothing() -> None:
    assert speech_changes([0.0] * 10 + [0.95] * 20 + [0.0] * 30) == []  # 0.64 s < 1 s


def test_talking_verdicts_become_their_violations() -> None:
    engine = AudioRuleEngine(
        RulesConfig(
            candidate_talking=Timing(min_duration_s=1.0, end_after_s=0.5),
            background_speech=Timing(min_duration_s=1.0, end_after_s=0.5),
        )
    )
    changes: list[ViolationChange] = []
    script = [Talking.CANDIDATE_TALKING] * 20 + [Talking.SILENT] * 10
    script += [Talking.BACKGROUND_SPEECH] * 20 + [Talking.UNKNOWN] * 10
    for i, verdict in enumerate(script):
        changes += engine.talking(verdict, at(i * 0.1))
    summary = [(c.type, c.state, round(c.started.monotonic_s, 1)) for c in changes]
    assert summary == [
        (V.CANDIDATE_TALKING, EventState.STARTED, 0.0),
        (V.CANDIDATE_TALKING, EventState.ENDED, 0.0),
        (V.BACKGROUND_SPEECH, EventState.STARTED, 3.0),
        (V.BACKGROUND_SPEECH, EventState.ENDED, 3.0),
    ]
    assert changes[0].severity is Severity.HIGH


def test_microphone_lost_starts_and_ends_at_once() -> None:
    engine = AudioRuleEngine()
    lost = engine.microphone_lost(at(10.0))
    restored = engine.microphone_restored(at(14.5))
    assert [(c.type, c.state) for c in lost + restored] == [
        (V.MICROPHONE_LOST, EventState.STARTED),
        (V.MICROPHONE_LOST, EventState.ENDED),
    ]
    assert restored[0].duration_s == pytest.approx(4.5)


def test_finish_ends_what_is_active_and_disabled_rules_stay_silent() -> None:
    engine = AudioRuleEngine(RulesConfig(speech=Timing(enabled=False)))
    assert engine.speech(True, at(0.0)) == engine.speech(True, at(5.0)) == []
    engine.microphone_lost(at(1.0))
    ended = engine.finish(at(6.0))
    assert [(c.type, c.state) for c in ended] == [(V.MICROPHONE_LOST, EventState.ENDED)]


def test_long_speech_sends_updates_with_the_same_id() -> None:
    engine = AudioRuleEngine(RulesConfig(update_interval_s=5.0))
    changes: list[ViolationChange] = []
    for i in range(130):  # 13 s of speech, checked every 0.1 s
        changes += engine.speech(True, at(i * 0.1))
    states = [c.state for c in changes]
    assert states == [EventState.STARTED, EventState.UPDATED, EventState.UPDATED]
    assert len({c.violation_id for c in changes}) == 1
    assert changes[1].duration_s == pytest.approx(6.0)
