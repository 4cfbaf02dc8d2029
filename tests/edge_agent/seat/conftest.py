"""Fixtures for the seat tests: real SQLite files under tmp_path, a served local API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from edge_agent.clock import FakeClock
from edge_agent.messages import Origin
from edge_agent.outbox import Outbox
from edge_agent.seat.local_api import LocalApi
from edge_agent.seat.messages import Sender
from edge_agent.seat.sensors import CalibrationResult, FaceMatchResult, SensorHealth
from edge_agent.seat.server import LocalApiServer
from edge_agent.seat.state import SeatState
from edge_agent.vision.types import HeadPose
from protocol import ExamProgress
from tests.edge_agent.seat.builders import CENTRE, DEVICE, SEAT


@dataclass
class FakeSensors:
    """Answers set by the test; records what it was asked."""

    match: FaceMatchResult = field(default_factory=lambda: FaceMatchResult("match", 0.31))
    calibration: CalibrationResult = field(
        default_factory=lambda: CalibrationResult("ok", HeadPose(4.0, -6.0, 1.0), 0.95)
    )
    jpeg: bytes | None = b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"
    qr: str | None = None
    asked: list[tuple[str, Any]] = field(default_factory=list)

    def face_match(self, encoding: list[float], candidate_number: str) -> FaceMatchResult:
        self.asked.append(("face_match", (len(encoding), candidate_number)))
        return self.match

    def calibrate(self, seconds: float) -> CalibrationResult:
        self.asked.append(("calibrate", seconds))
        return self.calibration

    def preview_jpeg(self) -> bytes | None:
        return self.jpeg

    def read_qr(self) -> str | None:
        return self.qr

    def health(self) -> SensorHealth:
        return {"camera": "ok", "microphone": "off", "face_found_ratio": 0.9, "network": "online"}


@dataclass
class Served:
    """A LocalApi served over real HTTP on a free loopback port."""

    base: str
    state: SeatState
    outbox: Outbox
    sensors: FakeSensors
    progress: list[ExamProgress]

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url(path), timeout=10, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return requests.post(self.url(path), json=body, timeout=10, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return requests.put(self.url(path), json=body, timeout=10, **kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sender(clock: FakeClock) -> Sender:
    return Sender(Origin(CENTRE, DEVICE), clock, SEAT)


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "seat" / "seat.sqlite3"


@pytest.fixture
def state(state_path: Path) -> Iterator[SeatState]:
    with SeatState(state_path) as seat_state:
        yield seat_state


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    with Outbox(tmp_path / "seat" / "outbox.sqlite3") as box:
        yield box


@pytest.fixture
def served(state: SeatState, outbox: Outbox, sender: Sender) -> Iterator[Served]:
    sensors = FakeSensors()
    progress: list[ExamProgress] = []
    api = LocalApi(state, outbox, sender, sensors, on_progress=progress.append)
    with LocalApiServer(api, port=0) as server:
        yield Served(server.url, state, outbox, sensors, progress)
