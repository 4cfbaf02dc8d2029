"""Quiz score table: marks, negative marks, the floor at zero, the pass percent, latest answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from central.scoring.quiz import SavedAnswer, latest_answers, score_quiz
from tests.central.scoring.exams import answers, exam

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("right", "wrong", "negative", "floor", "score", "percent", "passed"),
    [
        (0, 0, 0.0, True, 0.0, 0.0, False),  # nothing answered
        (5, 0, 0.0, True, 5.0, 100.0, True),  # all right: 100 %
        (2, 0, 0.0, True, 2.0, 40.0, True),  # exactly the pass percent
        (2, 3, 0.0, True, 2.0, 40.0, True),  # wrong answers cost nothing by default
        (2, 1, 0.25, True, 1.75, 35.0, False),  # one negative mark drops below 40 %
        (0, 5, 0.5, True, 0.0, 0.0, False),  # -2.5 floored at zero
        (0, 5, 0.5, False, -2.5, -50.0, False),  # no floor: the total goes negative
        (3, 2, 0.5, True, 2.0, 40.0, True),  # 3 - 1 = 2: exactly 40 % again
    ],
)
def test_quiz_table(
    right: int,
    wrong: int,
    negative: float,
    floor: bool,
    score: float,
    percent: float,
    passed: bool,
) -> None:
    definition = exam(negative_marks=negative, floor_at_zero=floor)
    quiz = score_quiz(definition, answers(right, wrong))
    assert (quiz.score, quiz.percent, quiz.passed) == (score, percent, passed)
    assert quiz.count("correct") == right
    assert quiz.count("wrong") == wrong
    assert quiz.count("unanswered") == 5 - right - wrong
    assert quiz.penalty == wrong * negative
    assert quiz.floored is (floor and right - wrong * negative < 0)


def test_unkeyed_questions_are_left_out_of_the_maximum() -> None:
    quiz = score_quiz(exam(5, unkeyed=1), answers(2, 0))
    assert quiz.max_marks == 4.0
    assert quiz.percent == 50.0
    assert quiz.count("unmarked") == 1


def test_pass_percent_zero_passes_with_nothing() -> None:
    assert score_quiz(exam(pass_percent=0), {}).passed


def _saved(question: str, answer: str, seq: int, device: str = "k1", at: int = 0) -> SavedAnswer:
    return SavedAnswer(
        question_id=question,
        answer=answer,
        device_id=device,
        seq=seq,
        received_at=T0 + timedelta(seconds=at),
    )


def test_latest_answer_per_question_wins_by_seq() -> None:
    saved = [
        _saved("q1", "b", seq=7, at=1),
        _saved("q1", "a", seq=9, at=2),
        _saved("q2", "a", seq=8, at=30),  # resent late, but older than seq 10
        _saved("q2", "b", seq=10, at=3),
    ]
    assert latest_answers(saved) == {"q1": "a", "q2": "b"}


def test_answers_on_a_replacement_kiosk_come_after() -> None:
    saved = [
        _saved("q1", "a", seq=50, device="old", at=0),
        _saved("q1", "b", seq=1, device="new", at=600),  # new kiosk starts its seq again
    ]
    assert latest_answers(saved) == {"q1": "b"}
