"""The frame-source interface every camera and file reader implements, and frame checks.

A source hands back raw images (`Grab`); the capture runner checks them, stamps them with the
kiosk's clocks and turns them into `Frame`s. Sources never sleep or retry on their own except
for real-time pacing of a replayed file: reopening with backoff is the runner's job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from edge_agent.vision.types import Image

log = logging.getLogger(__name__)


class SourceError(Exception):
    """The camera or file cannot be opened or read (unplugged, busy, no such device)."""


class EndOfStream(Exception):
    """A replayed file has no more frames. Not a camera loss."""


class Rotation(StrEnum):
    """Rotation applied to every frame (for cameras or files stored sideways)."""

    NONE = "none"
    CW90 = "90cw"
    CCW90 = "90ccw"
    R180 = "180"


_CV2_ROTATION = {
    Rotation.CW90: cv2.ROTATE_90_CLOCKWISE,
    Rotation.CCW90: cv2.ROTATE_90_COUNTERCLOCKWISE,
    Rotation.R180: cv2.ROTATE_180,
}


@dataclass(frozen=True, eq=False)
class Grab:
    """What a source read: an unchecked image (maybe None or the wrong shape) and, for replayed
    files, its position in the file in seconds (None for live cameras)."""

    image: object
    media_s: float | None = None


class FrameSource(Protocol):
    """One camera or file. `read` returns the next grab, raises `SourceError` when the device
    failed (the runner closes it and reopens with backoff) or `EndOfStream` at the end of a
    file. `live` is False for replayed files: they are never reopened and never 'lost'."""

    @property
    def name(self) -> str: ...

    @property
    def live(self) -> bool: ...

    def open(self) -> None: ...

    def read(self) -> Grab: ...

    def close(self) -> None: ...


def check_image(image: object, expected_shape: tuple[int, ...] | None = None) -> Image | None:
    """`image` if it is a usable H x W x 3 uint8 picture (of `expected_shape` when given);
    None for a corrupt frame. A 4-channel (XBGR) frame is cut to its first three channels."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3:
        return None
    if image.shape[2] == 4:
        image = image[:, :, :3]
    if image.shape[2] != 3 or image.shape[0] < 2 or image.shape[1] < 2:
        return None
    if expected_shape is not None and image.shape != expected_shape:
        return None
    checked: Image = image
    return checked


def transform(image: Image, rotation: Rotation = Rotation.NONE, width: int | None = None) -> Image:
    """Rotate, then scale to `width` pixels wide keeping the aspect ratio (even height)."""
    out: npt.NDArray[Any] = image
    if rotation is not Rotation.NONE:
        out = cv2.rotate(out, _CV2_ROTATION[rotation])
    if width is not None and out.shape[1] != width:
        height = max(2, round(out.shape[0] * width / out.shape[1] / 2) * 2)
        shrink = width < out.shape[1]
        interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        out = cv2.resize(out, (width, height), interpolation=interpolation)
    return np.ascontiguousarray(out, dtype=np.uint8)
