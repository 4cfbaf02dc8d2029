"""Live cameras: the Raspberry Pi camera through picamera2, and any V4L2 camera through OpenCV.

`picamera2` exists only on Raspberry Pi OS (`python3-picamera2` from apt); it is imported when
the camera is opened, never at module import, so the rest of the agent runs anywhere.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import cv2

from edge_agent.capture.source import Grab, Rotation, SourceError, check_image, transform

log = logging.getLogger(__name__)

# What picamera2 and libcamera raise when there is no camera, it is busy or it went away.
_PICAMERA_ERRORS = (RuntimeError, OSError, IndexError, ValueError, TimeoutError)


class Picamera2Source:
    """The Pi camera: `size` (width, height) in RGB888, whose bytes are in OpenCV's BGR order.

    Each read waits at most `frame_timeout_s` for a frame (picamera2's `wait(job, timeout)`),
    so an unplugged camera raises `SourceError` instead of blocking the runner forever.
    """

    def __init__(
        self,
        size: tuple[int, int] = (640, 480),
        *,
        camera_num: int = 0,
        fps: float | None = None,
        rotation: Rotation | str = Rotation.NONE,
        frame_timeout_s: float = 2.0,
    ) -> None:
        self.size = size
        self.camera_num = camera_num
        self.fps = fps
        self.rotation = Rotation(rotation)
        self.frame_timeout_s = frame_timeout_s
        self._camera: Any = None

    @property
    def name(self) -> str:
        return f"picamera2:{self.camera_num}"

    @property
    def live(self) -> bool:
        return True

    def open(self) -> None:
        self.close()
        try:
            module = importlib.import_module("picamera2")
        except ImportError as exc:
            raise SourceError(
                "picamera2 is not installed (Raspberry Pi OS: apt install python3-picamera2, "
                "and a virtualenv with --system-site-packages)"
            ) from exc
        try:
            camera = module.Picamera2(self.camera_num)
        except _PICAMERA_ERRORS as exc:
            raise SourceError(f"{self.name}: cannot open the camera: {exc}") from exc
        try:
            controls = {"FrameRate": float(self.fps)} if self.fps else {}
            config = camera.create_video_configuration(
                main={"size": tuple(self.size), "format": "RGB888"}, controls=controls
            )
            camera.configure(config)
            camera.start()
        except _PICAMERA_ERRORS as exc:
            _close_quietly(camera)
            raise SourceError(f"{self.name}: cannot start the camera: {exc}") from exc
        self._camera = camera
        log.info("%s started at %sx%s", self.name, *self.size)

    def read(self) -> Grab:
        camera = self._camera
        if camera is None:
            raise SourceError(f"{self.name}: not open")
        try:
            job = camera.capture_array("main", wait=False)
            image = camera.wait(job, timeout=self.frame_timeout_s)
        except _PICAMERA_ERRORS as exc:
            raise SourceError(f"{self.name}: no frame: {exc!r}") from exc
        checked = check_image(image)
        if checked is None or self.rotation is Rotation.NONE:
            return Grab(image if checked is None else checked)
        return Grab(transform(checked, self.rotation))

    def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            _close_quietly(camera)


def _close_quietly(camera: Any) -> None:
    for method in ("stop", "close"):
        try:
            getattr(camera, method)()
        except _PICAMERA_ERRORS:
            log.debug("picamera2 %s failed", method, exc_info=True)


class OpenCVCameraSource:
    """A USB or other V4L2 camera: `device` is an index (0) or a path (/dev/video0).

    `size` and `fps` are requests: the driver may pick the nearest mode it has.
    """

    def __init__(
        self,
        device: int | str = 0,
        *,
        size: tuple[int, int] | None = (640, 480),
        fps: float | None = None,
        rotation: Rotation | str = Rotation.NONE,
        api: int | None = None,
    ) -> None:
        self.device = device
        self.size = size
        self.fps = fps
        self.rotation = Rotation(rotation)
        self.api = api if api is not None else _default_api()
        self._capture: cv2.VideoCapture | None = None

    @property
    def name(self) -> str:
        return f"opencv:{self.device}"

    @property
    def live(self) -> bool:
        return True

    def open(self) -> None:
        self.close()
        capture = cv2.VideoCapture(self.device, self.api)
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"{self.name}: cannot open the camera")
        if self.size is not None:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        if self.fps:
            capture.set(cv2.CAP_PROP_FPS, self.fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a stale backlog
        self._capture = capture
        log.info("%s opened", self.name)

    def read(self) -> Grab:
        if self._capture is None:
            raise SourceError(f"{self.name}: not open")
        ok, image = self._capture.read()
        if not ok:
            raise SourceError(f"{self.name}: read failed (camera unplugged or stalled?)")
        checked = check_image(image)
        if checked is None or self.rotation is Rotation.NONE:
            return Grab(image if checked is None else checked)
        return Grab(transform(checked, self.rotation))

    def close(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()


def _default_api() -> int:
    return int(cv2.CAP_V4L2) if sys.platform.startswith("linux") else int(cv2.CAP_ANY)
