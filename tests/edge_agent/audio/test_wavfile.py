"""WAV replay: 16 kHz mono blocks with their file position, real-time and fast pacing,
padding, looping, stereo and other rates, and clear errors for files it cannot use."""

from __future__ import annotations

import time
import wave
from pathlib import Path

import numpy as np
import pytest

from edge_agent.audio import (
    BLOCK_SAMPLES,
    AudioSourceError,
    EndOfAudio,
    Pacing,
    Pcm,
    WavReplaySource,
    load_wav,
)
from tests.edge_agent.audio.helpers import tone, write_wav


def read_all(source: WavReplaySource) -> list[tuple[Pcm, float | None]]:
    out = []
    source.open()
    try:
        while True:
            read = source.read()
            out.append((read.samples, read.media_s))
    except EndOfAudio:
        return out
    finally:
        source.close()


def test_blocks_carry_their_position_and_the_tail_is_padded(tmp_path: Path) -> None:
    samples = tone(0.1)  # 1600 samples: three full blocks and 64 samples
    path = write_wav(tmp_path / "a.wav", samples)
    blocks = read_all(WavReplaySource(path, pacing=Pacing.FAST))
    assert [m for _b, m in blocks] == pytest.approx([0.0, 0.032, 0.064, 0.096])
    joined = np.concatenate([b for b, _m in blocks])
    assert all(b.shape == (BLOCK_SAMPLES,) and b.dtype == np.int16 for b, _m in blocks)
    assert np.array_equal(joined[:1600], samples)
    assert not joined[1600:].any()


def test_realtime_pacing_takes_the_file_s_duration(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", tone(0.32))
    started = time.monotonic()
    blocks = read_all(WavReplaySource(path, pacing=Pacing.REALTIME))
    elapsed = time.monotonic() - started
    assert len(blocks) == 10
    assert 0.28 <= elapsed < 0.8


def test_fast_pacing_does_not_wait(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", tone(3.2))
    started = time.monotonic()
    assert len(read_all(WavReplaySource(path, pacing=Pacing.FAST))) == 100
    assert time.monotonic() - started < 0.5


def test_loop_keeps_time_counting_up(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", tone(0.064))
    source = WavReplaySource(path, pacing=Pacing.FAST, loop=True)
    source.open()
    positions = [source.read().media_s for _ in range(5)]
    source.close()
    assert positions == pytest.approx([0.0, 0.032, 0.064, 0.096, 0.128])


def test_stereo_is_averaged_to_mono(tmp_path: Path) -> None:
    left = tone(0.064, amplitude=10000)
    stereo = np.stack([left, np.zeros_like(left)], axis=1).reshape(-1)
    path = write_wav(tmp_path / "s.wav", stereo, channels=2)
    mono = load_wav(path)
    assert len(mono) == len(left)
    assert np.abs(mono.astype(int) - left.astype(int) // 2).max() <= 1


def test_other_rates_are_resampled_keeping_pitch_and_length(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "r.wav", tone(1.0, rate=48000, hz=1000.0), rate=48000)
    pcm = load_wav(path)
    assert len(pcm) == 16000
    spectrum = np.abs(np.fft.rfft(pcm.astype(float)))
    assert np.argmax(spectrum) == pytest.approx(1000, abs=2)  # 1 Hz per bin over 1 s
    assert 6000 < np.abs(pcm).max() < 9000  # the level survives the low-pass


def test_downsampling_removes_what_16khz_cannot_hold(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "hi.wav", tone(1.0, rate=48000, hz=12000.0), rate=48000)
    pcm = load_wav(path)
    # A 12 kHz tone must not alias into the speech band (the first and last few ms hold the
    # filter's edge transient).
    assert np.abs(pcm[100:-100]).max() < 80  # 8000 in: at least 40 dB down


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "not a readable PCM WAV"), (b"RIFF....WAVEjunk", "not a readable PCM WAV")],
)
def test_unreadable_files_say_why(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioSourceError, match=message):
        WavReplaySource(path).open()


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(AudioSourceError, match="no such file"):
        WavReplaySource(tmp_path / "nope.wav").open()


def test_24_bit_samples_are_rejected_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "24.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(3)
        wav.setframerate(16000)
        wav.writeframes(b"\x00\x00\x00" * 100)
    with pytest.raises(AudioSourceError, match="24-bit"):
        load_wav(path)


def test_an_empty_wav_is_an_error(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "empty.wav", np.zeros(0, dtype=np.int16))
    with pytest.raises(AudioSourceError, match="no samples"):
        WavReplaySource(path).open()
