"""Voice activity: the speech tracker's thresholds, minimum duration and hangover on scripted
probabilities, the 10 ms frame spreading, the config's checks, and real Silero on fixture
speech and noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from edge_agent.audio import (
    BLOCK_S,
    SileroVad,
    SpeechTracker,
    VadConfig,
    VadError,
    block_probabilities,
    frame_values,
    load_wav,
    speech_segments,
)

CONFIG = VadConfig(threshold=0.5, end_threshold=0.3, min_speech_s=0.2, hangover_s=0.1)


def run(
    probabilities: list[float], config: VadConfig = CONFIG
) -> list[tuple[str, float, float | None]]:
    tracker = SpeechTracker(config)
    changes = [tracker.update(p, i * BLOCK_S) for i, p in enumerate(probabilities)]
    changes.append(tracker.flush())
    return [(c.kind, round(c.start_s, 3), c.end_s and round(c.end_s, 3)) for c in changes if c]


def test_speech_starts_after_min_duration_dated_from_its_onset() -> None:
    tracker = SpeechTracker(CONFIG)
    assert tracker.update(0.9, 0.0) is None
    assert tracker.update(0.9, 0.032) is None
    assert tracker.update(0.9, 0.064) is None
    assert not tracker.speaking
    assert tracker.update(0.9, 0.096) is None  # 0.128 s voiced so far
    assert tracker.update(0.9, 0.128) is None
    change = tracker.update(0.9, 0.160)  # 0.192 s: not yet
    assert change is None
    change = tracker.update(0.9, 0.192)  # 0.224 s >= 0.2 s
    assert change is not None
    assert change.kind == "started"
    assert change.start_s == 0.0
    assert tracker.speaking


def test_a_short_burst_is_not_speech() -> None:
    assert run([0.0, 0.9, 0.9, 0.9, 0.0, 0.0, 0.0, 0.0, 0.0]) == []


def test_pauses_shorter_than_the_hangover_do_not_split_a_segment() -> None:
    probabilities = [0.9] * 10 + [0.1] * 3 + [0.9] * 10 + [0.0] * 10
    assert run(probabilities) == [("started", 0.0, None), ("ended", 0.0, 0.736)]


def test_a_longer_pause_ends_the_segment_at_its_last_voiced_block() -> None:
    probabilities = [0.9] * 10 + [0.0] * 6 + [0.9] * 10 + [0.0] * 10
    assert run(probabilities) == [
        ("started", 0.0, None),
        ("ended", 0.0, 0.32),
        ("started", 0.512, None),
        ("ended", 0.512, 0.832),
    ]


def test_speech_continues_between_the_two_thresholds() -> None:
    probabilities = [0.9] * 8 + [0.35] * 20 + [0.0] * 10
    assert run(probabilities)[-1] == ("ended", 0.0, round(28 * BLOCK_S, 3))
    assert run([0.45] * 30) == []  # never reached the start threshold


def test_a_gap_in_the_blocks_ends_the_segment() -> None:
    tracker = SpeechTracker(CONFIG)
    for i in range(10):
        tracker.update(0.9, i * BLOCK_S)
    change = tracker.update(0.9, 5.0)  # 4.7 s of dropped blocks, then speech again
    assert change is not None
    assert change.kind == "ended"
    assert change.end_s == pytest.approx(10 * BLOCK_S)
    assert not tracker.speaking


def test_frame_values_take_the_block_that_holds_each_frame_s_centre() -> None:
    values = frame_values(np.array([0.1, 0.9, 0.5]), 10)
    # frame centres 80, 240, 400, 560, ... samples; blocks of 512
    assert values.tolist() == [0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5]


def test_end_threshold_above_threshold_is_rejected() -> None:
    with pytest.raises(ValidationError, match="end_threshold"):
        VadConfig(threshold=0.3, end_threshold=0.5)
    with pytest.raises(ValidationError, match="extra"):
        VadConfig.model_validate({"treshold": 0.5})


def test_silero_rejects_a_block_of_the_wrong_size() -> None:
    with pytest.raises(VadError, match="512"):
        SileroVad().probability(np.zeros(100, dtype=np.int16))


def test_silero_finds_one_sentence_where_the_labels_put_it(fixtures_dir: Path) -> None:
    clips = fixtures_dir / "audio" / "clips"
    labels = np.load(clips / "labels_sp01.npy").astype(bool)
    speech = np.flatnonzero(labels)
    probabilities = block_probabilities(SileroVad(), load_wav(clips / "clean_sp01.wav"))
    segments = speech_segments(probabilities, VadConfig())
    assert len(segments) == 1
    assert segments[0].start_s == pytest.approx(speech[0] / 100, abs=0.1)
    assert segments[0].end_s == pytest.approx(speech[-1] / 100, abs=0.4)
    frames = frame_values(probabilities, len(labels))
    assert frames[labels].mean() > 0.8
    assert frames[~labels].mean() < 0.1


@pytest.mark.parametrize("noise", ["hum", "keyboard", "white"])
def test_silero_hears_no_speech_in_noise(fixtures_dir: Path, noise: str) -> None:
    pcm = load_wav(fixtures_dir / "audio" / "clips" / f"noise_{noise}.wav")
    probabilities = block_probabilities(SileroVad(), pcm)
    assert speech_segments(probabilities, VadConfig()) == []
    assert float(probabilities.max()) < VadConfig().end_threshold
