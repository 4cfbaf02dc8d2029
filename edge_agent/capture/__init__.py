"""Capture: one frame-source interface (Pi camera, V4L2 camera, file replay) and the runner
thread that feeds a bounded queue without ever waiting for processing."""

from edge_agent.capture.cameras import OpenCVCameraSource, Picamera2Source
from edge_agent.capture.config import CaptureConfig, build_source
from edge_agent.capture.frames import FrameQueue, FrameStamper, iter_frames
from edge_agent.capture.replay import FileReplaySource, Pacing
from edge_agent.capture.runner import (
    Capture,
    CaptureEvent,
    CaptureEventKind,
    CaptureSettings,
    CaptureStats,
)
from edge_agent.capture.source import (
    EndOfStream,
    FrameSource,
    Grab,
    Rotation,
    SourceError,
    check_image,
    transform,
)

__all__ = [
    "Capture",
    "CaptureConfig",
    "CaptureEvent",
    "CaptureEventKind",
    "CaptureSettings",
    "CaptureStats",
    "EndOfStream",
    "FileReplaySource",
    "FrameQueue",
    "FrameSource",
    "FrameStamper",
    "Grab",
    "OpenCVCameraSource",
    "Pacing",
    "Picamera2Source",
    "Rotation",
    "SourceError",
    "build_source",
    "check_image",
    "iter_frames",
    "transform",
]
