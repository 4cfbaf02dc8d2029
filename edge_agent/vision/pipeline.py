"""The vision pipeline: one call per frame composes the stages into an Observation.

Per frame: quality (grey statistics), face detection (the face count and boxes), FaceMesh
landmarks of the main face, head pose and gaze from those landmarks. Identity (about 100 ms)
runs only when an enrolment encoding is set, every ``identity_interval_s`` and whenever the
face comes back after being absent for ``track_lost_after_s``. Every stage is timed into
``Observation.stage_ms``.

Stages come from :class:`~edge_agent.vision.config.VisionConfig` through the registry in
:mod:`edge_agent.vision.stages`. A stage that fails to load, or raises while running, is
recorded as a :class:`StageFault` (the agent turns each into a ``device_fault`` event) and
the others keep running; a stage that keeps failing is reported at most once a minute.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from edge_agent.vision import boxes as box_ops
from edge_agent.vision.config import VisionConfig
from edge_agent.vision.identity import check_encoding
from edge_agent.vision.stages import (
    Encoding,
    FaceDetector,
    GazeModel,
    HeadPoseModel,
    IdentityModel,
    LandmarkModel,
    QualityModel,
    StageConfig,
    StageKind,
    StageLoadError,
    build,
)
from edge_agent.vision.types import (
    FaceBox,
    FaceLandmarks,
    Frame,
    FrameQuality,
    IdentityResult,
    Image,
    Observation,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
STAGE_KINDS: tuple[StageKind, ...] = (
    "quality",
    "detector",
    "landmarks",
    "head_pose",
    "gaze",
    "identity",
)
UNKNOWN_QUALITY = FrameQuality(brightness=math.nan, contrast=math.nan)
# FaceMesh's landmark crop is about 1.5 face boxes wide: keep twice the box visible.
MASK_FACTOR = 2.0
# The candidate's face stays the main one while at least this fraction of the largest's area.
KEEP_CANDIDATE = 0.8
# A stage failing while running is reported again at most this often (frame clock seconds).
FAULT_REPEAT_S = 60.0


@dataclass(frozen=True)
class StageFault:
    """A stage that failed to load (``loaded=False``: the pipeline runs without it) or
    raised while running (``loaded=True``; ``VisionPipeline.failures`` counts every one)."""

    stage: str
    type: str
    error: str
    loaded: bool


class VisionPipeline:
    """``process(frame) -> Observation``; ``set_enrolment(encoding | None)``;
    ``enrol(photo) -> encoding``; ``take_faults()``; ``close()``.

    ``stages`` replaces built stages by kind (``"detector"``, ``"landmarks"``,
    ``"head_pose"``, ``"gaze"``, ``"identity"``, ``"quality"``), e.g. with fakes in tests.
    """

    def __init__(
        self, config: VisionConfig | None = None, *, stages: Mapping[str, Any] | None = None
    ) -> None:
        self.config = config or VisionConfig()
        self._faults: list[StageFault] = []
        self._reported = 0
        self._fault_at: dict[str, float] = {}
        self._now = 0.0
        self.failures: dict[str, int] = {}  # stage -> exceptions while running, for health
        overrides = dict(stages or {})
        loaded = {
            kind: overrides[kind] if kind in overrides else self._load(kind) for kind in STAGE_KINDS
        }
        self.quality: QualityModel | None = loaded["quality"]
        self.detector: FaceDetector | None = loaded["detector"]
        self.landmarks: LandmarkModel | None = loaded["landmarks"]
        self.head_pose: HeadPoseModel | None = loaded["head_pose"]
        self.gaze: GazeModel | None = loaded["gaze"]
        self.identity: IdentityModel | None = loaded["identity"]
        self._enrolled: Encoding | None = None
        self._last_identity_s: float | None = None
        self._absent_since: float | None = None
        self._recheck = False
        self._candidate_box: FaceBox | None = None

    def _load(self, kind: StageKind) -> Any:
        config: StageConfig = getattr(self.config, kind)
        try:
            return build(kind, config)
        except StageLoadError as exc:
            log.error("vision stage %s unavailable: %s", kind, exc)
            self._faults.append(
                StageFault(kind, str(getattr(config, "type", "?")), str(exc), loaded=False)
            )
            return None

    # -- faults ---------------------------------------------------------------------------

    @property
    def faults(self) -> list[StageFault]:
        return list(self._faults)

    def take_faults(self) -> list[StageFault]:
        """Faults recorded since the last call (each becomes one ``device_fault`` event)."""
        new = self._faults[self._reported :]
        self._reported = len(self._faults)
        return new

    def _run(self, kind: str, stage_ms: dict[str, float], call: Callable[[], T]) -> T | None:
        started = time.perf_counter()
        try:
            result = call()
        except Exception as exc:  # a plugin boundary: one stage's failure stays its own
            self._failed(kind, exc)
            return None
        finally:
            stage_ms[kind] = (time.perf_counter() - started) * 1000.0
        return result

    def _failed(self, kind: str, exc: Exception) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1
        last = self._fault_at.get(kind)
        if last is not None and self._now - last < FAULT_REPEAT_S:
            return
        log.exception("vision stage %s failed (%d so far)", kind, self.failures[kind])
        self._fault_at[kind] = self._now
        config = getattr(self.config, kind)
        self._faults.append(StageFault(kind, str(config.type), repr(exc), loaded=True))

    # -- identity -------------------------------------------------------------------------

    def set_enrolment(self, encoding: Encoding | None) -> None:
        """The candidate's encoding (None stops identity checks); checked at the next face."""
        self._enrolled = None if encoding is None else check_encoding(encoding)
        self._last_identity_s = None

    def enrol(self, photo: Image) -> Encoding:
        """Encode the one face of ``photo`` and use it as the enrolment. Raises an
        ``EnrolmentError`` subclass (no face, several faces) or StageLoadError."""
        if self.identity is None:
            raise StageLoadError("identity stage unavailable: cannot enrol")
        encoding = self.identity.enrol(photo)
        self.set_enrolment(encoding)
        return encoding

    def _track(self, now: float, face_present: bool) -> None:
        if not face_present:
            if self._absent_since is None:
                self._absent_since = now
            return
        if self._absent_since is not None:
            if now - self._absent_since >= self.config.track_lost_after_s:
                self._recheck = True
            self._absent_since = None

    def _identity_due(self, now: float) -> bool:
        if self._enrolled is None or self.identity is None:
            return False
        if self._recheck or self._last_identity_s is None:
            return True
        return now - self._last_identity_s >= self.config.identity_interval_s

    def _check_identity(
        self, frame: Frame, box: FaceBox | None, stage_ms: dict[str, float]
    ) -> IdentityResult | None:
        identity, enrolled = self.identity, self._enrolled
        if box is None or identity is None or enrolled is None:
            return None
        if not self._identity_due(frame.monotonic_s):
            return None
        self._last_identity_s = frame.monotonic_s  # failed attempts wait for the next slot too
        self._recheck = False

        def check() -> IdentityResult:
            distance = identity.distance(enrolled, identity.encode(frame.image, box))
            return IdentityResult(distance=distance, match=distance <= identity.tolerance)

        return self._run("identity", stage_ms, check)

    # -- per frame ------------------------------------------------------------------------

    def process(self, frame: Frame) -> Observation:
        image, stage_ms = frame.image, dict[str, float]()
        height, width = image.shape[:2]
        self._now = frame.monotonic_s
        quality = self._quality(image, stage_ms)
        found = self._detect(image, stage_ms)
        candidate = self._candidate(found)
        main = self._main_landmarks(image, candidate if len(found) > 1 else None, stage_ms)
        count, main_box, identity_box = self._faces(found, candidate, main)
        head_pose = gaze = None
        if main is not None and self.head_pose is not None:
            pose_model = self.head_pose
            head_pose = self._run(
                "head_pose", stage_ms, lambda: pose_model.infer(main, (width, height))
            )
        if main is not None and self.gaze is not None:
            gaze_model = self.gaze
            gaze = self._run("gaze", stage_ms, lambda: gaze_model.infer(main))
        self._track(frame.monotonic_s, count > 0)
        identity = self._check_identity(frame, identity_box, stage_ms)
        return Observation(
            frame_index=frame.index,
            monotonic_s=frame.monotonic_s,
            wall_time=frame.wall_time,
            face_count=count,
            quality=quality,
            head_pose=head_pose,
            gaze=gaze,
            identity=identity,
            main_face=main_box,
            stage_ms=stage_ms,
        )

    def _quality(self, image: Image, stage_ms: dict[str, float]) -> FrameQuality:
        model = self.quality
        if model is None:
            return UNKNOWN_QUALITY
        return self._run("quality", stage_ms, lambda: model.infer(image)) or UNKNOWN_QUALITY

    def _detect(self, image: Image, stage_ms: dict[str, float]) -> list[FaceBox]:
        model = self.detector
        if model is None:
            return []
        return self._run("detector", stage_ms, lambda: model.infer(image)) or []

    def _candidate(self, found: list[FaceBox]) -> FaceBox | None:
        """The detected face taken for the candidate's: the largest, but the previous one
        while it stays nearly as large (two similar faces must not swap every frame)."""
        previous, chosen = self._candidate_box, found[0] if found else None
        if previous is not None and chosen is not None:
            kept = next((box for box in found if box_ops.same_face(box, previous)), None)
            if kept is not None and box_ops.area(kept) >= KEEP_CANDIDATE * box_ops.area(chosen):
                chosen = kept
        self._candidate_box = chosen
        return chosen

    def _main_landmarks(
        self, image: Image, only: FaceBox | None, stage_ms: dict[str, float]
    ) -> FaceLandmarks | None:
        """Landmarks of the main face; with ``only`` (several faces in view) FaceMesh sees
        just the area around that face, so it cannot keep following another one."""
        model = self.landmarks
        if model is None:
            return None
        if only is None or not self.config.mask_other_faces:
            faces = self._run("landmarks", stage_ms, lambda: model.infer(image))
        else:
            box = only
            faces = self._run("landmarks", stage_ms, lambda: model.infer(_only(image, box)))
        return faces[0] if faces else None

    def _faces(
        self, found: list[FaceBox], candidate: FaceBox | None, main: FaceLandmarks | None
    ) -> tuple[int, FaceBox | None, FaceBox | None]:
        """(face count, main face box, box to encode for identity). The main face is the one
        with landmarks; a landmark face the detector missed (a turned head) still counts."""
        if main is None:
            return len(found), candidate, candidate
        ordered = ([candidate] if candidate is not None else []) + found
        matched = next((box for box in ordered if box_ops.same_face(box, main.box)), None)
        if matched is not None:
            return len(found), matched, matched
        # Detector boxes are what the identity model was checked with; without a detector
        # the landmark box is the only one there is.
        identity_box = main.box if self.detector is None else None
        return len(found) + 1, main.box, identity_box

    def close(self) -> None:
        for stage in (self.detector, self.landmarks, self.identity, self.quality):
            close = getattr(stage, "close", None)
            if callable(close):
                close()

    def __enter__(self) -> VisionPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _only(image: Image, box: FaceBox) -> Image:
    """A black copy of ``image`` showing only the area around ``box``."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = box_ops.expand(box, MASK_FACTOR, (width, height))
    view = np.zeros_like(image)
    view[y0:y1, x0:x1] = image[y0:y1, x0:x1]
    return view
