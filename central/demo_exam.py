"""The demo's exam: six questions of every kind, with salted answer keys, negative marking and
a time penalty for wrong answers, so the kiosk screen shows all of it."""

from __future__ import annotations

import json
from typing import Any

from protocol.exam import ExamDefinition, Question, answer_digest, canonical_answer
from protocol.models import AnswerValue

DEMO_EXAM_ID = "demo-exam"
_SALT = "de30de30de30de30de30de30de30de30"


def _question(body: dict[str, Any], correct: AnswerValue) -> dict[str, Any]:
    question = Question.model_validate_json(json.dumps(body))
    canonical = canonical_answer(question, correct)
    assert canonical is not None, body["id"]
    return {**body, "answer_key": answer_digest(_SALT, body["id"], canonical)}


def _options(*texts: str) -> list[dict[str, str]]:
    return [{"id": chr(ord("a") + i), "text": text} for i, text in enumerate(texts)]


def demo_exam() -> ExamDefinition:
    questions = [
        _question({"id": "q1", "kind": "single", "prompt": "Which gas do plants take in?",
                   "options": _options("Oxygen", "Carbon dioxide", "Helium")}, "b"),
        _question({"id": "q2", "kind": "multiple", "prompt": "Which of these are prime numbers?",
                   "options": _options("2", "4", "7", "9")}, ["a", "c"]),
        _question({"id": "q3", "kind": "numeric", "prompt": "What is 12 x 12?"}, 144),
        _question({"id": "q4", "kind": "numeric", "prompt": "Pi to two decimals?",
                   "decimals": 2}, 3.14),
        _question({"id": "q5", "kind": "text", "prompt": "The capital of France?"}, "Paris"),
        _question({"id": "q6", "kind": "single", "prompt": "How many sides has a hexagon?",
                   "options": _options("5", "6", "8"), "marks": 2}, "b"),
    ]  # fmt: skip
    return ExamDefinition.model_validate_json(
        json.dumps(
            {
                "id": DEMO_EXAM_ID,
                "title": "Demo exam: general knowledge",
                "key_salt": _SALT,
                "questions": questions,
                "scoring": {"negative_marks": 0.25, "time_penalty_s": 60, "pass_percent": 50},
                "policy": {"duration_s": 900, "shuffle_options": True, "warning_limit": 5},
            }
        )
    )
