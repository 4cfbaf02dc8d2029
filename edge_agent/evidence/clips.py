"""Clip requests: the rules ask for evidence of a violation, a low-priority worker encodes it.

`request(violation_id, start_mono, end_mono_or_None)` asks for the frames from
`start - pre_roll` to `(end or start) + post_roll` (at most `max_clip_s` long). The request is
due when the ring buffer holds a frame at or after the window's end (the post-roll has been
captured), when capture has stalled for `stall_s` (camera lost, file ended: encode what
exists), or at `flush()`/`stop()`. The frames are taken from the ring at that moment and
encoded on the worker thread, which runs at a lower priority (a higher nice value) so
encoding never competes with capture and vision. One clip per violation: a request for a
violation that is already encoded is ignored; a second request while pending updates it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edge_agent.evidence.audio_mux import mux_audio
from edge_agent.evidence.encode import best_snapshot, encode_webm
from edge_agent.evidence.ring import BufferedFrame, EncodeError, FrameRing
from edge_agent.evidence.store import EvidenceError, EvidenceStore
from edge_agent.threads import lower_thread_priority
from edge_agent.vision.types import Image
from protocol.models import EvidenceRef

if TYPE_CHECKING:
    from edge_agent.audio.ring import PcmClip

# The sound of a clip's window (kiosk monotonic clock), or None when there is none.
SoundSource = Callable[[float, float], "PcmClip | None"]

log = logging.getLogger(__name__)

_KEEP_RESULTS = 256


@dataclass(frozen=True)
class ClipSettings:
    width: int = 320  # clip width in pixels (aspect kept)
    fps: float = 10.0  # clip frame rate
    max_clip_s: float = 20.0  # longest clip; the window is cut at its end
    stall_s: float = 2.0  # no new frame for this long: encode what the ring holds
    niceness: int = 10  # added to the worker thread's nice value
    poll_s: float = 0.1


@dataclass(frozen=True)
class ClipResult:
    violation_id: str
    clip: EvidenceRef | None
    snapshot: EvidenceRef | None
    frames: int  # frames written to the clip
    first_mono: float | None  # capture time of the first and last source frame used
    last_mono: float | None
    encode_ms_per_frame: float | None
    snapshot_has_face: bool
    error: str | None = None
    has_sound: bool = False


@dataclass
class _Request:
    violation_id: str
    start_mono: float
    end_mono: float | None
    pre_roll_s: float
    post_roll_s: float
    flagged: bool

    def window(self, max_clip_s: float) -> tuple[float, float]:
        begin = self.start_mono - self.pre_roll_s
        end = (self.end_mono if self.end_mono is not None else self.start_mono) + self.post_roll_s
        return begin, min(end, begin + max_clip_s)


class ClipRecorder:
    """Turns clip requests into stored VP8 clips and JPEG snapshots."""

    def __init__(
        self,
        ring: FrameRing,
        store: EvidenceStore,
        settings: ClipSettings | None = None,
        *,
        on_result: Callable[[ClipResult], None] | None = None,
        has_face: Callable[[Image], bool] | None = None,
        sound: SoundSource | None = None,
    ) -> None:
        """``sound`` gives the PCM of a clip's window (the microphone ring): with it, clips
        carry Opus audio; a clip whose sound cannot be muxed is kept silent."""
        self.ring = ring
        self._sound = sound
        self.store = store
        self.settings = settings or ClipSettings()
        self._on_result = on_result
        self._has_face = has_face
        self._pending: dict[str, _Request] = {}
        self._results: OrderedDict[str, ClipResult] = OrderedDict()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._flush = False
        self._encode_ms: list[float] = []
        self.worker_nice: int | None = None
        self._thread = threading.Thread(target=self._run, name="clip-worker", daemon=True)

    # API for the rules and the agent -------------------------------------------------------

    def request(
        self,
        violation_id: str,
        start_mono: float,
        end_mono: float | None,
        pre_roll_s: float = 5.0,
        post_roll_s: float = 3.0,
        *,
        flagged: bool = True,
    ) -> None:
        """Ask for a clip and a snapshot of a violation that started at `start_mono` (and ended
        at `end_mono`, or None while it goes on). Never blocks on encoding."""
        key = str(violation_id)
        with self._cond:
            if key in self._results:
                log.debug("violation %s already has its clip", key)
                return
            old = self._pending.get(key)
            if old is not None:
                start_mono = min(start_mono, old.start_mono)
                end_mono = end_mono if end_mono is not None else old.end_mono
            self._pending[key] = _Request(
                key, start_mono, end_mono, pre_roll_s, post_roll_s, flagged
            )
            self._cond.notify_all()

    def flush(self) -> None:
        """Encode every pending request now with the frames there are (e.g. end of a file)."""
        with self._cond:
            self._flush = True
            self._cond.notify_all()

    def result(self, violation_id: str) -> ClipResult | None:
        with self._cond:
            return self._results.get(str(violation_id))

    def wait_result(self, violation_id: str, timeout: float) -> ClipResult | None:
        key = str(violation_id)
        with self._cond:
            self._cond.wait_for(lambda: key in self._results, timeout)
            return self._results.get(key)

    def pending_count(self) -> int:
        with self._cond:
            return len(self._pending)

    def mean_encode_ms_per_frame(self) -> float | None:
        with self._cond:
            return sum(self._encode_ms) / len(self._encode_ms) if self._encode_ms else None

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Encode what is pending with the frames there are, then end the worker."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # worker ------------------------------------------------------------------------------

    def _run(self) -> None:
        self.worker_nice = lower_thread_priority(self.settings.niceness)
        while True:
            stopping = self._stop.is_set()
            for request, frames in self._take_due(force=stopping):
                self._process(request, frames)
            if stopping:
                return
            with self._cond:
                self._cond.wait(self.settings.poll_s)

    def _take_due(self, force: bool) -> list[tuple[_Request, list[BufferedFrame]]]:
        newest = self.ring.newest_monotonic()
        idle = self.ring.idle_for()
        stalled = idle is not None and idle >= self.settings.stall_s
        due: list[tuple[_Request, list[BufferedFrame]]] = []
        with self._cond:
            force = force or self._flush
            self._flush = False
            for key, request in list(self._pending.items()):
                begin, end = request.window(self.settings.max_clip_s)
                ready = newest is not None and newest >= end
                if force or ready or stalled:
                    del self._pending[key]
                    due.append((request, self.ring.frames_between(begin, end)))
        return due

    def _process(self, request: _Request, frames: list[BufferedFrame]) -> None:
        try:
            result = self._encode(request, frames)
        except Exception as exc:  # worker boundary: one bad clip must not end the worker
            log.exception("clip for violation %s failed", request.violation_id)
            result = _failed(request, f"unexpected error: {exc!r}")
        with self._cond:
            self._results[request.violation_id] = result
            while len(self._results) > _KEEP_RESULTS:
                self._results.popitem(last=False)
            if result.encode_ms_per_frame is not None:
                self._encode_ms = [*self._encode_ms[-99:], result.encode_ms_per_frame]
            self._cond.notify_all()
        if self._on_result is not None:
            try:
                self._on_result(result)
            except Exception:  # a broken listener must not end the worker
                log.exception("clip result listener failed")

    def _encode(self, request: _Request, frames: list[BufferedFrame]) -> ClipResult:
        if not frames:
            return _failed(request, "no frames in the ring buffer for this window")
        clip: EvidenceRef | None = None
        has_sound = False
        errors: list[str] = []
        encode_ms: float | None = None
        written = 0
        try:
            self.store.ensure_room()
        except EvidenceError as exc:
            return _failed(request, f"clip and snapshot: {exc}")
        path = self.store.temp_path(".webm")
        try:
            report = encode_webm(frames, path, width=self.settings.width, fps=self.settings.fps)
            written, encode_ms = report.frames_written, report.encode_ms_per_frame
            path, has_sound = self._with_sound(path, frames)
            stored = self.store.add_file(
                path,
                "video/webm",
                "clip",
                violation_id=request.violation_id,
                flagged=request.flagged,
            )
            clip = stored.ref()
            log.info(
                "clip for %s: %d frames %dx%d, %.1f ms/frame to encode",
                request.violation_id,
                written,
                report.width,
                report.height,
                encode_ms,
            )
        except (EncodeError, EvidenceError, OSError) as exc:
            errors.append(f"clip: {exc}")
            path.unlink(missing_ok=True)
        snapshot, has_face = self._snapshot(request, frames, errors)
        return ClipResult(
            violation_id=request.violation_id,
            clip=clip,
            snapshot=snapshot,
            frames=written,
            first_mono=frames[0].monotonic_s,
            last_mono=frames[-1].monotonic_s,
            encode_ms_per_frame=encode_ms,
            snapshot_has_face=has_face,
            error="; ".join(errors) or None,
            has_sound=has_sound,
        )

    def _with_sound(self, video: Path, frames: list[BufferedFrame]) -> tuple[Path, bool]:
        """The clip with the sound of its window muxed in, or the silent clip when there is
        no sound source, no sound for the window, or muxing fails (logged)."""
        if self._sound is None:
            return video, False
        start = frames[0].monotonic_s
        end = frames[-1].monotonic_s + 1.0 / self.settings.fps
        pcm = self._sound(start, end)
        if pcm is None or len(pcm.samples) == 0:
            return video, False
        out = self.store.temp_path(".webm")
        try:
            mux_audio(
                video,
                pcm.samples,
                out,
                sample_rate=pcm.sample_rate,
                audio_offset_s=pcm.start_s - start,
            )
        except (EncodeError, OSError) as exc:
            log.warning("clip kept without sound: %s", exc)
            out.unlink(missing_ok=True)
            return video, False
        video.unlink(missing_ok=True)
        return out, True

    def _snapshot(
        self, request: _Request, frames: list[BufferedFrame], errors: list[str]
    ) -> tuple[EvidenceRef | None, bool]:
        try:
            best = best_snapshot(frames, self._has_face)
            if best is None:
                return None, False
            stored = self.store.add_bytes(
                best[0].jpeg,
                "image/jpeg",
                "snapshot",
                violation_id=request.violation_id,
                flagged=request.flagged,
            )
        except (EncodeError, EvidenceError, OSError) as exc:
            errors.append(f"snapshot: {exc}")
            return None, False
        return stored.ref(), best[1]


def _failed(request: _Request, error: str) -> ClipResult:
    return ClipResult(request.violation_id, None, None, 0, None, None, None, False, error)
