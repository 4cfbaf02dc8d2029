"""`python -m edge_agent.seat` as the kiosk screen's tests start it: a real process, real
files, a fixture photo as the camera, the enrolment computed from another photo."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import requests

from tests.edge_agent.seat.builders import exam_json

ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT_S = 120.0  # imports MediaPipe and dlib on a shared 2-core machine


class DevProcess:
    def __init__(self, process: subprocess.Popen[str], base: str) -> None:
        self.process = process
        self.base = base

    def post(self, path: str, body: Any = None) -> requests.Response:
        return requests.post(f"{self.base}{path}", json=body, timeout=60)

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.base}{path}", timeout=60)

    def dev_url(self, route: str) -> str:
        """A test-only /dev route: beside /v1, not under it."""
        return f"{self.base.removesuffix('/v1')}/dev/{route}"


def _first_line(stream: IO[str], timeout_s: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout_s)
    except queue.Empty:
        return ""


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "edge_agent.seat", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PROCTOR_LOG_LEVEL": "WARNING"},
    )


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory, fixtures_dir: Path) -> Iterator[DevProcess]:
    folder = tmp_path_factory.mktemp("devserver")
    exam_file = folder / "exam.json"
    exam_file.write_text(json.dumps(exam_json()), encoding="utf-8")
    faces = fixtures_dir / "faces"
    process = _start(
        [
            "--data-dir", str(folder / "data"), "--port", "0",
            "--camera", str(faces / "train__obama__obama2.jpg"),
            "--exam", str(exam_file),
            "--enrol-photo", str(faces / "train__obama__obama.jpg"),
            "--candidate-number", "C-0042",
        ]
    )  # fmt: skip
    assert process.stdout is not None
    line = _first_line(process.stdout, START_TIMEOUT_S)
    if not line.startswith("ready: http://127.0.0.1:"):
        process.kill()
        _, err = process.communicate(timeout=10)
        pytest.fail(f"dev server did not start: {line!r}\n{err}")
    yield DevProcess(process, line.removeprefix("ready: ").strip())
    if process.poll() is None:
        process.kill()
        process.communicate(timeout=10)


def test_the_dev_server_loads_exam_and_enrolment(dev: DevProcess) -> None:
    state = dev.get("/state").json()
    assert state["exam"]["id"] == "exam-1"
    assert state["enrolment"]["candidate_number"] == "C-0042"
    assert state["enrolment"]["exam_id"] == "exam-1"
    assert state["health"]["camera"] == "ok"


def test_face_match_and_calibration_use_the_camera_file(
    dev: DevProcess, fixtures_dir: Path
) -> None:
    match = dev.post("/face-match", {"candidate_number": "c-0042"}).json()
    assert match["status"] == "match"
    assert 0 < match["distance"] <= 0.6
    calibration = dev.post("/calibrate", {"seconds": 1}).json()
    assert calibration["status"] == "ok"
    assert calibration["face_found_ratio"] == 1.0
    assert set(calibration["neutral"]) == {"yaw", "pitch", "roll"}
    preview = dev.get("/preview.jpg")
    assert preview.headers["Content-Type"] == "image/jpeg"
    assert preview.content[:2] == b"\xff\xd8"

    other = fixtures_dir / "faces" / "train__biden__biden2.jpg"
    assert (
        requests.put(dev.dev_url("camera"), json={"path": str(other)}, timeout=60).status_code
        == 204
    )
    assert dev.post("/face-match", {"candidate_number": "C-0042"}).json()["status"] == "no_match"
    assert requests.put(dev.dev_url("camera"), json={"path": None}, timeout=60).status_code == 204
    lost = dev.post("/face-match", {"candidate_number": "C-0042"}).json()
    assert lost == {"status": "camera_lost", "distance": None}
    assert dev.get("/preview.jpg").status_code == 503
    assert dev.get("/state").json()["health"]["camera"] == "lost"


def test_dev_commands_and_outbox(dev: DevProcess) -> None:
    body = {"type": "warn", "args": {"text": "No phones"}}
    answer = requests.post(dev.dev_url("command"), json=body, timeout=60).json()
    assert (answer["status"], answer["detail"]) == ("done", "warning 1 issued")
    warnings = dev.get("/state").json()["control"]["warnings"]
    assert [(w["id"], w["text"]) for w in warnings] == [(answer["command_id"], "No phones")]
    receipts = [
        m
        for m in requests.get(dev.dev_url("outbox"), timeout=60).json()["messages"]
        if m["kind"] == "receipt"
    ]
    assert [r["status"] for r in receipts] == ["done", "done", "done"]  # exam, enrol, warn
    assert receipts[-1]["command_id"] == answer["command_id"]


def test_sigterm_stops_it_cleanly(dev: DevProcess) -> None:
    dev.process.send_signal(signal.SIGTERM)
    assert dev.process.wait(timeout=30) == 0


def test_a_bad_exam_file_stops_the_start_with_the_reason(tmp_path: Path) -> None:
    exam_file = tmp_path / "exam.json"
    exam_file.write_text(json.dumps({"id": "exam-1"}), encoding="utf-8")
    args = ["--data-dir", str(tmp_path / "data"), "--port", "0", "--exam", str(exam_file)]
    result = subprocess.run(
        [sys.executable, "-m", "edge_agent.seat", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 2
    assert "load_exam rejected: invalid exam: exam.title" in result.stderr
