"""File replay: a video file or a folder of images, as if it were a camera.

Frames carry their position in the file (`Grab.media_s`), so the rules see the file's own
timing whether it is replayed in real time or as fast as possible.
"""

from __future__ import annotations

import logging
import time
from enum import StrEnum
from pathlib import Path

import cv2

from edge_agent.capture.source import (
    EndOfStream,
    Grab,
    Rotation,
    SourceError,
    check_image,
    transform,
)

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
DEFAULT_FOLDER_FPS = 10.0


class Pacing(StrEnum):
    REALTIME = "realtime"  # one frame per 1/fps seconds of wall clock, like a camera
    FAST = "fast"  # as fast as the consumer reads


class FileReplaySource:
    """Replays `path` (a video file, or a folder whose images are read in name order).

    `fps` overrides the file's frame rate (required for nothing: folders default to 10 fps).
    `width` scales every frame to that many pixels wide after `rotation`.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        rotation: Rotation | str = Rotation.NONE,
        pacing: Pacing | str = Pacing.REALTIME,
        width: int | None = None,
        fps: float | None = None,
        loop: bool = False,
    ) -> None:
        self.path = Path(path)
        # loop: start again at the end, media time still counting up (a demo kiosk replays
        # a recording for as long as it runs; the rules must never see time go back).
        self.loop = loop
        self._loop_base = 0  # position at which the current pass started
        self.rotation = Rotation(rotation)
        self.pacing = Pacing(pacing)
        self.width = width
        self._fps_override = fps
        self.fps = fps or DEFAULT_FOLDER_FPS
        self._capture: cv2.VideoCapture | None = None
        self._images: list[Path] = []
        self._position = 0
        self._started: float | None = None

    @property
    def name(self) -> str:
        return f"file:{self.path.name}"

    @property
    def live(self) -> bool:
        return False

    def open(self) -> None:
        self.close()
        self._position = 0
        self._loop_base = 0
        self._started = None
        if self.path.is_dir():
            self._images = sorted(
                p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
            )
            if not self._images:
                raise SourceError(f"{self.path}: no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
            self.fps = self._fps_override or DEFAULT_FOLDER_FPS
            return
        if not self.path.is_file():
            raise SourceError(f"{self.path}: no such file or folder")
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"{self.path}: OpenCV cannot open this video")
        file_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = self._fps_override or (file_fps if 0.5 <= file_fps <= 1000 else 25.0)
        self._capture = capture
        log.info("replaying %s at %.3g fps (%s)", self.path, self.fps, self.pacing.value)

    def read(self) -> Grab:
        media_s = self._position / self.fps
        raw = self._next_raw()
        self._position += 1
        self._pace(media_s)
        image = check_image(raw)
        if image is None:
            return Grab(raw, media_s)  # a corrupt image in a folder: the runner counts it
        return Grab(transform(image, self.rotation, self.width), media_s)

    def _next_raw(self) -> object:
        if self._capture is not None:
            ok, image = self._capture.read()
            if not ok and self._rewind():
                assert self._capture is not None
                ok, image = self._capture.read()
            if not ok:
                raise EndOfStream(f"{self.path}: end after {self._position} frames")
            return image
        if self._position - self._loop_base >= len(self._images) and not self._rewind():
            raise EndOfStream(f"{self.path}: end after {self._position} images")
        path = self._images[self._position - self._loop_base]
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            log.warning("cannot decode %s", path)
        return image

    def _rewind(self) -> bool:
        """With `loop`, start the next pass (an empty pass ends the stream)."""
        if not self.loop or self._position == self._loop_base:
            return False
        self._loop_base = self._position
        if self._capture is not None:
            self._capture.release()
            self._capture = cv2.VideoCapture(str(self.path))
        return True

    def _pace(self, media_s: float) -> None:
        if self.pacing is Pacing.FAST:
            return
        now = time.monotonic()
        if self._started is None:
            self._started = now - media_s
        delay = self._started + media_s - now
        if delay > 0:
            time.sleep(delay)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
