"""A small fake of the `picamera2` module (there is no Pi camera here), injected through
sys.modules. A `FakeCameraWorld` decides what the camera does: deliver frames, be unplugged
(the constructor fails or frames time out), or deliver corrupt frames."""

from __future__ import annotations

import threading
import time
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class FakeCameraWorld:
    unplugged: bool = False
    frame_interval_s: float = 0.01
    corrupt_next: int = 0  # the next N frames are corrupt (wrong shape)
    configs: list[dict[str, Any]] = field(default_factory=list)
    opened: int = 0
    closed: int = 0
    frames: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def module(self) -> types.ModuleType:
        module = types.ModuleType("picamera2")
        module.Picamera2 = type("Picamera2", (FakePicamera2,), {"world": self})  # type: ignore[attr-defined]
        return module

    def next_image(self, width: int, height: int) -> Any:
        with self.lock:
            self.frames += 1
            if self.corrupt_next > 0:
                self.corrupt_next -= 1
                return np.zeros((height, width), dtype=np.uint8)
            return np.full((height, width, 3), self.frames % 256, dtype=np.uint8)


class FakePicamera2:
    """The parts of picamera2.Picamera2 the source uses, with picamera2's error behaviour."""

    world: FakeCameraWorld

    def __init__(self, camera_num: int = 0) -> None:
        if self.world.unplugged:
            raise IndexError("list index out of range")  # what picamera2 raises: no camera
        self.camera_num = camera_num
        self.config: dict[str, Any] | None = None
        self.started = False
        with self.world.lock:
            self.world.opened += 1

    def create_video_configuration(
        self, main: dict[str, Any], controls: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return {"use_case": "video", "main": dict(main), "controls": controls or {}}

    def configure(self, config: dict[str, Any]) -> None:
        self.config = config
        self.world.configs.append(config)

    def start(self) -> None:
        if self.config is None:
            raise RuntimeError("Camera has not been configured")
        self.started = True

    def capture_array(self, name: str = "main", wait: bool | None = None) -> Any:
        job = ("job", name)
        return job if wait is False else self.wait(job)

    def wait(self, job: Any, timeout: float | None = None) -> Any:
        if not self.started:
            raise RuntimeError("Camera not started")
        if self.world.unplugged:
            time.sleep(timeout or 0.05)
            raise TimeoutError("no frame")
        time.sleep(self.world.frame_interval_s)
        assert self.config is not None
        width, height = self.config["main"]["size"]
        return self.world.next_image(width, height)

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        with self.world.lock:
            self.world.closed += 1
