"""Pass or fail, with the reason in words.

A candidate passes when the trust score reaches the policy's threshold and the quiz percentage
reaches the exam's pass percent (both inclusive). The reason names every failed criterion with
its figures and, for trust, the violations behind it, most costly type first:

    Fail: trust 54 < 70, confirmed: phone in view 2x, looking away 95 s
    Fail: score 38 % < 40 %
    Fail: trust 61.5 < 70, confirmed: identity mismatch 1x; score 20 % < 40 %
    Pass: trust 96 ≥ 70, score 75 % ≥ 40 %
"""

from __future__ import annotations

from dataclasses import dataclass

from central.scoring.policy import ProctoringPolicy
from central.scoring.quiz import QuizScore
from central.scoring.trust import Deduction, Status, TrustScore
from protocol.models import ViolationType

# Types whose badness is how long they lasted ("95 s"); the others are counted ("2x").
TIMED_TYPES = frozenset(
    {
        ViolationType.LOOKING_AWAY,
        ViolationType.EYES_AWAY,
        ViolationType.FACE_ABSENT,
        ViolationType.SPEECH,
        ViolationType.CANDIDATE_TALKING,
        ViolationType.BACKGROUND_SPEECH,
        ViolationType.CAMERA_COVERED,
        ViolationType.CAMERA_LOST,
        ViolationType.MICROPHONE_LOST,
    }
)
LISTED_STATUSES: tuple[Status, ...] = ("confirmed", "pending")


@dataclass(frozen=True)
class ExamResult:
    passed: bool
    trust: TrustScore
    quiz: QuizScore
    reason: str
    final: bool  # no flag is waiting for review


def number(value: float, decimals: int = 1) -> str:
    """54.0 → "54", 61.25 → "61.3" (decimals=1): figures as people write them."""
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def type_label(violation_type: str) -> str:
    return violation_type.replace("_", " ")


def summarise(deductions: tuple[Deduction, ...], status: Status) -> str:
    """'phone in view 2x, looking away 95 s' for the deductions of one status."""
    by_type: dict[str, list[Deduction]] = {}
    for deduction in deductions:
        if deduction.violation.status == status:
            by_type.setdefault(deduction.violation.type, []).append(deduction)
    ordered = sorted(by_type.items(), key=lambda kv: (-sum(d.points for d in kv[1]), kv[0]))
    parts = []
    for violation_type, items in ordered:
        if violation_type in TIMED_TYPES:
            seconds = sum(d.violation.duration_s for d in items)
            parts.append(f"{type_label(violation_type)} {round(seconds)} s")
        else:
            parts.append(f"{type_label(violation_type)} {len(items)}x")
    return ", ".join(parts)


def _trust_words(trust: TrustScore, policy: ProctoringPolicy, passed: bool) -> str:
    if passed:
        return f"trust {number(trust.score)} ≥ {number(policy.pass_threshold)}"
    words = f"trust {number(trust.score)} < {number(policy.pass_threshold)}"
    for status in LISTED_STATUSES:
        summary = summarise(trust.deductions, status)
        if summary:
            words += f", {status}: {summary}"
    return words


def _quiz_words(quiz: QuizScore) -> str:
    sign = "≥" if quiz.passed else "<"
    return f"score {number(quiz.percent)} % {sign} {number(quiz.pass_percent)} %"


def exam_result(trust: TrustScore, quiz: QuizScore, policy: ProctoringPolicy) -> ExamResult:
    trust_ok = trust.passes(policy)
    passed = trust_ok and quiz.passed
    if passed:
        reason = f"Pass: {_trust_words(trust, policy, True)}, {_quiz_words(quiz)}"
    else:
        failed = []
        if not trust_ok:
            failed.append(_trust_words(trust, policy, False))
        if not quiz.passed:
            failed.append(_quiz_words(quiz))
        reason = "Fail: " + "; ".join(failed)
    final = trust.pending == 0
    return ExamResult(passed=passed, trust=trust, quiz=quiz, reason=reason, final=final)
