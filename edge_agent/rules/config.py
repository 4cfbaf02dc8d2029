"""Per-exam rule thresholds. Angles and gaze offsets are relative to the candidate's neutral
pose from calibration (or the defaults below when there was no calibration)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timing(_Strict):
    min_duration_s: float = Field(2.0, ge=0, description="Condition must last this long to start.")
    end_after_s: float = Field(1.0, ge=0, description="Condition must be clear this long to end.")
    enabled: bool = Field(True, description="Whether this rule raises violations at all.")


class FaceAbsentRule(Timing):
    min_duration_s: float = Field(3.0, ge=0, description="No face for this long starts it.")


class MultipleFacesRule(Timing):
    min_duration_s: float = Field(2.0, ge=0, description="Two or more faces for this long.")


class LookingAwayRule(Timing):
    min_duration_s: float = Field(3.0, ge=0, description="Head turned away for this long.")
    yaw_deg: float = Field(30.0, gt=0, description="Yaw beyond neutral +- this is away.")
    pitch_deg: float = Field(25.0, gt=0, description="Pitch beyond neutral +- this is away.")


class EyesAwayRule(Timing):
    min_duration_s: float = Field(2.0, ge=0, description="Eyes turned away for this long.")
    horizontal: float = Field(
        0.05, gt=0, description="Iris ratio beyond neutral +- this is away (0.5 = centred)."
    )
    vertical: float = Field(0.12, gt=0, description="Vertical iris ratio beyond neutral +- this.")
    smoothing_s: float = Field(
        0.3, ge=0, description="Time constant of the moving average over gaze (blink noise)."
    )


class IdentityRule(Timing):
    min_duration_s: float = Field(0.0, ge=0, description="Checks are sparse: start at once.")
    consecutive_mismatches: int = Field(
        2, ge=1, description="Mismatched identity checks in a row needed to start."
    )


class CameraCoveredRule(Timing):
    min_duration_s: float = Field(2.0, ge=0, description="Dark or uniform frames for this long.")
    max_brightness: float = Field(25.0, ge=0, description="Mean grey below this is dark.")
    max_contrast: float = Field(6.0, ge=0, description="Grey std below this is uniform.")


class RulesConfig(_Strict):
    face_absent: FaceAbsentRule = Field(default_factory=FaceAbsentRule)
    multiple_faces: MultipleFacesRule = Field(default_factory=MultipleFacesRule)
    looking_away: LookingAwayRule = Field(default_factory=LookingAwayRule)
    eyes_away: EyesAwayRule = Field(default_factory=EyesAwayRule)
    identity_mismatch: IdentityRule = Field(default_factory=IdentityRule)
    camera_covered: CameraCoveredRule = Field(default_factory=CameraCoveredRule)
    camera_lost: Timing = Field(
        default_factory=lambda: Timing(min_duration_s=0.0, end_after_s=0.0),
        description="Capture reports loss after its own timeout; start and end at once.",
    )
    phone_in_view: Timing = Field(
        default_factory=lambda: Timing(min_duration_s=2.0, end_after_s=2.0),
        description="A phone seen (vision.objects thresholds) for this long. The detector "
        "runs about 3 times a second, so 2 s is several sightings, not one frame.",
    )
    book_in_view: Timing = Field(
        default_factory=lambda: Timing(min_duration_s=3.0, end_after_s=2.0),
        description="A book seen for this long (books score low: a longer minimum).",
    )
    second_screen: Timing = Field(
        default_factory=lambda: Timing(min_duration_s=2.0, end_after_s=2.0),
        description="A laptop or another screen in view for this long.",
    )
    speech: Timing = Field(
        default_factory=lambda: Timing(min_duration_s=1.0, end_after_s=1.5),
        description="Speech for this long starts it; silence for end_after_s ends it "
        "(the VAD's own hangover already bridges pauses between words).",
    )
    candidate_talking: Timing = Field(
        default_factory=lambda: Timing(min_duration_s=1.0, end_after_s=1.5),
        description="Speech with the candidate's lips moving.",
    )
    background_speech: Timing = Field(
        default_factory=lambda: Timing(min_duration_s=2.0, end_after_s=1.5),
        description="Speech while the candidate's lips are still.",
    )
    microphone_lost: Timing = Field(
        default_factory=lambda: Timing(min_duration_s=0.0, end_after_s=0.0),
        description="Capture reports loss after its own timeout; start and end at once.",
    )
    update_interval_s: float = Field(
        10.0, gt=0, description="While active, an `updated` message this often."
    )
