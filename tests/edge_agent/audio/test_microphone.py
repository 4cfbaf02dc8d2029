"""SoundDeviceSource against a fake `sounddevice` module: stream settings, blocks, overflow
counting, a stalled microphone that times out instead of blocking, unplug and replug through
the capture runner (microphone_lost then microphone_restored), and missing packages."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from edge_agent.audio import (
    AudioCapture,
    AudioCaptureSettings,
    AudioEvent,
    AudioEventKind,
    AudioSourceError,
    SoundDeviceSource,
)
from tests.edge_agent.audio.fake_sounddevice import FakeMicWorld
from tests.edge_agent.audio.helpers import wait_until


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> FakeMicWorld:
    fake = FakeMicWorld()
    monkeypatch.setitem(sys.modules, "sounddevice", fake.module())
    return fake


def test_opens_16khz_mono_int16_blocks_of_512(world: FakeMicWorld) -> None:
    source = SoundDeviceSource(device=2)
    source.open()
    read = source.read()
    source.close()
    settings = {k: v for k, v in world.opened[0].items() if k != "callback"}
    assert settings == {
        "samplerate": 16000,
        "blocksize": 512,
        "channels": 1,
        "dtype": "int16",
        "device": 2,
    }
    assert read.samples.shape == (512,)
    assert read.samples.dtype == np.int16
    assert int(np.abs(read.samples).max()) > 7000  # the fake's 440 Hz tone
    assert read.media_s is None
    assert source.live
    assert world.closed == 1


def test_overflows_are_counted(world: FakeMicWorld) -> None:
    world.overflow_next = 2
    source = SoundDeviceSource()
    source.open()
    for _ in range(4):
        source.read()
    source.close()
    assert source.overflows == 2


def test_a_block_of_the_wrong_shape_is_an_error(world: FakeMicWorld) -> None:
    world.wrong_shape_next = 1
    source = SoundDeviceSource()
    source.open()
    with pytest.raises(AudioSourceError, match="shape"):
        source.read()
    source.close()


def test_no_microphone_is_a_source_error(world: FakeMicWorld) -> None:
    world.plugged = False
    with pytest.raises(AudioSourceError, match="cannot open the microphone"):
        SoundDeviceSource().open()


def drain_forever(source: SoundDeviceSource) -> None:
    """Read until it raises (blocks already handed over may still be queued)."""
    while True:
        source.read()


def test_stalled_microphone_times_out_instead_of_blocking(world: FakeMicWorld) -> None:
    source = SoundDeviceSource(block_timeout_s=0.1)
    source.open()
    source.read()
    world.plugged = False
    started = time.monotonic()
    with pytest.raises(AudioSourceError, match="no audio"):
        drain_forever(source)
    assert time.monotonic() - started < 1.0
    source.close()


def test_missing_module_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    with pytest.raises(AudioSourceError, match="pip install sounddevice"):
        SoundDeviceSource().open()


def test_unplugged_microphone_is_lost_then_restored(world: FakeMicWorld) -> None:
    events: list[AudioEvent] = []
    settings = AudioCaptureSettings(lost_timeout_s=0.2, reopen_min_s=0.02, reopen_max_s=0.1)
    capture = AudioCapture(SoundDeviceSource(block_timeout_s=0.1), settings, on_event=events.append)
    capture.start()
    try:
        assert wait_until(lambda: capture.stats().blocks >= 5)
        world.plugged = False
        assert wait_until(lambda: any(e.kind is AudioEventKind.MICROPHONE_LOST for e in events))
        assert capture.stats().microphone_lost
        blocks_while_lost = capture.stats().blocks
        world.plugged = True
        assert wait_until(lambda: any(e.kind is AudioEventKind.MICROPHONE_RESTORED for e in events))
    finally:
        capture.stop()
        assert capture.join(3.0)
    kinds = [e.kind for e in events]
    assert kinds == [AudioEventKind.MICROPHONE_LOST, AudioEventKind.MICROPHONE_RESTORED]
    lost, restored = events
    assert restored.lost_for_s is not None
    assert restored.lost_for_s >= 0.2
    assert restored.monotonic_s > lost.monotonic_s
    stats = capture.stats()
    assert stats.reopens >= 1
    assert stats.read_errors >= 1
    assert stats.blocks > blocks_while_lost
    assert not stats.microphone_lost
    assert len(world.opened) >= 2  # reopened after the unplug
