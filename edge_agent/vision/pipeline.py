"""The vision pipeline: one call per frame composes the stages into an Observation.

Per frame: quality (grey statistics) on every frame; face detection (the face count and boxes)
every ``detector_every_n_frames``; FaceMesh landmarks of the main face, with head pose and gaze
from them, every ``landmarks_every_n_frames``. On the frames in between, the Observation
carries the skipped stage's last result, never one older than its ``*_max_age_s``; when the
stage that ran disagrees with the carried one about the face (one sees a face, the other
none, or not the same one), the skipped stage runs on the next frame. The two cadences are
kept out of step so that a frame runs one of the two models, not both. With both cadences at
1 every stage runs on every frame. Every stage that ran is timed into ``Observation.stage_ms``.

Identity (about 100 ms) runs only when an enrolment encoding is set, every
``identity_interval_s`` and whenever the face comes back after being absent for
``track_lost_after_s``, off the frame path: see :mod:`edge_agent.vision.identity_check`. A
check is handed off on a frame where the detector ran (fresh box); its result is
``Observation.identity`` of the first frame processed after it finished, with
``stage_ms["identity"]`` its duration in the worker (not part of that frame's time).

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
from edge_agent.vision.cadence import Cadence
from edge_agent.vision.config import VisionConfig
from edge_agent.vision.identity import check_encoding
from edge_agent.vision.identity_check import IdentitySchedule, IdentityWorker, job_for
from edge_agent.vision.mouth import lip_opening
from edge_agent.vision.objects import ObjectObservation, ObjectStage, StageStatus
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
    Gaze,
    HeadPose,
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
# close() waits this long for an identity check in progress.
JOIN_TIMEOUT_S = 5.0


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
    ``enrol(photo) -> encoding``; ``take_faults()``; ``wait_identity()``; ``close()``.

    ``stages`` replaces built stages by kind (``"detector"``, ``"landmarks"``,
    ``"head_pose"``, ``"gaze"``, ``"identity"``, ``"quality"``, ``"objects"`` (an
    ObjectStage)), e.g. with fakes in tests. ``objects_offpath`` runs the object detector
    on a worker thread (the live agent); off, it runs on the frame that is due (replays and
    evaluations, which must give the same result on every run).
    """

    def __init__(
        self,
        config: VisionConfig | None = None,
        *,
        stages: Mapping[str, Any] | None = None,
        objects_offpath: bool = False,
    ) -> None:
        self.config = config = config or VisionConfig()
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
        self.objects: ObjectStage = overrides.get("objects") or ObjectStage(config.objects)
        self._objects_offpath = objects_offpath
        self._lip: float | None = None
        self._enrolled: Encoding | None = None
        self._generation = 0  # enrolments so far: results of an older one are dropped
        self._schedule = IdentitySchedule(config.identity_interval_s, config.track_lost_after_s)
        self._worker = IdentityWorker(self.identity) if self.identity is not None else None
        self._detect_every = Cadence(config.detector_every_n_frames, config.detector_max_age_s)
        self._marks_every = Cadence(config.landmarks_every_n_frames, config.landmarks_max_age_s)
        # Last results of the detector and of the landmark stages, carried on skipped frames.
        self._found: list[FaceBox] = []
        self._candidate_box: FaceBox | None = None
        self._main: FaceLandmarks | None = None
        self._head_pose: HeadPose | None = None
        self._gaze: Gaze | None = None
        self._agreed = True  # whether detector and landmarks saw the same faces

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
        log.error("vision stage %s failed (%d so far)", kind, self.failures[kind], exc_info=exc)
        self._fault_at[kind] = self._now
        config = getattr(self.config, kind)
        self._faults.append(StageFault(kind, str(config.type), repr(exc), loaded=True))

    # -- identity -------------------------------------------------------------------------

    def set_enrolment(self, encoding: Encoding | None) -> None:
        """The candidate's encoding (None stops identity checks); checked at the next face.
        A check still running against the previous enrolment is discarded."""
        self._enrolled = None if encoding is None else check_encoding(encoding)
        self._generation += 1
        self._schedule.reset()

    def enrol(self, photo: Image) -> Encoding:
        """Encode the one face of ``photo`` and use it as the enrolment. Raises an
        ``EnrolmentError`` subclass (no face, several faces) or StageLoadError."""
        if self.identity is None:
            raise StageLoadError("identity stage unavailable: cannot enrol")
        encoding = self.identity.enrol(photo)
        self.set_enrolment(encoding)
        return encoding

    def wait_identity(self, timeout_s: float = 30.0) -> bool:
        """Block until no identity check is running (its result then comes with the next
        frame): for tests and tools that want results at reproducible frames."""
        return self._worker is None or self._worker.wait_idle(timeout_s)

    def _hand_off_identity(self, frame: Frame, box: FaceBox | None) -> None:
        """Start a check on ``box`` if one is due and none is in flight (else a later frame
        tries again). The worker gets a copy of the pixels around the face."""
        worker, enrolled = self._worker, self._enrolled
        if box is None or worker is None or enrolled is None:
            return
        if not self._schedule.due(frame.monotonic_s) or worker.busy:
            return
        if worker.submit(job_for(frame, box, enrolled, self._generation)):
            self._schedule.started(frame.monotonic_s)

    def _finished_identity(self, stage_ms: dict[str, float]) -> IdentityResult | None:
        outcome = self._worker.take() if self._worker is not None else None
        if outcome is None or outcome.job.generation != self._generation:
            return None
        stage_ms["identity"] = outcome.elapsed_ms
        if outcome.error is not None:
            self._failed("identity", outcome.error)
            return None
        return outcome.result

    # -- per frame ------------------------------------------------------------------------

    def process(self, frame: Frame) -> Observation:
        image, stage_ms = frame.image, dict[str, float]()
        self._now = now = frame.monotonic_s
        identity = self._finished_identity(stage_ms)
        quality = self._quality(image, stage_ms)
        fresh_boxes, fresh_marks = self._due(now)
        if fresh_boxes:
            self._found = self._detect(image, stage_ms)
            self._candidate_box = self._candidate(self._found)
        found, candidate = self._found, self._candidate_box
        if fresh_marks:
            self._update_landmarks(image, candidate if len(found) > 1 else None, stage_ms)
        if fresh_boxes or fresh_marks:
            self._reconcile(found, (fresh_boxes, fresh_marks))
        count, main_box, identity_box = self._faces(found, candidate, (fresh_boxes, fresh_marks))
        self._schedule.track(now, count > 0)
        self._hand_off_identity(frame, identity_box)
        objects = self._objects(frame, main_box, stage_ms)
        return Observation(
            frame_index=frame.index,
            monotonic_s=now,
            wall_time=frame.wall_time,
            face_count=count,
            quality=quality,
            head_pose=self._head_pose,
            gaze=self._gaze,
            identity=identity,
            main_face=main_box,
            stage_ms=stage_ms,
            objects=objects,
            # Only fresh values: carried ones would make still lips of moving ones.
            lip_opening=self._lip if fresh_marks else None,
        )

    def _objects(
        self, frame: Frame, face: FaceBox | None, stage_ms: dict[str, float]
    ) -> ObjectObservation | None:
        stage = self.objects
        if not stage.enabled:
            self._object_status()
            return None
        if self._objects_offpath:
            seen = stage.process_offpath(frame, face)
        else:
            seen = stage.process(frame, face)
        if seen.elapsed_ms is not None:
            stage_ms["objects"] = seen.elapsed_ms
        self._object_status()
        return seen

    def _object_status(self) -> None:
        """A new status of the object stage becomes a fault when it is one: a run that
        raised, or a model file that is configured but cannot be used. Without a configured
        model the stage is simply off (the heartbeat says so, see `disabled_stages`)."""
        status = self.objects.status_changed()
        if status is None or status.state == "running":
            return
        if status.state == "disabled" and self.objects.config.model_path is None:
            return
        if status.state == "failed":
            self.failures["objects"] = status.errors
        self._faults.append(
            StageFault("objects", self.objects.config.type, status.reason, status.state == "failed")
        )

    def object_status(self) -> StageStatus:
        return self.objects.status

    def disabled_stages(self) -> dict[str, str]:
        """Stage name -> why it is off, for the heartbeat: stages that failed to load or are
        turned off in config, and the object stage when it is not running."""
        off = {fault.stage: fault.error for fault in self._faults if not fault.loaded}
        for kind in STAGE_KINDS:
            if getattr(self, kind) is None and kind not in off:
                off[kind] = "turned off in config"
        status = self.objects.status
        if status.state != "running":
            off["objects"] = status.reason or status.state
        return off

    def _due(self, now: float) -> tuple[bool, bool]:
        """Whether the detector and the landmarks run on this frame. When both are due only
        by their frame counts, the detector waits one frame (within its max age), so that no
        frame pays for both and the frame path's latency stays even."""
        boxes = self.detector is not None and self._detect_every.due(now)
        marks = self.landmarks is not None and self._marks_every.due(now)
        if boxes and marks and self._detect_every.can_wait(now):
            boxes = False
        self._detect_every.update(now, boxes)
        self._marks_every.update(now, marks)
        return boxes, marks

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

    def _update_landmarks(
        self, image: Image, only: FaceBox | None, stage_ms: dict[str, float]
    ) -> None:
        """Landmarks of the main face, and head pose and gaze from them (None at once when
        no face is found)."""
        main = self._main = self._main_landmarks(image, only, stage_ms)
        self._head_pose = self._gaze = None
        self._lip = lip_opening(main) if main is not None else None
        height, width = image.shape[:2]
        if main is not None and self.head_pose is not None:
            pose_model = self.head_pose
            self._head_pose = self._run(
                "head_pose", stage_ms, lambda: pose_model.infer(main, (width, height))
            )
        if main is not None and self.gaze is not None:
            gaze_model = self.gaze
            self._gaze = self._run("gaze", stage_ms, lambda: gaze_model.infer(main))

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

    def _reconcile(self, found: list[FaceBox], fresh: tuple[bool, bool]) -> None:
        """Detector and landmarks agree when both see no face or the same face. When the one
        that ran on this frame stops agreeing with the other's carried result, the other
        runs on the next frame. A lasting disagreement (FaceMesh misses faces the detector
        finds, and the reverse for turned heads) does not make them run every frame."""
        main = self._main
        if main is None:
            agree = not found
        else:
            agree = any(box_ops.same_face(box, main.box) for box in found)
        fresh_boxes, fresh_marks = fresh
        if self._agreed and not agree and fresh_boxes != fresh_marks:
            (self._detect_every if fresh_marks else self._marks_every).force()
        self._agreed = agree

    def _faces(
        self, found: list[FaceBox], candidate: FaceBox | None, fresh: tuple[bool, bool]
    ) -> tuple[int, FaceBox | None, FaceBox | None]:
        """(face count, main face box, box to encode for identity). The main face is the one
        with landmarks; a landmark face the detector missed (a turned head) still counts.
        ``fresh`` says whether the detector and the landmarks ran on this frame; the box to
        encode is only given from a stage that ran on it."""
        fresh_boxes, fresh_marks = fresh
        main = self._main
        if main is None:
            return len(found), candidate, candidate if fresh_boxes else None
        ordered = ([candidate] if candidate is not None else []) + found
        matched = next((box for box in ordered if box_ops.same_face(box, main.box)), None)
        if matched is not None:
            return len(found), matched, matched if fresh_boxes else None
        if self.detector is None:  # the landmark box is the only one there is
            return len(found) + 1, main.box, main.box if fresh_marks else None
        if fresh_boxes and fresh_marks:
            return len(found) + 1, main.box, None
        # One side is a few frames old: a face that moved, not a second one, until both
        # have run again (the skipped one runs on the next frame, see _reconcile).
        return max(len(found), 1), main.box, None

    def close(self) -> None:
        """Stop the identity worker (a check in progress may finish; its result is dropped),
        join it, and close the stages. A check still running after ``JOIN_TIMEOUT_S`` ends
        when its model is closed."""
        worker = self._worker
        if worker is not None:
            worker.stop()
            worker.join(JOIN_TIMEOUT_S)
        self.objects.close()
        for stage in (self.detector, self.landmarks, self.identity, self.quality):
            close = getattr(stage, "close", None)
            if callable(close):
                close()
        if worker is not None and worker.alive:
            worker.join(JOIN_TIMEOUT_S)

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
