"""Check-in by admission slip: a QR code in front of the camera is read as the candidate
number; frames without one, or with text that cannot be a candidate number, give nothing."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import UTC, datetime

import cv2
import numpy as np
import requests

from edge_agent.seat.agent_sensors import AgentProbes, AgentSensors
from edge_agent.seat.qr import QrReader
from edge_agent.vision.types import Frame, Image
from tests.edge_agent.seat.conftest import Served


def slip(text: str, size: int = 240) -> Image:
    """A grey desk with a printed QR code held up in the middle, as BGR."""
    code = cv2.QRCodeEncoder.create().encode(text)
    code = cv2.resize(code, (size, size), interpolation=cv2.INTER_NEAREST)
    frame = np.full((480, 640), 120, np.uint8)
    frame[100 : 100 + size + 40, 180 : 180 + size + 40] = 255  # the paper, with a margin
    frame[120 : 120 + size, 200 : 200 + size] = code
    return np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))


def test_reads_a_candidate_number_and_nothing_else() -> None:
    reader = QrReader()
    assert reader.read(slip("C-1001")) == "C-1001"
    assert reader.read(np.full((480, 640, 3), 120, np.uint8)) is None
    assert reader.read(slip("x" * 80, size=300)) is None  # too long for a candidate number


def test_the_agent_reads_its_latest_frame() -> None:
    latest: list[Frame | None] = [None]
    probes = AgentProbes(
        latest_frame=lambda: latest[0],
        calibrate=lambda _s: Future(),
        calibration_face_ratio=lambda: None,
        camera=lambda: "ok",
        microphone=lambda: "off",
        face_found_ratio=lambda: None,
        online=lambda: True,
    )
    sensors = AgentSensors(probes)
    assert sensors.read_qr() is None  # no frame yet
    latest[0] = Frame(slip("C-2002"), 7, 1.0, datetime.now(UTC))
    assert sensors.read_qr() == "C-2002"


def test_the_local_api_says_what_the_camera_reads(served: Served) -> None:
    assert requests.get(f"{served.base}/qr", timeout=5).json() == {"text": None}
    served.sensors.qr = "C-1001"
    assert requests.get(f"{served.base}/qr", timeout=5).json() == {"text": "C-1001"}
