"""Commands from central applied to the seat state: validated, applied once, answered."""

from __future__ import annotations

from pathlib import Path

from edge_agent.outbox import Outbox
from edge_agent.seat.commands import CommandOutcome, apply_command
from edge_agent.seat.messages import Sender, apply_and_answer
from edge_agent.seat.state import SeatState
from protocol import CommandReceipt, CommandType, decode
from tests.edge_agent.seat.builders import ISSUED_AT, SEAT, command, enrolment_json, exam_json


def _enrol(state: SeatState, session_id: str = "sess-1") -> None:
    outcome = apply_command(state, command(CommandType.ENROL, enrolment=enrolment_json(session_id)))
    assert outcome.status == "done", outcome.detail


def test_load_exam_stores_the_exam(state: SeatState) -> None:
    outcome = apply_command(state, command(CommandType.LOAD_EXAM, exam=exam_json()))
    assert outcome == CommandOutcome("done", "exam exam-1 version 1 loaded (2 questions)")
    exam = state.exam()
    assert exam is not None
    assert [q.id for q in exam.questions] == ["q1", "q2"]


def test_an_invalid_exam_is_rejected_naming_the_field_and_changes_nothing(
    state: SeatState,
) -> None:
    apply_command(state, command(CommandType.LOAD_EXAM, exam=exam_json("exam-1")))
    bad = exam_json("exam-2")
    bad["questions"][0]["options"] = [{"id": "a", "text": "only one"}]
    outcome = apply_command(state, command(CommandType.LOAD_EXAM, exam=bad))
    assert outcome.status == "rejected"
    assert outcome.detail.startswith("invalid exam: exam.questions.0")
    assert "at least two options" in outcome.detail
    exam = state.exam()
    assert exam is not None
    assert exam.id == "exam-1"


def test_a_missing_exam_is_rejected(state: SeatState) -> None:
    outcome = apply_command(state, command(CommandType.LOAD_EXAM))
    assert outcome.status == "rejected"
    assert outcome.detail.startswith("invalid exam:")


def test_enrol_stores_the_enrolment(state: SeatState) -> None:
    _enrol(state)
    enrolment = state.enrolment()
    assert enrolment is not None
    assert (enrolment.candidate_number, len(enrolment.encoding)) == ("C-1001", 128)


def test_a_bad_enrolment_is_rejected_without_its_encoding_in_the_detail(
    state: SeatState,
) -> None:
    short = enrolment_json(encoding=[0.123456789] * 127)
    outcome = apply_command(state, command(CommandType.ENROL, enrolment=short))
    assert outcome.status == "rejected"
    assert "enrolment.encoding" in outcome.detail
    assert "0.123456789" not in outcome.detail
    assert state.enrolment() is None


def test_an_enrolment_for_another_seat_is_rejected(state: SeatState) -> None:
    other = command(CommandType.ENROL, enrolment=enrolment_json(seat_id="seat-99"))
    outcome = apply_command(state, other, seat_id=SEAT)
    assert outcome == CommandOutcome("rejected", f"enrolment is for seat seat-99, this is {SEAT}")
    assert state.enrolment() is None


def test_warn_appends_a_warning_with_its_issuer(state: SeatState) -> None:
    _enrol(state)
    first = command(CommandType.WARN, text="Eyes on your own screen")
    assert apply_command(state, first) == CommandOutcome("done", "warning 1 issued")
    assert apply_command(state, command(CommandType.WARN, text="Second")).detail == (
        "warning 2 issued"
    )
    warnings = state.control().warnings
    assert [w.text for w in warnings] == ["Eyes on your own screen", "Second"]
    assert (warnings[0].id, warnings[0].issued_at, warnings[0].issued_by) == (
        str(first.id),
        ISSUED_AT,
        "invigilator-3",
    )


def test_warn_without_text_or_candidate_is_rejected(state: SeatState) -> None:
    assert apply_command(state, command(CommandType.WARN, text="x")) == CommandOutcome(
        "rejected", "no candidate is enrolled at this seat"
    )
    _enrol(state)
    for args in ({}, {"text": "   "}, {"text": 5}, {"text": "x" * 501}):
        outcome = apply_command(state, command(CommandType.WARN, **args))
        assert outcome.status == "rejected"
        assert "args.text" in outcome.detail
    assert state.control().warnings == ()


def test_the_warning_limit_ends_the_exam_when_the_policy_says_so(state: SeatState) -> None:
    apply_command(
        state,
        command(CommandType.LOAD_EXAM, exam=exam_json(warning_limit=2, end_at_warning_limit=True)),
    )
    _enrol(state)
    apply_command(state, command(CommandType.WARN, text="one"))
    assert not state.control().ended
    outcome = apply_command(state, command(CommandType.WARN, text="two"))
    assert outcome.detail == "warning 2 issued; the limit is reached, the exam has ended"
    control = state.control()
    assert (control.ended, control.ended_reason) == (True, "warning_limit")


def test_message_needs_text_but_no_candidate(state: SeatState) -> None:
    outcome = apply_command(state, command(CommandType.MESSAGE, text="Ten minutes left"))
    assert outcome == CommandOutcome("done", "message shown")
    assert [m.text for m in state.control().messages] == ["Ten minutes left"]


def test_pause_resume_and_end(state: SeatState) -> None:
    _enrol(state)
    assert apply_command(state, command(CommandType.PAUSE)).detail == "paused"
    assert state.control().paused
    assert apply_command(state, command(CommandType.PAUSE)).detail == "already paused"
    assert apply_command(state, command(CommandType.RESUME)).detail == "resumed"
    assert not state.control().paused
    assert apply_command(state, command(CommandType.RESUME)).detail == "was not paused"
    ended = apply_command(state, command(CommandType.END_EXAM, reason="fire alarm"))
    assert ended == CommandOutcome("done", "exam ended: fire alarm")
    control = state.control()
    assert (control.ended, control.ended_reason) == (True, "fire alarm")
    assert apply_command(state, command(CommandType.PAUSE)) == CommandOutcome(
        "rejected", "the exam has ended"
    )
    assert apply_command(state, command(CommandType.END_EXAM)).detail == "already ended"


def test_the_same_command_twice_is_applied_once(state: SeatState) -> None:
    _enrol(state)
    warn = command(CommandType.WARN, text="No phones")
    first = apply_command(state, warn)
    again = apply_command(state, warn)
    assert (first.duplicate, again) == (False, CommandOutcome("done", "warning 1 issued", True))
    assert len(state.control().warnings) == 1


def test_a_command_applied_before_a_restart_is_not_applied_again(state_path: Path) -> None:
    warn = command(CommandType.WARN, text="No phones")
    with SeatState(state_path) as state:
        _enrol(state)
        apply_command(state, warn)
    with SeatState(state_path) as reopened:
        assert apply_command(reopened, warn).duplicate
        assert len(reopened.control().warnings) == 1


def test_apply_and_answer_puts_a_receipt_in_the_outbox(
    state: SeatState, outbox: Outbox, sender: Sender
) -> None:
    bad = command(CommandType.PAUSE)
    outcome = apply_and_answer(state, outbox, sender, bad)
    assert outcome.status == "rejected"
    apply_and_answer(state, outbox, sender, bad)  # redelivered: answered again, not re-applied
    receipts = [decode(row.topic, row.payload).message for row in outbox.pending(10)]
    assert len(receipts) == 2
    for receipt in receipts:
        assert isinstance(receipt, CommandReceipt)
        assert (receipt.command_id, receipt.status, receipt.detail) == (
            bad.id,
            "rejected",
            "no candidate is enrolled at this seat",
        )
        assert (receipt.device_id, receipt.clock) == (sender.origin.device_id, sender.clock.now())


def test_adjust_time_adds_up_survives_a_restart_and_is_checked(tmp_path: Path) -> None:
    state = SeatState(tmp_path / "seat.sqlite3")
    rejected = apply_command(state, command(CommandType.ADJUST_TIME, seconds=60))
    assert (rejected.status, rejected.detail) == (
        "rejected",
        "no candidate is enrolled at this seat",
    )
    apply_command(state, command(CommandType.ENROL, enrolment=enrolment_json()))
    assert apply_command(state, command(CommandType.ADJUST_TIME, seconds=300)).status == "done"
    done = apply_command(state, command(CommandType.ADJUST_TIME, seconds=-60.5))
    assert done.detail == "time adjusted by -60.5 s (+239.5 s in all)"
    for bad in ("5", True, 10**6, None):
        outcome = apply_command(state, command(CommandType.ADJUST_TIME, seconds=bad))
        assert outcome.status == "rejected", bad
    state.close()
    again = SeatState(tmp_path / "seat.sqlite3")
    assert again.control().extra_time_s == 239.5
    apply_command(again, command(CommandType.ENROL, enrolment=enrolment_json("sess-2")))
    assert again.control().extra_time_s == 0.0  # a new candidate starts with their own time
    again.close()
