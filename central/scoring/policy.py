"""An exam's proctoring policy: which rules the kiosk runs and how central weighs what they find.

Stored as JSON in `exams.proctoring`; missing fields take the defaults below, so a policy saved
before a field existed still loads.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from protocol.models import ViolationType

# Points taken off the trust score by one violation of the type lasting no time at all (the
# duration factor scales it up). Zero: shown to staff, never counted, never needs review.
DEFAULT_WEIGHTS: dict[ViolationType, float] = {
    ViolationType.IDENTITY_MISMATCH: 25.0,
    ViolationType.PHONE_IN_VIEW: 15.0,
    ViolationType.SECOND_SCREEN: 15.0,
    ViolationType.MULTIPLE_FACES: 15.0,
    ViolationType.LOCKDOWN_BREACH: 15.0,
    ViolationType.BOOK_IN_VIEW: 10.0,
    ViolationType.CAMERA_COVERED: 10.0,
    ViolationType.CANDIDATE_TALKING: 8.0,
    ViolationType.FACE_ABSENT: 8.0,
    ViolationType.SPEECH: 5.0,
    ViolationType.CAMERA_LOST: 5.0,
    ViolationType.LOOKING_AWAY: 4.0,
    ViolationType.EYES_AWAY: 3.0,
    ViolationType.BACKGROUND_SPEECH: 3.0,
    ViolationType.MICROPHONE_LOST: 3.0,
    ViolationType.RAISED_HAND: 0.0,
    ViolationType.DEVICE_FAULT: 0.0,
}

UNKNOWN_TYPE_WEIGHT = 5.0  # a type this server does not know yet (a newer kiosk)
Weight = Annotated[float, Field(ge=0, le=100)]
Days = Annotated[int, Field(ge=0, le=3650)]


class RetentionPolicy(BaseModel):
    """How long central keeps a session's evidence files (docs/retention.md). Every clock starts
    when the session's result is released: an unreleased session's evidence is never deleted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clean_days: Days = Field(
        30,
        description="Days after release before the evidence of a session with no confirmed "
        "violation is deleted (0: at the first purge after release).",
    )
    flagged_days_after_release: Days | None = Field(
        30,
        description="Days after release before the evidence of a session with a confirmed "
        "violation is deleted (the appeal window; 0: at the first purge after release; "
        "None: kept until deleted by hand).",
    )


class ProctoringPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled_rules: list[ViolationType] = Field(
        default_factory=lambda: list(ViolationType),
        description="Rules the kiosk runs; the others are switched off for this exam.",
    )
    weights: dict[ViolationType, Weight] = Field(
        default_factory=dict,
        description="Per-type weight in trust points; types not listed use DEFAULT_WEIGHTS.",
    )
    duration_unit_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        60.0, description="Each unit of duration adds one more weight's worth."
    )
    duration_cap_s: Annotated[float, Field(ge=0, le=86_400)] = Field(
        300.0, description="Durations beyond this count as this (one long glitch is bounded)."
    )
    pending_factor: Annotated[float, Field(ge=0, le=1)] = Field(
        0.5, description="Share of its weight an unreviewed flag takes off (confirmed: all)."
    )
    pass_threshold: Annotated[float, Field(ge=0, le=100)] = Field(
        70.0, description="The trust score needed to pass (at the threshold passes)."
    )
    auto_release_clean: bool = Field(
        True, description="Release the result of a finished session with no flags unasked."
    )
    retention: RetentionPolicy = Field(
        default_factory=RetentionPolicy,
        description="When the session's evidence files are deleted (see RetentionPolicy).",
    )

    def weight(self, violation_type: str) -> float:
        """The type's weight; unknown types (a newer kiosk) weigh like a medium flag."""
        try:
            known = ViolationType(violation_type)
        except ValueError:
            return UNKNOWN_TYPE_WEIGHT
        return self.weights.get(known, DEFAULT_WEIGHTS.get(known, UNKNOWN_TYPE_WEIGHT))

    def is_flag(self, violation_type: str) -> bool:
        """Whether a violation of this type needs a human decision (weight above zero)."""
        return self.weight(violation_type) > 0
