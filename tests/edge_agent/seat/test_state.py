"""Seat state: durable across reopening the file, transactions all-or-nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge_agent.seat.state import AppliedCommand, SeatMessage, SeatState, SeatWarning
from protocol import ExamProgress, SessionRef
from protocol.exam import Enrolment, ExamDefinition
from tests.edge_agent.seat.builders import SEAT, enrolment_json, exam_json

AT = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def _exam() -> ExamDefinition:
    return ExamDefinition.model_validate_json(json.dumps(exam_json()))


def _enrolment(session_id: str = "sess-1") -> Enrolment:
    return Enrolment.model_validate_json(json.dumps(enrolment_json(session_id)))


def test_a_new_file_is_empty(state: SeatState) -> None:
    assert state.exam() is None
    assert state.enrolment() is None
    assert state.progress() is None
    control = state.control()
    assert (control.paused, control.ended, control.warnings, control.messages) == (
        False,
        False,
        (),
        (),
    )
    assert state.subject(SEAT) == SessionRef(seat_id=SEAT)


def test_everything_survives_reopening_the_file(state_path: Path) -> None:
    with SeatState(state_path) as state:
        state.set_exam(_exam())
        state.set_enrolment(_enrolment())
        state.add_warning(SeatWarning("w1", "Eyes on your screen", AT, "inv-1"))
        state.add_message(SeatMessage("m1", "Ten minutes left", AT))
        state.set_paused(True)
        state.mark_warning_seen("w1")
        state.set_progress(ExamProgress(state="running", answered=1, total=2, remaining_s=60.0))
        state.record_command(AppliedCommand("c1", "warn", "done", "warning 1 issued"))
        state.remember_local_message("msg-1", 7)
    with SeatState(state_path) as reopened:
        assert reopened.exam() == _exam()
        assert reopened.enrolment() == _enrolment()
        control = reopened.control()
        assert control.paused
        assert control.warnings == (SeatWarning("w1", "Eyes on your screen", AT, "inv-1", True),)
        assert control.messages == (SeatMessage("m1", "Ten minutes left", AT),)
        assert reopened.progress() == ExamProgress(
            state="running", answered=1, total=2, remaining_s=60.0
        )
        assert reopened.applied("c1") == AppliedCommand("c1", "warn", "done", "warning 1 issued")
        assert reopened.local_message_seq("msg-1") == 7
        assert reopened.subject() == SessionRef(
            seat_id=SEAT, session_id="sess-1", candidate_id="cand-1", exam_id="exam-1"
        )


def test_ending_survives_reopening_and_clears_the_pause(state_path: Path) -> None:
    with SeatState(state_path) as state:
        state.set_paused(True)
        state.end("caught with notes")
    with SeatState(state_path) as reopened:
        control = reopened.control()
        assert (control.paused, control.ended, control.ended_reason) == (
            False,
            True,
            "caught with notes",
        )


def test_a_failed_transaction_leaves_nothing(state: SeatState) -> None:
    def crash_between_writes() -> None:
        with state.transaction():
            state.set_exam(_exam())
            state.set_paused(True)
            raise RuntimeError("crash between the writes")

    with pytest.raises(RuntimeError):
        crash_between_writes()
    assert state.exam() is None
    assert not state.control().paused


def test_a_new_session_starts_with_a_clean_slate(state: SeatState) -> None:
    state.set_enrolment(_enrolment("sess-1"))
    state.add_warning(SeatWarning("w1", "No phones", AT, "inv-1"))
    state.set_paused(True)
    state.set_enrolment(_enrolment("sess-1"))  # the same enrolment again keeps the state
    assert state.control().paused
    state.set_enrolment(_enrolment("sess-2"))
    control = state.control()
    assert not control.paused
    assert control.warnings == ()


def test_marking_an_unknown_warning_seen_says_so(state: SeatState) -> None:
    assert not state.mark_warning_seen("nope")
