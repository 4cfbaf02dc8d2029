"""Audio rules: speech at the seat, whose speech it is, and a lost microphone, as violation
lifecycle changes with the same debounced trackers as the vision rules.

Pure logic: time comes from the caller (the audio clock for speech, the frame clock for the
talking verdict), so replaying a recording gives the same violations as living through it.
`speech` holds while the VAD's speech tracker is in a segment; `candidate_talking` and
`background_speech` hold while the talking classifier says so (only during speech).
"""

from __future__ import annotations

from datetime import timedelta

from edge_agent.audio.lips import Talking
from edge_agent.audio.vad import SpeechChange
from edge_agent.rules.config import RulesConfig
from edge_agent.rules.lifecycle import Lifecycles, ViolationChange
from edge_agent.rules.tracker import Instant
from protocol import Severity
from protocol import ViolationType as V

AUDIO_SEVERITY = {
    V.SPEECH: Severity.MEDIUM,
    V.CANDIDATE_TALKING: Severity.HIGH,
    V.BACKGROUND_SPEECH: Severity.MEDIUM,
    V.MICROPHONE_LOST: Severity.HIGH,
}


class AudioRuleEngine:
    def __init__(self, config: RulesConfig | None = None) -> None:
        self.config = config or RulesConfig()
        self._rules = Lifecycles(AUDIO_SEVERITY, self.config)

    def speech(self, speaking: bool, now: Instant) -> list[ViolationChange]:
        """The monitor's `speaking` at `now`: call it regularly (every frame or VAD block),
        so a violation starts once speech has lasted `min_duration_s` and ends once silence
        has lasted `end_after_s`."""
        return self._step(V.SPEECH, speaking, now)

    def speech_change(self, change: SpeechChange, now: Instant) -> list[ViolationChange]:
        """A speech segment started or ended (from the monitor), told at `now`. The violation
        is dated from the voiced audio itself (the segment's start and end), not from when
        the tracker confirmed it, and a whole segment told only at its end still counts."""
        start = _shift(now, change.start_s)
        changes = self._step(V.SPEECH, True, start)
        if change.end_s is None:
            return changes + self._step(V.SPEECH, True, now)
        end = _shift(now, change.end_s)
        changes += self._step(V.SPEECH, True, end)
        return changes + self._step(V.SPEECH, False, end) + self._step(V.SPEECH, False, now)

    def talking(self, verdict: Talking, now: Instant) -> list[ViolationChange]:
        """The talking classifier's verdict at `now` (call on every processed frame)."""
        return self._step(
            V.CANDIDATE_TALKING, verdict is Talking.CANDIDATE_TALKING, now
        ) + self._step(V.BACKGROUND_SPEECH, verdict is Talking.BACKGROUND_SPEECH, now)

    def microphone_lost(self, now: Instant) -> list[ViolationChange]:
        return self._step(V.MICROPHONE_LOST, True, now)

    def microphone_restored(self, now: Instant) -> list[ViolationChange]:
        return self._step(V.MICROPHONE_LOST, False, now)

    def finish(self, now: Instant) -> list[ViolationChange]:
        """End every active violation (end of exam or of the stream)."""
        return self._rules.finish(now)

    def _step(self, kind: V, flag: bool, now: Instant) -> list[ViolationChange]:
        return self._rules.step(kind, flag, now)


def _shift(now: Instant, monotonic_s: float) -> Instant:
    """The instant at `monotonic_s`, its wall time derived from `now`'s."""
    return Instant(monotonic_s, now.wall_time - timedelta(seconds=now.monotonic_s - monotonic_s))
