"""Look closer: the crop around and below the candidate's face that the detector sees at
least at its native resolution, and merging its detections back into frame pixels."""

from __future__ import annotations

import numpy as np

from edge_agent.vision import objects_decode as yolox
from edge_agent.vision.objects_config import LookCloserConfig
from edge_agent.vision.objects_decode import Detection
from edge_agent.vision.types import FaceBox

Region = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels


def closer_region(
    face: FaceBox, frame_size: tuple[int, int], net_size: int, config: LookCloserConfig
) -> Region | None:
    """The square crop (clipped to the frame) centred on the face horizontally and
    ``below_face`` face heights below its centre, ``face_widths`` face widths wide but never
    narrower than ``net_size``; None when it would cover more than ``max_area_fraction`` of
    the frame (the whole-frame run already saw that picture)."""
    width, height = frame_size
    side = min(max(config.face_widths * face.width, float(net_size)), float(max(width, height)))
    cx = face.x + face.width / 2
    cy = face.y + face.height / 2 + config.below_face * face.height
    # Slide the square inside the frame rather than cut it, so it keeps its size.
    x0 = round(min(max(cx - side / 2, 0.0), max(width - side, 0.0)))
    y0 = round(min(max(cy - side / 2, 0.0), max(height - side, 0.0)))
    x1, y1 = min(round(x0 + side), width), min(round(y0 + side), height)
    if x1 <= x0 or y1 <= y0:
        return None
    if (x1 - x0) * (y1 - y0) > config.max_area_fraction * width * height:
        return None
    return x0, y0, x1, y1


def merge(
    whole: list[Detection], crop: list[Detection], region: Region, iou: float
) -> list[Detection]:
    """Whole-frame detections and crop detections (in crop pixels) as one list in frame
    pixels, best first, after class-aware NMS over both (an object seen in both keeps its
    better box)."""
    x0, y0 = region[0], region[1]
    found = whole + [detection.shifted(x0, y0) for detection in crop]
    if not found:
        return []
    boxes = np.array([[d.x0, d.y0, d.x1, d.y1] for d in found], dtype=np.float32)
    scores = np.array([d.score for d in found], dtype=np.float32)
    classes = np.array([d.class_id for d in found], dtype=np.int64)
    return [found[i] for i in yolox.nms(boxes, scores, classes, iou)]
