"""A small exam with salted keys for the scoring tests: question qN's right answer is "a"."""

from __future__ import annotations

from protocol.exam import (
    ExamDefinition,
    ExamPolicy,
    Option,
    Question,
    QuestionKind,
    ScoringPolicy,
    answer_digest,
)

SALT = "0123456789abcdef"
OPTIONS = [Option(id="a", text="A"), Option(id="b", text="B")]


def exam(
    questions: int = 5,
    *,
    negative_marks: float = 0.0,
    pass_percent: float = 40.0,
    floor_at_zero: bool = True,
    unkeyed: int = 0,
    exam_id: str = "exam-1",
) -> ExamDefinition:
    items = [
        Question(
            id=f"q{i}",
            kind=QuestionKind.SINGLE,
            prompt=f"Question {i}?",
            options=OPTIONS,
            answer_key=answer_digest(SALT, f"q{i}", "a") if i <= questions - unkeyed else None,
        )
        for i in range(1, questions + 1)
    ]
    return ExamDefinition(
        id=exam_id,
        title="Scoring test",
        key_salt=SALT,
        questions=items,
        scoring=ScoringPolicy(
            negative_marks=negative_marks, pass_percent=pass_percent, floor_at_zero=floor_at_zero
        ),
        policy=ExamPolicy(duration_s=3600),
    )


def answers(right: int, wrong: int) -> dict[str, str | None]:
    """The first `right` questions answered "a", the next `wrong` answered "b"."""
    given: dict[str, str | None] = {f"q{i}": "a" for i in range(1, right + 1)}
    given |= {f"q{i}": "b" for i in range(right + 1, right + wrong + 1)}
    return given
