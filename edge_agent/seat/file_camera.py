"""A still image or a video file standing in for the seat camera (dev server, demo, tests).

`FileCamera.frame()` is the current frame: the image (read again when the file changes, so a
test can swap the person in front of the "camera" by replacing the file), or the video frame
for the time since start, looping. A missing or unreadable file is a lost camera.
`FileSensors` answers the local API's sensor questions from it with the real vision code.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal

import cv2
import numpy as np

from edge_agent.capture.source import check_image
from edge_agent.rules.calibration import MIN_FACE_SHARE
from edge_agent.seat.face_match import FaceMatcher
from edge_agent.seat.qr import QrReader
from edge_agent.seat.sensors import (
    CalibrationResult,
    DeviceState,
    FaceMatchResult,
    SensorHealth,
)
from edge_agent.vision.config import VisionConfig
from edge_agent.vision.pipeline import VisionPipeline
from edge_agent.vision.stages import DisabledConfig
from edge_agent.vision.types import Frame, HeadPose, Image, Observation

log = logging.getLogger(__name__)

VIDEO_SUFFIXES: Final = frozenset({".mp4", ".webm", ".mkv", ".avi", ".mov"})
CALIBRATION_FPS: Final = 5.0
PREVIEW_WIDTH: Final = 640


class FileCamera:
    def __init__(self, path: Path | None) -> None:
        self._lock = threading.Lock()
        self._path = path
        self._image: Image | None = None
        self._mtime: float | None = None
        self._video: cv2.VideoCapture | None = None
        self._video_started = 0.0
        self._video_index = -1

    @property
    def path(self) -> Path | None:
        return self._path

    def switch(self, path: Path | None) -> None:
        """Show another file from now on (None: the camera is lost)."""
        with self._lock:
            self._close_video()
            self._path, self._image, self._mtime = path, None, None

    def frame(self) -> Image | None:
        with self._lock:
            path = self._path
            if path is None:
                return None
            if path.suffix.lower() in VIDEO_SUFFIXES:
                return self._video_frame(path)
            return self._still(path)

    def _still(self, path: Path) -> Image | None:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        if mtime != self._mtime:
            self._image = check_image(cv2.imread(str(path)))
            self._mtime = mtime
        return self._image

    def _video_frame(self, path: Path) -> Image | None:
        if self._video is None:
            self._video = cv2.VideoCapture(str(path))
            self._video_started, self._video_index = time.monotonic(), -1
            if not self._video.isOpened():
                self._close_video()
                return None
        fps = self._video.get(cv2.CAP_PROP_FPS) or 25.0
        target = int((time.monotonic() - self._video_started) * fps)
        while self._video_index < target:
            if not self._video.grab():  # the end: loop from the start
                self._close_video()
                return self._video_frame(path)
            self._video_index += 1
        ok, image = self._video.retrieve()
        checked = check_image(image) if ok else None
        if checked is not None:  # a corrupt frame: keep showing the last good one
            self._image = checked
        return self._image

    def _close_video(self) -> None:
        if self._video is not None:
            self._video.release()
            self._video = None

    def close(self) -> None:
        with self._lock:
            self._close_video()


class FileSensors:
    """`SeatSensors` over a FileCamera: face match with FaceMatcher, calibration with the
    vision pipeline's detector and head pose, previews as JPEG."""

    def __init__(self, camera: FileCamera, matcher: FaceMatcher) -> None:
        self.camera = camera
        self.matcher = matcher
        self.network: Literal["online", "offline"] = "online"
        self._face_found_ratio: float | None = None
        self._qr = QrReader()
        self._pipeline_lock = threading.Lock()
        self._pipeline = VisionPipeline(
            VisionConfig(
                identity=DisabledConfig(),
                detector_every_n_frames=1,
                landmarks_every_n_frames=1,
            )
        )

    def face_match(self, encoding: list[float], candidate_number: str) -> FaceMatchResult:
        image = self.camera.frame()
        if image is None:
            return FaceMatchResult("camera_lost")
        return self.matcher.match(image, encoding)

    def calibrate(self, seconds: float) -> CalibrationResult:
        """Samples the camera at 5 frames a second for `seconds` of real time."""
        observations: list[Observation] = []
        started = time.monotonic()
        deadline = started + seconds
        while True:
            image = self.camera.frame()
            now = time.monotonic()
            if image is not None:
                observations.append(self._observe(image, len(observations), now - started))
            if now >= deadline:
                break
            time.sleep(min(1.0 / CALIBRATION_FPS, max(deadline - now, 0.0)))
        return self._calibration(observations)

    def _observe(self, image: Image, index: int, seconds: float) -> Observation:
        frame = Frame(image=image, index=index, monotonic_s=seconds, wall_time=datetime.now(UTC))
        with self._pipeline_lock:
            return self._pipeline.process(frame)

    def _calibration(self, observations: list[Observation]) -> CalibrationResult:
        with_face = [o for o in observations if o.face_count == 1]
        ratio = len(with_face) / len(observations) if observations else 0.0
        self._face_found_ratio = ratio
        poses = [o.head_pose for o in with_face if o.head_pose is not None]
        if ratio < MIN_FACE_SHARE or not poses:
            return CalibrationResult("no_face", None, round(ratio, 3))
        neutral = HeadPose(
            yaw=round(statistics.median(p.yaw for p in poses), 2),
            pitch=round(statistics.median(p.pitch for p in poses), 2),
            roll=round(statistics.median(p.roll for p in poses), 2),
        )
        return CalibrationResult("ok", neutral, round(ratio, 3))

    def preview_jpeg(self) -> bytes | None:
        image = self.camera.frame()
        if image is None:
            return None
        height, width = image.shape[:2]
        if width > PREVIEW_WIDTH:
            size = (PREVIEW_WIDTH, max(1, round(height * PREVIEW_WIDTH / width)))
            image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        return bytes(jpeg.tobytes()) if ok else None

    def read_qr(self) -> str | None:
        image = self.camera.frame()
        return None if image is None else self._qr.read(image)

    def health(self) -> SensorHealth:
        camera: DeviceState = "ok" if self.camera.frame() is not None else "lost"
        return {
            "camera": camera,
            "microphone": "off",
            "face_found_ratio": self._face_found_ratio,
            "network": self.network,
        }

    def close(self) -> None:
        self.camera.close()
        self._pipeline.close()
        self.matcher.close()
