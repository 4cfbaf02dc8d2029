"""One fixed example of every wire message. The golden files are these, encoded.

Regenerate the golden files only for a deliberate format change (and bump the schema version
if old peers cannot read the new form): `python -m tests.protocol.examples --write`.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from protocol import (
    Ack,
    AckResult,
    AnswerSaved,
    CheckIn,
    Command,
    CommandReceipt,
    CommandType,
    Consent,
    DeviceClock,
    DeviceStatus,
    EventState,
    EvidenceRef,
    ExamProgress,
    ExamSubmitted,
    Explanation,
    Heartbeat,
    Message,
    SessionRef,
    Severity,
    ViolationEvent,
    ViolationType,
    encode,
)
from protocol.exam import (
    Enrolment,
    ExamDefinition,
    ExamPolicy,
    Option,
    Question,
    QuestionKind,
    ScoringPolicy,
    answer_digest,
)

M = TypeVar("M", bound=BaseModel)
GOLDEN_DIR = Path(__file__).parent / "golden"
T0 = datetime(2026, 11, 25, 9, 30, 0, 123000, tzinfo=UTC)
CLOCK = DeviceClock(wall_time=T0, monotonic_s=3605.25, boot_id="7c1e5f0a-boot", synced=True)
SUBJECT = SessionRef(
    seat_id="A-07", session_id="sess-0042", candidate_id="cand-1187", exam_id="math-2026-11"
)
COMMON: dict[str, Any] = {
    "schema_version": 1,
    "centre_id": "centre-1",
    "device_id": "kiosk-a07",
    "clock": CLOCK,
}


def _id(n: int) -> uuid.UUID:
    """Deterministic UUIDv7s for the examples."""
    return uuid.UUID(f"019ab8e2-4c1f-7{n:03x}-8000-00000000{n:04x}")


SALT = "5f0c2a9e1b7d4c33"
EXAM = ExamDefinition(
    id="math-2026-11",
    title="Mathematics, November 2026",
    key_salt=SALT,
    questions=[
        Question(
            id="q-1",
            kind=QuestionKind.SINGLE,
            prompt="What is 7 x 8?",
            options=[Option(id="a", text="54"), Option(id="b", text="56")],
            answer_key=answer_digest(SALT, "q-1", "b"),
        ),
        Question(
            id="q-2",
            kind=QuestionKind.NUMERIC,
            prompt="Give pi to two decimals.",
            marks=2.0,
            decimals=2,
            answer_key=answer_digest(SALT, "q-2", "3.14"),
        ),
    ],
    scoring=ScoringPolicy(negative_marks=0.25, time_penalty_s=300.0, pass_percent=40.0),
    policy=ExamPolicy(duration_s=3600.0, shuffle_questions=True, warning_limit=5),
)
ENROLMENT = Enrolment(
    session_id="sess-0042",
    candidate_id="cand-1187",
    candidate_number="C-1187",
    display_name="Ada Example",
    exam_id="math-2026-11",
    seat_id="A-07",
    encoding=[round(0.01 * (i % 17) - 0.08, 3) for i in range(128)],
)

EXAMPLES: dict[str, Message] = {
    "violation_started": ViolationEvent(
        **COMMON,
        kind="violation",
        id=_id(1),
        seq=41,
        violation_id=_id(2),
        subject=SUBJECT,
        type=ViolationType.LOOKING_AWAY,
        state=EventState.STARTED,
        started_at=T0,
        duration_s=0.0,
        severity=Severity.MEDIUM,
        confidence=0.87,
        details={"yaw_deg": 38.5, "threshold_deg": 30, "calibrated": True},
    ),
    "violation_ended": ViolationEvent(
        **COMMON,
        kind="violation",
        id=_id(3),
        seq=42,
        violation_id=_id(2),
        subject=SUBJECT,
        type=ViolationType.LOOKING_AWAY,
        state=EventState.ENDED,
        started_at=T0,
        ended_at=datetime(2026, 11, 25, 9, 30, 14, 123000, tzinfo=UTC),
        duration_s=14.0,
        severity=Severity.MEDIUM,
        confidence=0.91,
        details={"max_yaw_deg": 52.0},
        evidence=[
            EvidenceRef(sha256="a" * 64, size_bytes=412_338, media_type="video/webm", role="clip"),
            EvidenceRef(
                sha256="b" * 64, size_bytes=48_120, media_type="image/jpeg", role="snapshot"
            ),
        ],
    ),
    "checkin": CheckIn(
        **COMMON,
        kind="checkin",
        id=_id(4),
        seq=1,
        subject=SUBJECT,
        method="face_match",
        match_distance=0.41,
        attempts=1,
    ),
    "answer": AnswerSaved(
        **COMMON,
        kind="answer",
        id=_id(5),
        seq=7,
        subject=SUBJECT,
        question_id="q-12",
        answer=["b", "d"],
        flagged_for_review=True,
    ),
    "submitted": ExamSubmitted(
        **COMMON,
        kind="submitted",
        id=_id(6),
        seq=90,
        subject=SUBJECT,
        reason="time_up",
        answered_count=38,
    ),
    "explanation": Explanation(
        **COMMON,
        kind="explanation",
        id=_id(10),
        seq=60,
        subject=SUBJECT,
        violation_id=_id(2),
        note="I was reading the question aloud to myself.",
    ),
    "consent": Consent(
        **COMMON,
        kind="consent",
        id=_id(11),
        seq=2,
        subject=SUBJECT,
        rules_version="2026-11",
        language="en",
        accepted=True,
    ),
    "receipt": CommandReceipt(
        **COMMON, kind="receipt", id=_id(7), seq=91, command_id=_id(8), status="received"
    ),
    "heartbeat": Heartbeat(
        **COMMON,
        kind="heartbeat",
        uptime_s=3600.0,
        fps=29.9,
        dropped_frames=3,
        stage_ms={"face_mesh": 4.1, "head_pose": 0.3},
        cpu_percent=31.5,
        rss_mb=212.0,
        outbox_depth=2,
        session_id="sess-0042",
        exam=ExamProgress(state="running", answered=12, total=40, remaining_s=1805.5, warnings=1),
        disabled_stages={"objects": "no model file configured"},
        audio_level_dbfs=-48.5,
    ),
    "status_offline": DeviceStatus(
        schema_version=1,
        kind="status",
        centre_id="centre-1",
        device_id="kiosk-a07",
        state="offline",
        boot_id="7c1e5f0a-boot",
        reason="connection lost",
    ),
    "ack": Ack(
        schema_version=1,
        kind="ack",
        centre_id="centre-1",
        device_id="kiosk-a07",
        results=[AckResult(id=_id(1), status="stored"), AckResult(id=_id(3), status="duplicate")],
        acked_at=datetime(2026, 11, 25, 9, 30, 15, tzinfo=UTC),
    ),
    "command_warn": Command(
        schema_version=1,
        kind="command",
        id=_id(9),
        centre_id="centre-1",
        device_id="kiosk-a07",
        type=CommandType.WARN,
        args={"text": "Please keep your eyes on your screen.", "count": 2},
        issued_at=T0,
        issued_by="invigilator:rkhan",
    ),
    "command_load_exam": Command(
        schema_version=1,
        kind="command",
        id=_id(12),
        centre_id="centre-1",
        device_id="kiosk-a07",
        type=CommandType.LOAD_EXAM,
        args={"exam": EXAM.model_dump(mode="json")},
        issued_at=T0,
        issued_by="admin:root",
    ),
    "command_enrol": Command(
        schema_version=1,
        kind="command",
        id=_id(13),
        centre_id="centre-1",
        device_id="kiosk-a07",
        type=CommandType.ENROL,
        args={"enrolment": ENROLMENT.model_dump(mode="json")},
        issued_at=T0,
        issued_by="admin:root",
    ),
}


def example(name: str, kind: type[M]) -> M:
    """An example, typed as the model it is."""
    message = EXAMPLES[name]
    assert isinstance(message, kind)
    return message


def golden_path(name: str) -> Path:
    return GOLDEN_DIR / f"{name}.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="rewrite the golden files")
    if parser.parse_args().write:
        for name, message in EXAMPLES.items():
            golden_path(name).write_bytes(encode(message) + b"\n")


if __name__ == "__main__":
    main()
