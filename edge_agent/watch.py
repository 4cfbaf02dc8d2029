"""Vision and rules for one seat: a frame in, its observation and any violation changes out.

The live agent, the replay tool and the benchmarks all use this, so what an admin sees when
tuning thresholds on a recording is exactly what the kiosk would raise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from edge_agent.capture.source import EndOfStream, FrameSource, check_image
from edge_agent.evidence.ring import FrameRing
from edge_agent.rules.engine import RuleEngine, ViolationChange
from edge_agent.rules.tracker import Instant
from edge_agent.vision.pipeline import VisionPipeline
from edge_agent.vision.types import Frame, Observation

REPLAY_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # wall time of a replay's first frame


@dataclass(frozen=True)
class Step:
    observation: Observation
    changes: list[ViolationChange]


class SeatWatcher:
    def __init__(self, pipeline: VisionPipeline, engine: RuleEngine) -> None:
        self.pipeline = pipeline
        self.engine = engine

    def process(self, frame: Frame) -> Step:
        observation = self.pipeline.process(frame)
        return Step(observation, self.engine.observe(observation))

    def finish(self, last: Frame | None) -> list[ViolationChange]:
        """End what is still active when the stream ends."""
        if last is None:
            return []
        return self.engine.finish(Instant(last.monotonic_s, last.wall_time))


class RingFeeder:
    """Keeps frames for evidence at the clips' frame rate: clips are encoded at a reduced rate
    (10 fps by default), so JPEG-encoding every captured frame would be wasted work on the
    frame path. Face presence is recorded on the kept frames for the snapshot choice."""

    def __init__(self, ring: FrameRing, fps: float) -> None:
        self.ring = ring
        self.interval_s = 1.0 / fps if fps > 0 else 0.0
        self._last_s: float | None = None

    def offer(self, frame: Frame, face_present: bool) -> bool:
        if self._last_s is not None and frame.monotonic_s - self._last_s < self.interval_s:
            return False
        # Keep to the grid even when frames arrive late, so the rate does not drift down.
        self._last_s = (
            frame.monotonic_s
            if self._last_s is None
            else max(self._last_s + self.interval_s, frame.monotonic_s - self.interval_s)
        )
        self.ring.push(frame)
        self.ring.annotate(frame.index, face_present)
        return True


def replay_frames(source: FrameSource, epoch: datetime = REPLAY_EPOCH) -> Iterator[Frame]:
    """Frames of a replayed file timed by their position in the file (not by how fast we
    read them), so rules see the recording's real durations. Unreadable frames are skipped."""
    source.open()
    index = 0
    try:
        while True:
            try:
                grab = source.read()
            except EndOfStream:
                return
            image = check_image(grab.image)
            media_s = grab.media_s if grab.media_s is not None else float(index)
            index += 1
            if image is None:
                continue
            yield Frame(image, index - 1, media_s, epoch + timedelta(seconds=media_s))
    finally:
        source.close()
