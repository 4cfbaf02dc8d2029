"""Capture settings as a config section (pydantic, unknown keys rejected) and the factory that
builds the configured source. Ready to be mounted as `capture` in the agent's config tree."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edge_agent.capture.cameras import OpenCVCameraSource, Picamera2Source
from edge_agent.capture.replay import FileReplaySource, Pacing
from edge_agent.capture.runner import CaptureSettings
from edge_agent.capture.source import FrameSource, Rotation


class CaptureConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["picamera2", "opencv", "file"] = Field(
        "picamera2", description="Frame source: the Pi camera, a V4L2 camera, or a file."
    )
    device: str = Field(
        "0", description="opencv: camera index or /dev/videoN; picamera2: camera number."
    )
    path: Path | None = Field(None, description="file: a video file or a folder of images.")
    width: int = Field(640, ge=16, le=4096, description="Frame width in pixels.")
    height: int = Field(480, ge=16, le=4096, description="Frame height (cameras only).")
    fps: float | None = Field(None, gt=0, le=240, description="Frame rate; unset: default.")
    rotate: Rotation = Field(Rotation.NONE, description="none, 90cw, 90ccw or 180.")
    pacing: Pacing = Field(Pacing.REALTIME, description="file: realtime or fast.")
    loop: bool = Field(False, description="file: start again at the end (demo kiosks).")
    queue_size: int = Field(2, ge=1, le=16, description="Frames waiting for processing.")
    lost_timeout_s: float = Field(
        2.0, gt=0, le=60, description="No frame for this long: camera_lost."
    )
    reopen_min_s: float = Field(0.5, gt=0, description="First wait before reopening.")
    reopen_max_s: float = Field(30.0, gt=0, description="The reopen wait doubles up to this.")

    def settings(self) -> CaptureSettings:
        return CaptureSettings(
            queue_size=self.queue_size,
            lost_timeout_s=self.lost_timeout_s,
            reopen_min_s=self.reopen_min_s,
            reopen_max_s=max(self.reopen_min_s, self.reopen_max_s),
        )


def build_source(config: CaptureConfig) -> FrameSource:
    """The source `config.type` names."""
    size = (config.width, config.height)
    if config.type == "picamera2":
        return Picamera2Source(
            size, camera_num=int(config.device), fps=config.fps, rotation=config.rotate
        )
    if config.type == "opencv":
        device: int | str = int(config.device) if config.device.isdigit() else config.device
        return OpenCVCameraSource(device, size=size, fps=config.fps, rotation=config.rotate)
    if config.path is None:
        raise ValueError("capture.path is required when capture.type is 'file'")
    return FileReplaySource(
        config.path,
        rotation=config.rotate,
        pacing=config.pacing,
        width=config.width,
        fps=config.fps,
        loop=config.loop,
    )
