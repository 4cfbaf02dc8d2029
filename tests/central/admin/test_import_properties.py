"""Property-based tests of both imports: whatever the bytes (malformed CSV or JSON, huge
fields, bad UTF-8, nesting), an import gives a valid result or a clear list of problems,
never another exception; and a valid bank always round-trips to keys that judge it right."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from central.services.audit import SYSTEM
from central.services.candidate_imports import CandidateUpload, import_candidates
from central.services.imports import (
    ExamHeader,
    ImportRejected,
    question_bank_from_csv,
    question_bank_from_json,
)
from protocol.exam import ExamDefinition, ExamPolicy, judge
from tests.central.admin.conftest import fake_encoder, zip_of

HEADER = ExamHeader("exam-1", "Fuzz", ExamPolicy(duration_s=600))
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

nasty_text = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=',"|\r\n\t ;\\', max_size=20),
    st.sampled_from(["single", "multiple", "numeric", "text", "nan", "inf", "-0", "1e999"]),
    st.builds(lambda c, n: c * n, st.characters(), st.integers(2000, 9000)),  # huge fields
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | nasty_text,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.sampled_from(["id", "kind", "prompt", "options", "answer", "marks",
                                       "decimals", "questions", "x"]), children, max_size=7),
    max_leaves=30,
)  # fmt: skip


def _clean_outcome(run: Callable[[], ExamDefinition]) -> None:
    """A valid exam, or ImportRejected with readable problems; any other exception fails."""
    rejected: ImportRejected | None = None
    try:
        run()
    except ImportRejected as exc:
        rejected = exc
    if rejected is not None:
        assert rejected.problems
        for problem in rejected.problems:
            assert problem.message
            assert problem.row >= 0
            assert len(str(problem)) < 10_000  # a huge field is not echoed back in full


@FUZZ
@given(st.binary(max_size=3000))
def test_any_bytes_as_csv_or_json(data: bytes) -> None:
    _clean_outcome(lambda: question_bank_from_csv(data, HEADER))
    _clean_outcome(lambda: question_bank_from_json(data, HEADER))


@FUZZ
@given(st.lists(st.lists(nasty_text, min_size=0, max_size=9), max_size=8), st.booleans())
def test_csv_shaped_rows_of_nasty_cells(rows: list[list[str]], bad_utf8: bool) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "kind", "prompt", "options", "answer", "marks", "decimals"])
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8", errors="surrogatepass")
    if bad_utf8:
        data = data[: len(data) // 2] + b"\xc3\x28" + data[len(data) // 2 :]
    _clean_outcome(lambda: question_bank_from_csv(data, HEADER))


@FUZZ
@given(json_values)
def test_any_json_document(document: Any) -> None:
    _clean_outcome(lambda: question_bank_from_json(json.dumps(document).encode(), HEADER))
    _clean_outcome(
        lambda: question_bank_from_json(json.dumps({"questions": document}).encode(), HEADER)
    )


option_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="|"), min_size=1,
    max_size=30,
).filter(lambda t: t.strip() == t and t)  # fmt: skip


@st.composite
def valid_question(draw: st.DrawFn, index: int) -> tuple[dict[str, Any], Any]:
    kind = draw(st.sampled_from(["single", "multiple", "numeric", "text"]))
    question: dict[str, Any] = {"id": f"q{index}", "kind": kind, "prompt": draw(option_text)}
    if kind in ("single", "multiple"):
        options = draw(st.lists(option_text, min_size=2, max_size=6))
        ids = [chr(ord("a") + i) for i in range(len(options))]
        question["options"] = options
        if kind == "single":
            answer: Any = draw(st.sampled_from(ids))
        else:
            answer = draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    elif kind == "numeric":
        question["decimals"] = draw(st.integers(0, 4))
        answer = draw(st.integers(-10_000, 10_000)) / 100
    else:
        answer = draw(option_text.filter(lambda t: " ".join(t.casefold().split())))
    question["answer"] = answer
    return question, answer


@FUZZ
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(*(valid_question(i) for i in range(n)))))
def test_valid_banks_round_trip_in_json_and_csv(
    drawn: tuple[tuple[dict[str, Any], Any], ...],
) -> None:
    questions = [q for q, _ in drawn]
    from_json = question_bank_from_json(json.dumps(questions).encode(), HEADER)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "kind", "prompt", "options", "answer", "decimals"])
    for q in questions:
        answer = q["answer"]
        writer.writerow([q["id"], q["kind"], q["prompt"], "|".join(q.get("options", [])),
                         "|".join(answer) if isinstance(answer, list) else answer,
                         q.get("decimals", "")])  # fmt: skip
    from_csv = question_bank_from_csv(buffer.getvalue().encode(), HEADER)
    for exam in (from_json, from_csv):
        for question, (_, answer) in zip(exam.questions, drawn, strict=True):
            assert judge(exam, question, answer) == "correct"


roster_cells = st.one_of(nasty_text, st.from_regex(r"\A[0-9]{1,8}\Z"), st.just("p.jpg"))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.lists(st.lists(roster_cells, max_size=5), max_size=6).map(
            lambda rows: b"candidate_number,name,language,photo\n"
            + "\n".join(",".join(r) for r in rows).encode("utf-8", "surrogatepass")
        ),
    ),
    st.one_of(
        st.binary(max_size=500),
        st.dictionaries(
            st.sampled_from(["p.jpg", "a/p.jpg", "x.png"]), st.binary(max_size=50)
        ).map(zip_of),
    ),
)  # fmt: skip
def test_candidate_import_of_any_roster_and_zip(
    sessions: sessionmaker[Session], roster: bytes, photos: bytes
) -> None:
    upload = CandidateUpload(roster, photos)
    try:
        report = import_candidates(sessions, SYSTEM, upload, fake_encoder)
    except ImportRejected as exc:
        rejected: ImportRejected | None = exc
    else:
        rejected = None
        assert report.done == report.total
    if rejected is not None:
        assert rejected.problems
        return
    assert all(p.message for p in report.problems)
