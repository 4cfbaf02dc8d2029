"""The exam definition and enrolment: validation, salted answer keys, command round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from protocol import Command, Heartbeat, decode, encode, topic_for
from protocol.exam import (
    ExamDefinition,
    Question,
    QuestionKind,
    answer_digest,
    canonical_answer,
    enrolment_command,
    judge,
    load_exam_command,
)
from tests.protocol.examples import ENROLMENT, EXAM, SALT, example


def _question(kind: QuestionKind, **extra: object) -> Question:
    options = [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}, {"id": "c", "text": "C"}]
    fields: dict[str, object] = {"id": "q", "kind": kind.value, "prompt": "?"}
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        fields["options"] = options
    return Question.model_validate_json(json.dumps(fields | extra))


@pytest.mark.parametrize(
    ("kind", "value", "canonical"),
    [
        (QuestionKind.SINGLE, "b", "b"),
        (QuestionKind.SINGLE, "", None),
        (QuestionKind.MULTIPLE, ["c", "a", "c"], "a,c"),
        (QuestionKind.MULTIPLE, [], None),
        (QuestionKind.MULTIPLE, "a", None),
        (QuestionKind.NUMERIC, 3.14159, "3"),
        (QuestionKind.NUMERIC, " 42 ", "42"),
        (QuestionKind.NUMERIC, -0.2, "0"),
        (QuestionKind.NUMERIC, "nan", None),
        (QuestionKind.NUMERIC, "twelve", None),
        (QuestionKind.TEXT, "  Paris\tFRANCE ", "paris france"),
        (QuestionKind.TEXT, "   ", None),
        (QuestionKind.TEXT, None, None),
    ],
)
def test_canonical_forms(kind: QuestionKind, value: object, canonical: str | None) -> None:
    assert canonical_answer(_question(kind), value) == canonical  # type: ignore[arg-type]


def test_numeric_rounds_to_the_questions_decimals() -> None:
    question = _question(QuestionKind.NUMERIC, decimals=2)
    assert canonical_answer(question, 3.14159) == "3.14"
    assert canonical_answer(question, "3.1") == "3.10"


def test_judge_uses_only_the_salted_key() -> None:
    q1, q2 = EXAM.questions
    assert judge(EXAM, q1, "b") == "correct"
    assert judge(EXAM, q1, "a") == "wrong"
    assert judge(EXAM, q1, None) == "unanswered"
    assert judge(EXAM, q2, "3.141") == "correct"
    assert judge(EXAM, q2, 3.2) == "wrong"
    # The key is bound to the salt and the question: the same answer elsewhere does not match.
    assert q1.answer_key != answer_digest("0" * 16, "q-1", "b")
    assert q1.answer_key != answer_digest(SALT, "q-2", "b")
    unmarked = _question(QuestionKind.TEXT)
    assert judge(EXAM, unmarked, "anything") == "unmarked"


def test_bad_definitions_are_refused_with_the_reason() -> None:
    good = EXAM.model_dump(mode="json")
    cases = {
        "option ids must be unique": {"options": [{"id": "a", "text": "1"}] * 2},
        "needs at least two options": {"options": [{"id": "a", "text": "1"}]},
    }
    for reason, change in cases.items():
        bad = json.loads(json.dumps(good))
        bad["questions"][0].update(change)
        with pytest.raises(ValidationError, match=reason):
            ExamDefinition.model_validate_json(json.dumps(bad))
    duplicate = json.loads(json.dumps(good))
    duplicate["questions"][1]["id"] = duplicate["questions"][0]["id"]
    with pytest.raises(ValidationError, match="question ids must be unique"):
        ExamDefinition.model_validate_json(json.dumps(duplicate))
    numeric_with_options = json.loads(json.dumps(good))
    numeric_with_options["questions"][1]["options"] = [{"id": "a", "text": "1"}] * 2
    with pytest.raises(ValidationError, match="has no options"):
        ExamDefinition.model_validate_json(json.dumps(numeric_with_options))


def test_commands_carry_the_exam_and_the_enrolment_through_the_codec() -> None:
    for name, extract, expected in [
        ("command_load_exam", load_exam_command, EXAM),
        ("command_enrol", enrolment_command, ENROLMENT),
    ]:
        command = example(name, Command)
        decoded = decode(topic_for(command), encode(command)).message
        assert isinstance(decoded, Command)
        assert extract(decoded) == expected


def test_a_command_of_another_type_or_with_a_bad_enrolment_is_refused() -> None:
    warn = example("command_warn", Command)
    with pytest.raises(ValueError, match="not a load_exam command"):
        load_exam_command(warn)
    enrol = example("command_enrol", Command)
    broken = enrol.model_copy(
        update={"args": {"enrolment": {**ENROLMENT.model_dump(mode="json"), "encoding": [0.1]}}}
    )
    with pytest.raises(ValidationError, match="encoding"):
        enrolment_command(broken)


def test_a_heartbeat_from_before_exam_progress_still_decodes() -> None:
    """Kiosks running the earlier v1 heartbeat (no exam, stages or audio fields) are accepted."""
    current = json.loads((Path(__file__).parent / "golden" / "heartbeat.json").read_text())
    for added in ("exam", "disabled_stages", "audio_level_dbfs"):
        current.pop(added)
    beat = example("heartbeat", Heartbeat)
    message = decode(topic_for(beat), json.dumps(current).encode()).message
    assert isinstance(message, Heartbeat)
    assert message.exam is None
    assert message.disabled_stages == {}
