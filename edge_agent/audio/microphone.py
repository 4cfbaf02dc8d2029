"""The kiosk microphone through `sounddevice` (PortAudio).

`sounddevice` is imported when the microphone is opened, never at module import: it needs the
PortAudio library (`libportaudio2`), and the rest of the agent runs without it. PortAudio
calls back on its own thread with each block; the callback only copies the block into a small
queue, and `read` waits at most `block_timeout_s` for one, so a microphone that was unplugged
or stalled raises `AudioSourceError` instead of blocking the capture thread forever.
"""

from __future__ import annotations

import importlib
import logging
import queue
import threading
from typing import Any

import numpy as np

from edge_agent.audio.source import (
    BLOCK_SAMPLES,
    SAMPLE_RATE,
    AudioRead,
    AudioSourceError,
    check_block,
)

log = logging.getLogger(__name__)

_BUFFERED_BLOCKS = 32  # about a second between PortAudio's thread and the capture thread


class SoundDeviceSource:
    """Mono 16-bit input at 16 kHz in blocks of 512 samples from `device` (an index, a name
    or None for the system default; ALSA's `default` device resamples when the hardware has
    no 16 kHz mode)."""

    def __init__(self, device: int | str | None = None, *, block_timeout_s: float = 1.0) -> None:
        self.device = device
        self.block_timeout_s = block_timeout_s
        self._stream: Any = None
        self._blocks: queue.Queue[Any] = queue.Queue(_BUFFERED_BLOCKS)
        self._lock = threading.Lock()
        self.overflows = 0  # PortAudio reported lost input (the consumer was too slow)
        self.dropped = 0  # blocks dropped because the capture thread fell a second behind

    @property
    def name(self) -> str:
        return f"sounddevice:{'default' if self.device is None else self.device}"

    @property
    def live(self) -> bool:
        return True

    def open(self) -> None:
        self.close()
        module = _import_sounddevice()
        errors = _errors(module)
        self._blocks = queue.Queue(_BUFFERED_BLOCKS)
        try:
            stream = module.InputStream(
                samplerate=SAMPLE_RATE,
                blocksize=BLOCK_SAMPLES,
                channels=1,
                dtype="int16",
                device=self.device,
                callback=self._callback,
            )
        except errors as exc:
            raise AudioSourceError(f"{self.name}: cannot open the microphone: {exc}") from exc
        try:
            stream.start()
        except errors as exc:
            _close_quietly(stream, errors)
            raise AudioSourceError(f"{self.name}: cannot start the microphone: {exc}") from exc
        self._stream = stream
        log.info("%s started at %d Hz", self.name, SAMPLE_RATE)

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        """On PortAudio's thread: copy and hand over, never block."""
        if status and getattr(status, "input_overflow", False):
            with self._lock:
                self.overflows += 1
        try:
            self._blocks.put_nowait(np.array(indata, dtype=np.int16, copy=True))
        except queue.Full:
            with self._lock:
                self.dropped += 1

    def read(self) -> AudioRead:
        if self._stream is None:
            raise AudioSourceError(f"{self.name}: not open")
        try:
            data = self._blocks.get(timeout=self.block_timeout_s)
        except queue.Empty as exc:
            raise AudioSourceError(
                f"{self.name}: no audio for {self.block_timeout_s:g} s (unplugged or stalled?)"
            ) from exc
        block = check_block(data)
        if block is None:
            raise AudioSourceError(f"{self.name}: block of shape {np.shape(data)}, not 512x1")
        return AudioRead(block)

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            _close_quietly(stream, _errors(_import_sounddevice()))


def _import_sounddevice() -> Any:
    try:
        return importlib.import_module("sounddevice")
    except ImportError as exc:
        raise AudioSourceError("sounddevice is not installed (pip install sounddevice)") from exc
    except OSError as exc:  # sounddevice raises this when libportaudio is missing
        raise AudioSourceError(
            f"PortAudio is missing (Debian: apt install libportaudio2): {exc}"
        ) from exc


def _errors(module: Any) -> tuple[type[BaseException], ...]:
    """What opening, starting or stopping a stream can raise: PortAudio's errors, and
    ValueError for an unknown device name."""
    port_audio: type[BaseException] = getattr(module, "PortAudioError", OSError)
    return (port_audio, ValueError, OSError)


def _close_quietly(stream: Any, errors: tuple[type[BaseException], ...]) -> None:
    for method in ("stop", "close"):
        try:
            getattr(stream, method)()
        except errors:
            log.debug("sounddevice %s failed", method, exc_info=True)
