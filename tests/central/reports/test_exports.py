"""The exam exports on the exam day (SQLite and MariaDB): CSV columns, formula quoting and BOM,
the violations JSON, and hall scoping of both."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from central.domain_models import Candidate
from central.reports.exports import RESULT_COLUMNS, results_csv, safe_cell, violations_export
from central.services.errors import NotFound
from central.services.review import decide
from central.services.users import UserInfo
from tests.central import exam_day
from tests.central.exam_day import SHA_A, SHA_B, Day

REVIEWER = UserInfo(id=2, username="rita", role="reviewer")


@pytest.fixture
def day(any_sessions: sessionmaker[Session], tmp_path: Path) -> Day:
    with any_sessions.begin() as session:
        return exam_day.build(session, tmp_path / "evidence", hall_b_flag=True)


def _invigilator(day: Day, name: str) -> UserInfo:
    return UserInfo(id=day.user_ids[name], username=name, role="invigilator")


def _rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads UTF-8
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Zoë Ødegård", "Zoë Ødegård"),
        (-2.5, "-2.5"),  # our own numbers stay numbers
        (True, "yes"),
        (None, ""),
    ],
)
def test_safe_cell(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_results_csv_has_one_row_per_session(any_sessions: sessionmaker[Session], day: Day) -> None:
    with any_sessions.begin() as session:
        decide(session, REVIEWER, day.phone, "confirmed", "seen")
        candidate = session.get(Candidate, "cand-2")
        assert candidate is not None
        candidate.display_name = '=cmd|"/c calc"!A1'
    with any_sessions() as session:
        body, count = results_csv(session, "exam-1", REVIEWER)
    rows = _rows(body)
    assert count == 2
    assert tuple(rows[0]) == RESULT_COLUMNS
    one, two = rows
    assert one["candidate_number"] == "1001"
    assert one["seat"] == "A-01"
    assert one["released"] == "no"
    assert one["passed"] == "yes"
    assert one["reason"].startswith("Pass: trust ")
    assert (one["confirmed_flags"], one["dismissed_flags"], one["pending_flags"]) == ("1", "0", "1")
    assert (one["quiz_score"], one["quiz_percent"]) == ("3.75", "75")
    assert two["name"] == '\'=cmd|"/c calc"!A1'  # shown as text, never run
    assert two["reason"] == "Fail: score 20 % < 40 %"
    assert two["pending_flags"] == "1"


def test_an_invigilator_gets_only_their_halls(
    any_sessions: sessionmaker[Session], day: Day
) -> None:
    with any_sessions() as session:
        body, _ = results_csv(session, "exam-1", _invigilator(day, "ian"))
        export = violations_export(session, "exam-1", _invigilator(day, "ivy"))
    assert [r["candidate_number"] for r in _rows(body)] == ["1002"]
    assert export["sessions"] == ["sess-1"]
    assert {v["session_id"] for v in export["violations"]} == {"sess-1"}


def test_violations_json_of_the_exam_day(any_sessions: sessionmaker[Session], day: Day) -> None:
    with any_sessions.begin() as session:
        decide(session, REVIEWER, day.looking_away, "dismissed", "reading the clock")
    with any_sessions() as session:
        export = violations_export(session, "exam-1", REVIEWER)
    assert export["exam_id"] == "exam-1"
    assert export["sessions"] == ["sess-1", "sess-2"]
    by_id = {v["violation_id"]: v for v in export["violations"]}
    assert list(by_id) == [day.phone, day.looking_away, day.raised_hand, day.hall_b_flag]
    phone, looking, hand, speech = by_id.values()
    assert phone["type"] == "phone_in_view"
    assert phone["decision"] == "pending"
    assert phone["candidate_number"] == "1001"
    assert phone["seat"] == "A-01"
    assert phone["evidence"] == [f"/api/v1/evidence/{SHA_A}"]
    assert phone["duration_s"] == 3.0
    assert phone["start_offset_s"] == 60.0
    assert phone["start"].startswith("2026-11-25T09:31:00")
    assert phone["end"].startswith("2026-11-25T09:31:03")
    assert (looking["decision"], looking["note"], looking["reviewer"]) == (
        "dismissed",
        "reading the clock",
        "rita",
    )
    assert hand["decision"] == "information"
    assert hand["evidence"] == []
    assert speech["session_id"] == "sess-2"
    assert speech["evidence"] == [f"/api/v1/evidence/{SHA_B}"]


def test_unknown_exam(any_sessions: sessionmaker[Session]) -> None:
    with any_sessions() as session, pytest.raises(NotFound):
        results_csv(session, "nope", REVIEWER)
