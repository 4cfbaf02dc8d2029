"""The kiosk agent: camera -> vision -> rules -> outbox, with evidence and health.

One frame loop thread owns the vision pipeline and the rules (neither is thread-safe).
Capture runs on its own thread and drops frames rather than wait for us; the clip encoder
and the evidence uploader run on their own low-priority threads; the publisher sends the
outbox. Lifecycle: `start()`, `stop()`, `join(timeout)`.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_agent.audio.monitor import AudioMonitor
from edge_agent.audio.ring import PcmClip
from edge_agent.capture.config import build_source
from edge_agent.capture.runner import Capture, CaptureEvent, CaptureEventKind
from edge_agent.capture.source import FrameSource, check_image
from edge_agent.clock import Clock, SystemClock
from edge_agent.evidence.clips import ClipRecorder
from edge_agent.evidence.config import PASSWORD_ENV as EVIDENCE_PASSWORD_ENV
from edge_agent.evidence.store import EvidenceStore, StoreEvent
from edge_agent.evidence.uploader import Uploader
from edge_agent.health import HealthMonitor
from edge_agent.hearing import Hearing, HearingUnavailable
from edge_agent.kiosk_config import KioskConfig
from edge_agent.messages import Origin
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher, PublisherSettings
from edge_agent.rules.calibration import CalibrationError, Neutral, calibrate
from edge_agent.rules.engine import RuleEngine
from edge_agent.rules.tracker import Instant
from edge_agent.seat.agent_sensors import AgentProbes, AgentSensors
from edge_agent.seat.local_api import LocalApi
from edge_agent.seat.messages import Sender, apply_and_answer
from edge_agent.seat.sensors import DeviceState
from edge_agent.seat.server import LocalApiServer
from edge_agent.seat.state import SeatState
from edge_agent.violations import EvidencePolicy, ViolationSink
from edge_agent.vision.pipeline import VisionPipeline
from edge_agent.vision.types import Frame, Observation
from edge_agent.watch import RingFeeder, SeatWatcher
from protocol import Command, CommandType, SessionRef
from protocol.signing import SigningError, load_private_key

log = logging.getLogger(__name__)

POLL_S = 0.1
DRAIN_S = 15.0  # at shutdown, how long to wait for held violations' clips


class _Calibration:
    """Observations gathered for one calibration request, and its result."""

    def __init__(self, duration_s: float) -> None:
        self.duration_s = duration_s
        self.observations: list[Observation] = []
        self.result: Future[Neutral] = Future()

    def face_ratio(self) -> float:
        """Share of the gathered frames with exactly one face."""
        seen = self.observations
        return sum(o.face_count == 1 for o in seen) / len(seen) if seen else 0.0

    def add(self, observation: Observation) -> bool:
        """Keep the observation; True once `duration_s` of frames are in."""
        self.observations.append(observation)
        first = self.observations[0].monotonic_s
        return observation.monotonic_s - first >= self.duration_s


def _signing_key(path: Path | None) -> tuple[Ed25519PrivateKey | None, str | None]:
    """The device key, or why there is none. An unreadable key does not stop the kiosk:
    its messages go unsigned (central shows them so) and a device_fault says why."""
    if path is None:
        return None, None
    try:
        return load_private_key(path), None
    except SigningError as exc:
        log.error("messages go unsigned: %s", exc)
        return None, str(exc)


class Agent:
    def __init__(
        self,
        config: KioskConfig,
        *,
        source: FrameSource | None = None,
        clock: Clock | None = None,
        publish: bool = True,
        watchdog: Callable[[], object] | None = None,
        audio_monitor: AudioMonitor | None = None,
    ) -> None:
        """``source`` and ``audio_monitor`` replace the camera and microphone built from
        config (tests, replays)."""
        self.config = config
        # Called on every turn of the frame loop (systemd's watchdog under Type=notify): only a
        # loop that makes progress keeps the service alive, never a timer thread.
        self._watchdog = watchdog or (lambda: None)
        self.clock = clock or SystemClock(synced_override=config.clock.synced)
        data = config.data_dir
        data.mkdir(parents=True, exist_ok=True)
        signer, self._signing_error = _signing_key(config.identity.signing_key)
        self.outbox = Outbox(config.outbox_path(), max_bytes=config.outbox.max_bytes, signer=signer)
        identity = config.identity
        self.origin = Origin(identity.centre_id, identity.device_id, identity.simulated)
        # What central sent by command and the kiosk screen reported (docs/kiosk-local-api.md).
        self.seat = SeatState(data / "seat.sqlite3")
        self.sender = Sender(self.origin, self.clock, identity.seat_id)
        self._enrolment_changed = threading.Event()
        self._camera_ok = True
        self._calibration_ratio: float | None = None
        self._events: queue.SimpleQueue[CaptureEvent | StoreEvent] = queue.SimpleQueue()
        self.store = EvidenceStore(data, config.evidence.budget(), on_event=self._events.put)
        self.ring = config.evidence.make_ring()
        self.hearing: Hearing | None = None
        self._hearing_error: str | None = None
        self.clips = ClipRecorder(
            self.ring, self.store, config.evidence.clip_settings(), sound=self._sound
        )
        self.uploader = Uploader(
            self.store,
            config.evidence.uploader_settings(
                self.origin.device_id, os.environ.get(EVIDENCE_PASSWORD_ENV)
            ),
        )
        self.pipeline = VisionPipeline(config.vision, objects_offpath=True)
        self.engine = RuleEngine(config.rules, objects=config.vision.objects)
        self.watcher = SeatWatcher(self.pipeline, self.engine)
        self.feeder = RingFeeder(self.ring, config.evidence.clip.fps)
        self.capture = Capture(
            source or build_source(config.capture),
            config.capture.settings(),
            on_event=self._events.put,
        )
        clip = config.evidence.clip
        self.sink = ViolationSink(
            self.outbox,
            self.origin,
            self.clock,
            self.subject,
            clips=self.clips,
            policy=EvidencePolicy(clip.pre_roll_s, clip.post_roll_s),
        )
        if config.audio.enabled:
            try:
                self.hearing = Hearing(config.audio, config.rules, monitor=audio_monitor)
            except HearingUnavailable as exc:
                self._hearing_error = str(exc)
        self.health = HealthMonitor(
            lambda: self.capture.stats().dropped,
            self.store.backlog,
            lambda: self.subject().session_id,
            disabled_stages=self.disabled_stages,
            audio_level_dbfs=lambda: self.hearing.level_dbfs() if self.hearing else None,
            exam=self.seat.progress,
        )
        self.publisher = (
            Publisher(
                PublisherSettings.from_config(config),
                self.outbox,
                self.clock,
                health=self.health.snapshot,
                on_command=self._on_command,
            )
            if publish
            else None
        )
        self.sensors = AgentSensors(
            AgentProbes(
                latest_frame=lambda: self._last_frame,
                calibrate=self.calibrate,
                calibration_face_ratio=lambda: self._calibration_ratio,
                camera=self._camera_state,
                microphone=self._microphone_state,
                face_found_ratio=self.health.face_found_ratio,
                online=lambda: self.publisher is not None and self.publisher.stats().connected,
            )
        )
        self.local_api = (
            LocalApiServer(
                LocalApi(self.seat, self.outbox, self.sender, self.sensors),
                port=config.local_api.port,
            )
            if config.local_api.enabled
            else None
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="frame-loop", daemon=True)
        self._last_frame: Frame | None = None
        self._calibration: _Calibration | None = None

    def subject(self) -> SessionRef:
        """The enrolled candidate (from central's enrol command); before any, the config's."""
        if self.seat.enrolment() is not None:
            return self.seat.subject(self.config.identity.seat_id)
        s = self.config.subject
        return SessionRef(
            seat_id=self.config.identity.seat_id,
            session_id=s.session_id,
            candidate_id=s.candidate_id,
            exam_id=s.exam_id,
        )

    def disabled_stages(self) -> dict[str, str]:
        """Stage -> why it is off, for the heartbeat (the console shows it)."""
        off = self.pipeline.disabled_stages()
        if self._hearing_error is not None:
            off["audio"] = self._hearing_error
        elif not self.config.audio.enabled:
            off["audio"] = "turned off in config"
        return off

    def _on_command(self, command: Command) -> None:
        """On the publisher's thread: apply it to the seat state and answer with a receipt.
        A new enrolment reaches the vision pipeline on the frame loop's next turn."""
        outcome = apply_and_answer(self.seat, self.outbox, self.sender, command)
        if command.type is CommandType.ENROL and outcome.status == "done":
            self._enrolment_changed.set()

    def _apply_enrolment(self) -> None:
        if not self._enrolment_changed.is_set():
            return
        self._enrolment_changed.clear()
        enrolment = self.seat.enrolment()
        self.pipeline.set_enrolment(
            None if enrolment is None else np.asarray(enrolment.encoding, dtype=np.float64)
        )
        log.info("enrolment now %s", enrolment.candidate_id if enrolment else "none")

    def _camera_state(self) -> DeviceState:
        return "ok" if self._camera_ok and self._last_frame is not None else "lost"

    def _microphone_state(self) -> DeviceState:
        if self.hearing is None:
            return "off"
        return "ok" if self.hearing.microphone_ok else "lost"

    def _sound(self, start_s: float, end_s: float) -> PcmClip | None:
        hearing = self.hearing
        return hearing.pcm_between(start_s, end_s) if hearing is not None else None

    # lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._enrol()
        if self._hearing_error is not None:
            self.sink.fault(self._now(), "microphone", self._hearing_error)
        if self._signing_error is not None:
            self.sink.fault(self._now(), "signing key", self._signing_error)
        for part in (self.publisher, self.uploader, self.clips, self.hearing, self.capture):
            if part is not None:
                part.start()
        self._thread.start()
        if self.local_api is not None:
            self.local_api.start()
            log.info("kiosk screen API on %s", self.local_api.url)

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _enrol(self) -> None:
        """The enrolment central sent (kept across restarts), else the configured photo."""
        if self.seat.enrolment() is not None:
            self._enrolment_changed.set()
            self._apply_enrolment()
            return
        photo_path = self.config.subject.enrolment_photo
        if photo_path is None:
            return
        import cv2  # noqa: PLC0415 - only kiosks with an enrolment photo read one here

        photo = check_image(cv2.imread(str(photo_path)))
        try:
            if photo is None:
                raise ValueError(f"{photo_path} is not a readable image")
            self.pipeline.enrol(photo)
        except ValueError as exc:  # EnrolmentError is a ValueError: no face, several faces
            self.sink.fault(self._now(), "identity enrolment", str(exc))

    def calibrate(self, duration_s: float = 3.0) -> Future[Neutral]:
        """Measure the candidate's neutral pose over the next `duration_s` of frames (they look
        at the screen centre). The future holds the Neutral, now used by the rules, or a
        CalibrationError whose message is for the candidate; the previous neutral is kept."""
        calibration = _Calibration(duration_s)
        self._calibration = calibration
        return calibration.result

    def _collect_calibration(self, observation: Observation) -> None:
        calibration = self._calibration
        if calibration is None or not calibration.add(observation):
            return
        self._calibration = None
        self._calibration_ratio = calibration.face_ratio()
        try:
            neutral = calibrate(calibration.observations)
        except CalibrationError as exc:
            calibration.result.set_exception(exc)
            return
        self.engine.set_neutral(neutral)
        calibration.result.set_result(neutral)
        log.info(
            "calibrated: yaw %.1f, pitch %.1f, gaze %.2f/%.2f",
            neutral.yaw,
            neutral.pitch,
            neutral.gaze_horizontal,
            neutral.gaze_vertical,
        )

    # the frame loop --------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._watchdog()
                self._apply_enrolment()
                frame = self.capture.get(timeout=POLL_S)
                self._drain_events()
                observation = self._process(frame) if frame is not None else None
                self._hear(observation)
                self.sink.poll()
                if frame is None and self.capture.finished:
                    break
        except Exception:  # loop boundary: log it, then shut down in order
            log.exception("frame loop failed")
            self.sink.fault(self._now(), "frame loop", "the frame loop stopped on an error")
        finally:
            self._shutdown()

    def _process(self, frame: Frame) -> Observation:
        started = time.perf_counter()
        step = self.watcher.process(frame)
        self._collect_calibration(step.observation)
        self.feeder.offer(frame, step.observation.face_count > 0)
        for change in step.changes:
            self.sink.handle(change)
        for fault in self.pipeline.take_faults():
            self.sink.fault(
                Instant(frame.monotonic_s, frame.wall_time),
                f"vision stage {fault.stage}",
                fault.error,
            )
        self._last_frame = frame
        self.health.record(step.observation, (time.perf_counter() - started) * 1000)
        return step.observation

    def _hear(self, observation: Observation | None) -> None:
        hearing = self.hearing
        if hearing is None:
            return
        for change in hearing.step(self._now(), observation):
            self.sink.handle(change)
        for what, error in hearing.take_faults():
            self.sink.fault(self._now(), what, error)

    def _drain_events(self, *, store_only: bool = False) -> None:
        """`store_only` at shutdown: the last clips may still report a full disk, but the
        rules are finished, so a late camera event must not open a new violation."""
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            if isinstance(event, StoreEvent):
                if event.kind == "disk_full":
                    self.sink.fault(self._now(), "evidence storage", event.detail)
                continue
            if not store_only:
                self._on_capture_event(event)

    def _on_capture_event(self, event: CaptureEvent) -> None:
        at = Instant(event.monotonic_s, event.wall_time)
        if event.kind is CaptureEventKind.CAMERA_LOST:
            self._camera_ok = False
            changes = self.engine.camera_lost(at)
        elif event.kind is CaptureEventKind.CAMERA_RESTORED:
            self._camera_ok = True
            changes = self.engine.camera_restored(Instant(self.clock.monotonic(), event.wall_time))
        elif event.kind is CaptureEventKind.SOURCE_FAILED:
            self.sink.fault(at, f"camera {event.source}", event.detail)
            return
        else:
            return
        for change in changes:
            self.sink.handle(change)

    def _now(self) -> Instant:
        clock = self.clock.now()
        return Instant(clock.monotonic_s, clock.wall_time)

    def _shutdown(self) -> None:
        """End what is active, wait for the last clips, then stop the parts in reverse."""
        last = self._last_frame
        for change in self.watcher.finish(last):
            self.sink.handle(change)
        if self.hearing is not None:
            self.hearing.stop()
            self.hearing.join(5.0)  # the VAD tells the speech it still holds
            for change in self.hearing.finish(self._now()):
                self.sink.handle(change)
        self.capture.stop()
        self.clips.flush()
        deadline = time.monotonic() + DRAIN_S
        while self.sink.held() and time.monotonic() < deadline:
            time.sleep(POLL_S)
            self.sink.poll()
            self._drain_events(store_only=True)
        for part in (self.capture, self.clips, self.uploader, self.publisher):
            if part is not None:
                part.stop()
                part.join(10)
        if self.local_api is not None:
            self.local_api.stop()
        self.sensors.close()
        self._drain_events(store_only=True)  # faults from the last clips, before the outbox closes
        self.pipeline.close()
        self.store.close()
        self.outbox.close()
        self.seat.close()
        log.info("agent stopped")
