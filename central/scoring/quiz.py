"""The quiz score from the candidate's answers, judged with the exam's salted keys.

Correct answers earn the question's marks; each wrong answer costs `negative_marks`; unanswered
questions cost nothing; questions without a key (read by a person) are left out of the maximum.
A total below zero counts as zero when `floor_at_zero`. The percentage is of the marks of the
keyed questions, rounded to two decimals, and passes at `pass_percent` or above.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from protocol.exam import ExamDefinition, Verdict, judge
from protocol.models import AnswerValue


@dataclass(frozen=True)
class SavedAnswer:
    """One `answer` message as stored in device_messages."""

    question_id: str
    answer: AnswerValue
    device_id: str
    seq: int
    received_at: datetime


@dataclass(frozen=True)
class QuestionMark:
    question_id: str
    verdict: Verdict
    marks: float  # earned (correct) or 0
    penalty: float  # taken off (wrong) or 0


@dataclass(frozen=True)
class QuizScore:
    questions: tuple[QuestionMark, ...]
    earned: float  # marks of the correct answers
    penalty: float  # negative marks of the wrong answers
    score: float  # earned - penalty, floored at zero if the policy says so
    max_marks: float  # marks of the keyed questions
    percent: float
    pass_percent: float

    @property
    def floored(self) -> bool:
        return self.score > self.earned - self.penalty

    @property
    def passed(self) -> bool:
        return self.percent >= self.pass_percent

    def count(self, verdict: Verdict) -> int:
        return sum(1 for q in self.questions if q.verdict == verdict)


def latest_answers(saved: Iterable[SavedAnswer]) -> dict[str, AnswerValue]:
    """The answer that stands for each question: the last one saved.

    Within one kiosk `seq` orders messages even when a resent one arrives late; if the session
    moved to another kiosk, that kiosk's answers (first heard later) come after."""
    rows = list(saved)
    first_heard: dict[str, datetime] = {}
    for row in rows:
        if row.device_id not in first_heard or row.received_at < first_heard[row.device_id]:
            first_heard[row.device_id] = row.received_at
    rows.sort(key=lambda r: (first_heard[r.device_id], r.device_id, r.seq))
    return {row.question_id: row.answer for row in rows}


def score_quiz(exam: ExamDefinition, answers: Mapping[str, AnswerValue]) -> QuizScore:
    policy = exam.scoring
    marks = []
    for question in exam.questions:
        verdict = judge(exam, question, answers.get(question.id))
        marks.append(
            QuestionMark(
                question_id=question.id,
                verdict=verdict,
                marks=question.marks if verdict == "correct" else 0.0,
                penalty=policy.negative_marks if verdict == "wrong" else 0.0,
            )
        )
    earned = sum(m.marks for m in marks)
    penalty = sum(m.penalty for m in marks)
    score = max(earned - penalty, 0.0) if policy.floor_at_zero else earned - penalty
    max_marks = sum(q.marks for q in exam.questions if q.answer_key is not None)
    percent = round(score * 100 / max_marks, 2) if max_marks > 0 else 0.0
    return QuizScore(
        questions=tuple(marks),
        earned=earned,
        penalty=penalty,
        score=score,
        max_marks=max_marks,
        percent=percent,
        pass_percent=policy.pass_percent,
    )
