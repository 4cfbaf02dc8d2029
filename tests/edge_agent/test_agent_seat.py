"""The running agent serves the kiosk screen: an enrol command from central reaches the vision
pipeline and the subject of every later message; the screen's face match, calibration,
progress and answers go through the agent's real camera loop and outbox."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request
from pathlib import Path
from typing import Any

import cv2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from edge_agent.agent import Agent
from edge_agent.capture.source import check_image
from edge_agent.kiosk_config import KioskConfig
from edge_agent.vision.identity import FaceRecognitionIdentity
from protocol import AnswerSaved, CommandReceipt, CommandType, ViolationEvent, decode, uuid7
from protocol.signing import verify_chain
from tests.edge_agent.helpers import wait_until
from tests.edge_agent.seat.builders import command, enrolment_json

pytestmark = pytest.mark.slow
VIDEO = "center_left_center.mp4"


def _config(tmp_path: Path, video: Path, signing_key: Path | None = None) -> KioskConfig:
    return KioskConfig.model_validate({
        "identity": {"centre_id": "centre-t", "device_id": "kiosk-seat-1", "seat_id": "seat-07",
                     "signing_key": None if signing_key is None else str(signing_key)},
        "data_dir": str(tmp_path / "data"),
        "capture": {"type": "file", "path": str(video), "rotate": "90cw", "width": 640,
                    "pacing": "realtime", "loop": True},
        "local_api": {"enabled": True, "port": 0},
        "evidence": {"upload": {"url": "http://127.0.0.1:9"}},
    })  # fmt: skip


def _candidate_encoding(video: Path) -> list[float]:
    """The enrolment photo: a frame of the recording's candidate, rotated as the kiosk sees it."""
    capture = cv2.VideoCapture(str(video))
    for _ in range(10):
        ok, image = capture.read()
    capture.release()
    assert ok
    rotated = check_image(cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE))
    assert rotated is not None
    identity = FaceRecognitionIdentity()
    try:
        return [float(x) for x in identity.enrol(rotated)]
    finally:
        identity.close()


def _call(url: str, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def _outbox(path: Path) -> list[Any]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT topic, payload FROM outbox ORDER BY seq").fetchall()
    return [decode(topic, payload).message for topic, payload in rows]


def test_enrolment_by_command_then_check_in_through_the_local_api(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    video = fixtures_dir / "video" / VIDEO
    config = _config(tmp_path, video)
    agent = Agent(config, publish=False)
    agent.start()
    try:
        assert agent.local_api is not None
        api = agent.local_api.url
        enrol = command(CommandType.ENROL, enrolment=enrolment_json(
            "sess-9", _candidate_encoding(video), candidate_number="C-2002"))  # fmt: skip
        agent._on_command(enrol)  # what the publisher does with a command from central

        assert wait_until(lambda: agent.pipeline._enrolled is not None, timeout=10)
        state = _call(f"{api}/state")
        assert state["enrolment"]["session_id"] == "sess-9"
        assert "encoding" not in state["enrolment"]
        assert wait_until(lambda: _call(f"{api}/state")["health"]["camera"] == "ok", timeout=15)

        match = _call(f"{api}/face-match", "POST", {"candidate_number": "C-2002"})
        assert match["status"] == "match", match
        assert match["distance"] < 0.6

        calibration = _call(f"{api}/calibrate", "POST", {"seconds": 1})
        assert calibration["status"] == "ok", calibration
        assert calibration["face_found_ratio"] > 0.5
        assert agent.engine.neutral.calibrated

        health = _call(f"{api}/state")["health"]
        assert health["face_found_ratio"] > 0.5
        assert health["microphone"] == "off"
        assert health["network"] == "offline"  # publish=False: no broker

        progress = {"state": "running", "answered": 1, "total": 2, "remaining_s": 1700.0,
                    "warnings": 0}  # fmt: skip
        _call(f"{api}/progress", "PUT", progress)
        exam = agent.health.snapshot().exam
        assert exam is not None
        assert (exam.state, exam.answered, exam.remaining_s) == ("running", 1, 1700.0)
        assert agent.health.snapshot().session_id == "sess-9"

        answer_id = str(uuid7())
        body = {"id": answer_id, "kind": "answer", "question_id": "q1", "answer": "b"}
        first = _call(f"{api}/messages", "POST", body)
        again = _call(f"{api}/messages", "POST", body)
        assert again == {**first, "duplicate": True}
        signal = _call(f"{api}/signals", "POST", {"kind": "lockdown", "signal": "focus_lost"})
    finally:
        agent.stop()
        assert agent.join(60)

    messages = _outbox(config.outbox_path())
    receipts = [m for m in messages if isinstance(m, CommandReceipt)]
    assert [(r.command_id, r.status) for r in receipts] == [(enrol.id, "done")]
    answers = [m for m in messages if isinstance(m, AnswerSaved)]
    assert [str(a.id) for a in answers] == [answer_id]
    assert answers[0].subject.session_id == "sess-9"
    assert answers[0].subject.candidate_id == "cand-1"
    # The screen's lockdown signal is a violation about the enrolled candidate.
    breach = [m for m in messages if isinstance(m, ViolationEvent) and m.type == "lockdown_breach"]
    assert {str(v.violation_id) for v in breach} == {signal["violation_id"]}
    assert all(v.subject.session_id == "sess-9" for v in breach)


def test_the_enrolment_survives_a_restart(tmp_path: Path, fixtures_dir: Path) -> None:
    video = fixtures_dir / "video" / VIDEO
    config = _config(tmp_path, video)
    agent = Agent(config, publish=False)
    agent.start()
    agent._on_command(command(CommandType.ENROL, enrolment=enrolment_json("sess-r")))
    agent.stop()
    assert agent.join(60)

    again = Agent(config, publish=False)
    again.start()
    try:
        assert again.pipeline._enrolled is not None  # set at start, from the seat state
        assert again.subject().session_id == "sess-r"
        time.sleep(0.2)
    finally:
        again.stop()
        assert again.join(60)


def test_a_kiosk_with_its_key_signs_and_one_without_a_readable_key_says_so(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    video = fixtures_dir / "video" / VIDEO
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "signing.key"
    pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    broken = tmp_path / "broken.key"
    broken.write_text("not a key")
    for name, path in (("signed", pem), ("broken", broken)):
        config = _config(tmp_path / name, video, signing_key=path)
        agent = Agent(config, publish=False)
        agent.start()
        agent._on_command(command(CommandType.MESSAGE, text="hello"))
        agent.stop()
        assert agent.join(60)
        with sqlite3.connect(config.outbox_path()) as conn:
            raw = [json.loads(bytes(r[0])) for r in conn.execute("SELECT payload FROM outbox")]
        if name == "signed":
            assert raw
            assert verify_chain(key.public_key(), raw) == []
        else:
            assert all("signature" not in m for m in raw)
            faults = [m for m in raw if m.get("type") == "device_fault"]
            assert any("not a PEM private key" in m["details"]["error"] for m in faults), faults
