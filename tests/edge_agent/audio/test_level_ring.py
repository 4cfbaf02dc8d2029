"""Level meter (RMS and peak dBFS) and the bounded PCM ring for evidence clips."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.audio import SAMPLE_RATE, LevelMeter, Pcm, PcmRing, block_level, dbfs
from edge_agent.audio.level import SILENCE_DBFS
from tests.edge_agent.audio.helpers import tone


def test_full_scale_sine_reads_0_dbfs_peak_and_minus_3_rms() -> None:
    level = block_level(tone(0.032, amplitude=32767, hz=500))
    assert level.peak_dbfs == pytest.approx(0.0, abs=0.01)
    assert level.rms_dbfs == pytest.approx(-3.01, abs=0.05)


def test_silence_is_the_floor_not_minus_infinity() -> None:
    assert block_level(np.zeros(512, dtype=np.int16)).rms_dbfs == SILENCE_DBFS
    assert dbfs(0.0) == SILENCE_DBFS


def test_meter_reports_the_blocks_since_the_last_reading() -> None:
    meter = LevelMeter()
    meter.add(tone(0.032, amplitude=3277))  # -20 dBFS peak
    meter.add(tone(0.032, amplitude=32767))  # 0 dBFS peak
    first = meter.read()
    assert first.blocks == 2
    assert first.peak_dbfs == pytest.approx(0.0, abs=0.1)
    # RMS over both: sqrt((0.1^2 + 1^2) / 2) / sqrt(2) of full scale
    assert first.rms_dbfs == pytest.approx(20 * np.log10(np.sqrt(1.01 / 2) / np.sqrt(2)), abs=0.1)
    meter.add(tone(0.032, amplitude=3277))
    assert meter.read().peak_dbfs == pytest.approx(-20.0, abs=0.1)


def test_a_meter_without_new_blocks_says_so() -> None:
    meter = LevelMeter()
    meter.add(tone(0.032))
    before = meter.read()
    after = meter.read()
    assert after.blocks == 0
    assert after.rms_dbfs == before.rms_dbfs


def block(value: int) -> Pcm:
    return np.full(512, value, dtype=np.int16)


def test_ring_returns_the_window_cut_to_the_sample() -> None:
    ring = PcmRing(10.0)
    for i in range(10):
        ring.push(100.0 + i * 0.032, block(i + 1))
    clip = ring.pcm_between(100.0 + 0.016, 100.0 + 0.064)
    assert clip is not None
    assert clip.start_s == pytest.approx(100.016)
    assert len(clip.samples) == round(0.048 * SAMPLE_RATE)
    assert set(clip.samples[:256].tolist()) == {1}  # second half of block 0
    assert set(clip.samples[256:].tolist()) == {2}  # all of block 1


def test_ring_fills_gaps_with_silence_so_sound_stays_in_step() -> None:
    ring = PcmRing(10.0)
    ring.push(0.0, block(5))
    ring.push(0.064, block(7))  # one block missing (a lost microphone)
    clip = ring.pcm_between(0.0, 0.096)
    assert clip is not None
    assert clip.duration_s == pytest.approx(0.096)
    assert set(clip.samples[512:1024].tolist()) == {0}
    assert set(clip.samples[1024:].tolist()) == {7}


def test_ring_memory_is_bounded_by_seconds() -> None:
    ring = PcmRing(1.0)
    for i in range(200):  # 6.4 s
        ring.push(i * 0.032, block(1))
    assert ring.seconds() <= 1.0
    assert len(ring) == 31
    assert ring.pcm_between(0.0, 3.0) is None  # long gone
    clip = ring.pcm_between(0.0, 10.0)
    assert clip is not None
    assert clip.start_s == pytest.approx(200 * 0.032 - ring.seconds())


def test_ring_rejects_a_nonsense_size() -> None:
    with pytest.raises(ValueError, match="positive"):
        PcmRing(0)
