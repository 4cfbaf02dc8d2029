"""The agent when a vision stage cannot load: a device_fault reaches the outbox and the other
stages keep working; calibration at check-in sets the neutral pose the rules use."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from edge_agent.agent import Agent
from edge_agent.kiosk_config import KioskConfig
from edge_agent.vision import pipeline as vision_pipeline
from edge_agent.vision import stages
from edge_agent.vision.stages import StageKind, StageLoadError
from protocol import ViolationEvent, decode

pytestmark = pytest.mark.slow


def _messages(path: Path) -> list[ViolationEvent]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT topic, payload FROM outbox ORDER BY seq").fetchall()
    out = []
    for topic, payload in rows:
        message = decode(topic, payload).message
        assert isinstance(message, ViolationEvent)
        out.append(message)
    return out


def test_failed_stage_is_reported_and_the_rest_keep_working(
    tmp_path: Path, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def build(kind: StageKind, config: Any) -> Any:
        if kind == "head_pose":
            raise StageLoadError("model file is corrupt")
        return stages.build(kind, config)

    monkeypatch.setattr(vision_pipeline, "build", build)  # the name the pipeline calls
    config = KioskConfig.model_validate({
        "identity": {"centre_id": "centre-1", "device_id": "kiosk-t2"},
        "data_dir": str(tmp_path / "data"),
        "capture": {"type": "file", "rotate": "90cw", "pacing": "realtime",
                    "path": str(fixtures_dir / "video" / "center_left_center.mp4")},
        "evidence": {"upload": {"url": "http://127.0.0.1:9"}},
    })  # fmt: skip
    agent = Agent(config, publish=False)
    calibration = agent.calibrate(2.0)  # the recording starts with the eyes on the screen
    agent.start()
    neutral = calibration.result(timeout=30)
    assert agent.join(timeout=90)

    assert neutral.calibrated
    assert 0.45 < neutral.gaze_horizontal < 0.55
    messages = _messages(config.outbox_path())
    faults = [m for m in messages if m.type.value == "device_fault"]
    assert [m.state.value for m in faults] == ["started", "ended"]
    assert faults[0].details["component"] == "vision stage head_pose"
    assert "corrupt" in str(faults[0].details["error"])
    eyes = [m for m in messages if m.type.value == "eyes_away"]
    assert [m.state.value for m in eyes] == ["started", "ended"]  # gaze still works
    assert eyes[0].details["calibrated"] is True
