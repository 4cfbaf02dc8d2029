"""Setting up an exam day: centres, halls and seats, exams, candidates, sessions, invigilator
assignments. Each change is audit-logged; the caller commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from central.domain_models import (
    Candidate,
    Centre,
    Exam,
    ExamSession,
    Hall,
    InvigilatorAssignment,
    Seat,
)
from central.scoring.policy import ProctoringPolicy
from central.services.audit import record
from central.services.errors import Conflict, InvalidParameter, NotFound
from central.services.users import UserInfo, get_user
from protocol.exam import ExamDefinition

MAX_GRID = 100


def create_centre(session: Session, actor: UserInfo, centre_id: str, name: str) -> Centre:
    if session.get(Centre, centre_id) is not None:
        raise Conflict(f"centre {centre_id!r} already exists")
    centre = Centre(centre_id=centre_id, name=name, created_at=datetime.now(UTC))
    session.add(centre)
    record(session, actor, "centre.create", ("centre", centre_id), {"name": name})
    session.flush()
    return centre


@dataclass(frozen=True)
class HallLayout:
    rows: int
    columns: int
    gaps: frozenset[tuple[int, int]] = frozenset()  # 1-based (row, column) cells without a seat

    def check(self) -> None:
        if not (1 <= self.rows <= MAX_GRID and 1 <= self.columns <= MAX_GRID):
            raise InvalidParameter("layout", f"rows and columns must be 1 to {MAX_GRID}")
        for row, column in self.gaps:
            if not self.contains(row, column):
                raise InvalidParameter("gaps", f"cell {row},{column} is outside the grid")

    def contains(self, row: int, column: int) -> bool:
        return 1 <= row <= self.rows and 1 <= column <= self.columns


def create_hall(
    session: Session, actor: UserInfo, hall_id: str, centre_id: str, layout: HallLayout
) -> Hall:
    layout.check()
    if session.get(Centre, centre_id) is None:
        raise NotFound(f"no centre {centre_id!r}")
    if session.get(Hall, hall_id) is not None:
        raise Conflict(f"hall {hall_id!r} already exists")
    hall = Hall(
        hall_id=hall_id,
        centre_id=centre_id,
        name=hall_id,
        grid_rows=layout.rows,
        grid_columns=layout.columns,
        gaps=[list(cell) for cell in sorted(layout.gaps)],
        created_at=datetime.now(UTC),
    )
    session.add(hall)
    record(
        session,
        actor,
        "hall.create",
        ("hall", hall_id),
        {"rows": layout.rows, "columns": layout.columns, "gaps": hall.gaps},
    )
    session.flush()
    return hall


@dataclass(frozen=True)
class SeatPlace:
    seat_id: str
    label: str
    row: int
    column: int
    device_id: str | None = None


def add_seat(session: Session, actor: UserInfo, hall_id: str, place: SeatPlace) -> Seat:
    hall = session.get(Hall, hall_id)
    if hall is None:
        raise NotFound(f"no hall {hall_id!r}")
    if not HallLayout(hall.grid_rows, hall.grid_columns).contains(place.row, place.column):
        raise InvalidParameter("seat", f"cell {place.row},{place.column} is outside the hall")
    if [place.row, place.column] in hall.gaps:
        raise InvalidParameter("seat", f"cell {place.row},{place.column} is a gap")
    _check_seat_is_free(session, hall_id, place)
    seat = Seat(
        seat_id=place.seat_id,
        hall_id=hall_id,
        label=place.label,
        grid_row=place.row,
        grid_column=place.column,
        device_id=place.device_id,
    )
    session.add(seat)
    record(
        session,
        actor,
        "seat.create",
        ("seat", place.seat_id),
        {"hall_id": hall_id, "label": place.label, "device_id": place.device_id},
    )
    session.flush()
    return seat


def _check_seat_is_free(session: Session, hall_id: str, place: SeatPlace) -> None:
    """Clear errors for what the unique keys would refuse anyway."""
    if session.get(Seat, place.seat_id) is not None:
        raise Conflict(f"seat {place.seat_id!r} already exists")
    taken = select(Seat.seat_id).where(
        Seat.hall_id == hall_id,
        or_(
            Seat.label == place.label,
            and_(Seat.grid_row == place.row, Seat.grid_column == place.column),
        ),
    )
    if session.scalar(taken.limit(1)) is not None:
        raise Conflict(f"label {place.label!r} or cell {place.row},{place.column} is taken")
    if place.device_id is not None:
        bound = session.scalar(select(Seat.seat_id).where(Seat.device_id == place.device_id))
        if bound is not None:
            raise Conflict(f"kiosk {place.device_id!r} is already bound to seat {bound!r}")


def create_exam(
    session: Session, actor: UserInfo, definition: ExamDefinition, policy: ProctoringPolicy
) -> Exam:
    now = datetime.now(UTC)
    if session.get(Exam, definition.id) is not None:
        raise Conflict(f"exam {definition.id!r} already exists")
    exam = Exam(
        exam_id=definition.id,
        title=definition.title,
        version=definition.version,
        definition=definition.model_dump(mode="json"),
        proctoring=policy.model_dump(mode="json"),
        created_at=now,
        updated_at=now,
    )
    session.add(exam)
    record(session, actor, "exam.create", ("exam", definition.id), {"version": definition.version})
    session.flush()
    return exam


def exam_definition(exam: Exam) -> ExamDefinition:
    # Through JSON: the wire models are strict and take enums only as their JSON values.
    return ExamDefinition.model_validate_json(json.dumps(exam.definition))


def proctoring_policy(exam: Exam | None) -> ProctoringPolicy:
    if exam is None:
        return ProctoringPolicy()
    return ProctoringPolicy.model_validate(exam.proctoring)


def create_candidate(
    session: Session, actor: UserInfo, candidate_id: str, number: str, name: str
) -> Candidate:
    candidate = Candidate(
        candidate_id=candidate_id,
        candidate_number=number,
        display_name=name,
        language="en",
        encoding=None,
        created_at=datetime.now(UTC),
    )
    session.add(candidate)
    record(session, actor, "candidate.create", ("candidate", candidate_id), {"number": number})
    session.flush()
    return candidate


@dataclass(frozen=True)
class Sitting:
    session_id: str
    exam_id: str
    candidate_id: str
    seat_id: str
    start: datetime
    end: datetime


def schedule_session(session: Session, actor: UserInfo, sitting: Sitting) -> ExamSession:
    if sitting.end <= sitting.start:
        raise InvalidParameter("end", "must be later than start")
    for model, key in (
        (Exam, sitting.exam_id),
        (Candidate, sitting.candidate_id),
        (Seat, sitting.seat_id),
    ):
        if session.get(model, key) is None:
            raise NotFound(f"no {model.__tablename__[:-1]} {key!r}")
    row = ExamSession(
        session_id=sitting.session_id,
        exam_id=sitting.exam_id,
        candidate_id=sitting.candidate_id,
        seat_id=sitting.seat_id,
        scheduled_start=sitting.start,
        scheduled_end=sitting.end,
        state="scheduled",
    )
    session.add(row)
    record(
        session,
        actor,
        "session.schedule",
        ("session", sitting.session_id),
        {
            "exam_id": sitting.exam_id,
            "candidate_id": sitting.candidate_id,
            "seat_id": sitting.seat_id,
        },
    )
    session.flush()
    return row


def set_session_state(session: Session, actor: UserInfo, session_id: str, state: str) -> None:
    row = session.get(ExamSession, session_id)
    if row is None:
        raise NotFound(f"no session {session_id!r}")
    if state not in SESSION_STATES:
        raise InvalidParameter("state", f"must be one of {', '.join(SESSION_STATES)}")
    record(
        session, actor, "session.state", ("session", session_id), {"from": row.state, "to": state}
    )
    row.state = state
    session.flush()


SESSION_STATES = ("scheduled", "running", "submitted", "ended")


def assign_invigilator(session: Session, actor: UserInfo, user_id: int, hall_id: str) -> None:
    user = get_user(session, user_id)
    if user is None or user.role != "invigilator":
        raise InvalidParameter("user", "must be an invigilator")
    if session.get(Hall, hall_id) is None:
        raise NotFound(f"no hall {hall_id!r}")
    if session.get(InvigilatorAssignment, (user_id, hall_id)) is not None:
        return
    session.add(
        InvigilatorAssignment(user_id=user_id, hall_id=hall_id, assigned_at=datetime.now(UTC))
    )
    record(session, actor, "hall.assign", ("hall", hall_id), {"user": user.username})
    session.flush()


# --- Administration: changes made from the admin pages (central.web.admin). ---


def update_hall_layout(session: Session, actor: UserInfo, hall_id: str, layout: HallLayout) -> Hall:
    """Resize a hall or move its gaps; refused while a seat would fall outside or on a gap."""
    layout.check()
    hall = session.get(Hall, hall_id)
    if hall is None:
        raise NotFound(f"no hall {hall_id!r}")
    for seat in session.scalars(select(Seat).where(Seat.hall_id == hall_id)):
        cell = (seat.grid_row, seat.grid_column)
        if not layout.contains(*cell) or cell in layout.gaps:
            raise Conflict(f"seat {seat.label!r} is at {cell[0]},{cell[1]}: remove it first")
    hall.grid_rows, hall.grid_columns = layout.rows, layout.columns
    hall.gaps = [list(cell) for cell in sorted(layout.gaps)]
    record(
        session,
        actor,
        "hall.layout",
        ("hall", hall_id),
        {"rows": layout.rows, "columns": layout.columns, "gaps": hall.gaps},
    )
    session.flush()
    return hall


def bind_kiosk(session: Session, actor: UserInfo, seat_id: str, device_id: str | None) -> Seat:
    """Bind a kiosk to a seat (None unbinds); a kiosk serves one seat at a time."""
    seat = session.get(Seat, seat_id)
    if seat is None:
        raise NotFound(f"no seat {seat_id!r}")
    if device_id is not None:
        bound = session.scalar(
            select(Seat.seat_id).where(Seat.device_id == device_id, Seat.seat_id != seat_id)
        )
        if bound is not None:
            raise Conflict(f"kiosk {device_id!r} is already bound to seat {bound!r}")
    record(
        session,
        actor,
        "seat.bind",
        ("seat", seat_id),
        {"from": seat.device_id, "to": device_id},
    )
    seat.device_id = device_id
    session.flush()
    return seat


def remove_seat(session: Session, actor: UserInfo, seat_id: str) -> None:
    """Take a seat off the map; refused while a session is scheduled there (its history)."""
    seat = session.get(Seat, seat_id)
    if seat is None:
        raise NotFound(f"no seat {seat_id!r}")
    booked = select(ExamSession.session_id).where(ExamSession.seat_id == seat_id).limit(1)
    if session.scalar(booked) is not None:
        raise Conflict(f"seat {seat.label!r} has sessions; it cannot be removed")
    record(
        session,
        actor,
        "seat.remove",
        ("seat", seat_id),
        {"hall_id": seat.hall_id, "label": seat.label, "device_id": seat.device_id},
    )
    session.delete(seat)
    session.flush()


def replace_exam_definition(
    session: Session, actor: UserInfo, definition: ExamDefinition, action: str = "exam.questions"
) -> Exam:
    """Store a new definition of an existing exam under the next version number, so a kiosk
    holding the old one can tell."""
    exam = session.get(Exam, definition.id)
    if exam is None:
        raise NotFound(f"no exam {definition.id!r}")
    body = definition.model_dump(mode="json")
    body["version"] = exam.version + 1
    stored = ExamDefinition.model_validate_json(json.dumps(body))
    exam.definition = stored.model_dump(mode="json")
    exam.title = stored.title
    exam.version = stored.version
    exam.updated_at = datetime.now(UTC)
    record(
        session,
        actor,
        action,
        ("exam", exam.exam_id),
        {"version": stored.version, "questions": len(stored.questions)},
    )
    session.flush()
    return exam


def update_proctoring_policy(
    session: Session, actor: UserInfo, exam_id: str, policy: ProctoringPolicy
) -> Exam:
    exam = session.get(Exam, exam_id)
    if exam is None:
        raise NotFound(f"no exam {exam_id!r}")
    exam.proctoring = policy.model_dump(mode="json")
    exam.updated_at = datetime.now(UTC)
    record(session, actor, "exam.proctoring", ("exam", exam_id), exam.proctoring)
    session.flush()
    return exam


@dataclass(frozen=True)
class CandidateRecord:
    candidate_id: str
    number: str
    name: str
    language: str
    encoding: list[float] | None


def import_candidate(session: Session, actor: UserInfo, candidate: CandidateRecord) -> Candidate:
    """A candidate from a bulk import, with the enrolment encoding computed on the server."""
    taken = select(Candidate.candidate_id).where(Candidate.candidate_number == candidate.number)
    if session.get(Candidate, candidate.candidate_id) is not None or session.scalar(taken):
        raise Conflict(f"candidate number {candidate.number!r} is already registered")
    row = Candidate(
        candidate_id=candidate.candidate_id,
        candidate_number=candidate.number,
        display_name=candidate.name,
        language=candidate.language,
        encoding=candidate.encoding,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    record(
        session,
        actor,
        "candidate.import",
        ("candidate", candidate.candidate_id),
        {"number": candidate.number, "enrolled": candidate.encoding is not None},
    )
    session.flush()
    return row
