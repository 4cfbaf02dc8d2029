"""store_batch: exactly-once storage, lifecycle summaries, dead letters, device rows."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from central.models import DeadLetter, Device, DeviceMessage, Event, Violation
from central.services import RejectedPayload, StoreItem, store_batch
from protocol import AckResult, EventState, MalformedPayload, Severity, encode, topic_for, uuid7
from tests.central import factories as f


def _store(sessions: sessionmaker[Session], items: list[StoreItem]) -> list[AckResult | None]:
    with sessions.begin() as session:
        return store_batch(session, items)


def _statuses(results: list[AckResult | None]) -> list[str | None]:
    return [r.status if r is not None else None for r in results]


def test_new_then_duplicate(any_sessions: sessionmaker[Session]) -> None:
    e1, e2 = f.event(seq=1), f.event(seq=2)
    first = _store(any_sessions, [e1, e2])
    assert _statuses(first) == ["stored", "stored"]
    assert [r.id for r in first if r] == [e1.id, e2.id]
    again = _store(any_sessions, [e2, f.event(seq=3)])
    assert _statuses(again) == ["duplicate", "stored"]
    with any_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 3


def test_duplicate_never_overwrites_first_delivery(any_sessions: sessionmaker[Session]) -> None:
    original = f.event(seq=5, severity=Severity.LOW, details={"yaw_deg": 31.0})
    _store(any_sessions, [original])
    forged = original.model_copy(
        update={
            "seq": 99,
            "severity": Severity.CRITICAL,
            "details": {"yaw_deg": 90.0},
            "state": EventState.UPDATED,
            "duration_s": 77.0,
        }
    )
    assert _statuses(_store(any_sessions, [forged])) == ["duplicate"]
    with any_sessions() as session:
        row = session.get_one(Event, str(original.id))
        assert (row.seq, row.severity, row.details, row.duration_s) == (
            5,
            "low",
            {"yaw_deg": 31.0},
            0.0,
        )
        summary = session.get_one(Violation, str(original.violation_id))
        assert (summary.last_seq, summary.severity) == (5, "low")


def test_same_id_twice_in_one_batch_keeps_the_first(any_sessions: sessionmaker[Session]) -> None:
    first = f.event(seq=1, confidence=0.5)
    second = first.model_copy(update={"confidence": 0.99})
    assert _statuses(_store(any_sessions, [first, second])) == ["stored", "duplicate"]
    with any_sessions() as session:
        assert session.get_one(Event, str(first.id)).confidence == 0.5


def test_event_fields_round_trip_with_microseconds(any_sessions: sessionmaker[Session]) -> None:
    e = f.event(state=EventState.ENDED, started_at=f.T0)
    _store(any_sessions, [e])
    with any_sessions() as session:
        row = session.get_one(Event, str(e.id))
    assert row.started_at == f.T0
    assert row.started_at.tzinfo is not None
    assert row.ended_at == f.T0 + timedelta(seconds=5)
    assert row.device_time == e.clock.wall_time
    assert row.received_at.tzinfo is not None
    assert (row.session_id, row.seat_id, row.type, row.boot_id) == (
        "sess-1",
        "A-01",
        "looking_away",
        "boot-1",
    )


def test_violation_summary_never_regresses(any_sessions: sessionmaker[Session]) -> None:
    vid = uuid7()
    started = f.event(seq=10, violation_id=vid, state=EventState.STARTED)
    updated = f.event(seq=11, violation_id=vid, state=EventState.UPDATED, duration_s=2.0)
    ended = f.event(seq=12, violation_id=vid, state=EventState.ENDED)
    _store(any_sessions, [ended])  # the end arrives first
    _store(any_sessions, [started, updated])  # late redelivery of older states
    with any_sessions() as session:
        summary = session.get_one(Violation, str(vid))
        assert (summary.state, summary.last_seq, summary.duration_s) == ("ended", 12, 5.0)
        assert summary.last_event_id == str(ended.id)
        assert summary.ended_at is not None


def test_violation_summary_takes_highest_seq_within_a_batch(
    any_sessions: sessionmaker[Session],
) -> None:
    vid = uuid7()
    batch: list[StoreItem] = [
        f.event(seq=3, violation_id=vid, state=EventState.UPDATED, duration_s=3.0),
        f.event(seq=1, violation_id=vid, state=EventState.STARTED),
    ]
    _store(any_sessions, batch)
    _store(any_sessions, [f.event(seq=4, violation_id=vid, state=EventState.ENDED)])
    with any_sessions() as session:
        summary = session.get_one(Violation, str(vid))
        assert (summary.state, summary.last_seq) == ("ended", 4)


def test_session_messages_and_receipts(any_sessions: sessionmaker[Session]) -> None:
    c, r = f.checkin(seq=1), f.receipt(seq=2)
    assert _statuses(_store(any_sessions, [c, r, c])) == ["stored", "stored", "duplicate"]
    with any_sessions() as session:
        row = session.get_one(DeviceMessage, str(c.id))
        assert (row.kind, row.session_id, row.body["method"]) == ("checkin", "sess-1", "face_match")
        assert session.get_one(DeviceMessage, str(r.id)).session_id is None


def test_explanations_and_consents_are_stored_and_acked(
    any_sessions: sessionmaker[Session],
) -> None:
    flagged = uuid7()
    e, c = f.explanation(flagged, seq=1), f.consent(seq=2)
    assert _statuses(_store(any_sessions, [e, c])) == ["stored", "stored"]
    with any_sessions() as session:
        row = session.get_one(DeviceMessage, str(e.id))
        assert (row.kind, row.session_id) == ("explanation", "sess-1")
        assert row.body["violation_id"] == str(flagged)
        consent = session.get_one(DeviceMessage, str(c.id))
        assert (consent.kind, consent.body["language"]) == ("consent", "fr")


def test_dead_letters_recorded_and_rejected_when_id_known(
    any_sessions: sessionmaker[Session],
) -> None:
    topic = "proctor/v1/centre-1/kiosk-9/event"
    known = uuid.uuid4()
    with_id = RejectedPayload.from_error(
        topic, b'{"id": "%s", "seq": "x"}' % str(known).encode(), MalformedPayload("bad seq")
    )
    garbage = RejectedPayload.from_error(topic, b"\xff" * 70_000, MalformedPayload("not UTF-8"))
    results = _store(any_sessions, [with_id, garbage])
    assert _statuses(results) == ["rejected", None]
    assert results[0] is not None
    assert results[0].id == known
    assert "malformed" in results[0].reason
    with any_sessions() as session:
        rows = session.scalars(select(DeadLetter).order_by(DeadLetter.id)).all()
        assert [(r.device_id, r.message_id, r.reason_code) for r in rows] == [
            ("kiosk-9", str(known), "malformed"),
            ("kiosk-9", None, "malformed"),
        ]
        assert rows[1].payload_size == 70_000
        assert len(rows[1].payload) == 64 * 1024


def test_unstorable_seq_becomes_a_dead_letter(any_sessions: sessionmaker[Session]) -> None:
    huge = f.event(seq=2**64)
    results = _store(any_sessions, [huge, f.event(seq=1)])
    assert _statuses(results) == ["rejected", "stored"]
    with any_sessions() as session:
        letter = session.scalars(select(DeadLetter)).one()
        assert letter.reason_code == "unstorable"
        assert letter.message_id == str(huge.id)
        assert letter.topic == topic_for(huge)
        assert letter.payload == encode(huge)


def test_heartbeat_and_status_update_device(any_sessions: sessionmaker[Session]) -> None:
    results = _store(any_sessions, [f.heartbeat(uptime=1), f.heartbeat(uptime=2), f.status()])
    assert results == [None, None, None]
    _store(any_sessions, [f.event(device="kiosk-1")])
    with any_sessions() as session:
        device = session.get_one(Device, "kiosk-1")
        assert device.last_heartbeat is not None
        assert device.last_heartbeat["uptime_s"] == 2
        assert (device.last_status, device.boot_id, device.seat_id) == ("online", "boot-1", "A-01")
        assert device.last_seen_at is not None


def test_stale_last_will_of_an_earlier_boot_is_ignored(
    any_sessions: sessionmaker[Session],
) -> None:
    _store(any_sessions, [f.status(state="online", boot="boot-2")])
    _store(any_sessions, [f.status(state="offline", boot="boot-1")])  # will of the old boot
    with any_sessions() as session:
        assert session.get_one(Device, "kiosk-1").last_status == "online"
    _store(any_sessions, [f.status(state="offline", boot="boot-2")])
    with any_sessions() as session:
        assert session.get_one(Device, "kiosk-1").last_status == "offline"


def test_ids_are_case_sensitive(any_sessions: sessionmaker[Session]) -> None:
    _store(any_sessions, [f.heartbeat(device="Kiosk-A"), f.heartbeat(device="kiosk-a")])
    with any_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Device)) == 2


def test_large_batch_uses_several_statements(any_sessions: sessionmaker[Session]) -> None:
    batch: list[StoreItem] = [f.event(device=f"k-{i % 7}", seq=i) for i in range(1, 451)]
    assert _statuses(_store(any_sessions, batch)).count("stored") == 450
    assert _statuses(_store(any_sessions, batch)).count("duplicate") == 450
