"""Exam definitions for the kiosk screen's tests, with real salted answer keys."""

from __future__ import annotations

import json
from typing import Any

from protocol.exam import (
    ExamDefinition,
    Question,
    answer_digest,
    canonical_answer,
)
from protocol.models import AnswerValue

SALT = "00112233445566778899aabbccddeeff"


def question(
    qid: str,
    kind: str,
    correct: AnswerValue,
    *,
    options: int = 4,
    marks: float = 1.0,
    decimals: int = 0,
    prompt: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": qid,
        "kind": kind,
        "prompt": prompt or f"Question {qid}?",
        "marks": marks,
        "decimals": decimals,
    }
    if kind in ("single", "multiple"):
        body["options"] = [{"id": f"{qid}o{i}", "text": f"Option {i}"} for i in range(options)]
    if correct is not None:
        q = Question.model_validate_json(json.dumps({**body, "answer_key": None}))
        canonical = canonical_answer(q, correct)
        assert canonical is not None
        body["answer_key"] = answer_digest(SALT, qid, canonical)
    return body


def exam(
    questions: list[dict[str, Any]],
    *,
    scoring: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
    exam_id: str = "exam-1",
) -> ExamDefinition:
    return ExamDefinition.model_validate_json(
        json.dumps(
            {
                "id": exam_id,
                "title": "Sample exam",
                "key_salt": SALT,
                "questions": questions,
                "scoring": scoring or {},
                "policy": {"duration_s": 600.0, **(policy or {})},
            }
        )
    )


def four_kinds(**kwargs: Any) -> ExamDefinition:
    """One question of each kind: q1 single (q1o2), q2 multiple (q2o0+q2o3), q3 numeric
    (3.14 at 2 decimals), q4 text ("Paris")."""
    return exam(
        [
            question("q1", "single", "q1o2"),
            question("q2", "multiple", ["q2o0", "q2o3"], marks=2.0),
            question("q3", "numeric", 3.14, decimals=2),
            question("q4", "text", "Paris"),
        ],
        **kwargs,
    )
