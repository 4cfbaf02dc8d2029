"""Test media helpers: fixture photos and video frames, frames on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from edge_agent.vision.types import Frame, Image

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def read_image(path: Path) -> Image:
    image = cv2.imread(str(path))
    assert image is not None, f"cannot read {path}"
    return np.asarray(image, dtype=np.uint8)


def video_frames(path: Path, seconds: list[float], rotate: int | None = None) -> list[Image]:
    """Frames of ``path`` nearest to ``seconds``, optionally rotated with cv2.rotate."""
    capture = cv2.VideoCapture(str(path))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS)
        frames = []
        for second in seconds:
            capture.set(cv2.CAP_PROP_POS_FRAMES, round(second * fps))
            ok, image = capture.read()
            assert ok, f"no frame at {second} s in {path}"
            if rotate is not None:
                image = cv2.rotate(image, rotate)
            frames.append(np.asarray(image, dtype=np.uint8))
        return frames
    finally:
        capture.release()


def frame_at(image: Image, index: int, seconds: float) -> Frame:
    return Frame(
        image=image, index=index, monotonic_s=seconds, wall_time=T0 + timedelta(seconds=seconds)
    )
