"""What central sends a kiosk before an exam: the exam definition and the candidate's enrolment.

Both travel inside commands (`load_exam` and `enrol`) and are validated on arrival like any
other wire message.

Answer keys never travel in clear: each question carries `answer_key`, the sha256 of a salted
canonical form of the correct answer, so the kiosk can apply the exam's penalties for a wrong
answer at once (negative marks, time taken off) without holding a readable key. This deters
reading the key off a kiosk; it does not stop someone with root on the kiosk from trying every
option of a single-choice question. Central scores authoritatively from the stored answers.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from protocol.models import (
    AnswerValue,
    Command,
    CommandType,
    Id,
    Sha256Hex,
    ShortText,
    WireModel,
)

ENCODING_SIZE = 128  # face_recognition's 128-d face encoding


class QuestionKind(StrEnum):
    SINGLE = "single"  # one option
    MULTIPLE = "multiple"  # any set of options
    NUMERIC = "numeric"  # a number, compared after rounding to `decimals`
    TEXT = "text"  # short text, compared case- and space-insensitively


class Option(WireModel):
    id: Id
    text: ShortText


class Question(WireModel):
    id: Id
    kind: QuestionKind
    prompt: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    options: Annotated[list[Option], Field(max_length=20)] = Field(default_factory=list)
    marks: Annotated[float, Field(gt=0, le=1000)] = 1.0
    decimals: Annotated[int, Field(ge=0, le=6)] = 0
    # None: not marked on the kiosk (e.g. read by a person); no penalty applies.
    answer_key: Sha256Hex | None = None

    @model_validator(mode="after")
    def _options_fit_kind(self) -> Self:
        choice = self.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
        if choice and len(self.options) < 2:
            raise ValueError(f"a {self.kind} question needs at least two options")
        if not choice and self.options:
            raise ValueError(f"a {self.kind} question has no options")
        if len({o.id for o in self.options}) != len(self.options):
            raise ValueError("option ids must be unique within a question")
        return self


class ScoringPolicy(WireModel):
    """How answers turn into a score. Marks come from each question."""

    negative_marks: Annotated[float, Field(ge=0, le=1000)] = 0.0  # taken off per wrong answer
    time_penalty_s: Annotated[float, Field(ge=0, le=86_400)] = 0.0  # taken off the clock
    pass_percent: Annotated[float, Field(ge=0, le=100)] = 50.0
    floor_at_zero: bool = True  # a total below zero counts as zero


def _is_now(value: object) -> bool:
    return value == "now"


class ExamPolicy(WireModel):
    """How the kiosk runs the exam."""

    duration_s: Annotated[float, Field(gt=0, le=86_400)]
    shuffle_questions: bool = False
    shuffle_options: bool = False
    # Whether the clock keeps running while the kiosk is off (power loss counts against time).
    count_downtime: bool = False
    warning_limit: Annotated[int, Field(ge=0, le=100)] = 5  # 0: no limit
    end_at_warning_limit: bool = False
    allow_review_flags: bool = True
    # The result screen: the quiz score at once, or "results after review" (the pass/fail
    # also depends on the reviewed flags, so centres may prefer to say nothing yet). Left out
    # of the JSON when "now", so kiosks that predate it still read such exams.
    show_score: Literal["now", "after_review"] = Field("now", exclude_if=_is_now)


class ExamDefinition(WireModel):
    schema_version: Literal[1] = 1
    id: Id
    version: Annotated[int, Field(ge=1)] = 1
    title: ShortText
    key_salt: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,64}$")]
    questions: Annotated[list[Question], Field(min_length=1, max_length=500)]
    scoring: ScoringPolicy = Field(default_factory=ScoringPolicy)
    policy: ExamPolicy

    @model_validator(mode="after")
    def _question_ids_unique(self) -> Self:
        if len({q.id for q in self.questions}) != len(self.questions):
            raise ValueError("question ids must be unique within an exam")
        return self

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    @property
    def total_marks(self) -> float:
        return sum(q.marks for q in self.questions)


class Enrolment(WireModel):
    """Who sits at the seat, for which exam, with the face encoding computed on the server."""

    schema_version: Literal[1] = 1
    session_id: Id
    candidate_id: Id
    candidate_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    display_name: ShortText
    exam_id: Id
    seat_id: Id
    encoding: Annotated[
        list[Annotated[float, Field(ge=-10, le=10)]],
        Field(min_length=ENCODING_SIZE, max_length=ENCODING_SIZE),
    ]
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = "en"


def canonical_answer(question: Question, value: AnswerValue) -> str | None:
    """The comparable form of an answer, or None when there is no answer to compare."""
    if value is None:
        return None
    return _CANONICAL[question.kind](question, value)


def _single(_: Question, value: AnswerValue) -> str | None:
    return value if isinstance(value, str) and value else None


def _multiple(_: Question, value: AnswerValue) -> str | None:
    if not isinstance(value, list) or not value:
        return None
    return ",".join(sorted(set(value)))


def _numeric(question: Question, value: AnswerValue) -> str | None:
    number = _as_number(value)
    if number is None:
        return None
    rounded = round(number, question.decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:.{question.decimals}f}"


def _text(_: Question, value: AnswerValue) -> str | None:
    if not isinstance(value, str):
        return None
    folded = unicodedata.normalize("NFKC", value).casefold()
    return " ".join(folded.split()) or None


_CANONICAL: dict[QuestionKind, Callable[[Question, AnswerValue], str | None]] = {
    QuestionKind.SINGLE: _single,
    QuestionKind.MULTIPLE: _multiple,
    QuestionKind.NUMERIC: _numeric,
    QuestionKind.TEXT: _text,
}


def _as_number(value: AnswerValue) -> float | None:
    if isinstance(value, bool | list) or value is None:
        return None
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def answer_digest(key_salt: str, question_id: str, canonical: str) -> str:
    """What `Question.answer_key` holds for the correct canonical answer."""
    material = f"{key_salt}\x1f{question_id}\x1f{canonical}".encode()
    return hashlib.sha256(material).hexdigest()


Verdict = Literal["correct", "wrong", "unanswered", "unmarked"]


def judge(exam: ExamDefinition, question: Question, value: AnswerValue) -> Verdict:
    """Whether an answer is right, using only the salted key."""
    if question.answer_key is None:
        return "unmarked"
    canonical = canonical_answer(question, value)
    if canonical is None:
        return "unanswered"
    digest = answer_digest(exam.key_salt, question.id, canonical)
    return "correct" if digest == question.answer_key else "wrong"


def load_exam_command(command: Command) -> ExamDefinition:
    """The exam inside a `load_exam` command (raises pydantic.ValidationError if malformed)."""
    if command.type is not CommandType.LOAD_EXAM:
        raise ValueError(f"not a load_exam command: {command.type}")
    # Through JSON so that strict validation applies exactly as it does to bytes off the wire.
    return ExamDefinition.model_validate_json(json.dumps(command.args.get("exam")))


def enrolment_command(command: Command) -> Enrolment:
    """The enrolment inside an `enrol` command (raises pydantic.ValidationError if malformed)."""
    if command.type is not CommandType.ENROL:
        raise ValueError(f"not an enrol command: {command.type}")
    return Enrolment.model_validate_json(json.dumps(command.args.get("enrolment")))
