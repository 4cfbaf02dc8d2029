"""A small exam day for the review, result and access tests.

Two halls with one seat each; one exam (5 questions, right answer "a", pass 40 %, 0.25 off per
wrong answer); cand-1 in hall A (sess-1) with a phone flag (explained, with a clip), a 95 s
look-away flag and a raised hand (information only); cand-2 in hall B (sess-2) with no flag.
Both have submitted. Users: ada (admin), rita (reviewer), ivy (invigilator of hall A), ian
(invigilator of hall B).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from central.models import DeviceMessage
from central.scoring.policy import ProctoringPolicy
from central.services import create_user, store_batch
from central.services.audit import SYSTEM
from central.services.evidence import EvidenceFiles, EvidenceUpload, store_evidence
from central.services.planning import (
    HallLayout,
    SeatPlace,
    Sitting,
    add_seat,
    assign_invigilator,
    create_candidate,
    create_centre,
    create_exam,
    create_hall,
    schedule_session,
)
from protocol import (
    AnswerSaved,
    EventState,
    EvidenceRef,
    ExamSubmitted,
    SessionRef,
    Severity,
    ViolationEvent,
    ViolationType,
    uuid7,
)
from tests.central import factories as f
from tests.central.scoring.exams import exam

PASSWORD = "correct horse battery"
CLIP_A = b"\x1a\x45\xdf\xa3" + b"hall A clip" * 50
CLIP_B = b"\x1a\x45\xdf\xa3" + b"hall B clip" * 50
SHA_A = hashlib.sha256(CLIP_A).hexdigest()
SHA_B = hashlib.sha256(CLIP_B).hexdigest()
EXPLANATION = "My phone was switched off in my bag; I moved the bag."


@dataclass(frozen=True)
class Day:
    phone: str  # violation ids
    looking_away: str
    raised_hand: str
    hall_b_flag: str | None
    user_ids: dict[str, int]


def _sitting(session_id: str, candidate: str, seat: str) -> Sitting:
    return Sitting(session_id, "exam-1", candidate, seat, f.T0, f.T0 + timedelta(hours=1))


def _people_and_places(session: Session, policy: ProctoringPolicy) -> dict[str, int]:
    users = {
        name: create_user(session, name, PASSWORD, role).id
        for name, role in (
            ("ada", "admin"),
            ("rita", "reviewer"),
            ("ivy", "invigilator"),
            ("ian", "invigilator"),
        )
    }
    create_centre(session, SYSTEM, f.CENTRE, "Test centre")
    for hall, device, seat in (("hall-a", "kiosk-1", "A-01"), ("hall-b", "kiosk-2", "B-01")):
        create_hall(session, SYSTEM, hall, f.CENTRE, HallLayout(2, 3, frozenset({(1, 2)})))
        add_seat(session, SYSTEM, hall, SeatPlace(seat, seat, 1, 1, device))
    assign_invigilator(session, SYSTEM, users["ivy"], "hall-a")
    assign_invigilator(session, SYSTEM, users["ian"], "hall-b")
    create_exam(session, SYSTEM, exam(5, negative_marks=0.25), policy)
    create_candidate(session, SYSTEM, "cand-1", "1001", "Ada Candidate")
    create_candidate(session, SYSTEM, "cand-2", "1002", "Bo Candidate")
    schedule_session(session, SYSTEM, _sitting("sess-1", "cand-1", "A-01"))
    schedule_session(session, SYSTEM, _sitting("sess-2", "cand-2", "B-01"))
    return users


def _who(session_id: str) -> tuple[str, SessionRef]:
    """The kiosk and subject of a session's messages."""
    seat, candidate, device = (
        ("A-01", "cand-1", "kiosk-1") if session_id == "sess-1" else ("B-01", "cand-2", "kiosk-2")
    )
    return device, f.subject(session_id, seat).model_copy(update={"candidate_id": candidate})


def _ended(
    session_id: str,
    seq: int,
    kind: ViolationType,
    severity: Severity,
    duration_s: float,
    evidence: list[EvidenceRef] | None = None,
) -> ViolationEvent:
    started = f.T0 + timedelta(minutes=seq)
    device, subject = _who(session_id)
    return f.event(
        device,
        subject=subject,
        seq=seq,
        state=EventState.ENDED,
        started_at=started,
        type=kind,
        severity=severity,
        ended_at=started + timedelta(seconds=duration_s),
        duration_s=duration_s,
        evidence=evidence or [],
    )


def _answer(session_id: str, seq: int, question: str, value: str) -> AnswerSaved:
    device, subject = _who(session_id)
    return AnswerSaved(
        schema_version=1,
        kind="answer",
        centre_id=f.CENTRE,
        device_id=device,
        clock=f.clock(f.T0 + timedelta(minutes=seq)),
        id=uuid7(),
        seq=seq,
        subject=subject,
        question_id=question,
        answer=value,
    )


def _submitted(session_id: str, seq: int) -> ExamSubmitted:
    device, subject = _who(session_id)
    return ExamSubmitted(
        schema_version=1,
        kind="submitted",
        centre_id=f.CENTRE,
        device_id=device,
        clock=f.clock(f.T0 + timedelta(minutes=50)),
        id=uuid7(),
        seq=seq,
        subject=subject,
        reason="candidate",
        answered_count=5,
    )


def _explanation(violation_id: str, seq: int) -> DeviceMessage:
    """Stored as ingest stores session messages (kind, session, body = the message as JSON)."""
    body = {
        "schema_version": 1,
        "kind": "explanation",
        "centre_id": f.CENTRE,
        "device_id": "kiosk-1",
        "id": str(uuid7()),
        "seq": seq,
        "subject": f.subject("sess-1", "A-01").model_dump(mode="json"),
        "violation_id": violation_id,
        "note": EXPLANATION,
    }
    return DeviceMessage(
        message_id=body["id"],
        kind="explanation",
        device_id="kiosk-1",
        centre_id=f.CENTRE,
        session_id="sess-1",
        body=body,
        seq=seq,
        device_time=f.T0 + timedelta(minutes=40),
        received_at=f.T0 + timedelta(minutes=40),
    )


def clip(sha: str) -> EvidenceRef:
    return EvidenceRef(sha256=sha, size_bytes=len(CLIP_A), media_type="video/webm", role="clip")


def build(
    session: Session,
    evidence_dir: Path | None = None,
    policy: ProctoringPolicy | None = None,
    hall_b_flag: bool = False,
) -> Day:
    """The whole day in the caller's transaction. With `evidence_dir`, the clips are stored."""
    users = _people_and_places(session, policy or ProctoringPolicy())
    phone = _ended("sess-1", 1, ViolationType.PHONE_IN_VIEW, Severity.HIGH, 3.0, [clip(SHA_A)])
    looking = _ended("sess-1", 2, ViolationType.LOOKING_AWAY, Severity.MEDIUM, 95.0)
    hand = _ended("sess-1", 3, ViolationType.RAISED_HAND, Severity.INFO, 10.0)
    items: list[object] = [phone, looking, hand]
    items += [_answer("sess-1", 10 + i, f"q{i}", "a" if i <= 4 else "b") for i in range(1, 6)]
    items += [_answer("sess-2", 10, "q1", "b"), _answer("sess-2", 11, "q1", "a")]
    items += [_submitted("sess-1", 20), _submitted("sess-2", 20)]
    b_flag = None
    if hall_b_flag:
        b_event = _ended("sess-2", 5, ViolationType.SPEECH, Severity.LOW, 4.0, [clip(SHA_B)])
        b_flag = str(b_event.violation_id)
        items.append(b_event)
    store_batch(session, items)  # type: ignore[arg-type]
    session.add(_explanation(str(phone.violation_id), 30))
    if evidence_dir is not None:
        files = EvidenceFiles(evidence_dir, 1 << 20)
        for body, device in ((CLIP_A, "kiosk-1"), (CLIP_B, "kiosk-2")):
            upload = EvidenceUpload(
                hashlib.sha256(body).hexdigest(), "video/webm", device, io.BytesIO(body), len(body)
            )
            store_evidence(session, files, upload)
    session.flush()
    return Day(
        phone=str(phone.violation_id),
        looking_away=str(looking.violation_id),
        raised_hand=str(hand.violation_id),
        hall_b_flag=b_flag,
        user_ids=users,
    )
