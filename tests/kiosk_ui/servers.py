"""Real processes for the browser tests: the agent's local API dev server
(`python -m edge_agent.seat`, real seat-state and outbox files, a still photo as the camera)
and the kiosk screen (`python -m kiosk_ui`), each killable like a power cut."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from protocol.exam import ExamDefinition
from tests.support.services import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
FACES = REPO.parent / "shared" / "fixtures" / "faces"
CAMERA_PHOTO = FACES / "train__obama__obama2.jpg"  # what the camera "sees"
ENROLLED_PHOTO = FACES / "train__obama__obama.jpg"  # the enrolment photo: same person
CANDIDATE_NUMBER = "C-1001"


def _json_request(method: str, url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


class SeatAgent:
    """The agent's local API on its own; `url` is the base without /v1."""

    def __init__(self, workdir: Path, exam: ExamDefinition) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.exam_file = workdir / "exam.json"
        self.exam_file.write_text(exam.model_dump_json(), encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 60.0) -> None:
        args = [
            sys.executable, "-m", "edge_agent.seat", "--data-dir", str(self.workdir / "data"),
            "--port", "0", "--camera", str(CAMERA_PHOTO), "--exam", str(self.exam_file),
            "--enrol-photo", str(ENROLLED_PHOTO), "--candidate-number", CANDIDATE_NUMBER,
            "--log-level", "WARNING",
        ]  # fmt: skip
        log = (self.workdir / "agent.log").open("ab")
        self.proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=log)
        self.url = self._ready_url(timeout).removesuffix("/v1")

    def _ready_url(self, timeout: float) -> str:
        assert self.proc is not None
        assert self.proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if selector.select(timeout=0.5):
                line = self.proc.stdout.readline().decode().strip()
                if line.startswith("ready: "):
                    return line.removeprefix("ready: ")
                if not line and self.proc.poll() is not None:
                    break
        raise RuntimeError(f"agent dev server did not start; see {self.workdir / 'agent.log'}")

    def outbox(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = _json_request("GET", self.url + "/dev/outbox")["messages"]
        return messages

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.outbox() if m["kind"] == kind]

    def command(self, kind: str, **args: Any) -> None:
        result = _json_request("POST", self.url + "/dev/command", {"type": kind, "args": args})
        assert result["status"] == "done", result

    def kill(self) -> None:
        """Like a power cut: no chance to clean up."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class KioskScreen:
    """`python -m kiosk_ui` on a free loopback port."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.db = workdir / "screen.sqlite3"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, agent_url: str) -> None:
        args = [
            sys.executable, "-m", "kiosk_ui", "--db", str(self.db), "--agent-url", agent_url,
            "--port", str(self.port), "--beat-s", "0.5",
        ]  # fmt: skip
        log = (self.workdir / "screen.log").open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(args, cwd=REPO, stdout=log, stderr=log, env=env)
        wait_for_port(self.port, 30, self.proc)

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = _json_request("GET", self.url + "/api/status")
        return status

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
