"""Small pixel-box helpers shared by the stages and the pipeline."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from edge_agent.vision.types import FaceBox


def area(box: FaceBox) -> int:
    return max(box.width, 0) * max(box.height, 0)


def largest_first(boxes: list[FaceBox]) -> list[FaceBox]:
    return sorted(boxes, key=area, reverse=True)


def from_points(points: npt.NDArray[np.float32], score: float = 1.0) -> FaceBox:
    """Tight box around landmark points (pixel x, y in the first two columns)."""
    x0, y0 = np.floor(points[:, :2].min(axis=0))
    x1, y1 = np.ceil(points[:, :2].max(axis=0))
    return FaceBox(int(x0), int(y0), int(x1 - x0), int(y1 - y0), score)


def iou(a: FaceBox, b: FaceBox) -> float:
    ix = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    iy = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    inter = max(ix, 0) * max(iy, 0)
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def same_face(a: FaceBox, b: FaceBox) -> bool:
    """Boxes from different models of one face differ in shape (a detector box is square,
    a landmark box is taller): call them the same face when either centre lies in the other."""

    def centre_in(p: FaceBox, q: FaceBox) -> bool:
        cx, cy = p.x + p.width / 2, p.y + p.height / 2
        return q.x <= cx <= q.x + q.width and q.y <= cy <= q.y + q.height

    return centre_in(a, b) or centre_in(b, a)


def expand(box: FaceBox, factor: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of ``box`` grown by ``factor`` about its centre, clipped to
    ``size`` = (width, height)."""
    cx, cy = box.x + box.width / 2, box.y + box.height / 2
    half_w, half_h = box.width * factor / 2, box.height * factor / 2
    width, height = size
    x0, y0 = max(int(cx - half_w), 0), max(int(cy - half_h), 0)
    x1, y1 = min(int(cx + half_w), width), min(int(cy + half_h), height)
    return x0, y0, x1, y1
