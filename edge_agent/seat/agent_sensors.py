"""`SeatSensors` over the running agent: the frame loop's latest frame, its calibration, and
the health of its camera, microphone and connection.

The kiosk screen's requests arrive on the local API's threads. Nothing here touches the frame
loop's vision pipeline (it is not thread-safe): a face match runs its own detector on a copy
of the latest frame, and a calibration is handed to the frame loop, which answers through a
future.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from edge_agent.rules.calibration import CalibrationError, Neutral
from edge_agent.seat.face_match import FaceMatcher
from edge_agent.seat.qr import QrReader
from edge_agent.seat.sensors import (
    CalibrationResult,
    DeviceState,
    FaceMatchResult,
    SensorHealth,
)
from edge_agent.vision.types import Frame, HeadPose

log = logging.getLogger(__name__)

PREVIEW_WIDTH = 640
CALIBRATION_GRACE_S = 5.0  # on top of the calibration time, for a slow first frame


@dataclass(frozen=True)
class AgentProbes:
    """What the agent tells about itself; every callable is safe from any thread."""

    latest_frame: Callable[[], Frame | None]
    calibrate: Callable[[float], Future[Neutral]]
    calibration_face_ratio: Callable[[], float | None]
    camera: Callable[[], DeviceState]
    microphone: Callable[[], DeviceState]
    face_found_ratio: Callable[[], float | None]
    online: Callable[[], bool]


class AgentSensors:
    def __init__(
        self, probes: AgentProbes, matcher_factory: Callable[[], FaceMatcher] = FaceMatcher.create
    ) -> None:
        self.probes = probes
        self._matcher_factory = matcher_factory
        self._matcher: FaceMatcher | None = None
        self._qr = QrReader()
        self._lock = threading.Lock()

    def _face_matcher(self) -> FaceMatcher:
        """Built on the first check-in, not at boot: its models cost memory and start-up."""
        with self._lock:
            if self._matcher is None:
                self._matcher = self._matcher_factory()
            return self._matcher

    def face_match(self, encoding: list[float], candidate_number: str) -> FaceMatchResult:
        frame = self.probes.latest_frame()
        if frame is None or self.probes.camera() != "ok":
            return FaceMatchResult("camera_lost")
        return self._face_matcher().match(frame.image, encoding)

    def calibrate(self, seconds: float) -> CalibrationResult:
        if self.probes.camera() != "ok":
            return CalibrationResult("no_face", None, 0.0)
        future = self.probes.calibrate(seconds)
        try:
            neutral = future.result(timeout=seconds + CALIBRATION_GRACE_S)
        except CalibrationError as exc:
            log.info("calibration refused: %s", exc)
            return CalibrationResult("no_face", None, self._ratio())
        except FutureTimeout:
            log.warning("calibration got no frames in %.0f s", seconds + CALIBRATION_GRACE_S)
            return CalibrationResult("no_face", None, 0.0)
        pose = HeadPose(yaw=round(neutral.yaw, 2), pitch=round(neutral.pitch, 2), roll=0.0)
        return CalibrationResult("ok", pose, self._ratio())

    def _ratio(self) -> float:
        ratio = self.probes.calibration_face_ratio()
        return round(ratio, 3) if ratio is not None else 0.0

    def preview_jpeg(self) -> bytes | None:
        frame = self.probes.latest_frame()
        if frame is None:
            return None
        image = frame.image
        height, width = image.shape[:2]
        if width > PREVIEW_WIDTH:
            size = (PREVIEW_WIDTH, max(1, round(height * PREVIEW_WIDTH / width)))
            image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        return bytes(jpeg.tobytes()) if ok else None

    def read_qr(self) -> str | None:
        frame = self.probes.latest_frame()
        return None if frame is None else self._qr.read(frame.image)

    def health(self) -> SensorHealth:
        network: Literal["online", "offline"] = "online" if self.probes.online() else "offline"
        ratio = self.probes.face_found_ratio()
        return {
            "camera": self.probes.camera(),
            "microphone": self.probes.microphone(),
            "face_found_ratio": None if ratio is None else round(ratio, 3),
            "network": network,
        }

    def close(self) -> None:
        with self._lock:
            matcher, self._matcher = self._matcher, None
        if matcher is not None:
            matcher.close()
