"""Pass or fail with the reason in words."""

from __future__ import annotations

import pytest

from central.scoring.policy import ProctoringPolicy
from central.scoring.quiz import QuizScore, score_quiz
from central.scoring.result import exam_result, number
from central.scoring.trust import ScoredViolation, Status, trust_score
from tests.central.scoring.exams import answers, exam

POLICY = ProctoringPolicy()


def v(kind: str, duration_s: float = 0.0, status: Status = "confirmed") -> ScoredViolation:
    return ScoredViolation(
        violation_id=f"{kind}-{duration_s}", type=kind, duration_s=duration_s, status=status
    )


def _quiz(percent_of_ten: int, pass_percent: float = 40.0) -> QuizScore:
    return score_quiz(exam(10, pass_percent=pass_percent), answers(percent_of_ten // 10, 0))


@pytest.mark.parametrize(
    ("value", "text"), [(54.0, "54"), (61.25, "61.2"), (0.0, "0"), (100, "100"), (37.5, "37.5")]
)
def test_number(value: float, text: str) -> None:
    assert number(value) == text


@pytest.mark.parametrize(
    ("violations", "percent", "reason", "passed"),
    [
        (
            [v("phone_in_view", 3), v("phone_in_view", 3), v("looking_away", 95)],
            80,
            "Fail: trust 58.2 < 70, confirmed: phone in view 2x, looking away 95 s",
            False,
        ),
        ([], 30, "Fail: score 30 % < 40 %", False),
        ([], 40, "Pass: trust 100 ≥ 70, score 40 % ≥ 40 %", True),  # both exactly at the mark
        (
            [v("phone_in_view"), v("phone_in_view")],
            70,
            "Pass: trust 70 ≥ 70, score 70 % ≥ 40 %",
            True,
        ),
        (
            [
                v("identity_mismatch", 120),
                v("speech", 4, "pending"),
                v("phone_in_view", 9, "dismissed"),
            ],
            20,
            "Fail: trust 22.3 < 70, confirmed: identity mismatch 1x, pending: speech 4 s; "
            "score 20 % < 40 %",
            False,
        ),
        (
            [v("phone_in_view", 5, "dismissed")] * 4,
            100,
            "Pass: trust 100 ≥ 70, score 100 % ≥ 40 %",
            True,
        ),
        (
            [v("identity_mismatch", 300)] * 2,
            100,
            "Fail: trust 0 < 70, confirmed: identity mismatch 2x",
            False,
        ),
    ],
)
def test_result_table(
    violations: list[ScoredViolation], percent: int, reason: str, passed: bool
) -> None:
    result = exam_result(trust_score(violations, POLICY), _quiz(percent), POLICY)
    assert result.reason == reason
    assert result.passed is passed


def test_not_final_while_a_flag_is_pending() -> None:
    pending = exam_result(trust_score([v("speech", 1, "pending")], POLICY), _quiz(50), POLICY)
    assert not pending.final
    info_only = exam_result(
        trust_score([v("raised_hand", 1, "pending")], POLICY), _quiz(50), POLICY
    )
    assert info_only.final
