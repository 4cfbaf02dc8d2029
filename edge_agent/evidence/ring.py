"""A ring buffer of the last seconds of frames, kept as JPEG so it fits a Pi's memory.

Bounded by age (`max_seconds` between the oldest and the newest frame) and by size
(`max_bytes` of JPEG data): the oldest frames go first. Thread-safe: capture pushes, the
vision pipeline annotates whether a face was seen, the clip worker reads.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime

import cv2
import numpy as np

from edge_agent.vision.types import Frame, Image


class EncodeError(Exception):
    """OpenCV could not encode or decode an image."""


@dataclass(frozen=True, eq=False)
class BufferedFrame:
    index: int
    monotonic_s: float
    wall_time: datetime
    jpeg: bytes
    width: int
    height: int
    face: bool | None = None  # None: the pipeline did not say


@dataclass(frozen=True)
class RingStats:
    frames: int
    bytes: int
    seconds: float
    jpeg_ms_per_frame: float  # mean JPEG encode time, downscaling included


def encode_jpeg(image: Image, quality: int) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise EncodeError("JPEG encoding failed")
    return bytes(data.tobytes())


def decode_jpeg(data: bytes) -> Image:
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise EncodeError("JPEG decoding failed")
    return np.asarray(image, dtype=np.uint8)


def scale_to_width(image: Image, width: int | None) -> Image:
    """Downscale to at most `width` pixels wide (even height); never upscale."""
    if width is None or image.shape[1] <= width:
        return image
    height = max(2, round(image.shape[0] * width / image.shape[1] / 2) * 2)
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA))


class FrameRing:
    def __init__(
        self,
        max_seconds: float = 30.0,
        max_bytes: int = 64 * 1024 * 1024,
        jpeg_quality: int = 80,
        max_width: int | None = 640,
    ) -> None:
        if max_seconds <= 0 or max_bytes <= 0 or not 1 <= jpeg_quality <= 100:
            raise ValueError("max_seconds and max_bytes must be positive, quality 1..100")
        self.max_seconds = max_seconds
        self.max_bytes = max_bytes
        self.jpeg_quality = jpeg_quality
        self.max_width = max_width
        self._frames: deque[BufferedFrame] = deque()
        self._faces: dict[int, bool] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self._encode_ms_total = 0.0
        self._encoded = 0
        self._last_push_clock: float | None = None

    def push(self, frame: Frame) -> BufferedFrame:
        """Encode `frame` as JPEG (outside the lock) and append it, evicting old frames."""
        started = time.perf_counter()
        image = scale_to_width(frame.image, self.max_width)
        item = BufferedFrame(
            index=frame.index,
            monotonic_s=frame.monotonic_s,
            wall_time=frame.wall_time,
            jpeg=encode_jpeg(image, self.jpeg_quality),
            width=int(image.shape[1]),
            height=int(image.shape[0]),
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
        with self._lock:
            self._encode_ms_total += elapsed_ms
            self._encoded += 1
            self._frames.append(item)
            self._bytes += len(item.jpeg)
            self._evict()
            self._last_push_clock = time.monotonic()
        return item

    def _evict(self) -> None:
        newest = self._frames[-1].monotonic_s
        while len(self._frames) > 1 and (
            newest - self._frames[0].monotonic_s > self.max_seconds or self._bytes > self.max_bytes
        ):
            old = self._frames.popleft()
            self._bytes -= len(old.jpeg)
            self._faces.pop(old.index, None)

    def annotate(self, index: int, face_present: bool) -> None:
        """Record whether the vision pipeline saw a face in frame `index` (for snapshots)."""
        with self._lock:
            if self._frames and self._frames[0].index <= index <= self._frames[-1].index:
                self._faces[index] = face_present

    def frames_between(self, start_mono: float, end_mono: float) -> list[BufferedFrame]:
        """Buffered frames with start_mono <= monotonic_s <= end_mono, oldest first, each with
        its face flag."""
        with self._lock:
            return [
                replace(f, face=self._faces.get(f.index))
                for f in self._frames
                if start_mono <= f.monotonic_s <= end_mono
            ]

    def newest_monotonic(self) -> float | None:
        with self._lock:
            return self._frames[-1].monotonic_s if self._frames else None

    def idle_for(self) -> float | None:
        """Real seconds since the last push (None before the first): a stalled camera."""
        with self._lock:
            last = self._last_push_clock
        return None if last is None else time.monotonic() - last

    def stats(self) -> RingStats:
        with self._lock:
            span = self._frames[-1].monotonic_s - self._frames[0].monotonic_s if self._frames else 0
            mean = self._encode_ms_total / self._encoded if self._encoded else 0.0
            return RingStats(len(self._frames), self._bytes, float(span), mean)

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)
