"""WAV replay: a PCM WAV file as if it were the kiosk microphone.

Any 8/16/32-bit PCM WAV is accepted: stereo is averaged to mono and other sample rates are
resampled to 16 kHz (windowed-sinc low-pass, then linear interpolation: plenty for a VAD and
for test replay). Blocks carry their position in the file, so the VAD sees the file's own
timing whether it is replayed in real time or as fast as possible.
"""

from __future__ import annotations

import logging
import time
import wave
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge_agent.audio.source import (
    BLOCK_S,
    BLOCK_SAMPLES,
    SAMPLE_RATE,
    AudioRead,
    AudioSourceError,
    EndOfAudio,
    Pcm,
)

log = logging.getLogger(__name__)

_MIN_RATE, _MAX_RATE = 4_000, 192_000
_DTYPES: dict[int, np.dtype[Any]] = {1: np.dtype(np.uint8), 2: np.dtype("<i2"), 4: np.dtype("<i4")}


class Pacing(StrEnum):
    REALTIME = "realtime"  # one block per 32 ms of wall clock, like a microphone
    FAST = "fast"  # as fast as the consumer reads


def load_wav(path: Path | str) -> Pcm:
    """The whole file as mono int16 at 16 kHz. Raises AudioSourceError with the reason."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except FileNotFoundError as exc:
        raise AudioSourceError(f"{path}: no such file") from exc
    except (wave.Error, EOFError, OSError) as exc:
        raise AudioSourceError(f"{path}: not a readable PCM WAV file ({exc})") from exc
    if width not in _DTYPES:
        raise AudioSourceError(f"{path}: {8 * width}-bit samples; use 8, 16 or 32-bit PCM")
    if not _MIN_RATE <= rate <= _MAX_RATE:
        raise AudioSourceError(f"{path}: sample rate {rate} Hz is outside 4-192 kHz")
    samples = np.frombuffer(raw, dtype=_DTYPES[width])
    samples = samples[: len(samples) - len(samples) % channels].reshape(-1, channels)
    mono = _to_float(samples).mean(axis=1)
    if rate != SAMPLE_RATE:
        log.info("%s: resampling %d Hz to %d Hz", path.name, rate, SAMPLE_RATE)
        mono = resample(mono, rate, SAMPLE_RATE)
    return to_int16(mono)


def _to_float(samples: npt.NDArray[np.generic]) -> npt.NDArray[np.float64]:
    if samples.dtype == np.uint8:
        return (samples.astype(np.float64) - 128.0) / 128.0
    scale = float(2 ** (8 * samples.dtype.itemsize - 1))
    return samples.astype(np.float64) / scale


def to_int16(samples: npt.NDArray[np.float64]) -> Pcm:
    """Float samples in [-1, 1] as int16 (clipped)."""
    return np.asarray(np.clip(np.round(samples * 32768.0), -32768, 32767), dtype=np.int16)


def resample(
    samples: npt.NDArray[np.float64], rate_in: int, rate_out: int
) -> npt.NDArray[np.float64]:
    """Resample float samples: low-pass below the lower Nyquist frequency (Hann-windowed sinc,
    so downsampling does not alias), then interpolate linearly at the new instants."""
    if rate_in == rate_out or len(samples) == 0:
        return samples
    cutoff = 0.45 * min(rate_in, rate_out) / rate_in  # in cycles per input sample
    taps = np.arange(-64, 65)
    kernel = 2 * cutoff * np.sinc(2 * cutoff * taps) * np.hanning(len(taps))
    filtered = np.convolve(samples, kernel / kernel.sum(), mode="same")
    count = int(len(samples) * rate_out / rate_in)
    positions = np.arange(count) * (rate_in / rate_out)
    out: npt.NDArray[np.float64] = np.interp(positions, np.arange(len(samples)), filtered)
    return out


class WavReplaySource:
    """Replays a WAV file in blocks of 512 samples (the last block padded with silence).

    `loop` starts again at the end with the file position still counting up, so the VAD
    never sees time go back (demo kiosks replay a recording for as long as they run).
    """

    def __init__(
        self, path: Path | str, *, pacing: Pacing | str = Pacing.REALTIME, loop: bool = False
    ) -> None:
        self.path = Path(path)
        self.pacing = Pacing(pacing)
        self.loop = loop
        self._pcm: Pcm | None = None
        self._block = 0
        self._started: float | None = None

    @property
    def name(self) -> str:
        return f"wav:{self.path.name}"

    @property
    def live(self) -> bool:
        return False

    @property
    def duration_s(self) -> float:
        return 0.0 if self._pcm is None else len(self._pcm) / SAMPLE_RATE

    def open(self) -> None:
        pcm = load_wav(self.path)
        if len(pcm) == 0:
            raise AudioSourceError(f"{self.path}: no samples")
        pad = -len(pcm) % BLOCK_SAMPLES
        self._pcm = np.concatenate([pcm, np.zeros(pad, dtype=np.int16)])
        self._block = 0
        self._started = None
        log.info("replaying %s (%.1f s, %s)", self.path, len(pcm) / SAMPLE_RATE, self.pacing)

    def read(self) -> AudioRead:
        pcm = self._pcm
        if pcm is None:
            raise AudioSourceError(f"{self.name}: not open")
        blocks_per_pass = len(pcm) // BLOCK_SAMPLES
        within = self._block % blocks_per_pass
        if self._block >= blocks_per_pass and not self.loop:
            raise EndOfAudio(f"{self.path}: end after {self._block} blocks")
        media_s = self._block * BLOCK_S
        self._block += 1
        self._pace(media_s)
        start = within * BLOCK_SAMPLES
        return AudioRead(pcm[start : start + BLOCK_SAMPLES].copy(), media_s)

    def _pace(self, media_s: float) -> None:
        if self.pacing is Pacing.FAST:
            return
        now = time.monotonic()
        if self._started is None:
            self._started = now - media_s
        # A block is available once all of its samples would have been recorded.
        delay = self._started + media_s + BLOCK_S - now
        if delay > 0:
            time.sleep(delay)

    def close(self) -> None:
        self._pcm = None
