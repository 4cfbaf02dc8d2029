"""Objects in view: phones, books and second screens, for ``phone_in_view``, ``book_in_view``
and ``second_screen``.

A YOLOX ONNX detector (:mod:`edge_agent.vision.objects_model`) runs every few frames on the
whole frame and, when ``look_closer`` is on and a face is known, on a crop around and below
the face (:mod:`edge_agent.vision.objects_crop`). Each frame gets an :class:`ObjectObservation`
(the last run's detections, carried between runs); :func:`object_conditions` turns it into
per-frame truths with the per-class thresholds, and the rules engine adds the minimum
duration, since one frame of a detector is evidence, never a verdict.

The stage never raises into the frame loop and never fails silently: without a model path,
with a missing or unloadable model file, it is ``disabled`` with the reason in
:attr:`ObjectStage.status`; a run that raises makes it ``failed`` (logged, counted) until a
run succeeds again. :meth:`ObjectStage.status_changed` hands each new status over once, for
the heartbeat and a ``device_fault`` event.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from edge_agent.vision.cadence import Cadence
from edge_agent.vision.objects_config import BOOK, LAPTOP, PHONE, TV, ObjectsConfig
from edge_agent.vision.objects_crop import Region, closer_region, merge
from edge_agent.vision.objects_decode import Detection
from edge_agent.vision.objects_model import COCO_80, ModelLoadError, YoloxOnnx, read_labels
from edge_agent.vision.offpath import OffPathWorker
from edge_agent.vision.types import FaceBox, Frame, Image
from protocol import ViolationType as V

log = logging.getLogger(__name__)

WANTED = (PHONE, BOOK, LAPTOP, TV)
VIOLATION_CLASSES: dict[V, tuple[str, ...]] = {
    V.PHONE_IN_VIEW: (PHONE,),
    V.BOOK_IN_VIEW: (BOOK,),
    V.SECOND_SCREEN: (LAPTOP, TV),
}
# A run that keeps failing is logged again at most this often (frame clock seconds).
FAULT_REPEAT_S = 60.0
StageState = Literal["running", "disabled", "failed"]


class ObjectModel(Protocol):
    size: int  # square network input side in pixels

    def infer(self, image: Image, min_score: float) -> list[Detection]: ...


@dataclass(frozen=True)
class StageStatus:
    """What the heartbeat and the console show about the object stage."""

    state: StageState
    reason: str = ""  # why disabled or failed; empty while running
    errors: int = 0  # runs that raised so far


@dataclass(frozen=True)
class ObjectRun:
    """One run of the detector on a frame: detections in frame pixels, best first, and the
    duration of each model call (whole frame, then the crop if there was one)."""

    detections: tuple[Detection, ...]
    call_ms: tuple[float, ...]
    region: Region | None = None  # the look-closer crop, when one was run


@dataclass(frozen=True, eq=False)
class _Job:
    image: Image  # a copy: the frame may be reused or dropped
    face: FaceBox | None
    frame_index: int
    monotonic_s: float


@dataclass(frozen=True)
class ObjectObservation:
    """Objects in view on one frame: the detections (at or above ``min_score``) of the last
    run, made on frame ``frame_index``; ``fresh`` when that run was on this frame."""

    frame_index: int
    monotonic_s: float
    detections: tuple[Detection, ...] = ()
    fresh: bool = False
    call_ms: tuple[float, ...] = ()  # this frame's model calls; empty when carried

    @property
    def elapsed_ms(self) -> float | None:
        """Milliseconds the stage spent on this frame (None when it did not run)."""
        return sum(self.call_ms) if self.call_ms else None

    def best(self, label: str) -> float:
        """Best confidence of ``label`` (a COCO name), 0.0 when not seen."""
        return max((d.score for d in self.detections if d.label == label), default=0.0)

    def boxes(self, label: str, min_score: float = 0.0) -> list[Detection]:
        return [d for d in self.detections if d.label == label and d.score >= min_score]


def object_conditions(obs: ObjectObservation | None, config: ObjectsConfig) -> dict[V, bool]:
    """Per-frame truth of each object rule: a class of the rule seen at or above its
    threshold. No observation (stage disabled) is all False."""
    thresholds = config.thresholds
    return {
        kind: obs is not None
        and any(obs.best(label) >= thresholds.for_label(label) for label in labels)
        for kind, labels in VIOLATION_CLASSES.items()
    }


def object_details(
    obs: ObjectObservation | None, config: ObjectsConfig
) -> dict[V, dict[str, float]]:
    """Evidence details per rule: best confidence and number of boxes over threshold."""
    details: dict[V, dict[str, float]] = {}
    for kind, labels in VIOLATION_CLASSES.items():
        counted = [
            d
            for label in labels
            for d in (obs.boxes(label, config.thresholds.for_label(label)) if obs else [])
        ]
        details[kind] = {
            "score": max((d.score for d in counted), default=0.0),
            "boxes": float(len(counted)),
        }
    return details


def load_model(config: ObjectsConfig) -> YoloxOnnx:
    """The configured model; ModelLoadError with the reason when it cannot be used."""
    if config.model_path is None:
        raise ModelLoadError("no model path configured (vision.objects.model_path)")
    labels = COCO_80 if config.labels_path is None else read_labels(config.labels_path)
    return YoloxOnnx(
        config.model_path, WANTED, labels, threads=config.threads, nms_iou=config.nms_iou
    )


class ObjectStage:
    """``process(frame, face) -> ObjectObservation`` on every frame (the detector runs on
    every ``every_n_frames``-th); ``look(image, face) -> ObjectRun`` runs it once now;
    ``status`` / ``status_changed()`` for health. ``model`` replaces the loaded model
    (tests)."""

    def __init__(
        self, config: ObjectsConfig | None = None, *, model: ObjectModel | None = None
    ) -> None:
        self.config = config = config or ObjectsConfig()
        self._cadence = Cadence(config.every_n_frames, config.max_age_s)
        self._model: ObjectModel | None = model
        self._status = StageStatus("running")
        if model is None:
            self._model, self._status = self._load()
        self._reported: StageStatus | None = None
        self._last: ObjectObservation | None = None
        self._logged_at: float | None = None
        self._worker: OffPathWorker[_Job, ObjectRun] | None = None

    def _load(self) -> tuple[ObjectModel | None, StageStatus]:
        try:
            model = load_model(self.config)
        except ModelLoadError as exc:
            if self.config.model_path is None:
                log.warning("object detection disabled: %s", exc)
            else:
                log.error("object detection disabled: %s", exc)
            return None, StageStatus("disabled", str(exc))
        log.info("object detection: %s, input %d px", self.config.model_path, model.size)
        return model, StageStatus("running")

    @property
    def status(self) -> StageStatus:
        return self._status

    @property
    def enabled(self) -> bool:
        return self._model is not None

    def status_changed(self) -> StageStatus | None:
        """The status when it differs (state or reason) from the one returned last time,
        else None; the first call always returns it."""
        current, last = self._status, self._reported
        if last is not None and (last.state, last.reason) == (current.state, current.reason):
            return None
        self._reported = current
        return current

    def look(self, image: Image, face: FaceBox | None = None) -> ObjectRun:
        """Run the detector now on the whole image and, with look_closer and a face, on the
        crop near it. Raises RuntimeError when the stage is disabled; model errors pass."""
        model = self._model
        if model is None:
            raise RuntimeError(f"object stage disabled: {self._status.reason}")
        floor = self.config.min_score
        started = time.perf_counter()
        found = model.infer(image, floor)
        call_ms = [(time.perf_counter() - started) * 1000.0]
        closer = self.config.look_closer
        height, width = image.shape[:2]
        region = None
        if closer.enabled and face is not None:
            region = closer_region(face, (width, height), model.size, closer)
        if region is not None:
            x0, y0, x1, y1 = region
            started = time.perf_counter()
            crop = model.infer(image[y0:y1, x0:x1], floor)
            call_ms.append((time.perf_counter() - started) * 1000.0)
            found = merge(found, crop, region, self.config.nms_iou)
        return ObjectRun(tuple(found), tuple(call_ms), region)

    def process(self, frame: Frame, face: FaceBox | None = None) -> ObjectObservation:
        """This frame's observation; ``face`` is the candidate's box when known (for
        look_closer). Never raises: a failing run gives an empty observation."""
        empty = ObjectObservation(frame.index, frame.monotonic_s)
        if self._model is None:
            return empty
        if not self._cadence.tick(frame.monotonic_s):
            return replace(self._last, fresh=False, call_ms=()) if self._last else empty
        try:
            run = self.look(frame.image, face)
        except Exception as exc:  # a plugin boundary: the frame loop must go on
            self._failed(exc, frame.monotonic_s)
            self._last = None
            return empty
        self._status = StageStatus("running", errors=self._status.errors)
        self._last = ObjectObservation(
            frame.index, frame.monotonic_s, run.detections, fresh=True, call_ms=run.call_ms
        )
        return self._last

    def _failed(self, exc: Exception, now_s: float) -> None:
        errors = self._status.errors + 1
        self._status = StageStatus("failed", f"detector raised: {exc!r}", errors)
        last = self._logged_at
        if last is None or not 0.0 <= now_s - last < FAULT_REPEAT_S:
            log.error("object detector failed (%d so far)", errors, exc_info=exc)
            self._logged_at = now_s

    def process_offpath(self, frame: Frame, face: FaceBox | None = None) -> ObjectObservation:
        """Like :meth:`process`, but the detector runs on a worker thread, so the frame that
        hands it a copy of the image pays about 0.1 ms, not a model run: the result of a run
        comes with the first frame processed after it finished (``fresh``, its ``call_ms``
        the run's) and is carried until the next one, at most ``carry_max_s``. A run is
        handed over when the cadence says so and the previous one has finished."""
        empty = ObjectObservation(frame.index, frame.monotonic_s)
        if self._model is None:
            return empty
        worker = self._worker
        if worker is None:
            worker = self._worker = OffPathWorker(self._run_job, "vision-objects")
        fresh = False
        outcome = worker.take()
        if outcome is not None:
            job = outcome.job
            if outcome.error is not None or outcome.result is None:
                self._failed(outcome.error or RuntimeError("no result"), frame.monotonic_s)
                self._last = None
            else:
                self._status = StageStatus("running", errors=self._status.errors)
                run = outcome.result
                self._last = ObjectObservation(
                    job.frame_index, job.monotonic_s, run.detections, True, run.call_ms
                )
                fresh = True
        if not worker.busy and self._cadence.tick(frame.monotonic_s):
            worker.submit(_Job(frame.image.copy(), face, frame.index, frame.monotonic_s))
        last = self._last
        if (
            last is None
            or not 0.0 <= frame.monotonic_s - last.monotonic_s <= self.config.carry_max_s
        ):
            return empty
        return last if fresh else replace(last, fresh=False, call_ms=())

    def _run_job(self, job: _Job) -> ObjectRun:
        return self.look(job.image, job.face)

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Block until no off-path run is in progress (tests and tools)."""
        return self._worker is None or self._worker.wait_idle(timeout_s)

    def close(self) -> None:
        """Stop the worker, drop the model (onnxruntime frees the session with it); the stage
        is then disabled."""
        if self._worker is not None:
            self._worker.stop()
            self._worker.join(5.0)
            self._worker = None
        self._model = None
        self._last = None
        if self._status.state != "disabled":  # keep why it never ran, if it did not
            self._status = StageStatus("disabled", "closed", self._status.errors)
