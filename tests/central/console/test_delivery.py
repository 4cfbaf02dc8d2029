"""Sittings reach their kiosks: scheduling (or binding a kiosk, or the publisher's sweep) queues
the exam definition and the candidate's enrolment as `load_exam` and `enrol` commands, once, for
the seat's next sitting, and a kiosk's edge_agent seat state accepts both as they are.
On SQLite and MariaDB; the last test goes through a real Mosquitto and ingest."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.command_publisher import CommandPublisher, PublisherOptions
from central.console_models import OutgoingCommand
from central.db import create_db_engine, make_sessionmaker
from central.domain_models import AuditEntry, ExamSession
from central.scoring.policy import ProctoringPolicy
from central.services import store_batch
from central.services.audit import SYSTEM
from central.services.commands import advance, to_wire
from central.services.delivery import deliver_due, deliver_seat, delivery_status
from central.services.planning import (
    CandidateRecord,
    HallLayout,
    SeatPlace,
    Sitting,
    add_seat,
    bind_kiosk,
    create_candidate,
    create_centre,
    create_exam,
    create_hall,
    import_candidate,
    replace_exam_definition,
    schedule_session,
)
from central.web.admin.deliveries import delivery_sentence
from edge_agent.seat.commands import apply_command
from edge_agent.seat.state import SeatState
from protocol import CommandType, ExamSubmitted, uuid7
from protocol.broker_url import BrokerUrl
from protocol.exam import Option, Question, QuestionKind, enrolment_command, load_exam_command
from tests.central import factories as f
from tests.central.console.command_kiosk import CommandKiosk
from tests.central.mqtt_helpers import start_worker, stop_worker
from tests.central.scoring.exams import exam

ENCODING = [round(0.01 * i - 0.6, 4) for i in range(128)]
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def db(any_db_url: str) -> Iterator[sessionmaker[Session]]:
    """A hall with seat A-01 (kiosk-1) and A-02 (no kiosk), exam-1, an enrolled candidate
    (cand-1, with a face encoding) and one without (cand-2)."""
    engine = create_db_engine(any_db_url)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        create_centre(session, SYSTEM, f.CENTRE, "Test centre")
        create_hall(session, SYSTEM, "hall-a", f.CENTRE, HallLayout(1, 3))
        add_seat(session, SYSTEM, "hall-a", SeatPlace("A-01", "A1", 1, 1, "kiosk-1"))
        add_seat(session, SYSTEM, "hall-a", SeatPlace("A-02", "A2", 1, 2, None))
        create_exam(session, SYSTEM, exam(5), ProctoringPolicy())
        record = CandidateRecord("cand-1", "1001", "Zoë Ødegård", "fr", ENCODING)
        import_candidate(session, SYSTEM, record)
        create_candidate(session, SYSTEM, "cand-2", "1002", "Bo Candidate")
    yield sessions
    engine.dispose()


def _schedule(
    session: Session, session_id: str, candidate: str, seat: str, start_in: timedelta
) -> None:
    start = NOW + start_in
    sitting = Sitting(session_id, "exam-1", candidate, seat, start, start + timedelta(hours=1))
    schedule_session(session, SYSTEM, sitting)


def _deliveries(session: Session) -> list[OutgoingCommand]:
    statement = select(OutgoingCommand).order_by(
        OutgoingCommand.issued_at, OutgoingCommand.command_id
    )
    return list(session.scalars(statement))


def test_a_sitting_goes_to_the_kiosk_as_an_exam_and_an_enrolment(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    with db.begin() as session:
        _schedule(session, "sess-1", "cand-1", "A-01", timedelta(minutes=30))
        delivery = deliver_seat(session, SYSTEM, "A-01", NOW)
        assert (delivery.state, delivery.session_id) == ("sent", "sess-1")
        assert delivery_sentence(delivery) == "Exam and enrolment sent to the kiosk."
        load, enrol = _deliveries(session)
        wires = [to_wire(load), to_wire(enrol)]
        expires = [load.expires_at, enrol.expires_at]
    assert [w.type for w in wires] == [CommandType.LOAD_EXAM, CommandType.ENROL]
    assert {w.device_id for w in wires} == {"kiosk-1"}
    # Until the sitting's end, not the ten minutes of a warning: the kiosk may be away long.
    assert expires == [NOW + timedelta(minutes=90)] * 2
    definition = load_exam_command(wires[0])
    assert (definition.id, definition.version, len(definition.questions)) == ("exam-1", 1, 5)
    enrolment = enrolment_command(wires[1])
    assert (enrolment.session_id, enrolment.seat_id, enrolment.language) == ("sess-1", "A-01", "fr")
    assert enrolment.display_name == "Zoë Ødegård"
    assert enrolment.encoding == ENCODING
    # The kiosk's own seat state takes both as they are.
    state = SeatState(tmp_path / "seat.db")
    outcomes = [apply_command(state, wire, seat_id="A-01") for wire in wires]
    assert [o.status for o in outcomes] == ["done", "done"], [o.detail for o in outcomes]
    assert state.enrolment() == enrolment
    assert state.exam() == definition


def test_the_audit_log_names_the_exam_and_sitting_but_keeps_no_face_encoding(
    db: sessionmaker[Session],
) -> None:
    with db.begin() as session:
        _schedule(session, "sess-1", "cand-1", "A-01", timedelta(minutes=30))
        deliver_seat(session, SYSTEM, "A-01", NOW)
        entries = {
            e.action: e.detail
            for e in session.scalars(select(AuditEntry).where(AuditEntry.action.like("command.%")))
        }
    assert entries["command.load_exam"] is not None
    assert entries["command.enrol"] is not None
    assert entries["command.load_exam"]["args"] == {"exam_id": "exam-1", "version": 1}
    assert entries["command.enrol"]["args"] == {
        "session_id": "sess-1",
        "candidate_id": "cand-1",
        "exam_id": "exam-1",
    }


def test_it_is_sent_once_unless_forced_or_the_exam_changes(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        _schedule(session, "sess-1", "cand-1", "A-01", timedelta(minutes=30))
        assert deliver_seat(session, SYSTEM, "A-01", NOW).state == "sent"
        again = deliver_seat(session, SYSTEM, "A-01", NOW)
        assert again.state == "already_sent"
        assert deliver_due(session, NOW) == []
        assert deliver_seat(session, SYSTEM, "A-01", NOW, force=True).state == "sent"
        assert len(_deliveries(session)) == 4
        replace_exam_definition(session, SYSTEM, exam(6))
        (sent,) = deliver_due(session, NOW)
        assert sent.session_id == "sess-1"
        newest_exam = load_exam_command(to_wire(_deliveries(session)[-2]))
        assert (newest_exam.version, len(newest_exam.questions)) == (2, 6)


def test_a_refused_or_expired_delivery_is_sent_again_by_the_sweep(
    db: sessionmaker[Session],
) -> None:
    with db.begin() as session:
        _schedule(session, "sess-1", "cand-1", "A-01", timedelta(minutes=30))
        deliver_seat(session, SYSTEM, "A-01", NOW)
        enrol = _deliveries(session)[-1]
        advance(session.connection(), [enrol.command_id], "rejected", "seat mismatch", NOW)
        session.expire_all()
        status = delivery_status(session, [session.get(ExamSession, "sess-1")])  # type: ignore[list-item]
        assert status["sess-1"].summary == "rejected"
        (again,) = deliver_due(session, NOW)
        assert again.session_id == "sess-1"
        assert len(_deliveries(session)) == 4


def test_without_a_kiosk_nothing_is_sent_until_one_is_bound(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        _schedule(session, "sess-2", "cand-1", "A-02", timedelta(minutes=30))
        waiting = deliver_seat(session, SYSTEM, "A-02", NOW)
        assert waiting.state == "no_kiosk"
        assert delivery_sentence(waiting) == "Not sent yet: no kiosk is bound to the seat."
        assert deliver_due(session, NOW) == []
        bind_kiosk(session, SYSTEM, "A-02", "kiosk-2")
        (sent,) = deliver_due(session, NOW)
        assert (sent.seat_id, sent.session_id) == ("A-02", "sess-2")
        assert {c.device_id for c in sent.commands} == {"kiosk-2"}


def test_a_candidate_without_a_face_encoding_is_not_sent_and_the_admin_is_told(
    db: sessionmaker[Session],
) -> None:
    with db.begin() as session:
        _schedule(session, "sess-1", "cand-2", "A-01", timedelta(minutes=30))
        delivery = deliver_seat(session, SYSTEM, "A-01", NOW)
        assert delivery.state == "not_enrolled"
        assert "candidate 1002 has no face encoding" in delivery_sentence(delivery)
        assert _deliveries(session) == []


def test_the_seat_moves_on_to_its_next_sitting_once_the_first_is_submitted(
    db: sessionmaker[Session],
) -> None:
    with db.begin() as session:
        create_candidate(session, SYSTEM, "cand-3", "1003", "Cy Candidate")
        record = CandidateRecord("cand-4", "1004", "Di Candidate", "en", ENCODING)
        import_candidate(session, SYSTEM, record)
        _schedule(session, "sess-late", "cand-4", "A-01", timedelta(hours=2))
        _schedule(session, "sess-early", "cand-1", "A-01", timedelta(minutes=-10))
        _schedule(session, "sess-past", "cand-3", "A-01", timedelta(hours=-3))
        (first,) = deliver_due(session, NOW)
        assert first.session_id == "sess-early"  # the past one is over, the late one waits
        scheduling_late = deliver_seat(session, SYSTEM, "A-01", NOW)
        assert delivery_sentence(scheduling_late, "sess-late").startswith(
            "The seat's next sitting is sess-early"
        )
    submitted = ExamSubmitted(
        schema_version=1,
        kind="submitted",
        centre_id=f.CENTRE,
        device_id="kiosk-1",
        clock=f.clock(NOW),
        id=uuid7(),
        seq=7,
        subject=f.subject("sess-early", "A-01").model_copy(update={"candidate_id": "cand-1"}),
        reason="candidate",
        answered_count=5,
    )
    with db.begin() as session:
        store_batch(session, [submitted])
    with db.begin() as session:
        (second,) = deliver_due(session, NOW)
        assert second.session_id == "sess-late"
        assert enrolment_command(to_wire(second.commands[1])).candidate_id == "cand-4"


def test_an_exam_too_large_for_one_command_is_refused_before_it_is_queued(
    db: sessionmaker[Session],
) -> None:
    huge = exam(5).model_copy(
        update={
            "questions": [
                Question(
                    id=f"q{i}",
                    kind=QuestionKind.SINGLE,
                    prompt="x" * 2000,
                    options=[Option(id=k, text="y" * 200) for k in "abcd"],
                )
                for i in range(500)
            ]
        }
    )
    with db.begin() as session:
        replace_exam_definition(session, SYSTEM, huge)
        _schedule(session, "sess-1", "cand-1", "A-01", timedelta(minutes=30))
        delivery = deliver_seat(session, SYSTEM, "A-01", NOW)
        assert delivery.state == "invalid"
        assert "a command may have at most 1048576" in delivery_sentence(delivery)
        assert _deliveries(session) == []


@pytest.mark.mosquitto
def test_the_publisher_sweep_delivers_through_the_broker_and_receipts_show_it_applied(
    mosquitto: BrokerUrl, any_db_url: str, db: sessionmaker[Session], tmp_path: Path
) -> None:
    """Scheduled with the kiosk away: the sweep sends, the broker keeps it, the kiosk's seat
    state applies both and its receipts come back through ingest: "on the kiosk"."""
    with db.begin() as session:
        _schedule(session, "sess-1", "cand-1", "A-01", timedelta(minutes=5))
    kiosk = CommandKiosk(mosquitto, "kiosk-1", answer=False)
    worker = start_worker(mosquitto, any_db_url)
    publisher = CommandPublisher(PublisherOptions(mosquitto, any_db_url, "test-delivery"))
    publisher.start()
    state = SeatState(tmp_path / "seat.db")
    try:
        commands = kiosk.wait_for_commands(2)
        for command in commands:
            outcome = apply_command(state, command, seat_id="A-01")
            kiosk.send_receipt(command, "received", "received")
            kiosk.send_receipt(command, outcome.status, outcome.detail)
        deadline = time.monotonic() + 15
        summary = None
        while time.monotonic() < deadline and summary != "on the kiosk":
            with db() as session:
                sitting = session.get(ExamSession, "sess-1")
                assert sitting is not None
                summary = delivery_status(session, [sitting])["sess-1"].summary
            time.sleep(0.1)
        assert summary == "on the kiosk"
    finally:
        publisher.stop()
        assert publisher.join(10)
        stop_worker(worker)
        kiosk.close()
    assert publisher.delivered == 1
    enrolment = state.enrolment()
    assert enrolment is not None
    assert enrolment.session_id == "sess-1"
    exam_held = state.exam()
    assert exam_held is not None
    assert exam_held.id == "exam-1"
