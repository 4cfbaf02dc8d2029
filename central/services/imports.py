"""Question-bank import: a CSV or JSON file of questions becomes an ExamDefinition with salted
answer keys (a fresh random salt per import). Nothing is returned unless every row is right:
a bad file raises ImportRejected with one problem per row and field.

CSV (UTF-8, comma-separated, a header row with these column names, in any order):

=========  ========  ===========================================================================
column     needed    meaning
=========  ========  ===========================================================================
id         yes       question id: letters, digits, ``_ . -``, at most 64, unique in the file
kind       yes       ``single``, ``multiple``, ``numeric`` or ``text``
prompt     yes       the question, 1 to 2000 characters
options    choice    option texts separated by ``|`` (ids ``a``, ``b``, ... in that order);
                     2 to 20 for single/multiple, empty for numeric/text
answer     see note  single: one option id (``b``, or ``B``); multiple: ids separated by ``|``
                     (``a|c``);
                     numeric: a number; text: the expected text (compared case- and
                     space-insensitively). Empty only for a text question that a person marks.
marks      no        marks for a right answer, above 0 and at most 1000 (default 1)
decimals   no        numeric only: decimals the answer is rounded to before comparison, 0-6
=========  ========  ===========================================================================

Rows are numbered as a spreadsheet shows them: the header is row 1, the first question row 2
(a cell with a line break inside quotes counts as the file's lines after it).

JSON: ``{"questions": [{"id", "kind", "prompt", "options": ["text", ...], "answer", "marks",
"decimals"}, ...]}`` (or the list alone); ``answer`` is a string, a number, or for ``multiple``
a list of option ids. Questions are numbered from 1 in the errors ("row 1" is the first).

The exam's id, title, scoring and kiosk policy come from the admin form, not from the file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from protocol.exam import (
    ExamDefinition,
    ExamPolicy,
    Question,
    QuestionKind,
    ScoringPolicy,
    answer_digest,
    canonical_answer,
)
from protocol.topics import ID_PATTERN

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_QUESTIONS = 500
MAX_FIELD_CHARS = 4000  # longer than any valid field (prompt: 2000), so a huge one is named
COLUMNS = ("id", "kind", "prompt", "options", "answer", "marks", "decimals")
REQUIRED_COLUMNS = ("id", "kind", "prompt")
OPTION_SEPARATOR = "|"
FILE_ROW = 0  # problems with the file as a whole
_ID_RE = re.compile(ID_PATTERN)


@dataclass(frozen=True)
class Problem:
    row: int  # spreadsheet row (CSV) or question number (JSON); 0: the whole file
    field: str
    message: str

    def __str__(self) -> str:
        where = "file" if self.row == FILE_ROW else f"row {self.row}"
        return f"{where}, {self.field}: {self.message}"


class ImportRejected(ValueError):
    """The file was refused; `problems` lists every row and field that is wrong."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems[:5]))
        self.problems = problems


@dataclass(frozen=True)
class ExamHeader:
    """What the admin form says about the exam the questions belong to."""

    exam_id: str
    title: str
    policy: ExamPolicy
    scoring: ScoringPolicy = field(default_factory=ScoringPolicy)
    version: int = 1


def question_bank_from_csv(data: bytes, header: ExamHeader) -> ExamDefinition:
    text = _decode(data)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        names = [name.strip().lower() for name in reader.fieldnames or []]
        _check_columns(names)
        reader.fieldnames = names
        rows = [(reader.line_num, row) for row in _limited(reader)]
    except csv.Error as exc:
        problem = Problem(max(reader.line_num, 1), "csv", f"not readable as CSV ({exc})")
        raise ImportRejected([problem]) from None
    return _build(((line, _csv_question(row)) for line, row in rows), header)


def question_bank_from_json(data: bytes, header: ExamHeader) -> ExamDefinition:
    text = _decode(data)
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ImportRejected([Problem(FILE_ROW, "json", f"not valid JSON ({exc})")]) from None
    items = document.get("questions") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise ImportRejected([Problem(FILE_ROW, "questions", "must be a list of questions")])
    if len(items) > MAX_QUESTIONS:
        raise ImportRejected([Problem(FILE_ROW, "questions", f"more than {MAX_QUESTIONS}")])
    return _build(((number, item) for number, item in enumerate(items, start=1)), header)


def question_bank(data: bytes, filename: str, header: ExamHeader) -> ExamDefinition:
    """By the file's extension: .json is JSON, anything else CSV."""
    if filename.lower().endswith(".json"):
        return question_bank_from_json(data, header)
    return question_bank_from_csv(data, header)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected([Problem(FILE_ROW, "file", f"larger than {MAX_FILE_BYTES} bytes")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        raise ImportRejected([Problem(FILE_ROW, "encoding", message)]) from None
    if "\x00" in text:
        raise ImportRejected([Problem(FILE_ROW, "encoding", "contains NUL characters")])
    if not text.strip():
        raise ImportRejected([Problem(FILE_ROW, "file", "is empty")])
    return text


def _check_columns(names: list[str]) -> None:
    problems = [
        Problem(1, name or "(blank)", "unknown column") for name in names if name not in COLUMNS
    ]
    problems += [
        Problem(1, name, "column missing") for name in REQUIRED_COLUMNS if name not in names
    ]
    if len(set(names)) != len(names):
        problems.append(Problem(1, "header", "a column appears twice"))
    if problems:
        raise ImportRejected(problems)


def _limited(reader: csv.DictReader[str]) -> Iterable[dict[str | Any, str | Any]]:
    for count, row in enumerate(reader, start=1):
        if count > MAX_QUESTIONS:
            raise ImportRejected([Problem(FILE_ROW, "rows", f"more than {MAX_QUESTIONS}")])
        yield row


def _csv_question(row: Mapping[str | Any, str | Any]) -> dict[str, Any] | Problem:
    """The CSV row in the JSON shape (strings only; _question converts them)."""
    if None in row:  # more cells than columns
        return Problem(0, "row", "has more cells than the header has columns")
    cells = {name: (value or "").strip() for name, value in row.items()}
    question: dict[str, Any] = {k: cells[k] for k in ("id", "kind", "prompt") if k in cells}
    options = cells.get("options", "")
    question["options"] = [o.strip() for o in options.split(OPTION_SEPARATOR)] if options else []
    answer = cells.get("answer", "")
    kind = question.get("kind")
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        answer = answer.lower()  # option ids are a, b, c...; spreadsheets often say B
    if kind == QuestionKind.MULTIPLE and answer:
        question["answer"] = [a.strip() for a in answer.split(OPTION_SEPARATOR)]
    else:
        question["answer"] = answer or None
    for name in ("marks", "decimals"):
        if cells.get(name):
            question[name] = cells[name]
    return question


def _build(
    items: Iterable[tuple[int, dict[str, Any] | Problem | Any]], header: ExamHeader
) -> ExamDefinition:
    salt = secrets.token_hex(16)
    questions: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for row, item in items:
        question_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(question_id, str) and question_id:
            if question_id in seen:
                message = f"{_short(question_id)!r} is also row {seen[question_id]}"
                problems.append(Problem(row, "id", message))
            seen.setdefault(question_id, row)
        found = _question(row, item, salt)
        if isinstance(found, list):
            problems += found
        else:
            questions.append(found)
    if not problems and not questions:
        problems.append(Problem(FILE_ROW, "questions", "the file has no questions"))
    if problems:
        raise ImportRejected(problems)
    return _definition(header, salt, questions)


def _definition(header: ExamHeader, salt: str, questions: list[dict[str, Any]]) -> ExamDefinition:
    body = {
        "id": header.exam_id,
        "version": header.version,
        "title": header.title,
        "key_salt": salt,
        "questions": questions,
        "scoring": header.scoring.model_dump(mode="json"),
        "policy": header.policy.model_dump(mode="json"),
    }
    try:
        return ExamDefinition.model_validate_json(json.dumps(body))
    except ValidationError as exc:  # only the header can be wrong here: questions were checked
        raise ImportRejected(
            [Problem(FILE_ROW, _field_name(e["loc"]), e["msg"]) for e in exc.errors()]
        ) from None


def _question(row: int, item: Any, salt: str) -> dict[str, Any] | list[Problem]:
    """A valid wire question with its answer key, or the row's problems."""
    shape = _shape_problems(row, item)
    if shape:
        return shape
    body, problems = _wire_body(row, item)
    if problems:
        return problems
    try:
        question = Question.model_validate_json(json.dumps(body))
    except ValidationError as exc:
        return [Problem(row, _field_name(e["loc"], e["msg"]), _message(e)) for e in exc.errors()]
    return _with_key(row, question, item.get("answer"), salt)


def _shape_problems(row: int, item: Any) -> list[Problem]:
    if isinstance(item, Problem):
        return [Problem(row, item.field, item.message)]
    if not isinstance(item, dict):
        return [Problem(row, "question", "must be an object")]
    unknown = sorted(str(k) for k in item if k not in COLUMNS)
    if unknown:
        return [Problem(row, _short(name), "unknown field") for name in unknown]
    too_long = [k for k, v in item.items() if isinstance(v, str) and len(v) > MAX_FIELD_CHARS]
    return [Problem(row, k, f"longer than {MAX_FIELD_CHARS} characters") for k in too_long]


def _wire_body(row: int, item: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    problems: list[Problem] = []
    body: dict[str, Any] = {}
    for name in ("id", "kind", "prompt"):
        value = item.get(name)
        if not isinstance(value, str) or not value:
            problems.append(Problem(row, name, "is required (text)"))
        else:
            body[name] = value
    if "id" in body and not _ID_RE.match(body["id"]):
        problems.append(Problem(row, "id", "use 1-64 letters, digits, '_', '.', '-'"))
    if "kind" in body and body["kind"] not in set(QuestionKind):
        problems.append(Problem(row, "kind", "must be single, multiple, numeric or text"))
    options = item.get("options", [])
    if not isinstance(options, list) or not all(isinstance(o, str) and o for o in options):
        problems.append(Problem(row, "options", "must be non-empty texts separated by |"))
    else:
        body["options"] = [{"id": _option_id(i), "text": t} for i, t in enumerate(options)]
    for name, convert in (("marks", float), ("decimals", int)):
        if item.get(name) is None:
            continue
        number = _number(item[name], convert)
        if number is None:
            problems.append(Problem(row, name, f"{_short(item[name])!r} is not a number"))
        else:
            body[name] = number
    return body, problems


def _with_key(
    row: int, question: Question, answer: Any, salt: str
) -> dict[str, Any] | list[Problem]:
    body = question.model_dump(mode="json")
    if answer is None or answer in ("", []):
        if question.kind is QuestionKind.TEXT:
            return body  # marked by a person: no key, no penalty on the kiosk
        return [Problem(row, "answer", "is required for a marked question")]
    problem = _answer_problem(question, answer)
    if problem:
        return [Problem(row, "answer", problem)]
    canonical = canonical_answer(question, answer)
    if canonical is None:
        return [Problem(row, "answer", f"{_short(answer)!r} is not a {question.kind} answer")]
    body["answer_key"] = answer_digest(salt, question.id, canonical)
    return body


def _answer_problem(question: Question, answer: Any) -> str | None:
    option_ids = {o.id for o in question.options}
    if question.kind is QuestionKind.SINGLE:
        if not isinstance(answer, str) or answer not in option_ids:
            return f"must be one of the option ids {', '.join(sorted(option_ids))}"
    elif question.kind is QuestionKind.MULTIPLE:
        if not isinstance(answer, list) or not all(isinstance(a, str) for a in answer):
            return "must be option ids separated by |"
        wrong = [a for a in answer if a not in option_ids]
        if wrong:
            return f"{_short(', '.join(wrong))} are not option ids"
    elif question.kind is QuestionKind.NUMERIC:
        if isinstance(answer, bool) or _number(answer, float) is None:
            return f"{_short(answer)!r} is not a number"
    elif not isinstance(answer, str) or len(answer) > 2000:
        return "must be a text of at most 2000 characters"
    return None


def _number(value: Any, convert: type[float] | type[int]) -> float | int | None:
    if isinstance(value, bool):
        return None
    try:
        number = convert(value.strip()) if isinstance(value, str) else convert(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _option_id(index: int) -> str:
    return chr(ord("a") + index) if index < 26 else f"o{index + 1}"


def _field_name(loc: tuple[int | str, ...], message: str = "") -> str:
    if loc:
        return str(loc[0])
    return "options" if "option" in message else "question"  # a whole-question rule


def _message(error: Any) -> str:
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
