"""The demo's exam is valid and its keys mark the intended answers right and others wrong."""

from __future__ import annotations

from central.demo_exam import DEMO_EXAM_ID, demo_exam
from protocol.exam import judge


def test_demo_exam_keys() -> None:
    exam = demo_exam()
    assert exam.id == DEMO_EXAM_ID
    by_id = {q.id: q for q in exam.questions}
    right = {"q1": "b", "q2": ["c", "a"], "q3": 144, "q4": 3.14, "q5": "Paris", "q6": "b"}
    wrong = {"q1": "a", "q2": ["a"], "q3": 143, "q4": 3.15, "q5": "Lyon", "q6": "c"}
    assert {qid: judge(exam, by_id[qid], value) for qid, value in right.items()} == dict.fromkeys(
        right, "correct"
    )
    assert {qid: judge(exam, by_id[qid], value) for qid, value in wrong.items()} == dict.fromkeys(
        wrong, "wrong"
    )
    assert exam.scoring.negative_marks > 0
    assert exam.scoring.time_penalty_s > 0
