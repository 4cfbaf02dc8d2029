"""A small fake of the `sounddevice` module (there is no microphone here), injected through
sys.modules. A `FakeMicWorld` decides what the microphone does: deliver blocks of a tone, be
unplugged (opening fails with PortAudioError, a running stream stops calling back), or
report input overflows."""

from __future__ import annotations

import threading
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class PortAudioError(Exception):
    """What sounddevice raises for PortAudio failures."""


@dataclass
class FakeStatus:
    input_overflow: bool = False

    def __bool__(self) -> bool:
        return self.input_overflow


@dataclass
class FakeMicWorld:
    plugged: bool = True
    interval_s: float = 0.004  # faster than real time keeps the tests short
    amplitude: int = 8000
    overflow_next: int = 0
    wrong_shape_next: int = 0
    opened: list[dict[str, Any]] = field(default_factory=list)
    closed: int = 0
    blocks: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def module(self) -> types.ModuleType:
        module = types.ModuleType("sounddevice")
        module.PortAudioError = PortAudioError  # type: ignore[attr-defined]
        module.InputStream = type("InputStream", (FakeInputStream,), {"world": self})  # type: ignore[attr-defined]
        return module

    def next_block(self, frames: int) -> tuple[Any, FakeStatus]:
        with self.lock:
            self.blocks += 1
            status = FakeStatus(self.overflow_next > 0)
            self.overflow_next = max(0, self.overflow_next - 1)
            if self.wrong_shape_next > 0:
                self.wrong_shape_next -= 1
                return np.zeros((frames // 2, 1), dtype=np.int16), status
        t = np.arange(frames) / 16000
        tone = (self.amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        return tone.reshape(frames, 1), status


class FakeInputStream:
    """The parts of sounddevice.InputStream the source uses: the callback runs on its own
    thread, like PortAudio's."""

    world: FakeMicWorld

    def __init__(self, **kwargs: Any) -> None:
        if not self.world.plugged:
            raise PortAudioError("Error querying device -1")
        if kwargs.get("samplerate") != 16000 or kwargs.get("channels") != 1:
            raise PortAudioError("Invalid sample rate")
        self.kwargs = kwargs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.world.opened.append(kwargs)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        frames = int(self.kwargs["blocksize"])
        while not self._stop.wait(self.world.interval_s):
            if not self.world.plugged:
                return  # an unplugged USB microphone: the callbacks just stop
            data, status = self.world.next_block(frames)
            self.kwargs["callback"](data, frames, None, status)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)

    def close(self) -> None:
        self._stop.set()
        with self.world.lock:
            self.world.closed += 1
