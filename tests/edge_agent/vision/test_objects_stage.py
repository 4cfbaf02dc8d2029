"""The object stage around a scripted model: cadence, carried results, look-closer crops,
failures, disabled states, conditions for the rules, and its config."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from edge_agent.vision.objects import (
    ObjectObservation,
    ObjectStage,
    object_conditions,
    object_details,
)
from edge_agent.vision.objects_config import LookCloserConfig, ObjectsConfig, ObjectThresholds
from edge_agent.vision.objects_crop import closer_region, merge
from edge_agent.vision.objects_decode import Detection
from edge_agent.vision.types import FaceBox, Image
from protocol import ViolationType as V
from tests.edge_agent.vision.media import frame_at


def phone(score: float, x0: float = 10, y0: float = 20) -> Detection:
    return Detection(67, "cell phone", score, x0, y0, x0 + 30, y0 + 60)


def det(label: str, score: float) -> Detection:
    return Detection(0, label, score, 0, 0, 10, 10)


class ScriptedModel:
    """Returns ``answer`` for whole frames and ``crop_answer`` for anything smaller; records
    the shapes it was shown; raises while ``broken``."""

    size = 416

    def __init__(self, answer: list[Detection], crop_answer: list[Detection] | None = None):
        self.answer, self.crop_answer = answer, crop_answer or []
        self.shapes: list[tuple[int, ...]] = []
        self.broken = False
        self.frame_shape: tuple[int, ...] = (480, 640, 3)

    def infer(self, image: Image, min_score: float) -> list[Detection]:
        self.shapes.append(image.shape)
        if self.broken:
            raise RuntimeError("session exploded")
        found = self.answer if image.shape == self.frame_shape else self.crop_answer
        return [d for d in found if d.score >= min_score]


def blank(height: int = 480, width: int = 640) -> Image:
    return np.full((height, width, 3), 90, dtype=np.uint8)


# -- cadence and carried results -------------------------------------------------------------


def test_runs_every_nth_frame_and_carries_the_result_between() -> None:
    model = ScriptedModel([phone(0.8)])
    stage = ObjectStage(ObjectsConfig(every_n_frames=3, max_age_s=10.0), model=model)
    observations = [stage.process(frame_at(blank(), i, i / 30)) for i in range(7)]
    assert [o.fresh for o in observations] == [True, False, False, True, False, False, True]
    assert len(model.shapes) == 3
    carried = observations[1]
    assert carried.frame_index == 0
    assert carried.call_ms == ()
    assert carried.elapsed_ms is None
    assert carried.best("cell phone") == pytest.approx(0.8)
    assert observations[3].elapsed_ms is not None
    assert observations[3].elapsed_ms >= 0.0
    assert stage.status.state == "running"


def test_a_slow_camera_runs_it_by_max_age() -> None:
    model = ScriptedModel([])
    stage = ObjectStage(ObjectsConfig(every_n_frames=10, max_age_s=0.5), model=model)
    fresh = [stage.process(frame_at(blank(), i, i * 0.2)).fresh for i in range(8)]  # 5 fps
    assert fresh == [True, False, False, True, False, False, True, False]


def test_detections_below_min_score_are_dropped_and_near_misses_kept() -> None:
    model = ScriptedModel([phone(0.05), phone(0.2, x0=300)])
    stage = ObjectStage(ObjectsConfig(every_n_frames=1), model=model)
    obs = stage.process(frame_at(blank(), 0, 0.0))
    assert [d.score for d in obs.detections] == [0.2]  # min_score 0.1 by default
    assert object_conditions(obs, stage.config)[V.PHONE_IN_VIEW] is False  # threshold 0.3


# -- look closer -----------------------------------------------------------------------------


def test_look_closer_runs_on_a_crop_below_the_face_and_maps_boxes_back() -> None:
    model = ScriptedModel([phone(0.4, x0=500, y0=50)], crop_answer=[phone(0.6, x0=10, y0=20)])
    model.frame_shape = (720, 1280, 3)
    config = ObjectsConfig(every_n_frames=1, look_closer=LookCloserConfig(enabled=True))
    stage = ObjectStage(config, model=model)
    face = FaceBox(600, 100, 80, 80)
    obs = stage.process(frame_at(blank(720, 1280), 0, 0.0), face)
    region = closer_region(face, (1280, 720), 416, config.look_closer)
    assert region == (432, 0, 848, 416)  # 416 px: 4 face widths is less than the input
    assert model.shapes == [(720, 1280, 3), (416, 416, 3)]
    assert len(obs.call_ms) == 2
    boxes = sorted((d.score, d.x0, d.y0) for d in obs.detections)
    assert boxes == [(0.4, 500, 50), (0.6, 442, 20)]  # crop box shifted by (432, 0)


def test_look_closer_needs_a_face_and_is_off_by_default() -> None:
    model = ScriptedModel([])
    on = ObjectStage(
        ObjectsConfig(every_n_frames=1, look_closer=LookCloserConfig(enabled=True)), model=model
    )
    on.process(frame_at(blank(), 0, 0.0), None)
    off = ObjectStage(ObjectsConfig(every_n_frames=1), model=model)
    off.process(frame_at(blank(), 1, 0.1), FaceBox(300, 100, 60, 60))
    assert model.shapes == [(480, 640, 3), (480, 640, 3)]


def test_closer_region_slides_inside_the_frame_and_grows_with_the_face() -> None:
    config = LookCloserConfig()
    # a face at the right edge: the square slides left instead of being cut
    assert closer_region(FaceBox(1200, 600, 60, 60), (1280, 720), 416, config) == (
        864, 304, 1280, 720,
    )  # fmt: skip
    # a large face: 4 face widths (600 px) instead of 416
    x0, y0, x1, y1 = closer_region(FaceBox(500, 400, 150, 150), (1920, 1080), 416, config) or (
        0, 0, 0, 0,
    )  # fmt: skip
    assert (x1 - x0, y1 - y0) == (600, 600)
    assert (x0 + x1) / 2 == pytest.approx(575, abs=1)  # centred on the face
    assert (y0 + y1) / 2 == pytest.approx(550, abs=1)  # half a face height below its centre


def test_closer_region_is_skipped_when_it_would_be_the_whole_frame() -> None:
    config = LookCloserConfig()
    # the usual 640x480 webcam at a seat: 4 x 170 px covers the frame
    assert closer_region(FaceBox(300, 150, 170, 170), (640, 480), 416, config) is None
    # a smaller face: a 416 px square (56 % of the frame) seen 1:1 instead of at 0.65
    assert closer_region(FaceBox(300, 150, 60, 60), (640, 480), 416, config) == (
        122, 2, 538, 418,
    )  # fmt: skip
    tighter = LookCloserConfig(max_area_fraction=0.5)
    assert closer_region(FaceBox(300, 150, 60, 60), (640, 480), 416, tighter) is None


def test_merge_keeps_the_better_of_a_box_seen_twice() -> None:
    whole = [phone(0.5, x0=110, y0=120)]
    crop = [phone(0.7, x0=10, y0=20), det("book", 0.3)]  # the same phone, in crop pixels
    merged = merge(whole, crop, (100, 100, 516, 516), 0.45)
    assert [(d.label, d.score, d.x0, d.y0) for d in merged] == [
        ("cell phone", 0.7, 110, 120),
        ("book", 0.3, 100, 100),
    ]
    assert merge([], [], (0, 0, 10, 10), 0.45) == []


# -- failures and disabled states ------------------------------------------------------------


def test_a_failing_model_never_raises_into_the_frame_loop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = ScriptedModel([phone(0.9)])
    stage = ObjectStage(ObjectsConfig(every_n_frames=1), model=model)
    assert stage.process(frame_at(blank(), 0, 0.0)).best("cell phone") > 0
    assert stage.status_changed() == stage.status  # first call: the running status
    model.broken = True
    with caplog.at_level(logging.ERROR, logger="edge_agent.vision.objects"):
        obs = [stage.process(frame_at(blank(), i, i / 30)) for i in range(1, 4)]
    assert all(o.detections == () and not o.fresh for o in obs)  # nothing carried over
    assert stage.status.state == "failed"
    assert "session exploded" in stage.status.reason
    assert stage.status.errors == 3
    assert len([r for r in caplog.records if "object detector failed" in r.message]) == 1
    changed = stage.status_changed()
    assert changed is not None
    assert changed.state == "failed"
    assert stage.status_changed() is None  # handed over once
    model.broken = False
    assert stage.process(frame_at(blank(), 4, 4 / 30)).fresh
    assert (stage.status.state, stage.status.errors) == ("running", 3)


def test_no_model_path_is_disabled_with_a_reason() -> None:
    stage = ObjectStage(ObjectsConfig())
    assert not stage.enabled
    assert stage.status.state == "disabled"
    assert "no model path configured" in stage.status.reason
    obs = stage.process(frame_at(blank(), 5, 1.0))
    assert (obs.frame_index, obs.detections, obs.fresh) == (5, (), False)
    assert object_conditions(obs, stage.config) == dict.fromkeys(
        (V.PHONE_IN_VIEW, V.BOOK_IN_VIEW, V.SECOND_SCREEN), False
    )
    with pytest.raises(RuntimeError, match="disabled"):
        stage.look(blank())


def test_missing_model_file_is_disabled(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    missing = tmp_path / "nowhere.onnx"
    with caplog.at_level(logging.ERROR, logger="edge_agent.vision.objects"):
        stage = ObjectStage(ObjectsConfig(model_path=missing))
    assert stage.status.state == "disabled"
    assert "not found" in stage.status.reason
    assert str(missing) in stage.status.reason
    assert any("object detection disabled" in r.message for r in caplog.records)
    assert stage.process(frame_at(blank(), 0, 0.0)).detections == ()


def test_corrupt_model_file_is_disabled(tmp_path: Path) -> None:
    corrupt = tmp_path / "yolox.onnx"
    corrupt.write_bytes(b"\x08\x07this is not a protobuf graph" * 50)
    stage = ObjectStage(ObjectsConfig(model_path=corrupt))
    assert stage.status.state == "disabled"
    assert "cannot be loaded" in stage.status.reason
    assert stage.process(frame_at(blank(), 0, 0.0)).detections == ()
    changed = stage.status_changed()
    assert changed is not None
    assert changed.state == "disabled"


# -- conditions for the rules ----------------------------------------------------------------


def observation(*detections: Detection) -> ObjectObservation:
    return ObjectObservation(0, 0.0, detections, fresh=True)


def test_conditions_use_the_per_class_thresholds() -> None:
    config = ObjectsConfig(thresholds=ObjectThresholds(cell_phone=0.3, book=0.2, tv=0.5))
    assert object_conditions(observation(phone(0.3)), config)[V.PHONE_IN_VIEW] is True
    assert object_conditions(observation(phone(0.29)), config)[V.PHONE_IN_VIEW] is False
    conditions = object_conditions(observation(det("book", 0.25), det("tv", 0.45)), config)
    assert conditions == {V.PHONE_IN_VIEW: False, V.BOOK_IN_VIEW: True, V.SECOND_SCREEN: False}
    assert object_conditions(observation(det("laptop", 0.6)), config)[V.SECOND_SCREEN] is True
    assert object_conditions(observation(det("tv", 0.5)), config)[V.SECOND_SCREEN] is True
    assert not any(object_conditions(None, config).values())


def test_details_count_boxes_over_threshold() -> None:
    config = ObjectsConfig()
    obs = observation(phone(0.7), phone(0.4, x0=300), phone(0.2, x0=500), det("tv", 0.9))
    details = object_details(obs, config)
    assert details[V.PHONE_IN_VIEW] == {"score": 0.7, "boxes": 2.0}
    assert details[V.SECOND_SCREEN] == {"score": 0.9, "boxes": 1.0}
    assert details[V.BOOK_IN_VIEW] == {"score": 0.0, "boxes": 0.0}


# -- config ----------------------------------------------------------------------------------


def test_config_rejects_unknown_keys_and_a_floor_above_a_threshold() -> None:
    with pytest.raises(ValidationError, match="extra"):
        ObjectsConfig.model_validate({"model": "x.onnx"})
    with pytest.raises(ValidationError, match="extra"):
        ObjectsConfig.model_validate({"thresholds": {"phone": 0.5}})
    with pytest.raises(ValidationError, match="min_score"):
        ObjectsConfig(min_score=0.4)
    config = ObjectsConfig.model_validate(
        {"model_path": "/opt/m.onnx", "thresholds": {"cell_phone": 0.5}, "every_n_frames": 5}
    )
    assert config.model_path == Path("/opt/m.onnx")
    assert config.thresholds.for_label("cell phone") == 0.5


def test_every_config_field_has_a_description() -> None:
    for model in (ObjectsConfig, ObjectThresholds, LookCloserConfig):
        for name, field in model.model_fields.items():
            if name != "type":
                assert field.description, f"{model.__name__}.{name}"


def test_a_missing_onnxruntime_disables_the_stage_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_installed(name: str) -> object:
        raise ModuleNotFoundError(f"No module named {name!r}")

    monkeypatch.setattr("edge_agent.vision.objects_model.import_optional", not_installed)
    model = tmp_path / "yolox.onnx"
    model.write_bytes(b"x")
    stage = ObjectStage(ObjectsConfig(model_path=model))
    assert stage.status.state == "disabled"
    assert "onnxruntime cannot be imported" in stage.status.reason
