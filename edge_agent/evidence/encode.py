"""Clip encoding (VP8 WebM, which every browser plays) and snapshot choice.

Runs on the clip worker, never on the frame path. The clip is resampled to a fixed frame rate
by time (each output tick shows the newest frame at or before it), so it plays for as long as
the real events lasted whatever the camera's rate was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_agent.evidence.ring import BufferedFrame, EncodeError, decode_jpeg
from edge_agent.vision.types import Image

log = logging.getLogger(__name__)

FOURCC = "VP80"
MAX_SNAPSHOT_CANDIDATES = 40  # sharpness is measured on at most this many frames


@dataclass(frozen=True)
class EncodeReport:
    path: Path
    frames_written: int
    frames_decoded: int  # read back from the finished file
    width: int
    height: int
    fps: float
    encode_ms_per_frame: float  # VideoWriter write + finish, per written frame
    total_ms: float  # including JPEG decoding, scaling and the read-back check


def sample_by_time(frames: Sequence[BufferedFrame], fps: float) -> list[BufferedFrame]:
    """One frame per 1/fps seconds from the first to the last frame: the newest frame at or
    before each tick (frames repeat when the camera was slower than `fps`)."""
    if not frames:
        return []
    step = 1.0 / fps
    start, end = frames[0].monotonic_s, frames[-1].monotonic_s
    ticks = int((end - start) / step + 1e-6) + 1
    out: list[BufferedFrame] = []
    cursor = 0
    for tick in range(ticks):
        at = start + tick * step + 1e-9
        while cursor + 1 < len(frames) and frames[cursor + 1].monotonic_s <= at:
            cursor += 1
        out.append(frames[cursor])
    return out


def clip_size(width: int, height: int, target_width: int) -> tuple[int, int]:
    """Output size: at most `target_width` wide, aspect kept, both sides even (VP8 4:2:0)."""
    out_w = min(width, target_width)
    out_h = round(height * out_w / width)
    return max(2, out_w - out_w % 2), max(2, out_h - out_h % 2)


def encode_webm(
    frames: Sequence[BufferedFrame], path: Path, *, width: int = 320, fps: float = 10.0
) -> EncodeReport:
    """Write `frames` (resampled to `fps`, scaled to `width`) to `path` (.webm) as VP8, then
    check that the file is non-empty and decodes. Raises EncodeError."""
    started = time.perf_counter()
    picked = sample_by_time(frames, fps)
    if not picked:
        raise EncodeError("no frames to encode")
    size = clip_size(picked[0].width, picked[0].height, width)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*FOURCC), fps, size)
    if not writer.isOpened():
        raise EncodeError(f"OpenCV cannot write {FOURCC} to {path.name} (no VP8 in this build?)")
    encode_s = 0.0
    try:
        last: tuple[int, Image] | None = None
        for item in picked:
            if last is None or last[0] != item.index:
                last = (item.index, _scaled(decode_jpeg(item.jpeg), size))
            t0 = time.perf_counter()
            writer.write(last[1])
            encode_s += time.perf_counter() - t0
    finally:
        t0 = time.perf_counter()
        writer.release()
        encode_s += time.perf_counter() - t0
    decoded = verify_video(path)
    total_ms = (time.perf_counter() - started) * 1000
    return EncodeReport(
        path, len(picked), decoded, size[0], size[1], fps, encode_s * 1000 / len(picked), total_ms
    )


def _scaled(image: Image, size: tuple[int, int]) -> Image:
    if (image.shape[1], image.shape[0]) == size:
        return image
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def verify_video(path: Path) -> int:
    """How many frames OpenCV decodes from `path`; EncodeError if none or the file is empty."""
    if not path.is_file() or path.stat().st_size == 0:
        raise EncodeError(f"{path.name} is missing or empty (disk full?)")
    capture = cv2.VideoCapture(str(path))
    count = 0
    try:
        while capture.isOpened():
            ok, _image = capture.read()
            if not ok:
                break
            count += 1
    finally:
        capture.release()
    if count == 0:
        raise EncodeError(f"{path.name} does not decode")
    return count


def sharpness(image: Image) -> float:
    """Variance of the Laplacian of the grey image: higher is sharper."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def _spread(items: Sequence[BufferedFrame], most: int) -> list[BufferedFrame]:
    if len(items) <= most:
        return list(items)
    step = len(items) / most
    return [items[int(i * step)] for i in range(most)]


def best_snapshot(
    frames: Sequence[BufferedFrame], has_face: Callable[[Image], bool] | None = None
) -> tuple[BufferedFrame, bool] | None:
    """The sharpest frame among those with a face, and True; when no frame has a face (e.g.
    face_absent), the sharpest frame overall and False. Face presence comes from the frames'
    flags, else from `has_face` when given."""
    if not frames:
        return None
    with_face = [f for f in frames if f.face]
    if not with_face and has_face is not None:
        with_face = [
            f
            for f in _spread([f for f in frames if f.face is None], MAX_SNAPSHOT_CANDIDATES)
            if has_face(decode_jpeg(f.jpeg))
        ]
    candidates = with_face or list(frames)
    best = max(
        _spread(candidates, MAX_SNAPSHOT_CANDIDATES), key=lambda f: sharpness(decode_jpeg(f.jpeg))
    )
    return best, bool(with_face)
