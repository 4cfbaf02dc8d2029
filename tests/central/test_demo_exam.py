"""The demo's exam marks the intended answers right and others wrong; its exam day is seeded
once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.demo_exam import DEMO_EXAM_ID, demo_exam
from central.demo_seed import seed
from central.domain_models import InvigilatorAssignment, Seat
from central.services import authenticate, create_user
from protocol.exam import judge
from protocol.models import AnswerValue


def test_demo_exam_keys() -> None:
    exam = demo_exam()
    assert exam.id == DEMO_EXAM_ID
    by_id = {q.id: q for q in exam.questions}
    right: dict[str, AnswerValue] = {
        "q1": "b",
        "q2": ["c", "a"],
        "q3": 144,
        "q4": 3.14,
        "q5": "Paris",
        "q6": "b",
    }
    wrong: dict[str, AnswerValue] = {
        "q1": "a",
        "q2": ["a"],
        "q3": 143,
        "q4": 3.15,
        "q5": "Lyon",
        "q6": "c",
    }
    assert {qid: judge(exam, by_id[qid], value) for qid, value in right.items()} == dict.fromkeys(
        right, "correct"
    )
    assert {qid: judge(exam, by_id[qid], value) for qid, value in wrong.items()} == dict.fromkeys(
        wrong, "wrong"
    )
    assert exam.scoring.negative_marks > 0
    assert exam.scoring.time_penalty_s > 0


def test_demo_exam_day_is_seeded_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        admin = create_user(session, "admin", "pw-123456", "admin")
        kiosks = [f"sim-kiosk-{i:02d}" for i in range(6)]
        assert seed(session, admin, kiosks, "kiosk-cam-01", "pw-123456")
    with sessions.begin() as session:
        admin_info = authenticate(session, "admin", "pw-123456")
        assert admin_info is not None
        assert not seed(session, admin_info, kiosks, "kiosk-cam-01", "pw-123456")
        seats = {s.device_id: (s.seat_id, s.label) for s in session.scalars(select(Seat))}
        assert seats["kiosk-cam-01"] == ("seat-cam-01", "A1")
        assert seats["sim-kiosk-00"] == ("seat-00", "A2")  # the simulator's own seat id
        assert len(seats) == 7
        invigilator = authenticate(session, "invigilator", "pw-123456")
        assert invigilator is not None
        assert session.get(InvigilatorAssignment, (invigilator.id, "hall-a")) is not None
