"""Per-frame conditions: is each rule's condition true on this observation?

Kept apart from the trackers so an evaluation can ask for frame-level flags directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from edge_agent.rules.calibration import Neutral
from edge_agent.rules.config import RulesConfig
from edge_agent.vision.objects import object_conditions, object_details
from edge_agent.vision.objects_config import ObjectsConfig
from edge_agent.vision.types import Gaze, Observation
from protocol import ViolationType as V


@dataclass
class GazeSmoother:
    """Exponential moving average with a time constant, so blinks do not flag."""

    tau_s: float
    value: Gaze | None = None
    at_s: float = 0.0

    def update(self, gaze: Gaze | None, now_s: float) -> Gaze | None:
        if gaze is None:
            self.value = None
            return None
        if self.value is None or self.tau_s <= 0:
            self.value = gaze
        else:
            alpha = 1.0 - math.exp(-max(0.0, now_s - self.at_s) / self.tau_s)
            self.value = Gaze(
                self.value.horizontal + alpha * (gaze.horizontal - self.value.horizontal),
                self.value.vertical + alpha * (gaze.vertical - self.value.vertical),
            )
        self.at_s = now_s
        return self.value


@dataclass
class ConditionState:
    """What conditions remember between frames."""

    gaze: GazeSmoother
    mismatches: int = 0
    # Capture time of the frame behind the first of the current run of mismatched identity
    # checks: checks finish off the frame path, so the result arrives later than the face.
    mismatch_since_s: float | None = None
    details: dict[V, dict[str, float]] = field(default_factory=dict)


def evaluate(
    obs: Observation,
    config: RulesConfig,
    neutral: Neutral,
    state: ConditionState,
    objects: ObjectsConfig | None = None,
) -> dict[V, bool]:
    """Frame-level truth of every observation-driven rule; also records peak details."""
    covered = (
        obs.quality.brightness < config.camera_covered.max_brightness
        or obs.quality.contrast < config.camera_covered.max_contrast
    )
    head_away, head_detail = _head_away(obs, config, neutral)
    gaze = state.gaze.update(obs.gaze, obs.monotonic_s)
    eyes_away, eyes_detail = (False, {}) if head_away else _eyes_away(gaze, config, neutral)
    if obs.identity is not None:
        state.mismatches = 0 if obs.identity.match else state.mismatches + 1
        if state.mismatches == 0:
            state.mismatch_since_s = None
        elif state.mismatches == 1:
            checked = obs.identity.monotonic_s
            state.mismatch_since_s = obs.monotonic_s if checked is None else checked
        _peak(state, V.IDENTITY_MISMATCH, {"distance": obs.identity.distance})
    _peak(state, V.MULTIPLE_FACES, {"max_faces": float(obs.face_count)})
    _peak(state, V.LOOKING_AWAY, head_detail)
    _peak(state, V.EYES_AWAY, eyes_detail)
    _peak(state, V.CAMERA_COVERED, {"darkness": 255.0 - obs.quality.brightness})
    object_config = objects or ObjectsConfig()
    seen = object_conditions(obs.objects, object_config)
    for kind, detail in object_details(obs.objects, object_config).items():
        if seen[kind]:
            _peak(state, kind, detail)
    return {
        **seen,
        V.CAMERA_COVERED: covered,
        # A covered lens is reported as such, not also as an absent candidate.
        V.FACE_ABSENT: obs.face_count == 0 and not covered,
        V.MULTIPLE_FACES: obs.face_count >= 2,
        V.LOOKING_AWAY: head_away,
        V.EYES_AWAY: eyes_away,
        V.IDENTITY_MISMATCH: state.mismatches >= config.identity_mismatch.consecutive_mismatches,
    }


def _head_away(
    obs: Observation, config: RulesConfig, neutral: Neutral
) -> tuple[bool, dict[str, float]]:
    if obs.head_pose is None or obs.face_count == 0:
        return False, {}
    yaw = obs.head_pose.yaw - neutral.yaw
    pitch = obs.head_pose.pitch - neutral.pitch
    rule = config.looking_away
    away = abs(yaw) > rule.yaw_deg or abs(pitch) > rule.pitch_deg
    return away, {"yaw_offset_deg": abs(yaw), "pitch_offset_deg": abs(pitch)}


def _eyes_away(
    gaze: Gaze | None, config: RulesConfig, neutral: Neutral
) -> tuple[bool, dict[str, float]]:
    if gaze is None:
        return False, {}
    horizontal = gaze.horizontal - neutral.gaze_horizontal
    vertical = gaze.vertical - neutral.gaze_vertical
    rule = config.eyes_away
    away = abs(horizontal) > rule.horizontal or abs(vertical) > rule.vertical
    return away, {"gaze_offset_h": abs(horizontal), "gaze_offset_v": abs(vertical)}


def _peak(state: ConditionState, kind: V, values: dict[str, float]) -> None:
    current = state.details.setdefault(kind, {})
    for key, value in values.items():
        current[key] = max(current.get(key, value), value)
