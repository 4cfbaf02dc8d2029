"""Identity checks off the frame path: when a check is due, and one worker thread that runs it.

The pipeline hands the worker a copy of the area around the face (:func:`job_for`) and never
waits for it. At most one check is in flight: from :meth:`IdentityWorker.submit` until its
outcome is taken; a check that falls due meanwhile waits for a later frame. The outcome keeps
the checked frame's index and time, so the rules can tell when the face was seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_agent.vision import boxes as box_ops
from edge_agent.vision.offpath import OffPathWorker, Outcome
from edge_agent.vision.stages import Encoding, IdentityModel
from edge_agent.vision.types import FaceBox, Frame, IdentityResult, Image

# Area handed to the encoder, in face boxes: dlib's alignment and 150x150 chip (0.25 padding)
# stay inside 1.5 boxes; encodings of 1.5x, 2x and 2.5x crops were identical to those of the
# whole frame on the fixture photos.
CROP_FACTOR = 2.0


@dataclass(frozen=True, eq=False)
class IdentityJob:
    image: Image  # a copy of the area around the face
    box: FaceBox  # the face, in ``image`` pixels
    enrolled: Encoding
    frame_index: int
    monotonic_s: float
    generation: int  # the enrolment it was checked against


IdentityOutcome = Outcome[IdentityJob, IdentityResult]


def job_for(frame: Frame, box: FaceBox, enrolled: Encoding, generation: int) -> IdentityJob:
    """A job owning a copy of the pixels around ``box`` (the frame may be reused or dropped)."""
    height, width = frame.image.shape[:2]
    x0, y0, x1, y1 = box_ops.expand(box, CROP_FACTOR, (width, height))
    crop = frame.image[y0:y1, x0:x1].copy()
    moved = FaceBox(box.x - x0, box.y - y0, box.width, box.height, box.score)
    return IdentityJob(crop, moved, enrolled, frame.index, frame.monotonic_s, generation)


class IdentitySchedule:
    """A check is due for the first face after an enrolment, then every ``interval_s`` while
    the face stays, and at once when a face comes back after ``lost_after_s`` without one."""

    def __init__(self, interval_s: float, lost_after_s: float) -> None:
        self.interval_s = interval_s
        self.lost_after_s = lost_after_s
        self._last_s: float | None = None
        self._absent_since: float | None = None
        self._recheck = False

    def reset(self) -> None:
        self._last_s = None

    def track(self, now: float, face_present: bool) -> None:
        if not face_present:
            if self._absent_since is None:
                self._absent_since = now
            return
        if self._absent_since is not None:
            if now - self._absent_since >= self.lost_after_s:
                self._recheck = True
            self._absent_since = None

    def due(self, now: float) -> bool:
        if self._recheck or self._last_s is None:
            return True
        return now - self._last_s >= self.interval_s

    def started(self, now: float) -> None:
        """A check was handed off at ``now`` (a failing one also waits for the next slot)."""
        self._last_s = now
        self._recheck = False


class IdentityWorker(OffPathWorker[IdentityJob, IdentityResult]):
    """One daemon thread running one :class:`IdentityJob` at a time with ``model``:
    ``submit(job)`` returns False while a check is in flight; ``take()`` returns a finished
    :data:`IdentityOutcome` once (a check that raised has ``error`` set)."""

    def __init__(self, model: IdentityModel) -> None:
        super().__init__(self._check, "vision-identity")
        self.model = model

    def _check(self, job: IdentityJob) -> IdentityResult:
        distance = self.model.distance(job.enrolled, self.model.encode(job.image, job.box))
        return IdentityResult(
            distance, distance <= self.model.tolerance, job.frame_index, job.monotonic_s
        )
