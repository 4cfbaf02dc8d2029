"""The kiosk's provisional score: marks, negative marks, time penalties, total, percent, pass.

Central scores authoritatively from the stored answers; this is what the candidate may be shown
at once when every question can be judged on the kiosk (see `ScoreBreakdown.final`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from protocol.exam import ExamDefinition, Verdict, judge
from protocol.models import AnswerValue

# Percentages are compared after rounding so that 0.1 + 0.2 style noise cannot fail a pass.
_PERCENT_DECIMALS = 6


@dataclass(frozen=True)
class ScoreBreakdown:
    correct: int
    wrong: int
    unanswered: int
    unmarked: int  # questions the kiosk cannot judge (no answer key): read by a person
    marks: float  # marks of the correct answers
    negative_marks: float  # taken off for the wrong answers
    time_penalty_s: float  # taken off the clock for wrong answers
    total: float  # marks - negative marks, floored at zero if the policy says so
    max_marks: float  # of the questions the kiosk can judge
    percent: float | None  # None when nothing can be judged on the kiosk
    passed: bool | None

    @property
    def final(self) -> bool:
        """Whether this score is the whole story (no question waits for a person)."""
        return self.unmarked == 0 and self.percent is not None


def score(
    exam: ExamDefinition, answers: Mapping[str, AnswerValue], time_penalty_s: float = 0.0
) -> ScoreBreakdown:
    """Score `answers` (question id → answer) with the exam's scoring policy."""
    counts: dict[Verdict, int] = {"correct": 0, "wrong": 0, "unanswered": 0, "unmarked": 0}
    marks = 0.0
    max_marks = 0.0
    for question in exam.questions:
        verdict = judge(exam, question, answers.get(question.id))
        counts[verdict] += 1
        if verdict == "unmarked":
            continue
        max_marks += question.marks
        if verdict == "correct":
            marks += question.marks
    negative = counts["wrong"] * exam.scoring.negative_marks
    total = marks - negative
    if exam.scoring.floor_at_zero:
        total = max(0.0, total)
    percent = round(total / max_marks * 100, _PERCENT_DECIMALS) if max_marks > 0 else None
    passed = None if percent is None else percent >= exam.scoring.pass_percent
    return ScoreBreakdown(
        correct=counts["correct"],
        wrong=counts["wrong"],
        unanswered=counts["unanswered"],
        unmarked=counts["unmarked"],
        marks=marks,
        negative_marks=negative,
        time_penalty_s=time_penalty_s,
        total=total,
        max_marks=max_marks,
        percent=percent,
        passed=passed,
    )
