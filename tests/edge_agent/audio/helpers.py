"""Synthetic audio sources and small helpers for the audio tests."""

from __future__ import annotations

import time
import wave
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from edge_agent.audio import AudioRead, AudioSourceError, EndOfAudio, Pcm


def wait_until(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def tone(seconds: float, amplitude: int = 8000, rate: int = 16000, hz: float = 440.0) -> Pcm:
    t = np.arange(round(seconds * rate)) / rate
    samples: Pcm = (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.int16)
    return samples


def write_wav(path: Path, samples: Pcm, rate: int = 16000, channels: int = 1) -> Path:
    """`samples` (int16, interleaved when channels > 1) as a PCM WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(samples.dtype.itemsize)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return path


class ListAudioSource:
    """Plays `blocks` (anything, to test bad blocks) as a file would, then ends."""

    def __init__(self, blocks: Sequence[object], *, live: bool = False) -> None:
        self.blocks = list(blocks)
        self._live = live
        self.position = 0

    @property
    def name(self) -> str:
        return "list"

    @property
    def live(self) -> bool:
        return self._live

    def open(self) -> None:
        self.position = 0

    def read(self) -> AudioRead:
        if self.position >= len(self.blocks):
            raise EndOfAudio("done")
        item = self.blocks[self.position]
        media_s = None if self._live else self.position * 0.032
        self.position += 1
        return AudioRead(item, media_s)  # type: ignore[arg-type]

    def close(self) -> None:
        pass


class BrokenFile:
    """A file source that cannot be opened."""

    @property
    def name(self) -> str:
        return "broken"

    @property
    def live(self) -> bool:
        return False

    def open(self) -> None:
        raise AudioSourceError("broken: not a WAV file")

    def read(self) -> AudioRead:
        raise AssertionError("never read")

    def close(self) -> None:
        pass
