"""YOLOX pre- and post-processing in numpy: letterbox, grid decoding, class-aware NMS.

The YOLOX ONNX export (``decode_in_inference=False``) takes raw 0-255 BGR pixels, resized to
keep the aspect ratio and placed at the top-left of a canvas padded with 114, and returns
one row per anchor point: ``(x, y, log w, log h)`` relative to its grid cell, then the
objectness and the 80 class scores (both already through a sigmoid). Anchor points are the
cells of the stride-8, 16 and 32 grids in that order (52x52 + 26x26 + 13x13 = 3549 rows at
416x416). A box's confidence is objectness times class score, as in YOLOX's own demo.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from edge_agent.vision.types import Image

STRIDES = (8, 16, 32)
PAD_VALUE = 114
Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Letterbox:
    """An image prepared for the network: ``tensor`` is 1x3xSxS float32, and a pixel of the
    original image maps to ``pixel * scale`` in the network's input."""

    tensor: Floats
    scale: float


@dataclass(frozen=True)
class Detection:
    """One detected object in pixel coordinates of the image it was found in."""

    class_id: int
    label: str
    score: float
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def area(self) -> float:
        return max(self.x1 - self.x0, 0.0) * max(self.y1 - self.y0, 0.0)

    def shifted(self, dx: float, dy: float) -> Detection:
        """The same box moved by (dx, dy): from crop pixels to frame pixels."""
        return Detection(
            self.class_id, self.label, self.score,
            self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy,
        )  # fmt: skip


def letterbox(image: Image, size: int) -> Letterbox:
    """Resize ``image`` (BGR) to fit ``size`` x ``size`` keeping its aspect ratio, top-left
    aligned on a canvas of 114, as 1x3xSxS float32 0-255 BGR."""
    height, width = image.shape[:2]
    scale = min(size / height, size / width)
    new_w, new_h = max(round(width * scale), 1), max(round(height * scale), 1)
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    if (new_w, new_h) == (width, height):
        canvas[:height, :width] = image
    else:  # bilinear, as YOLOX was trained (INTER_AREA moves fixture scores by up to 0.05)
        canvas[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    tensor = canvas.transpose(2, 0, 1)[np.newaxis].astype(np.float32)
    return Letterbox(tensor=np.ascontiguousarray(tensor), scale=scale)


def grids(size: int, strides: tuple[int, ...] = STRIDES) -> tuple[Floats, Floats]:
    """(cell x/y offsets N x 2, stride per row N x 1) for a ``size`` x ``size`` input."""
    cells, steps = [], []
    for stride in strides:
        side = size // stride
        ys, xs = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
        cells.append(np.stack((xs, ys), axis=-1).reshape(-1, 2))
        steps.append(np.full((side * side, 1), stride))
    return (
        np.concatenate(cells).astype(np.float32),
        np.concatenate(steps).astype(np.float32),
    )


def decode(raw: Floats, size: int) -> Floats:
    """Rows of ``(x0, y0, x1, y1, objectness, class scores...)`` in network input pixels from
    the raw N x (5 + classes) output."""
    cells, steps = grids(size)
    if raw.shape[0] != cells.shape[0]:
        raise ValueError(f"{raw.shape[0]} output rows, expected {cells.shape[0]} for {size}px")
    centre = (raw[:, :2] + cells) * steps
    half = np.exp(np.clip(raw[:, 2:4], -20.0, 20.0)) * steps / 2.0
    out = np.empty_like(raw)
    out[:, :2] = centre - half
    out[:, 2:4] = centre + half
    out[:, 4:] = raw[:, 4:]
    return out


def iou_one_to_many(box: Floats, others: Floats) -> Floats:
    """Intersection over union of one (x0, y0, x1, y1) box with each row of ``others``."""
    ix = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)


def nms(boxes: Floats, scores: Floats, classes: npt.NDArray[np.int64], iou: float) -> list[int]:
    """Indices kept by class-aware non-maximum suppression, best score first: a box is
    dropped when a better box of the same class overlaps it by more than ``iou``."""
    order = list(np.argsort(-scores, kind="stable"))
    kept: list[int] = []
    while order:
        best, rest = order[0], np.array(order[1:], dtype=np.int64)
        kept.append(int(best))
        if rest.size == 0:
            break
        overlap = iou_one_to_many(boxes[best], boxes[rest])
        suppressed = (overlap > iou) & (classes[rest] == classes[best])
        order = [int(i) for i in rest[~suppressed]]
    return kept


def detections(
    rows: Floats, scale: float, wanted: dict[int, str], min_score: float, iou: float
) -> list[Detection]:
    """Detections of the ``wanted`` classes (class index -> name) from decoded rows, in
    pixels of the original image (network pixels / ``scale``), best first after NMS.

    Every (anchor, class) pair at or above ``min_score`` is a candidate, as in YOLOX's own
    class-aware NMS: one anchor may be both a likely "tv" and a likely "laptop"."""
    ids = np.array(sorted(wanted), dtype=np.int64)
    scores = rows[:, 4:5] * rows[:, 5 + ids]  # anchors x wanted classes
    anchor, column = np.nonzero(scores >= min_score)
    boxes = rows[anchor, :4] / scale
    kept_scores, classes = scores[anchor, column], ids[column]
    return [
        Detection(
            int(classes[i]), wanted[int(classes[i])], float(kept_scores[i]),
            *(float(v) for v in boxes[i]),
        )
        for i in nms(boxes, kept_scores, classes, iou)
    ]  # fmt: skip
