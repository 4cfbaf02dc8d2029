"""The agent when the camera is unplugged mid-exam and plugged back: a camera_lost violation
starts when frames stop and ends, with its duration, when they come back."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from edge_agent.agent import Agent
from edge_agent.kiosk_config import KioskConfig
from protocol import ViolationEvent, decode
from tests.edge_agent.capture.helpers import FlakyCamera, wait_until


def _violations(path: Path, kind: str) -> list[ViolationEvent]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT topic, payload FROM outbox ORDER BY seq").fetchall()
    messages = [decode(topic, payload).message for topic, payload in rows]
    return [m for m in messages if isinstance(m, ViolationEvent) and m.type.value == kind]


def test_unplugged_camera_is_a_camera_lost_violation(tmp_path: Path) -> None:
    config = KioskConfig.model_validate({
        "identity": {"centre_id": "centre-1", "device_id": "kiosk-t3"},
        "data_dir": str(tmp_path / "data"),
        "capture": {"lost_timeout_s": 0.5, "reopen_min_s": 0.1, "reopen_max_s": 0.2},
        "evidence": {"upload": {"url": "http://127.0.0.1:9"}},
        # The fake camera shows a flat grey picture: only camera_lost is under test here.
        "rules": {"camera_covered": {"enabled": False}, "face_absent": {"enabled": False}},
    })  # fmt: skip
    camera = FlakyCamera(interval_s=0.03)
    agent = Agent(config, source=camera, publish=False)
    agent.start()
    try:
        time.sleep(1.0)
        camera.plugged = False  # unplugged for about 2 s
        assert wait_until(lambda: len(_violations(config.outbox_path(), "camera_lost")) == 1, 5)
        time.sleep(1.5)
        camera.plugged = True
        assert wait_until(lambda: len(_violations(config.outbox_path(), "camera_lost")) == 2, 5)
    finally:
        agent.stop()
        assert agent.join(30)
    started, ended = _violations(config.outbox_path(), "camera_lost")
    assert (started.state.value, ended.state.value) == ("started", "ended")
    assert started.violation_id == ended.violation_id
    assert 1.5 <= ended.duration_s <= 4.0  # from the last good frame to the first new one
