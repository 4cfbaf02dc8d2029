"""A full disk for evidence: the violation still reaches the outbox, and a device_fault says why
its clip is missing."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from edge_agent.agent import Agent
from edge_agent.kiosk_config import KioskConfig
from protocol import ViolationEvent, decode
from tests.edge_agent.capture.helpers import FlakyCamera, wait_until

PETABYTE = 10**15


def _violations(path: Path) -> list[ViolationEvent]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT topic, payload FROM outbox ORDER BY seq").fetchall()
    messages = [decode(topic, payload).message for topic, payload in rows]
    return [m for m in messages if isinstance(m, ViolationEvent)]


def _of(path: Path, kind: str) -> list[ViolationEvent]:
    return [v for v in _violations(path) if v.type.value == kind]


def test_no_room_for_evidence_is_a_device_fault_and_nothing_is_lost(tmp_path: Path) -> None:
    config = KioskConfig.model_validate({
        "identity": {"centre_id": "centre-1", "device_id": "kiosk-df"},
        "data_dir": str(tmp_path / "data"),
        # No disk has a petabyte free: every evidence write is refused, as on a full disk.
        "evidence": {
            "upload": {"url": "http://127.0.0.1:9"},
            "store": {"min_free_bytes": PETABYTE},
            "clip": {"pre_roll_s": 1.0, "post_roll_s": 0.5},
        },
        # The fake camera shows flat grey frames: a covered camera, after 0.5 s.
        "rules": {"camera_covered": {"min_duration_s": 0.5}, "face_absent": {"enabled": False}},
    })  # fmt: skip
    outbox = config.outbox_path()
    camera = FlakyCamera(interval_s=0.03)
    agent = Agent(config, source=camera, publish=False)
    agent.start()
    try:
        assert wait_until(lambda: len(_of(outbox, "camera_covered")) >= 1, 30)
        time.sleep(1.0)
    finally:  # stopping ends the violation, which asks for its clip and snapshot

        agent.stop()
        assert agent.join(30)
    covered = _of(outbox, "camera_covered")
    assert [v.state.value for v in covered][:1] == ["started"]
    assert covered[-1].state.value == "ended"  # the stream ended it at stop
    assert all(not v.evidence for v in covered)  # no clip could be stored
    fault = _of(outbox, "device_fault")[0]
    assert "evidence" in str(fault.details).lower()
