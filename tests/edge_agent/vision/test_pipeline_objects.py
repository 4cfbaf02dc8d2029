"""The object stage inside the vision pipeline: on the frame path for replays, on a worker for
the live agent, its timing, the lip signal, and what the heartbeat is told when it is off."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge_agent.vision.config import VisionConfig
from edge_agent.vision.objects import ObjectStage
from edge_agent.vision.objects_config import ObjectsConfig
from edge_agent.vision.objects_decode import Detection
from edge_agent.vision.pipeline import VisionPipeline
from edge_agent.vision.types import Frame, Image
from tests.edge_agent.helpers import wait_until
from tests.edge_agent.vision.fakes import FakeDetector, FakeIdentity, scene

PHONE = Detection(67, "cell phone", 0.7, 10, 20, 40, 80)
T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


class GatedModel:
    """Answers a phone; waits for ``gate`` before answering when one is set."""

    size = 416

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.calls = 0

    def infer(self, image: Image, min_score: float) -> list[Detection]:
        self.calls += 1
        if self.gate is not None:
            assert self.gate.wait(10)
        return [PHONE]


def frames(count: int, fps: float = 30.0) -> list[Frame]:
    image = scene(1)
    return [Frame(image, i, i / fps, T0 + timedelta(seconds=i / fps)) for i in range(count)]


def pipeline(model: GatedModel | None, *, offpath: bool, every: int = 10) -> VisionPipeline:
    config = VisionConfig(objects=ObjectsConfig(every_n_frames=every, max_age_s=10.0))
    stages: dict[str, object] = {
        "detector": FakeDetector(),
        "landmarks": None,
        "head_pose": None,
        "gaze": None,
        "identity": FakeIdentity(),
    }
    if model is not None:
        stages["objects"] = ObjectStage(config.objects, model=model)
    return VisionPipeline(config, stages=stages, objects_offpath=offpath)


def test_on_the_frame_path_every_nth_frame_runs_and_is_timed() -> None:
    model = GatedModel()
    with pipeline(model, offpath=False) as vision:
        observations = [vision.process(f) for f in frames(25)]
    assert model.calls == 3  # frames 0, 10 and 20
    assert all(o.objects is not None and o.objects.best("cell phone") == 0.7 for o in observations)
    timed = [o.frame_index for o in observations if "objects" in o.stage_ms]
    assert timed == [0, 10, 20]


def test_off_the_frame_path_a_slow_detector_never_holds_a_frame() -> None:
    gate = threading.Event()
    model = GatedModel(gate)
    with pipeline(model, offpath=True, every=1) as vision:
        first = [vision.process(f) for f in frames(20)]
        # The detector is stuck on frame 0: frames went on, nothing seen yet, one call.
        assert wait_until(lambda: model.calls == 1)
        assert model.calls == 1
        assert all(o.objects is not None and o.objects.detections == () for o in first)
        gate.set()
        assert vision.objects.wait_idle(5)
        later = vision.process(frames(21)[20])
    assert later.objects is not None
    assert later.objects.fresh
    assert later.objects.frame_index == 0  # the run's own frame, not the one it came with
    assert later.objects.best("cell phone") == 0.7
    assert "objects" in later.stage_ms


def test_without_a_model_the_stage_is_off_and_says_why(tmp_path: Path) -> None:
    with pipeline(None, offpath=True) as vision:
        observation = vision.process(frames(1)[0])
        assert observation.objects is None
        assert "no model path" in vision.disabled_stages()["objects"]
        assert vision.take_faults() == []  # not configured is not a fault

    missing = VisionConfig(objects=ObjectsConfig(model_path=tmp_path / "gone.onnx"))
    with VisionPipeline(missing, stages={"detector": FakeDetector()}) as vision:
        vision.process(frames(1)[0])
        faults = [f for f in vision.take_faults() if f.stage == "objects"]
        assert len(faults) == 1
        assert "gone.onnx" in faults[0].error
        assert "gone.onnx" in vision.disabled_stages()["objects"]
