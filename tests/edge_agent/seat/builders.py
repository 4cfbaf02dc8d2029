"""Commands, exams and enrolments as central sends them, for the seat tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import JsonValue

from protocol import Command, CommandType, uuid7

CENTRE, DEVICE, SEAT = "centre-t", "kiosk-seat-1", "seat-07"
ISSUED_AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


def exam_json(exam_id: str = "exam-1", **policy: Any) -> dict[str, Any]:
    return {
        "id": exam_id,
        "title": "Sample exam",
        "key_salt": "00112233445566778899aabbccddeeff",
        "questions": [
            {
                "id": "q1",
                "kind": "single",
                "prompt": "Two plus two?",
                "options": [{"id": "a", "text": "3"}, {"id": "b", "text": "4"}],
            },
            {"id": "q2", "kind": "numeric", "prompt": "Pi to two decimals?", "decimals": 2},
        ],
        "policy": {"duration_s": 1800, **policy},
    }


def enrolment_json(
    session_id: str = "sess-1",
    encoding: list[float] | None = None,
    *,
    seat_id: str = SEAT,
    candidate_number: str = "C-1001",
) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "candidate_id": "cand-1",
        "candidate_number": candidate_number,
        "display_name": "Ada Lovelace",
        "exam_id": "exam-1",
        "seat_id": seat_id,
        "encoding": encoding if encoding is not None else [0.01 * i for i in range(128)],
    }


def command(kind: CommandType, **args: JsonValue) -> Command:
    return Command(
        schema_version=1,
        kind="command",
        id=uuid7(),
        centre_id=CENTRE,
        device_id=DEVICE,
        type=kind,
        args=args,
        issued_at=ISSUED_AT,
        issued_by="invigilator-3",
    )
