"""Central's commands applied to the seat state, each exactly once.

`apply_command` validates first and writes only when the command is acceptable, in one
transaction with the record that the command id was applied: a bad command leaves the state
as it was, and a command delivered twice (MQTT QoS 1, a restart before the receipt went out)
is applied once and answered with the first outcome again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from edge_agent.seat.state import AppliedCommand, SeatMessage, SeatState, SeatWarning
from protocol import Command, CommandType
from protocol.exam import Enrolment, enrolment_command, load_exam_command

log = logging.getLogger(__name__)

MAX_TEXT = 500  # protocol ShortText: a warning or message the screen shows
MAX_REASON = 200


@dataclass(frozen=True)
class CommandOutcome:
    """What the command's receipt says; `duplicate` when it had been applied before."""

    status: Literal["done", "rejected"]
    detail: str
    duplicate: bool = False


class CommandRejected(Exception):
    """The command cannot be applied; the message is the receipt's detail."""


Write = Callable[[], str]  # applies an accepted command, returns the receipt detail


def apply_command(state: SeatState, command: Command, seat_id: str | None = None) -> CommandOutcome:
    """Apply `command` once. `seat_id`, when this kiosk has a fixed seat, refuses an
    enrolment for another seat."""
    key = str(command.id)
    with state.transaction():
        previous = state.applied(key)
        if previous is not None:
            log.info("command %s (%s) applied before: %s", key, command.type, previous.status)
            status: Literal["done", "rejected"] = (
                "done" if previous.status == "done" else "rejected"
            )
            return CommandOutcome(status, previous.detail, duplicate=True)
        try:
            write = _plan(state, command, seat_id)
        except CommandRejected as exc:
            outcome = CommandOutcome("rejected", str(exc)[:MAX_TEXT])
        else:
            outcome = CommandOutcome("done", write()[:MAX_TEXT])
        state.record_command(
            AppliedCommand(key, command.type.value, outcome.status, outcome.detail)
        )
    log.info("command %s %s: %s %s", command.type, key, outcome.status, outcome.detail)
    return outcome


def _plan(state: SeatState, command: Command, seat_id: str | None) -> Write:
    kind = command.type
    if kind is CommandType.LOAD_EXAM:
        return _load_exam(state, command)
    if kind is CommandType.ENROL:
        return _enrol(state, command, seat_id)
    if kind is CommandType.MESSAGE:
        return _message(state, command)
    _require_candidate(state)  # the rest act on a candidate's exam
    planners: dict[CommandType, Callable[[SeatState, Command], Write]] = {
        CommandType.WARN: _warn,
        CommandType.PAUSE: lambda s, _: _pause(s, paused=True),
        CommandType.RESUME: lambda s, _: _pause(s, paused=False),
        CommandType.END_EXAM: _end,
        CommandType.ADJUST_TIME: _adjust_time,
    }
    planner = planners.get(kind)
    if planner is None:
        raise CommandRejected(f"unknown command type {kind}")
    return planner(state, command)


def describe(error: ValidationError, prefix: str = "") -> str:
    """The first problems of a validation error by field path, without the input values
    (an enrolment holds a face encoding, which must not reach a receipt or a log)."""
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(part) for part in (prefix, *item["loc"]) if part != "")
        parts.append(f"{where or 'body'}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _load_exam(state: SeatState, command: Command) -> Write:
    try:
        exam = load_exam_command(command)
    except ValidationError as exc:
        raise CommandRejected(f"invalid exam: {describe(exc, 'exam')}") from exc

    def write() -> str:
        state.set_exam(exam)
        return f"exam {exam.id} version {exam.version} loaded ({len(exam.questions)} questions)"

    return write


def _enrol(state: SeatState, command: Command, seat_id: str | None) -> Write:
    try:
        enrolment = enrolment_command(command)
    except ValidationError as exc:
        raise CommandRejected(f"invalid enrolment: {describe(exc, 'enrolment')}") from exc
    if seat_id is not None and enrolment.seat_id != seat_id:
        raise CommandRejected(f"enrolment is for seat {enrolment.seat_id}, this is {seat_id}")

    def write() -> str:
        state.set_enrolment(enrolment)
        return f"candidate {enrolment.candidate_id} enrolled for session {enrolment.session_id}"

    return write


def _require_candidate(state: SeatState) -> Enrolment:
    enrolment = state.enrolment()
    if enrolment is None:
        raise CommandRejected("no candidate is enrolled at this seat")
    return enrolment


def _text(command: Command, name: str = "text", limit: int = MAX_TEXT) -> str:
    value = command.args.get(name)
    if not isinstance(value, str) or not value.strip():
        raise CommandRejected(f"args.{name} must be a non-empty string")
    if len(value) > limit:
        raise CommandRejected(f"args.{name} is longer than {limit} characters")
    return value.strip()


def _message(state: SeatState, command: Command) -> Write:
    text = _text(command)

    def write() -> str:
        state.add_message(SeatMessage(str(command.id), text, command.issued_at))
        return "message shown"

    return write


def _warn(state: SeatState, command: Command) -> Write:
    text = _text(command)
    if state.control().ended:
        raise CommandRejected("the exam has ended")

    def write() -> str:
        state.add_warning(
            SeatWarning(str(command.id), text, command.issued_at, command.issued_by[:MAX_TEXT])
        )
        count = len(state.control().warnings)
        exam = state.exam()
        policy = exam.policy if exam is not None else None
        if policy and policy.end_at_warning_limit and 0 < policy.warning_limit <= count:
            state.end("warning_limit")
            return f"warning {count} issued; the limit is reached, the exam has ended"
        return f"warning {count} issued"

    return write


MAX_ADJUST_S = 4 * 3600.0


def _adjust_time(state: SeatState, command: Command) -> Write:
    seconds = command.args.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise CommandRejected("args.seconds must be a number")
    if not math.isfinite(seconds) or not -MAX_ADJUST_S <= seconds <= MAX_ADJUST_S:
        raise CommandRejected(f"args.seconds must be within +-{MAX_ADJUST_S:g}")
    if state.control().ended:
        raise CommandRejected("the exam has ended")

    def write() -> str:
        total = state.adjust_time(float(seconds))
        return f"time adjusted by {seconds:+g} s ({total:+g} s in all)"

    return write


def _pause(state: SeatState, *, paused: bool) -> Write:
    control = state.control()
    if control.ended:
        raise CommandRejected("the exam has ended")
    word = "paused" if paused else "resumed"

    def write() -> str:
        if control.paused == paused:
            return f"already {word}" if paused else "was not paused"
        state.set_paused(paused)
        return word

    return write


def _end(state: SeatState, command: Command) -> Write:
    reason: str | None = None
    if "reason" in command.args:
        reason = _text(command, "reason", MAX_REASON)
    if state.control().ended:
        return lambda: "already ended"

    def write() -> str:
        state.end(reason)
        return "exam ended" + (f": {reason}" if reason else "")

    return write
