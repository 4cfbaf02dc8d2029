"""Wire models: every message a kiosk and central exchange, at one schema version.

Strict at the boundary: unknown fields are rejected, types are not coerced ("5" is not 5),
non-finite numbers are refused, every string and collection is bounded. In-process code uses
these models only at the edges; anything richer is a frozen dataclass inside its package.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    model_validator,
)

from protocol.topics import ID_PATTERN

SCHEMA_VERSION = 1

# Evidence files travel over HTTP, not MQTT; the event only names them. 200 MB bounds a clip.
MAX_EVIDENCE_BYTES = 200 * 1024 * 1024


def _require_v7(value: uuid.UUID) -> uuid.UUID:
    if value.version != 7:
        raise ValueError("must be a UUIDv7 (time-ordered id made by the sender)")
    return value


Uuid7 = Annotated[uuid.UUID, AfterValidator(_require_v7)]
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ShortText = Annotated[str, StringConstraints(max_length=500)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Scalar = str | int | float | bool | None
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
NonNegative = Annotated[float, Field(ge=0)]
Signature = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{86}==$")]  # 64 bytes


def _absent(value: object) -> bool:
    return value is None


class WireModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, allow_inf_nan=False, str_max_length=2000
    )


class DeviceClock(WireModel):
    """When something happened, as the kiosk saw it. Kiosks have no RTC: `synced` says whether
    wall time was set by time sync since boot; `monotonic_s` with `boot_id` orders events
    even when wall time is wrong."""

    wall_time: AwareDatetime
    monotonic_s: NonNegative
    boot_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    synced: bool


class ViolationType(StrEnum):
    FACE_ABSENT = "face_absent"
    MULTIPLE_FACES = "multiple_faces"
    LOOKING_AWAY = "looking_away"
    EYES_AWAY = "eyes_away"
    IDENTITY_MISMATCH = "identity_mismatch"
    CAMERA_LOST = "camera_lost"
    CAMERA_COVERED = "camera_covered"
    SPEECH = "speech"
    CANDIDATE_TALKING = "candidate_talking"
    BACKGROUND_SPEECH = "background_speech"
    PHONE_IN_VIEW = "phone_in_view"
    BOOK_IN_VIEW = "book_in_view"
    SECOND_SCREEN = "second_screen"
    MICROPHONE_LOST = "microphone_lost"
    LOCKDOWN_BREACH = "lockdown_breach"
    RAISED_HAND = "raised_hand"
    DEVICE_FAULT = "device_fault"


class EventState(StrEnum):
    STARTED = "started"
    UPDATED = "updated"
    ENDED = "ended"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class EvidenceRef(WireModel):
    """A clip or snapshot uploaded separately over HTTP and named by its sha256."""

    sha256: Sha256Hex
    size_bytes: Annotated[int, Field(gt=0, le=MAX_EVIDENCE_BYTES)]
    media_type: Literal["video/webm", "image/jpeg", "image/png"]
    role: Literal["clip", "snapshot"]


class DeviceOrigin(WireModel):
    """Fields every message from a kiosk carries."""

    schema_version: Literal[1]
    centre_id: Id
    device_id: Id
    clock: DeviceClock
    simulated: bool = False


class OutboxMessage(DeviceOrigin):
    """A kiosk message that goes through the durable outbox and is acknowledged by central.

    `id` is made on the kiosk and is the primary key everywhere: redelivery is harmless.
    `seq` increases by one per message per device and survives restarts, so central can see gaps.
    """

    id: Uuid7
    seq: Annotated[int, Field(ge=0)]
    # Tamper evidence (see protocol/signing.py): the sha256 of the canonical form of the
    # device's previous message, and an Ed25519 signature (base64) over this message's
    # canonical form. Absent (not null) on kiosks without a signing key, e.g. simulated ones.
    prev_hash: Sha256Hex | None = Field(None, exclude_if=_absent)
    signature: Signature | None = Field(None, exclude_if=_absent)


class SessionRef(WireModel):
    """Who and what a message is about; empty outside an exam (e.g. camera lost at idle)."""

    seat_id: Id | None = None
    session_id: Id | None = None
    candidate_id: Id | None = None
    exam_id: Id | None = None


class ViolationEvent(OutboxMessage):
    """One state change of one violation. All messages of a violation share `violation_id`."""

    kind: Literal["violation"]
    violation_id: Uuid7
    subject: SessionRef
    type: ViolationType
    state: EventState
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    duration_s: NonNegative
    severity: Severity
    confidence: Annotated[float, Field(ge=0, le=1)]
    details: Annotated[dict[Key, Scalar], Field(max_length=32)] = Field(default_factory=dict)
    evidence: Annotated[list[EvidenceRef], Field(max_length=8)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _lifecycle_is_consistent(self) -> Self:
        if self.state is EventState.ENDED and self.ended_at is None:
            raise ValueError("an ended violation needs ended_at")
        if self.state is not EventState.ENDED and self.ended_at is not None:
            raise ValueError("only an ended violation has ended_at")
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        return self


class CheckIn(OutboxMessage):
    kind: Literal["checkin"]
    subject: SessionRef
    method: Literal["face_match", "override"]
    match_distance: Annotated[float, Field(ge=0)] | None = None
    attempts: Annotated[int, Field(ge=0, le=1000)]
    override_by: ShortText | None = None


AnswerValue = (
    Annotated[str, StringConstraints(max_length=2000)]
    | int
    | float
    | Annotated[list[Annotated[str, StringConstraints(max_length=200)]], Field(max_length=50)]
    | None
)


class AnswerSaved(OutboxMessage):
    kind: Literal["answer"]
    subject: SessionRef
    question_id: Id
    answer: AnswerValue
    flagged_for_review: bool = False


class ExamSubmitted(OutboxMessage):
    kind: Literal["submitted"]
    subject: SessionRef
    reason: Literal["candidate", "time_up", "remote_end"]
    answered_count: Annotated[int, Field(ge=0)]


class Explanation(OutboxMessage):
    """The candidate's own words about a flag, shown to the reviewer beside it."""

    kind: Literal["explanation"]
    subject: SessionRef
    violation_id: Uuid7
    note: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class Consent(OutboxMessage):
    """The candidate accepted the rules (what is monitored, recorded, kept and by whom)."""

    kind: Literal["consent"]
    subject: SessionRef
    rules_version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]
    accepted: Literal[True]


class CommandReceipt(OutboxMessage):
    """The kiosk's answer to a command: central shows it as the delivery ack."""

    kind: Literal["receipt"]
    command_id: Uuid7
    status: Literal["received", "done", "rejected"]
    detail: ShortText = ""


class ExamProgress(WireModel):
    """Where the seat's exam stands, for the live console."""

    state: Literal["idle", "checkin", "ready", "running", "paused", "submitted"]
    answered: Annotated[int, Field(ge=0)] = 0
    total: Annotated[int, Field(ge=0)] = 0
    remaining_s: NonNegative | None = None
    warnings: Annotated[int, Field(ge=0)] = 0


class Heartbeat(DeviceOrigin):
    """Periodic health; not acknowledged, the latest one wins."""

    kind: Literal["heartbeat"]
    uptime_s: NonNegative
    fps: NonNegative | None = None
    dropped_frames: Annotated[int, Field(ge=0)] = 0
    stage_ms: Annotated[dict[Key, NonNegative], Field(max_length=32)] = Field(default_factory=dict)
    cpu_percent: NonNegative | None = None
    rss_mb: NonNegative | None = None
    outbox_depth: Annotated[int, Field(ge=0)] = 0
    evidence_backlog: Annotated[int, Field(ge=0)] = 0
    session_id: Id | None = None
    exam: ExamProgress | None = None
    # Stage name -> why it is off (e.g. "no model file configured"); the console shows it.
    disabled_stages: Annotated[dict[Key, ShortText], Field(max_length=16)] = Field(
        default_factory=dict
    )
    audio_level_dbfs: Annotated[float, Field(ge=-200, le=0)] | None = None


class DeviceStatus(WireModel):
    """Retained online/offline flag. The offline copy is the MQTT last will, written at
    connect time, so it has no clock of the moment the connection died."""

    schema_version: Literal[1]
    kind: Literal["status"]
    centre_id: Id
    device_id: Id
    state: Literal["online", "offline"]
    boot_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    reason: ShortText = ""
    clock: DeviceClock | None = None
    simulated: bool = False


class AckResult(WireModel):
    id: uuid.UUID
    status: Literal["stored", "duplicate", "rejected"]
    reason: ShortText = ""


class Ack(WireModel):
    """Central's application-level ack, published after its database commit. Only this lets a
    kiosk delete an outbox row: a broker PUBACK is not delivery."""

    schema_version: Literal[1]
    kind: Literal["ack"]
    centre_id: Id
    device_id: Id
    results: Annotated[list[AckResult], Field(min_length=1, max_length=2000)]
    acked_at: AwareDatetime


class CommandType(StrEnum):
    WARN = "warn"
    PAUSE = "pause"
    RESUME = "resume"
    END_EXAM = "end_exam"
    LOAD_EXAM = "load_exam"
    ENROL = "enrol"
    MESSAGE = "message"
    ADJUST_TIME = "adjust_time"  # args.seconds: more (or less) time for the candidate


class Command(WireModel):
    """Central to kiosk. The kiosk answers with a CommandReceipt through its outbox."""

    schema_version: Literal[1]
    kind: Literal["command"]
    id: Uuid7
    centre_id: Id
    device_id: Id
    type: CommandType
    args: Annotated[dict[Key, JsonValue], Field(max_length=64)] = Field(default_factory=dict)
    issued_at: AwareDatetime
    issued_by: ShortText


SessionMessage = CheckIn | AnswerSaved | ExamSubmitted | Explanation | Consent
AckedMessage = ViolationEvent | SessionMessage | CommandReceipt
Message = AckedMessage | Heartbeat | DeviceStatus | Ack | Command
