"""Setting up the exam day: seat maps with gaps, one seat per kiosk, sessions, assignments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from central.domain_models import Exam
from central.scoring.policy import ProctoringPolicy
from central.services.audit import SYSTEM, entries_for
from central.services.errors import Conflict, InvalidParameter, NotFound
from central.services.planning import (
    HallLayout,
    SeatPlace,
    Sitting,
    add_seat,
    assign_invigilator,
    create_centre,
    create_exam,
    create_hall,
    exam_definition,
    proctoring_policy,
    schedule_session,
)
from protocol.models import ViolationType
from tests.central import exam_day
from tests.central import factories as f
from tests.central.scoring.exams import exam


@pytest.fixture
def hall(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        create_centre(session, SYSTEM, "c1", "Centre")
        create_hall(session, SYSTEM, "h1", "c1", HallLayout(3, 4, frozenset({(2, 2), (2, 3)})))
        add_seat(session, SYSTEM, "h1", SeatPlace("s-1", "A1", 1, 1, "kiosk-1"))
    return sessions


@pytest.mark.parametrize(
    ("layout", "error"),
    [
        (HallLayout(0, 4), InvalidParameter),
        (HallLayout(3, 101), InvalidParameter),
        (HallLayout(3, 4, frozenset({(4, 1)})), InvalidParameter),  # gap outside the grid
    ],
)
def test_bad_layouts(
    hall: sessionmaker[Session], layout: HallLayout, error: type[Exception]
) -> None:
    with hall.begin() as session, pytest.raises(error):
        create_hall(session, SYSTEM, "h2", "c1", layout)


@pytest.mark.parametrize(
    ("place", "error"),
    [
        (SeatPlace("s-2", "B2", 2, 2), InvalidParameter),  # a gap
        (SeatPlace("s-2", "Z9", 4, 1), InvalidParameter),  # outside
        (SeatPlace("s-2", "A2", 1, 2, "kiosk-1"), Conflict),  # kiosk bound to s-1
        (SeatPlace("s-1", "A2", 1, 2), Conflict),  # seat id taken
        (SeatPlace("s-2", "A1", 1, 2), Conflict),  # label taken
        (SeatPlace("s-2", "A2", 1, 1), Conflict),  # cell taken
    ],
)
def test_bad_seats(hall: sessionmaker[Session], place: SeatPlace, error: type[Exception]) -> None:
    with pytest.raises(error), hall.begin() as session:
        add_seat(session, SYSTEM, "h1", place)
    with hall.begin() as session:  # a good seat still goes in
        add_seat(session, SYSTEM, "h1", SeatPlace("s-2", "A2", 1, 2, "kiosk-2"))


def test_unknown_parents_and_duplicates(hall: sessionmaker[Session]) -> None:
    with hall.begin() as session:
        with pytest.raises(NotFound):
            create_hall(session, SYSTEM, "h2", "nope", HallLayout(1, 1))
        with pytest.raises(NotFound):
            add_seat(session, SYSTEM, "nope", SeatPlace("s-9", "X", 1, 1))
        with pytest.raises(Conflict):
            create_centre(session, SYSTEM, "c1", "Again")


def test_exam_round_trips_its_definition_and_policy(sessions: sessionmaker[Session]) -> None:
    policy = ProctoringPolicy(weights={ViolationType.SPEECH: 9}, pass_threshold=60)
    with sessions.begin() as session:
        create_exam(session, SYSTEM, exam(7, negative_marks=0.5), policy)
    with sessions() as session:
        row = session.get(Exam, "exam-1")
        assert row is not None
        assert exam_definition(row) == exam(7, negative_marks=0.5)
        assert proctoring_policy(row) == policy
        assert proctoring_policy(row).weight("speech") == 9
        assert proctoring_policy(None) == ProctoringPolicy()


def test_sessions_and_assignments_are_checked_and_audited(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        day = exam_day.build(session)
        with pytest.raises(InvalidParameter):
            schedule_session(
                session,
                SYSTEM,
                Sitting("sess-9", "exam-1", "cand-1", "A-01", f.T0, f.T0 - timedelta(1)),
            )
        with pytest.raises(NotFound):
            schedule_session(
                session,
                SYSTEM,
                Sitting("sess-9", "exam-1", "nobody", "A-01", f.T0, f.T0 + timedelta(1)),
            )
        with pytest.raises(InvalidParameter):
            assign_invigilator(session, SYSTEM, day.user_ids["rita"], "hall-a")  # a reviewer
        assign_invigilator(session, SYSTEM, day.user_ids["ivy"], "hall-a")  # again: no-op
        audit = entries_for(session, "hall", "hall-a")
    assert [a.action for a in audit] == ["hall.create", "hall.assign"]
    assert audit[1].detail == {"user": "ivy"}
