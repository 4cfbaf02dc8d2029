"""Synthetic frames for the evidence tests: textured (sharp) or blurred, with a bright square
standing in for a face."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cv2
import numpy as np

from edge_agent.vision.types import Frame, Image

T0 = 1000.0
WALL0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def texture(seed: int, size: tuple[int, int] = (360, 640)) -> Image:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size[0] // 8, size[1] // 8, 3), dtype=np.uint8)
    return np.asarray(cv2.resize(small, (size[1], size[0]), interpolation=cv2.INTER_NEAREST))


def frame(index: int, fps: float = 20.0, *, blur: int = 0, face: bool = False) -> Frame:
    image = texture(index)
    if blur:
        image = np.asarray(cv2.GaussianBlur(image, (0, 0), blur))
    if face:
        image[100:200, 250:350] = 255
    t = index / fps
    return Frame(image, index, T0 + t, WALL0 + timedelta(seconds=t))


def has_square(image: Image) -> bool:
    """The stand-in face detector: a white square near the middle (any scale)."""
    h, w = image.shape[:2]
    patch = image[int(h * 0.3) : int(h * 0.5), int(w * 0.42) : int(w * 0.52)]
    return bool(patch.mean() > 250)
