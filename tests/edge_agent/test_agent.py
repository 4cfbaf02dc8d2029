"""The agent on a real recording at real-time pacing: violations reach the outbox in time,
the ended message names a clip that plays and a snapshot, heartbeat health is filled in."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import pytest

from edge_agent.agent import Agent
from edge_agent.evidence.records import EvidenceError
from edge_agent.kiosk_config import KioskConfig
from protocol import ViolationEvent, decode

pytestmark = pytest.mark.slow
LATENCY_BUDGET_S = 0.3


def _config(tmp_path: Path, video: Path) -> KioskConfig:
    return KioskConfig.model_validate({
        "identity": {"centre_id": "centre-1", "device_id": "kiosk-t1", "seat_id": "A-01"},
        "data_dir": str(tmp_path / "data"),
        "capture": {"type": "file", "path": str(video), "rotate": "90cw", "width": 640,
                    "pacing": "realtime"},
        "subject": {"session_id": "sess-1", "candidate_id": "cand-1", "exam_id": "exam-1"},
        "evidence": {"upload": {"url": "http://127.0.0.1:9"}},  # nobody there: kept for later
    })  # fmt: skip


def _outbox(path: Path) -> list[tuple[ViolationEvent, datetime]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT topic, payload, created_wall FROM outbox ORDER BY seq")
        out = []
        for topic, payload, created in rows.fetchall():
            message = decode(topic, payload).message
            assert isinstance(message, ViolationEvent)
            out.append((message, datetime.fromisoformat(created)))
    return out


def test_agent_on_the_gaze_recording(tmp_path: Path, fixtures_dir: Path) -> None:
    config = _config(tmp_path, fixtures_dir / "video" / "center_left_center.mp4")
    agent = Agent(config, publish=False)
    agent.start()
    snapshot = None
    deadline = time.monotonic() + 90
    while not agent.join(timeout=0.5):
        assert time.monotonic() < deadline, "the agent did not finish the recording"
        try:
            health = agent.health.snapshot()
        except EvidenceError:  # the recording ended and the agent closed its store meanwhile
            continue
        if health.fps is not None:
            snapshot = health
    messages = _outbox(config.outbox_path())
    eyes = [(m, created) for m, created in messages if m.type.value == "eyes_away"]
    assert [m.state.value for m, _ in eyes] == ["started", "ended"], [m.type for m, _ in messages]

    started, created = eyes[0]
    min_duration = timedelta(seconds=config.rules.eyes_away.min_duration_s)
    latency = (created - started.started_at - min_duration).total_seconds()
    assert latency <= LATENCY_BUDGET_S, f"started reached the outbox {latency:.3f} s late"
    assert started.subject.session_id == "sess-1"

    ended = eyes[1][0]
    assert 4.0 <= ended.duration_s <= 6.0
    kinds = {ref.role: ref for ref in ended.evidence}
    assert set(kinds) == {"clip", "snapshot"}, ended.details
    clip_path = next((tmp_path / "data" / "evidence").rglob(f"{kinds['clip'].sha256}*"))
    video = cv2.VideoCapture(str(clip_path))
    frames = 0
    while video.read()[0]:
        frames += 1
    # pre-roll 5 s + violation ~4.7 s + post-roll 3 s at 10 fps, cut by the recording's start
    assert frames >= 80, frames

    assert snapshot is not None, "the heartbeat health never had an fps"
    assert snapshot.fps is not None
    assert snapshot.fps > 15
    assert {"detector", "landmarks", "frame_total"} <= set(snapshot.stage_ms)
    print(json.dumps({"latency_s": round(latency, 3), "fps": snapshot.fps,
                      "stage_ms": snapshot.stage_ms}))
