"""Trust score table: weights, duration factor, review status, clamps and the threshold."""

from __future__ import annotations

import pytest

from central.scoring.policy import ProctoringPolicy
from central.scoring.trust import ScoredViolation, Status, duration_factor, trust_score
from protocol.models import ViolationType

POLICY = ProctoringPolicy()  # phone 15, identity 25, looking away 4; unit 60 s, cap 300 s


def v(kind: str, duration_s: float = 0.0, status: Status = "confirmed") -> ScoredViolation:
    return ScoredViolation(
        violation_id=f"{kind}-{duration_s}", type=kind, duration_s=duration_s, status=status
    )


@pytest.mark.parametrize(
    ("duration_s", "factor"),
    [(0, 1.0), (-5, 1.0), (30, 1.5), (60, 2.0), (300, 6.0), (301, 6.0), (86_400, 6.0)],
)
def test_duration_factor(duration_s: float, factor: float) -> None:
    assert duration_factor(duration_s, POLICY) == factor


@pytest.mark.parametrize(
    ("violations", "score"),
    [
        ([], 100.0),  # no violations
        ([v("phone_in_view")], 85.0),
        ([v("phone_in_view"), v("phone_in_view")], 70.0),
        ([v("looking_away", 90)], 90.0),  # 4 x (1 + 90/60)
        ([v("phone_in_view", status="pending")], 92.5),  # half before review
        ([v("phone_in_view", status="dismissed")], 100.0),
        ([v("phone_in_view", 600, "dismissed"), v("identity_mismatch", 0, "dismissed")], 100.0),
        ([v("raised_hand", 120), v("device_fault", 30)], 100.0),  # weight 0: never counted
        ([v("identity_mismatch", 300)] * 2, 0.0),  # 2 x 150: clamped at 0
        ([v("identity_mismatch", 240)], 0.0),  # exactly 100 points
        ([v("some_future_rule")], 95.0),  # unknown type: weight 5
        ([v("looking_away", 10)], 95.3),  # 4 x 1.1667 = 4.667 off, one decimal
    ],
)
def test_trust_table(violations: list[ScoredViolation], score: float) -> None:
    assert trust_score(violations, POLICY).score == score


def test_weights_and_factors_from_the_policy() -> None:
    policy = ProctoringPolicy(
        weights={ViolationType.PHONE_IN_VIEW: 20}, pending_factor=0.25, duration_unit_s=30
    )
    result = trust_score([v("phone_in_view", 30, "pending"), v("looking_away", 0)], policy)
    assert result.score == 100 - 20 * 2 * 0.25 - 4
    assert [d.points for d in result.deductions] == [10.0, 4.0]
    assert result.pending == 1


TINY = ProctoringPolicy(weights={ViolationType.EYES_AWAY: 0.04, ViolationType.SPEECH: 0.06})
TWO_PHONES = [v("phone_in_view"), v("phone_in_view")]


@pytest.mark.parametrize(
    ("violations", "score", "passes"),
    [
        (TWO_PHONES, 70.0, True),  # exactly at the threshold: passes
        ([*TWO_PHONES, v("eyes_away")], 70.0, True),  # 69.96 rounds to 70.0
        ([*TWO_PHONES, v("speech")], 69.9, False),  # 69.94 rounds to 69.9
        ([v("phone_in_view")], 85.0, True),
        ([], 100.0, True),
    ],
)
def test_threshold_is_inclusive(
    violations: list[ScoredViolation], score: float, passes: bool
) -> None:
    result = trust_score(violations, TINY)
    assert result.score == score
    assert result.passes(TINY) is passes


def test_threshold_zero_passes_even_at_zero_trust() -> None:
    policy = ProctoringPolicy(pass_threshold=0)
    result = trust_score([v("identity_mismatch", 300)] * 3, policy)
    assert result.score == 0.0
    assert result.passes(policy)


def test_pending_counts_only_flags() -> None:
    result = trust_score([v("raised_hand", status="pending"), v("speech", 5, "pending")], POLICY)
    assert result.pending == 1
