"""Question-bank import, CSV and JSON: good files give salted keys that judge answers right;
each kind of error is reported with its row and field, and nothing is returned."""

from __future__ import annotations

import json

import pytest

from central.services.imports import (
    ExamHeader,
    ImportRejected,
    Problem,
    question_bank,
    question_bank_from_csv,
    question_bank_from_json,
)
from protocol.exam import ExamPolicy, ScoringPolicy, judge
from protocol.models import AnswerValue

HEADER = ExamHeader("exam-1", "Chemistry", ExamPolicy(duration_s=3600), ScoringPolicy())
GOOD_CSV = (
    "id,kind,prompt,options,answer,marks,decimals\n"
    "q1,single,Which gas do plants take in?,Oxygen|Carbon dioxide|Helium,b,2,\n"
    "q2,multiple,Which are prime?,2|4|7|9,a|c,,\n"
    "q3,numeric,Pi to two decimals?,,3.14,,2\n"
    "q4,text,The capital of France?,,Paris,,\n"
    'q5,text,"Explain, in a sentence, why",,,3,\n'
)


def test_good_csv_gives_salted_keys_that_judge_answers() -> None:
    exam = question_bank_from_csv(GOOD_CSV.encode(), HEADER)
    assert [q.id for q in exam.questions] == ["q1", "q2", "q3", "q4", "q5"]
    assert [o.text for o in exam.questions[0].options] == ["Oxygen", "Carbon dioxide", "Helium"]
    assert exam.total_marks == 2 + 1 + 1 + 1 + 3
    assert len(exam.key_salt) == 32
    answers: list[AnswerValue] = ["b", ["c", "a"], "3.141", "  PARIS ", "anything"]
    verdicts = [judge(exam, q, a) for q, a in zip(exam.questions, answers, strict=True)]
    assert verdicts == ["correct", "correct", "correct", "correct", "unmarked"]
    assert judge(exam, exam.questions[0], "a") == "wrong"
    assert "Carbon dioxide" not in json.dumps([q.answer_key for q in exam.questions])


def test_each_import_gets_a_fresh_salt() -> None:
    first = question_bank_from_csv(GOOD_CSV.encode(), HEADER)
    second = question_bank_from_csv(GOOD_CSV.encode(), HEADER)
    assert first.key_salt != second.key_salt
    assert first.questions[0].answer_key != second.questions[0].answer_key


def test_option_ids_in_capitals_are_accepted() -> None:
    data = HEAD + "q1,single,Gas?,O2|CO2,B,,\nq2,multiple,Primes?,2|4|7, A | C ,,\n"
    exam = question_bank_from_csv(data.encode(), HEADER)
    assert judge(exam, exam.questions[0], "b") == "correct"
    assert judge(exam, exam.questions[1], ["a", "c"]) == "correct"


def test_header_columns_in_any_order_with_a_bom_and_crlf() -> None:
    data = "\ufeffPrompt,ID,Kind,Answer,Options\r\nTwo plus two?,q1,numeric,4,\r\n".encode()
    exam = question_bank_from_csv(data, HEADER)
    assert judge(exam, exam.questions[0], 4) == "correct"


def test_good_json_with_the_same_questions() -> None:
    document = {
        "questions": [
            {"id": "q1", "kind": "single", "prompt": "Gas?", "options": ["O2", "CO2"],
             "answer": "b"},
            {"id": "q2", "kind": "multiple", "prompt": "Primes?", "options": ["2", "4", "7"],
             "answer": ["a", "c"], "marks": 2},
            {"id": "q3", "kind": "numeric", "prompt": "Pi?", "answer": 3.14159, "decimals": 2},
        ]
    }  # fmt: skip
    exam = question_bank_from_json(json.dumps(document).encode(), HEADER)
    answers: list[AnswerValue] = ["b", ["a", "c"], 3.14]
    verdicts = [judge(exam, q, a) for q, a in zip(exam.questions, answers, strict=True)]
    assert verdicts == ["correct"] * 3
    bare_list = question_bank(json.dumps(document["questions"]).encode(), "bank.JSON", HEADER)
    assert len(bare_list.questions) == 3


def _problems(data: str) -> list[Problem]:
    with pytest.raises(ImportRejected) as caught:
        question_bank_from_csv(data.encode(), HEADER)
    return caught.value.problems


HEAD = "id,kind,prompt,options,answer,marks,decimals\n"
OK_ROW = "q0,numeric,Two plus two?,,4,,\n"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("q1,essay,Prompt,,x,,\n", Problem(3, "kind", "must be single, multiple, numeric or text")),
        (",text,Prompt,,x,,\n", Problem(3, "id", "is required (text)")),
        ("q 1,text,Prompt,,x,,\n", Problem(3, "id", "use 1-64 letters, digits, '_', '.', '-'")),
        ("q1,text,,,x,,\n", Problem(3, "prompt", "is required (text)")),
        (
            "q1,single,Gas?,Oxygen,a,,\n",
            Problem(3, "options", "a single question needs at least two options"),
        ),
        ("q1,numeric,Pi?,1|2,3,,\n", Problem(3, "options", "a numeric question has no options")),
        ("q1,single,Gas?,O2|CO2,c,,\n", Problem(3, "answer", "must be one of the option ids a, b")),
        ("q1,multiple,Gas?,O2|CO2,a|z,,\n", Problem(3, "answer", "z are not option ids")),
        ("q1,numeric,Pi?,,three,,\n", Problem(3, "answer", "'three' is not a number")),
        ("q1,numeric,Pi?,,nan,,\n", Problem(3, "answer", "'nan' is not a number")),
        ("q1,single,Gas?,O2|CO2,,,\n", Problem(3, "answer", "is required for a marked question")),
        ("q1,text,Prompt,,x,many,\n", Problem(3, "marks", "'many' is not a number")),
        ("q1,text,Prompt,,x,0,\n", Problem(3, "marks", "Input should be greater than 0")),
        (
            "q1,numeric,Pi?,,3,,9\n",
            Problem(3, "decimals", "Input should be less than or equal to 6"),
        ),
        ("q0,text,Again,,x,,\n", Problem(3, "id", "'q0' is also row 2")),
        (
            "q1,text,Prompt,,x,,,extra\n",
            Problem(3, "row", "has more cells than the header has columns"),
        ),
    ],
)
def test_each_error_is_reported_with_its_row_and_field(rows: str, expected: Problem) -> None:
    assert _problems(HEAD + OK_ROW + rows) == [expected]


def test_every_bad_row_is_listed_not_only_the_first() -> None:
    problems = _problems(HEAD + "q1,essay,P,,,,\n" + OK_ROW + "q3,numeric,P,,x,,\n")
    assert [(p.row, p.field) for p in problems] == [(2, "kind"), (4, "answer")]
    assert str(problems[0]) == "row 2, kind: must be single, multiple, numeric or text"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", Problem(0, "file", "is empty")),
        (
            b"\xff\xfeid,kind",
            Problem(0, "encoding", "not UTF-8 text (byte 0); save the file as UTF-8"),
        ),
        (b"id,kind,prompt\x00\n", Problem(0, "encoding", "contains NUL characters")),
        (b"id,kind,prompt\n", Problem(0, "questions", "the file has no questions")),
        (b"id,kind,question\nq1,text,x\n", Problem(1, "question", "unknown column")),
        (b"id,kind,prompt,id\nq1,text,x,y\n", Problem(1, "header", "a column appears twice")),
        (b"id,kind\nq1,text\n", Problem(1, "prompt", "column missing")),
    ],
)
def test_file_level_errors(data: bytes, expected: Problem) -> None:
    with pytest.raises(ImportRejected) as caught:
        question_bank_from_csv(data, HEADER)
    assert expected in caught.value.problems


def test_an_unclosed_quote_and_a_huge_field_are_named() -> None:
    problems = _problems(HEAD + 'q1,text,"never closed\n')
    assert problems[0].field == "csv"
    huge = _problems(HEAD + OK_ROW + "q1,text," + "x" * 200_000 + ",,\n")
    assert huge[0].field == "csv"
    assert "field larger than field limit" in huge[0].message
    long_prompt = _problems(HEAD + "q1,text," + "x" * 5000 + ",,,,\n")
    assert long_prompt == [Problem(2, "prompt", "longer than 4000 characters")]


def test_too_many_rows() -> None:
    rows = "".join(f"q{i},text,Prompt {i},,x,,\n" for i in range(501))
    assert _problems(HEAD + rows) == [Problem(0, "rows", "more than 500")]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{", Problem(0, "json", "not valid JSON (Expecting property name enclosed in double "
                                 "quotes: line 1 column 2 (char 1))")),
        ('{"questions": 3}', Problem(0, "questions", "must be a list of questions")),
        ("[3]", Problem(1, "question", "must be an object")),
        ('[{"id": "q1", "kind": "numeric", "prompt": "P", "answer": NaN}]',
         Problem(0, "json", "not valid JSON (NaN is not a number JSON allows)")),
        ('[{"id": "q1", "kind": "numeric", "prompt": "P", "answer": true}]',
         Problem(1, "answer", "'True' is not a number")),
        ('[{"id": "q1", "kind": "text", "prompt": "P", "colour": "red"}]',
         Problem(1, "colour", "unknown field")),
        ('[{"id": 7, "kind": "text", "prompt": "P"}]', Problem(1, "id", "is required (text)")),
        ('[{"id": "q1", "kind": "single", "prompt": "P", "options": ["a", 2], "answer": "a"}]',
         Problem(1, "options", "must be non-empty texts separated by |")),
        ('[{"id": "q1", "kind": "multiple", "prompt": "P", "options": ["x", "y"], "answer": "a"}]',
         Problem(1, "answer", "must be option ids separated by |")),
        ("[" * 100_000 + "]" * 100_000, None),
    ],
)  # fmt: skip
def test_json_errors(document: str, expected: Problem | None) -> None:
    with pytest.raises(ImportRejected) as caught:
        question_bank_from_json(document.encode(), HEADER)
    if expected is not None:
        assert caught.value.problems == [expected]
    else:
        assert caught.value.problems[0].field == "json"
