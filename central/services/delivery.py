"""Sending a seat's sitting to its kiosk: the exam definition (`load_exam`) and the candidate's
enrolment with the face encoding (`enrol`), as two commands through the command channel.

A kiosk holds one candidate at a time, so what a seat is sent is its *next sitting*: the
earliest session there that has not ended, been submitted or run past its scheduled end. It is
sent when a session is scheduled or a kiosk is bound to the seat, when an admin asks again, and
by the command publisher's periodic sweep (`deliver_due`), which also moves a seat on to its
next sitting once the previous one is over. A sitting counts as delivered while its two
commands are on their way or done for the kiosk now bound to the seat and the exam has not
changed version since; a refused, expired or failed delivery is sent again by the next sweep,
and the kiosk applies a command id only once, so sending twice does no harm.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.console_models import OutgoingCommand
from central.domain_models import Candidate, Exam, ExamSession, Seat
from central.services.audit import SYSTEM
from central.services.commands import CommandRequest, issue_command
from central.services.errors import InvalidParameter, NotFound
from central.services.planning import exam_definition
from central.services.results import FINISHED_STATES, finished_sessions
from central.services.users import UserInfo
from protocol import CommandType
from protocol.exam import Enrolment

log = logging.getLogger(__name__)

# A delivery in one of these states is still good: on its way, or applied by the kiosk.
LIVE_STATES = ("queued", "published", "received", "done")
SWEEP_LIMIT = 500  # seats looked at per sweep; the rest wait for the next one


@dataclass(frozen=True)
class Delivery:
    """What happened to one seat's next sitting."""

    seat_id: str
    session_id: str | None
    state: str  # sent / already_sent / no_kiosk / no_sitting / not_enrolled / invalid
    detail: str
    commands: tuple[OutgoingCommand, ...] = ()


@dataclass(frozen=True)
class DeliveryStatus:
    """For the sessions page: the newest delivery of a sitting, by command type."""

    load_exam: str | None
    enrol: str | None

    @property
    def summary(self) -> str:
        states = {self.load_exam, self.enrol}
        if states == {None}:
            return "not sent"
        if states == {"done"}:
            return "on the kiosk"
        for bad in ("rejected", "failed", "expired"):
            if bad in states:
                return bad
        return "sending"


def next_sitting(session: Session, seat_id: str, now: datetime) -> ExamSession | None:
    statement = (
        select(ExamSession)
        .where(
            ExamSession.seat_id == seat_id,
            ExamSession.scheduled_end > now,
            ExamSession.state.not_in(FINISHED_STATES),
        )
        .order_by(ExamSession.scheduled_start, ExamSession.session_id)
    )
    sittings = list(session.scalars(statement.limit(5)))
    finished = finished_sessions(session, sittings) if sittings else set()
    return next((s for s in sittings if s.session_id not in finished), None)


def deliver_seat(
    session: Session,
    actor: UserInfo,
    seat_id: str,
    now: datetime | None = None,
    force: bool = False,
) -> Delivery:
    """Queue the seat's next sitting for its kiosk unless it is on its way already (`force`
    sends it again anyway: an admin who knows the kiosk was reset)."""
    now = now or datetime.now(UTC)
    seat = session.get(Seat, seat_id)
    if seat is None:
        raise NotFound(f"no seat {seat_id!r}")
    sitting = next_sitting(session, seat_id, now)
    if sitting is None:
        return Delivery(seat_id, None, "no_sitting", "no sitting ahead at this seat")
    if seat.device_id is None:
        return Delivery(seat_id, sitting.session_id, "no_kiosk", "no kiosk is bound to the seat")
    exam = session.get(Exam, sitting.exam_id)
    candidate = session.get(Candidate, sitting.candidate_id)
    if exam is None or candidate is None:  # foreign keys make this impossible
        raise NotFound(f"session {sitting.session_id!r} lost its exam or candidate")
    if candidate.encoding is None:
        return Delivery(
            seat_id,
            sitting.session_id,
            "not_enrolled",
            f"candidate {candidate.candidate_number} has no face encoding: import a photo "
            "with one face, then send again",
        )
    if not force and _delivered(session, seat, sitting, exam):
        return Delivery(seat_id, sitting.session_id, "already_sent", "already on its way")
    return _send(
        session,
        actor,
        seat=seat,
        sitting=sitting,
        exam=exam,
        candidate=candidate,
        encoding=candidate.encoding,
    )


def _send(
    session: Session,
    actor: UserInfo,
    *,
    seat: Seat,
    sitting: ExamSession,
    exam: Exam,
    candidate: Candidate,
    encoding: list[float],
) -> Delivery:
    try:
        enrolment = Enrolment(
            session_id=sitting.session_id,
            candidate_id=candidate.candidate_id,
            candidate_number=candidate.candidate_number,
            display_name=candidate.display_name,
            exam_id=exam.exam_id,
            seat_id=seat.seat_id,
            encoding=encoding,
            language=candidate.language or "en",
        )
    except ValidationError as exc:
        problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return Delivery(seat.seat_id, sitting.session_id, "invalid", f"cannot be sent: {problem}")
    # Wire form (JSON types), exactly what the kiosk will validate.
    requests = [
        CommandRequest(seat.seat_id, kind, {name: body}, expires_at=sitting.scheduled_end)
        for kind, name, body in (
            (CommandType.LOAD_EXAM, "exam", exam_definition(exam).model_dump(mode="json")),
            (CommandType.ENROL, "enrolment", enrolment.model_dump(mode="json")),
        )
    ]
    try:
        with session.begin_nested():  # both or neither
            commands = tuple(issue_command(session, actor, r) for r in requests)
    except InvalidParameter as exc:
        return Delivery(
            seat.seat_id, sitting.session_id, "invalid", f"cannot be sent: {exc.message}"
        )
    log.info("sitting %s sent to kiosk %s", sitting.session_id, seat.device_id)
    return Delivery(seat.seat_id, sitting.session_id, "sent", "sent to the kiosk", commands)


def _delivered(session: Session, seat: Seat, sitting: ExamSession, exam: Exam) -> bool:
    newest = _newest_deliveries(session, [sitting.seat_id]).get(sitting.session_id, {})
    exam_row = newest.get(CommandType.LOAD_EXAM.value)
    enrol_row = newest.get(CommandType.ENROL.value)
    return (
        exam_row is not None
        and enrol_row is not None
        and exam_row.state in LIVE_STATES
        and enrol_row.state in LIVE_STATES
        and enrol_row.device_id == seat.device_id
        and exam_row.args.get("exam", {}).get("version") == exam.version
    )


def delivery_status(session: Session, sittings: Iterable[ExamSession]) -> dict[str, DeliveryStatus]:
    """The newest load_exam and enrol command of each sitting, by session id."""
    sittings = list(sittings)
    newest = _newest_deliveries(session, sorted({s.seat_id for s in sittings}))
    result = {}
    for sitting in sittings:
        rows = newest.get(sitting.session_id, {})
        load, enrol = rows.get(CommandType.LOAD_EXAM.value), rows.get(CommandType.ENROL.value)
        result[sitting.session_id] = DeliveryStatus(
            load.state if load else None, enrol.state if enrol else None
        )
    return result


def _newest_deliveries(
    session: Session, seat_ids: list[str]
) -> dict[str, dict[str, OutgoingCommand]]:
    """Session id -> command type -> newest delivery command. A load_exam names no session:
    it belongs to the enrol command issued with it (same seat, issued just before)."""
    if not seat_ids:
        return {}
    statement = (
        select(OutgoingCommand)
        .where(
            OutgoingCommand.seat_id.in_(seat_ids),
            OutgoingCommand.type.in_([CommandType.LOAD_EXAM.value, CommandType.ENROL.value]),
        )
        .order_by(OutgoingCommand.seat_id, OutgoingCommand.issued_at, OutgoingCommand.command_id)
    )
    newest: dict[str, dict[str, OutgoingCommand]] = {}
    pending_exam: dict[str, OutgoingCommand] = {}  # seat -> load_exam awaiting its enrol
    for row in session.scalars(statement):
        if row.type == CommandType.LOAD_EXAM.value:
            pending_exam[row.seat_id or ""] = row
            continue
        session_id = str(row.args.get("enrolment", {}).get("session_id", ""))
        entry = newest.setdefault(session_id, {})
        entry[CommandType.ENROL.value] = row
        exam_row = pending_exam.pop(row.seat_id or "", None)
        if exam_row is not None:
            entry[CommandType.LOAD_EXAM.value] = exam_row
    return newest


def deliver_due(session: Session, now: datetime | None = None) -> list[Delivery]:
    """The periodic sweep: every seat with a kiosk and a sitting ahead gets it, once."""
    now = now or datetime.now(UTC)
    seats = select(ExamSession.seat_id).where(
        ExamSession.scheduled_end > now, ExamSession.state.not_in(FINISHED_STATES)
    )
    statement = (
        select(Seat.seat_id)
        .where(Seat.device_id.is_not(None), Seat.seat_id.in_(seats))
        .order_by(Seat.seat_id)
        .limit(SWEEP_LIMIT)
    )
    done = []
    for seat_id in list(session.scalars(statement)):
        delivery = deliver_seat(session, SYSTEM, seat_id, now)
        if delivery.state == "sent":
            done.append(delivery)
        elif delivery.state in ("not_enrolled", "invalid"):
            log.info("seat %s, sitting %s: %s", seat_id, delivery.session_id, delivery.detail)
    return done
