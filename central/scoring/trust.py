"""The trust score: 100 minus what each violation costs, clamped to 0..100.

    cost = weight(type) * duration factor * status factor
    duration factor = 1 + min(duration_s, duration_cap_s) / duration_unit_s
    status factor   = 1 (confirmed), pending_factor (not reviewed yet), 0 (dismissed)
    trust = round(clamp(100 - sum of costs, 0, 100), 1)

docs/trust-score.md explains the choices; the parameters live in ProctoringPolicy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from central.scoring.policy import ProctoringPolicy

Status = Literal["confirmed", "pending", "dismissed"]
FULL_TRUST = 100.0


@dataclass(frozen=True)
class ScoredViolation:
    violation_id: str
    type: str
    duration_s: float
    status: Status


@dataclass(frozen=True)
class Deduction:
    violation: ScoredViolation
    weight: float
    duration_factor: float
    status_factor: float

    @property
    def points(self) -> float:
        return self.weight * self.duration_factor * self.status_factor


@dataclass(frozen=True)
class TrustScore:
    score: float  # 0..100, one decimal
    deductions: tuple[Deduction, ...]  # every violation that cost something
    pending: int = 0  # flags (weight above zero) still waiting for a decision

    @property
    def total_points(self) -> float:
        return sum(d.points for d in self.deductions)

    def passes(self, policy: ProctoringPolicy) -> bool:
        return self.score >= policy.pass_threshold


def duration_factor(duration_s: float, policy: ProctoringPolicy) -> float:
    counted = min(max(duration_s, 0.0), policy.duration_cap_s)
    return 1.0 + counted / policy.duration_unit_s


def status_factor(status: Status, policy: ProctoringPolicy) -> float:
    if status == "confirmed":
        return 1.0
    if status == "pending":
        return policy.pending_factor
    return 0.0


def trust_score(violations: Iterable[ScoredViolation], policy: ProctoringPolicy) -> TrustScore:
    deductions = []
    pending = 0
    for violation in violations:
        if violation.status == "pending" and policy.is_flag(violation.type):
            pending += 1
        deduction = Deduction(
            violation=violation,
            weight=policy.weight(violation.type),
            duration_factor=duration_factor(violation.duration_s, policy),
            status_factor=status_factor(violation.status, policy),
        )
        if deduction.points > 0:
            deductions.append(deduction)
    raw = FULL_TRUST - sum(d.points for d in deductions)
    score = round(min(max(raw, 0.0), FULL_TRUST), 1)
    return TrustScore(score=score, deductions=tuple(deductions), pending=pending)
