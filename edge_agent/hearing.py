"""The agent's ears: microphone (or WAV replay) -> voice activity -> audio rules, plus the lip
signal from the vision pipeline that says whose speech it is.

The frame loop calls `step` on every turn (with the turn's Observation when a frame was
processed); it returns the violation changes to hand to the sink. The audio itself is read on
the monitor's threads; nothing here waits for it. Speech violations are dated from the voiced
audio (the monitor's own timestamps on the shared monotonic clock), not from when the frame
loop heard about them.
"""

from __future__ import annotations

import logging

from edge_agent.audio.capture import AudioEvent, AudioEventKind
from edge_agent.audio.config import AudioConfig, build_audio_source
from edge_agent.audio.lips import Talking, TalkingClassifier
from edge_agent.audio.monitor import AudioMonitor
from edge_agent.audio.ring import PcmClip
from edge_agent.audio.vad import VadError
from edge_agent.rules.audio_rules import AudioRuleEngine
from edge_agent.rules.config import RulesConfig
from edge_agent.rules.engine import ViolationChange
from edge_agent.rules.tracker import Instant
from edge_agent.vision.types import Observation

log = logging.getLogger(__name__)

# A heartbeat reading with no blocks (microphone silent or lost) reports no level.
NO_LEVEL = None


class HearingUnavailable(Exception):
    """Audio is configured but cannot run (no VAD model, a bad source setting); the agent
    reports it as a device_fault and runs without hearing."""


class Hearing:
    def __init__(
        self,
        config: AudioConfig,
        rules: RulesConfig,
        *,
        monitor: AudioMonitor | None = None,
    ) -> None:
        """``monitor`` replaces the one built from ``config`` (tests)."""
        self.config = config
        if monitor is None:
            try:
                monitor = AudioMonitor(build_audio_source(config), config)
            except (VadError, ValueError) as exc:
                raise HearingUnavailable(str(exc)) from exc
        self.monitor = monitor
        self.rules = AudioRuleEngine(rules)
        self.talking = TalkingClassifier(config.talking)
        self.faults: list[tuple[str, str]] = []  # (what, error) for device_fault events
        self._verdict = Talking.SILENT
        self.microphone_ok = True  # set from the frame loop, read by the kiosk screen

    def start(self) -> None:
        self.monitor.start()

    def stop(self) -> None:
        self.monitor.stop()

    def join(self, timeout: float | None = None) -> bool:
        return self.monitor.join(timeout)

    # per turn of the frame loop ------------------------------------------------------------

    def step(self, now: Instant, observation: Observation | None) -> list[ViolationChange]:
        """Microphone events, speech segments, then (with a frame) the talking verdict."""
        changes: list[ViolationChange] = []
        for event in self.monitor.poll_events():
            changes += self._on_event(event, now)
        heard, speaking = self.monitor.poll_speech()
        for change in heard:
            changes += self.rules.speech_change(change, now)
        # Called every turn so a violation starts once speech has lasted, and ends once
        # silence has, without waiting for the next segment.
        changes += self.rules.speech(speaking, now)
        if observation is not None:
            self.talking.add_face(observation.monotonic_s, observation.lip_opening)
            verdict = self.talking.classify(observation.monotonic_s, speaking)
            if verdict.talking is not self._verdict:
                log.debug("talking: %s (lip motion %s)", verdict.talking, verdict.lip_motion)
                self._verdict = verdict.talking
            changes += self.rules.talking(verdict.talking, now)
        return changes

    def _on_event(self, event: AudioEvent, now: Instant) -> list[ViolationChange]:
        if event.kind is AudioEventKind.MICROPHONE_LOST:
            self.microphone_ok = False
            return self.rules.microphone_lost(now)
        if event.kind is AudioEventKind.MICROPHONE_RESTORED:
            self.microphone_ok = True
            return self.rules.microphone_restored(now)
        if event.kind is AudioEventKind.SOURCE_FAILED:
            self.faults.append((f"microphone {event.source}", event.detail))
        return []

    def take_faults(self) -> list[tuple[str, str]]:
        faults, self.faults = self.faults, []
        return faults

    def finish(self, now: Instant) -> list[ViolationChange]:
        """End what is active (the agent is stopping). Speech the VAD still holds is told
        first, so a sentence cut by the stop is still a violation."""
        return self.step(now, None) + self.rules.finish(now)

    # for the heartbeat and the evidence ----------------------------------------------------

    def level_dbfs(self) -> float | None:
        level = self.monitor.level()
        return round(level.rms_dbfs, 1) if level.blocks else NO_LEVEL

    def pcm_between(self, start_s: float, end_s: float) -> PcmClip | None:
        return self.monitor.pcm_between(start_s, end_s)
