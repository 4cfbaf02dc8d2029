"""The kiosk's provisional score, as a table: marks, negative marks, floor, pass boundary."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk_ui.scoring import score
from protocol.models import AnswerValue
from tests.kiosk_ui.exams import exam, four_kinds, question

RIGHT: dict[str, AnswerValue] = {
    "q1": "q1o2",
    "q2": ["q2o3", "q2o0"],
    "q3": "3.140",
    "q4": "  paris ",
}
WRONG: dict[str, AnswerValue] = {"q1": "q1o0", "q2": ["q2o0"], "q3": "3.15", "q4": "Lyon"}


@pytest.mark.parametrize(
    ("answers", "scoring", "expected"),
    [
        # all right: 1 + 2 + 1 + 1 = 5 of 5
        (RIGHT, {}, {"marks": 5.0, "total": 5.0, "percent": 100.0, "passed": True}),
        # nothing answered: no negative marks for blanks
        ({}, {"negative_marks": 1}, {"unanswered": 4, "total": 0.0, "passed": False}),
        # all wrong, floored at zero
        (WRONG, {"negative_marks": 0.5}, {"wrong": 4, "negative_marks": 2.0, "total": 0.0}),
        # all wrong, no floor: the total goes negative
        (
            WRONG,
            {"negative_marks": 0.5, "floor_at_zero": False},
            {"total": -2.0, "percent": -40.0, "passed": False},
        ),
        # 3 right (q1, q2 = 3 marks... q2 is worth 2) and q4 wrong: 4 - 0.25 = 3.75 → 75 %
        (
            {**RIGHT, "q4": "Lyon"},
            {"negative_marks": 0.25},
            {"correct": 3, "wrong": 1, "marks": 4.0, "total": 3.75, "percent": 75.0},
        ),
    ],
)
def test_score_table(
    answers: dict[str, Any], scoring: dict[str, Any], expected: dict[str, Any]
) -> None:
    result = score(four_kinds(scoring=scoring), answers)
    for field, value in expected.items():
        assert getattr(result, field) == value, field


@pytest.mark.parametrize(
    ("correct_count", "pass_percent", "passed"),
    [
        (5, 50.0, True),  # exactly at the pass mark passes
        (4, 50.0, False),  # just below
        (6, 50.0, True),
        (10, 100.0, True),
        (9, 100.0, False),
        (0, 0.0, True),  # a zero pass mark is passed by anyone
        (3, 30.0, True),  # 3/10 = 30 % exactly, despite floating point (0.1 * 3)
    ],
)
def test_pass_boundary(correct_count: int, pass_percent: float, passed: bool) -> None:
    ten = exam(
        [question(f"q{i}", "single", f"q{i}o0", marks=0.1) for i in range(10)],
        scoring={"pass_percent": pass_percent},
    )
    answers = {f"q{i}": f"q{i}o0" for i in range(correct_count)}
    assert score(ten, answers).passed is passed


def test_negative_marks_make_a_pass_a_fail_at_the_boundary() -> None:
    four = exam(
        [question(f"q{i}", "single", f"q{i}o0") for i in range(4)],
        scoring={"negative_marks": 0.5, "pass_percent": 50},
    )
    # 2 right = 50 %: pass; 2 right and 1 wrong = 1.5 / 4 = 37.5 %: fail
    assert score(four, {"q0": "q0o0", "q1": "q1o0"}).passed is True
    worse = score(four, {"q0": "q0o0", "q1": "q1o0", "q2": "q2o1"})
    assert (worse.total, worse.percent, worse.passed) == (1.5, 37.5, False)


def test_unmarked_questions_leave_the_score_provisional() -> None:
    mixed = exam([question("a", "single", "ao1"), question("essay", "text", None)])
    result = score(mixed, {"a": "ao1", "essay": "my essay"})
    assert (result.unmarked, result.max_marks, result.percent) == (1, 1.0, 100.0)
    assert not result.final
    only_essay = score(exam([question("essay", "text", None)]), {"essay": "x"})
    assert only_essay.percent is None
    assert only_essay.passed is None


def test_time_penalty_is_reported_in_the_breakdown() -> None:
    assert score(four_kinds(), WRONG, time_penalty_s=300.0).time_penalty_s == 300.0
