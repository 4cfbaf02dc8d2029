"""The audio-source interface every microphone and file reader implements.

Audio flows as blocks of 512 mono int16 samples at 16 kHz (32 ms), the window Silero VAD
takes. A source hands back raw blocks; the capture runner stamps them with the kiosk's clock.
Sources never retry on their own: reopening with backoff is the runner's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
BLOCK_SAMPLES = 512
BLOCK_S = BLOCK_SAMPLES / SAMPLE_RATE

Pcm = npt.NDArray[np.int16]  # mono 16-bit samples at SAMPLE_RATE


class AudioSourceError(Exception):
    """The microphone or file cannot be opened or read (unplugged, busy, wrong format)."""


class EndOfAudio(Exception):
    """A replayed file has no more audio. Not a microphone loss."""


@dataclass(frozen=True, eq=False)
class AudioRead:
    """What a source read: BLOCK_SAMPLES samples and, for replayed files, the position of the
    first sample in the file in seconds (None for a live microphone)."""

    samples: Pcm
    media_s: float | None = None


class AudioSource(Protocol):
    """One microphone or file. `read` returns the next block, raises `AudioSourceError` when
    the device failed (the runner closes and reopens it with backoff) or `EndOfAudio` at the
    end of a file. `live` is False for files: they are never reopened and never 'lost'."""

    @property
    def name(self) -> str: ...

    @property
    def live(self) -> bool: ...

    def open(self) -> None: ...

    def read(self) -> AudioRead: ...

    def close(self) -> None: ...


def check_block(samples: object) -> Pcm | None:
    """`samples` as a contiguous 1-D int16 block of BLOCK_SAMPLES, or None when it is not one."""
    if not isinstance(samples, np.ndarray) or samples.dtype != np.int16:
        return None
    flat = samples.reshape(-1)
    if flat.shape[0] != BLOCK_SAMPLES:
        return None
    block: Pcm = np.ascontiguousarray(flat)
    return block
