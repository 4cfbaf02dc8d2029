"""Pipeline health for the heartbeat: processed fps, dropped frames, per-stage milliseconds
(exponential moving averages), evidence backlog. The frame loop records; the publisher's
thread reads a snapshot."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from edge_agent.messages import HealthSnapshot
from edge_agent.vision.types import Observation
from protocol import ExamProgress

EMA_ALPHA = 0.05  # about the last 20 frames
FPS_WINDOW_S = 2.0
FACE_WINDOW_S = 10.0


class HealthMonitor:
    def __init__(
        self,
        dropped_frames: Callable[[], int],
        evidence_backlog: Callable[[], int],
        session_id: Callable[[], str | None],
        *,
        disabled_stages: Callable[[], dict[str, str]] = dict,
        audio_level_dbfs: Callable[[], float | None] = lambda: None,
        exam: Callable[[], ExamProgress | None] = lambda: None,
    ) -> None:
        self._exam = exam
        self._disabled = disabled_stages
        self._audio_level = audio_level_dbfs
        self._dropped = dropped_frames
        self._backlog = evidence_backlog
        self._session = session_id
        self._lock = threading.Lock()
        self._stage_ms: dict[str, float] = {}
        self._processed: deque[float] = deque()
        self._faces: deque[tuple[float, bool]] = deque()  # (time, exactly one face)

    def record(self, observation: Observation, frame_ms: float) -> None:
        with self._lock:
            for name, ms in {**observation.stage_ms, "frame_total": frame_ms}.items():
                previous = self._stage_ms.get(name)
                self._stage_ms[name] = (
                    ms if previous is None else (previous + EMA_ALPHA * (ms - previous))
                )
            self._processed.append(observation.monotonic_s)
            while self._processed and observation.monotonic_s - self._processed[0] > FPS_WINDOW_S:
                self._processed.popleft()
            now = observation.monotonic_s
            self._faces.append((now, observation.face_count == 1))
            while self._faces and now - self._faces[0][0] > FACE_WINDOW_S:
                self._faces.popleft()

    def face_found_ratio(self) -> float | None:
        """Share of the last FACE_WINDOW_S of frames with exactly one face (readiness
        check: is the candidate found in at least 95 % of frames?)."""
        with self._lock:
            if not self._faces:
                return None
            return sum(one for _, one in self._faces) / len(self._faces)

    def fps(self) -> float | None:
        with self._lock:
            if len(self._processed) < 2:
                return None
            span = self._processed[-1] - self._processed[0]
            return (len(self._processed) - 1) / span if span > 0 else None

    def snapshot(self) -> HealthSnapshot:
        fps = self.fps()
        with self._lock:
            stage_ms = {name: round(ms, 2) for name, ms in self._stage_ms.items()}
        return HealthSnapshot(
            fps=None if fps is None else round(fps, 1),
            dropped_frames=self._dropped(),
            stage_ms=stage_ms,
            evidence_backlog=self._backlog(),
            session_id=self._session(),
            disabled_stages=self._disabled(),
            audio_level_dbfs=self._audio_level(),
            exam=self._exam(),
        )
