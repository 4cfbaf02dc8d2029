"""Synthetic frame sources and small waiting helpers for the capture tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from edge_agent.capture import EndOfStream, Grab, SourceError
from edge_agent.vision.types import Image


def image(value: int = 0, shape: tuple[int, int] = (48, 64)) -> Image:
    return np.full((*shape, 3), value % 256, dtype=np.uint8)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class ListSource:
    """Plays `items` (images or anything else, to test corrupt frames), then ends."""

    def __init__(self, items: Sequence[object], *, live: bool = False, fps: float = 30.0) -> None:
        self.items = list(items)
        self._live = live
        self.fps = fps
        self.position = 0
        self.opens = 0
        self.closes = 0

    @property
    def name(self) -> str:
        return "list"

    @property
    def live(self) -> bool:
        return self._live

    def open(self) -> None:
        self.opens += 1

    def read(self) -> Grab:
        if self.position >= len(self.items):
            raise EndOfStream("done")
        item = self.items[self.position]
        media_s = None if self._live else self.position / self.fps
        self.position += 1
        return Grab(item, media_s)

    def close(self) -> None:
        self.closes += 1


class FlakyCamera:
    """A live camera that can be unplugged: while `plugged` is False, open and read raise."""

    def __init__(self, interval_s: float = 0.01) -> None:
        self.plugged = True
        self.interval_s = interval_s
        self.opens = 0
        self.n = 0

    @property
    def name(self) -> str:
        return "flaky"

    @property
    def live(self) -> bool:
        return True

    def open(self) -> None:
        self.opens += 1
        if not self.plugged:
            raise SourceError("no such device")

    def read(self) -> Grab:
        time.sleep(self.interval_s)
        if not self.plugged:
            raise SourceError("read failed")
        self.n += 1
        return Grab(image(self.n))

    def close(self) -> None:
        pass
