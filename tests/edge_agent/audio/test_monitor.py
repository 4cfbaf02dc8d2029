"""AudioMonitor, the agent's integration surface: a fixture sentence replayed from its WAV
file gives one speech segment in the labelled window (on the monitor's clock), its sound can
be taken back out for a clip, the level is reported, and microphone events are passed on."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from edge_agent.audio import (
    AudioConfig,
    AudioEventKind,
    AudioMonitor,
    Pacing,
    SoundDeviceSource,
    SpeechChange,
    WavReplaySource,
    build_audio_source,
    load_wav,
)
from tests.edge_agent.audio.fake_sounddevice import FakeMicWorld
from tests.edge_agent.audio.helpers import wait_until

T0 = 500.0  # the monitor's monotonic clock when the file starts


@pytest.fixture
def sentence(fixtures_dir: Path) -> tuple[Path, npt.NDArray[Any]]:
    clips = fixtures_dir / "audio" / "clips"
    return clips / "clean_sp01.wav", np.load(clips / "labels_sp01.npy").astype(bool)


def test_replayed_sentence_gives_one_speech_segment_with_its_sound(
    sentence: tuple[Path, npt.NDArray[Any]],
) -> None:
    path, labels = sentence
    seen: list[SpeechChange] = []
    config = AudioConfig(type="file", path=path, pacing=Pacing.FAST, queue_blocks=256)
    monitor = AudioMonitor(
        build_audio_source(config), config, on_change=seen.append, clock=lambda: T0
    )
    monitor.start()
    assert monitor.wait_finished(30.0)
    assert monitor.join(5.0)

    changes = monitor.poll_changes()
    assert [c.kind for c in changes] == ["started", "ended"]
    assert seen == changes
    assert monitor.poll_changes() == []  # polled once
    speech = np.flatnonzero(labels) / 100
    start, end = changes[1].start_s, changes[1].end_s
    assert start == pytest.approx(T0 + speech[0], abs=0.1)
    assert end is not None
    assert end == pytest.approx(T0 + speech[-1], abs=0.4)
    assert not monitor.speaking

    stats = monitor.stats()
    assert stats.capture.dropped == 0
    assert stats.vad_blocks == stats.capture.blocks == int(np.ceil(len(load_wav(path)) / 512))
    assert stats.vad_ms_per_block > 0

    clip = monitor.pcm_between(start, end)
    assert clip is not None
    assert clip.start_s == pytest.approx(start)
    original = load_wav(path)
    first = round((start - T0) * 16000)
    assert np.array_equal(clip.samples, original[first : first + len(clip.samples)])

    level = monitor.level()
    assert level.blocks == stats.capture.blocks
    assert -40 < level.rms_dbfs < level.peak_dbfs <= 0
    assert [e.kind for e in monitor.poll_events()] == [AudioEventKind.END_OF_STREAM]


def test_noise_gives_no_speech(fixtures_dir: Path) -> None:
    path = fixtures_dir / "audio" / "clips" / "noise_keyboard.wav"
    config = AudioConfig(queue_blocks=256)
    monitor = AudioMonitor(WavReplaySource(path, pacing=Pacing.FAST), config)
    monitor.start()
    assert monitor.wait_finished(30.0)
    assert monitor.poll_changes() == []


def test_microphone_events_reach_the_monitor(monkeypatch: pytest.MonkeyPatch) -> None:
    world = FakeMicWorld()
    monkeypatch.setitem(sys.modules, "sounddevice", world.module())
    config = AudioConfig(lost_timeout_s=0.2, reopen_min_s=0.02, reopen_max_s=0.1)
    monitor = AudioMonitor(SoundDeviceSource(block_timeout_s=0.1), config)
    monitor.start()
    try:
        assert wait_until(lambda: monitor.stats().vad_blocks >= 5)
        world.plugged = False
        assert wait_until(lambda: monitor.stats().capture.microphone_lost)
        world.plugged = True
        assert wait_until(lambda: not monitor.stats().capture.microphone_lost)
    finally:
        monitor.stop()
        assert monitor.join(3.0)
    kinds = [e.kind for e in monitor.poll_events()]
    assert kinds == [AudioEventKind.MICROPHONE_LOST, AudioEventKind.MICROPHONE_RESTORED]
    assert monitor.poll_changes() == []  # a 440 Hz tone is not speech


def test_config_builds_sources_and_says_what_is_missing(tmp_path: Path) -> None:
    microphone = build_audio_source(AudioConfig(device="3"))
    assert isinstance(microphone, SoundDeviceSource)
    assert microphone.device == 3  # an index, not a device called "3"
    named = build_audio_source(AudioConfig(device="USB Audio"))
    assert isinstance(named, SoundDeviceSource)
    assert named.device == "USB Audio"
    source = build_audio_source(AudioConfig(type="file", path=tmp_path / "a.wav"))
    assert isinstance(source, WavReplaySource)
    with pytest.raises(ValueError, match=r"audio\.path is required"):
        build_audio_source(AudioConfig(type="file"))
