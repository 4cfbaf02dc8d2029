"""YOLOX letterbox, grid decoding and class-aware NMS on hand-made tensors with known boxes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_agent.vision import objects_decode as yolox

SIZE = 416
ROWS = 52 * 52 + 26 * 26 + 13 * 13  # 3549
PHONE, BOOK, TV, LAPTOP = 67, 73, 62, 63
WANTED = {PHONE: "cell phone", BOOK: "book", TV: "tv", LAPTOP: "laptop"}


def raw_output(classes: int = 80) -> yolox.Floats:
    """A network output where no anchor sees anything."""
    return np.zeros((ROWS, 5 + classes), dtype=np.float32)


def put(
    raw: yolox.Floats, row: int, box: tuple[float, float, float, float], **scores: float
) -> None:
    """Anchor ``row`` sees ``box`` = (dx, dy, log w, log h) with objectness and class scores
    given as obj=..., c<id>=..."""
    raw[row, :4] = box
    raw[row, 4] = scores.pop("obj")
    for key, value in scores.items():
        raw[row, 5 + int(key[1:])] = value


def test_letterbox_keeps_aspect_top_left_and_pads_114() -> None:
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    image[:, :, 0] = 255  # pure blue in BGR
    image[:, 100:, 2] = 200  # right half also red
    prepared = yolox.letterbox(image, SIZE)
    assert prepared.tensor.shape == (1, 3, SIZE, SIZE)
    assert prepared.tensor.dtype == np.float32
    assert prepared.scale == pytest.approx(SIZE / 200)
    content_rows = round(100 * prepared.scale)  # 208
    blue, red = prepared.tensor[0, 0], prepared.tensor[0, 2]
    assert blue[:content_rows].min() == 255.0  # channel 0 stays B: no RGB swap
    assert blue[content_rows:].max() == 114.0 == blue[content_rows:].min()  # padding below
    assert red[10, 10] == 0.0
    assert red[10, SIZE - 10] == 200.0
    assert prepared.tensor.max() <= 255.0  # raw 0-255, no normalisation


def test_letterbox_of_a_tall_image_pads_on_the_right() -> None:
    prepared = yolox.letterbox(np.full((832, 416, 3), 7, dtype=np.uint8), SIZE)
    assert prepared.scale == pytest.approx(0.5)
    plane = prepared.tensor[0, 1]
    assert plane[:, :208].max() == 7.0
    assert plane[:, 208:].min() == 114.0


def test_grids_follow_strides_8_16_32() -> None:
    cells, steps = yolox.grids(SIZE)
    assert cells.shape == (ROWS, 2)
    assert steps.shape == (ROWS, 1)
    assert tuple(cells[0]) == (0, 0)
    assert tuple(cells[1]) == (1, 0)
    assert tuple(cells[52]) == (0, 1)
    assert steps[52 * 52 - 1, 0] == 8
    assert steps[52 * 52, 0] == 16
    assert steps[-1, 0] == 32
    assert tuple(cells[-1]) == (12, 12)


def test_decode_gives_a_known_box_per_stride() -> None:
    raw = raw_output()
    # stride 8, cell (x=3, y=5): centre ((3 + 0.5) * 8, (5 + 0.5) * 8) = (28, 44), 32 x 16 px
    put(raw, 5 * 52 + 3, (0.5, 0.5, math.log(4), math.log(2)), obj=0.9, c67=0.8)
    # stride 32, cell (x=2, y=1): centre (64 + 16, 32 + 0) = (80, 32), 64 x 64 px
    stride32 = 52 * 52 + 26 * 26 + 1 * 13 + 2
    put(raw, stride32, (0.5, 0.0, math.log(2), math.log(2)), obj=0.5, c62=0.5)
    rows = yolox.decode(raw, SIZE)
    assert rows[5 * 52 + 3, :4] == pytest.approx([12, 36, 44, 52])
    assert rows[stride32, :4] == pytest.approx([48, 0, 112, 64])
    assert rows[5 * 52 + 3, 4] == pytest.approx(0.9)  # scores pass through


def test_decode_rejects_an_output_of_another_input_size() -> None:
    with pytest.raises(ValueError, match="3549"):
        yolox.decode(np.zeros((100, 85), dtype=np.float32), SIZE)


def test_detections_map_back_to_image_pixels_and_multiply_scores() -> None:
    raw = raw_output()
    put(raw, 5 * 52 + 3, (0.5, 0.5, math.log(4), math.log(2)), obj=0.9, c67=0.8)
    put(raw, 100, (0.0, 0.0, 0.0, 0.0), obj=0.9, c0=0.99)  # a person: not wanted
    put(raw, 200, (0.0, 0.0, 0.0, 0.0), obj=0.2, c73=0.2)  # a book under the floor
    found = yolox.detections(yolox.decode(raw, SIZE), 0.5, WANTED, 0.1, 0.45)
    assert len(found) == 1
    phone = found[0]
    assert (phone.label, phone.class_id) == ("cell phone", PHONE)
    assert phone.score == pytest.approx(0.72)
    # network pixels / scale 0.5: the image was twice as large
    assert (phone.x0, phone.y0, phone.x1, phone.y1) == pytest.approx((24, 72, 88, 104))


def test_one_anchor_may_be_two_classes() -> None:
    raw = raw_output()
    put(raw, 300, (0.0, 0.0, 1.0, 1.0), obj=1.0, c62=0.6, c63=0.5)  # tv or laptop
    found = yolox.detections(yolox.decode(raw, SIZE), 1.0, WANTED, 0.3, 0.45)
    assert [(d.label, round(d.score, 2)) for d in found] == [("tv", 0.6), ("laptop", 0.5)]


def test_nms_suppresses_overlaps_within_a_class_only() -> None:
    boxes = np.array(
        [
            [0, 0, 100, 100],  # phone 0.9
            [5, 5, 105, 105],  # phone 0.8: IoU 0.82 with the first -> dropped
            [5, 5, 105, 105],  # book 0.7 at the same place -> kept (other class)
            [200, 200, 260, 260],  # phone 0.6 elsewhere -> kept
        ],
        dtype=np.float32,
    )
    scores = np.array([0.9, 0.8, 0.7, 0.6], dtype=np.float32)
    classes = np.array([PHONE, PHONE, BOOK, PHONE], dtype=np.int64)
    assert yolox.nms(boxes, scores, classes, 0.45) == [0, 2, 3]
    assert yolox.nms(boxes, scores, classes, 0.9) == [0, 1, 2, 3]  # 0.82 is under 0.9


def test_a_suppressed_box_suppresses_nothing() -> None:
    boxes = np.array(
        [[0, 0, 100, 100], [5, 5, 105, 105], [0, 0, 100, 50]], dtype=np.float32
    )  # the best (index 2) overlaps 0 by 0.5 and 1 by 0.40; 0 and 1 overlap by 0.82
    scores = np.array([0.9, 0.8, 0.95], dtype=np.float32)
    classes = np.full(3, PHONE, dtype=np.int64)
    assert yolox.nms(boxes, scores, classes, 0.45) == [2, 1]


def test_nms_of_nothing_and_of_degenerate_boxes() -> None:
    empty = np.zeros((0, 4), dtype=np.float32)
    assert yolox.nms(empty, np.zeros(0, np.float32), np.zeros(0, np.int64), 0.5) == []
    points = np.array([[10, 10, 10, 10], [10, 10, 10, 10]], dtype=np.float32)
    kept = yolox.nms(points, np.array([0.5, 0.4], np.float32), np.array([1, 1]), 0.5)
    assert kept == [0, 1]  # zero-area boxes have no overlap to suppress by
