"""Pass or fail, with the reason in words.

A candidate passes when the trust score reaches the policy's threshold and the quiz percentage
reaches the exam's pass percent (both inclusive). The reason names every failed criterion with
its figures and, for trust, the violations behind it, most costly type first:

    Fail: trust 54 < 70, confirmed: phone in view 2x, looking away 95 s
    Fail: score 38 % < 40 %
    Fail: trust 61.5 < 70, confirmed: identity mismatch 1x; score 20 % < 40 %
    Pass: trust 96 ≥ 70, score 75 % ≥ 40 %

The sentence is assembled from parts given by a ReasonWords. ENGLISH is what ExamResult.reason
holds, the database stores and the exports carry; the console makes the words of the page's
language with gettext (central/web/result_words.py) and assembles the same parts with them.
"""

from __future__ import annotations

from collections.abc import Callable
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
    reason: str  # in English (ENGLISH words)
    final: bool  # no flag is waiting for review


def number(value: float, decimals: int = 1) -> str:
    """54.0 → "54", 61.25 → "61.3" (decimals=1): figures as people write them."""
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def type_label(violation_type: str) -> str:
    return violation_type.replace("_", " ")


@dataclass(frozen=True)
class ReasonWords:
    """The parts of a reason in one language. Figures reach them already formatted by
    `number` (trust, threshold, percents) or as whole numbers (counts, seconds)."""

    passed: Callable[[str], str]  # the criteria → "Pass: …"
    failed: Callable[[str], str]  # the failed criteria → "Fail: …"
    trust_reached: Callable[[str, str], str]  # score, threshold → "trust 96 ≥ 70"
    trust_missed: Callable[[str, str], str]  # score, threshold → "trust 54 < 70"
    score_reached: Callable[[str, str], str]  # percent, pass percent → "score 75 % ≥ 40 %"
    score_missed: Callable[[str, str], str]  # percent, pass percent → "score 38 % < 40 %"
    confirmed: Callable[[str], str]  # the violations → "confirmed: …"
    pending: Callable[[str], str]  # the violations → "pending: …"
    counted: Callable[[str, int], str]  # type label, count → "phone in view 2x"
    timed: Callable[[str, int], str]  # type label, seconds → "looking away 95 s"
    type_label: Callable[[str], str]  # violation type code → its words
    number: Callable[[float], str]  # 61.25 → "61.3" (or "61,3")
    separator: str  # between the items of a list, and between "Pass:"'s two criteria
    failure_separator: str  # between the failed criteria


ENGLISH = ReasonWords(
    passed=lambda criteria: f"Pass: {criteria}",
    failed=lambda criteria: f"Fail: {criteria}",
    trust_reached=lambda score, threshold: f"trust {score} ≥ {threshold}",
    trust_missed=lambda score, threshold: f"trust {score} < {threshold}",
    score_reached=lambda percent, mark: f"score {percent} % ≥ {mark} %",
    score_missed=lambda percent, mark: f"score {percent} % < {mark} %",
    confirmed=lambda violations: f"confirmed: {violations}",
    pending=lambda violations: f"pending: {violations}",
    counted=lambda label, count: f"{label} {count}x",
    timed=lambda label, seconds: f"{label} {seconds} s",
    type_label=type_label,
    number=number,
    separator=", ",
    failure_separator="; ",
)


def summarise(
    deductions: tuple[Deduction, ...], status: Status, words: ReasonWords = ENGLISH
) -> str:
    """'phone in view 2x, looking away 95 s' for the deductions of one status."""
    by_type: dict[str, list[Deduction]] = {}
    for deduction in deductions:
        if deduction.violation.status == status:
            by_type.setdefault(deduction.violation.type, []).append(deduction)
    ordered = sorted(by_type.items(), key=lambda kv: (-sum(d.points for d in kv[1]), kv[0]))
    parts = []
    for violation_type, items in ordered:
        label = words.type_label(violation_type)
        if violation_type in TIMED_TYPES:
            seconds = sum(d.violation.duration_s for d in items)
            parts.append(words.timed(label, round(seconds)))
        else:
            parts.append(words.counted(label, len(items)))
    return words.separator.join(parts)


def _trust_words(
    trust: TrustScore, policy: ProctoringPolicy, passed: bool, words: ReasonWords
) -> str:
    score, threshold = words.number(trust.score), words.number(policy.pass_threshold)
    if passed:
        return words.trust_reached(score, threshold)
    parts = [words.trust_missed(score, threshold)]
    listings = {"confirmed": words.confirmed, "pending": words.pending}
    for status in LISTED_STATUSES:
        summary = summarise(trust.deductions, status, words)
        if summary:
            parts.append(listings[status](summary))
    return words.separator.join(parts)


def _quiz_words(quiz: QuizScore, words: ReasonWords) -> str:
    says = words.score_reached if quiz.passed else words.score_missed
    return says(words.number(quiz.percent), words.number(quiz.pass_percent))


def result_reason(
    trust: TrustScore, quiz: QuizScore, policy: ProctoringPolicy, words: ReasonWords = ENGLISH
) -> str:
    """The reason for these scores, in `words`' language (English by default)."""
    trust_ok = trust.passes(policy)
    if trust_ok and quiz.passed:
        criteria = [_trust_words(trust, policy, True, words), _quiz_words(quiz, words)]
        return words.passed(words.separator.join(criteria))
    failed = []
    if not trust_ok:
        failed.append(_trust_words(trust, policy, False, words))
    if not quiz.passed:
        failed.append(_quiz_words(quiz, words))
    return words.failed(words.failure_separator.join(failed))


def exam_result(trust: TrustScore, quiz: QuizScore, policy: ProctoringPolicy) -> ExamResult:
    passed = trust.passes(policy) and quiz.passed
    final = trust.pending == 0
    reason = result_reason(trust, quiz, policy)
    return ExamResult(passed=passed, trust=trust, quiz=quiz, reason=reason, final=final)
