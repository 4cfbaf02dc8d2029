"""The console's services on SQLite and MariaDB: commands and their delivery state, the live
feed written with stored messages (in commit order, once), the hall snapshot, acknowledgements."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.console_models import FeedEntry, OutgoingCommand
from central.domain_models import AuditEntry, Hall, Seat
from central.services import feed, store_batch
from central.services.commands import (
    CommandRequest,
    advance,
    due_commands,
    issue_command,
    to_wire,
)
from central.services.errors import Conflict, InvalidParameter
from central.services.hall_console import acknowledge_alert, hall_snapshot
from central.services.users import UserInfo
from protocol import CommandReceipt, CommandType, ExamProgress
from tests.central import exam_day
from tests.central import factories as f
from tests.central.exam_day import Day

IVY = UserInfo(id=3, username="ivy", role="invigilator")


@pytest.fixture
def day(any_sessions: sessionmaker[Session]) -> Day:
    with any_sessions.begin() as session:
        return exam_day.build(session)


def _warn(session: Session, text: str = "Eyes on your screen") -> OutgoingCommand:
    return issue_command(session, IVY, CommandRequest("A-01", CommandType.WARN, {"text": text}))


def _receipt(
    command_id: str, status: str, device: str = "kiosk-1", seq: int = 100
) -> CommandReceipt:
    return f.receipt(device, seq).model_copy(
        update={"command_id": uuid.UUID(command_id), "status": status}
    )


def _feed(session: Session, hall: str = "hall-a") -> list[FeedEntry]:
    statement = select(FeedEntry).where(FeedEntry.hall_id == hall).order_by(FeedEntry.id)
    return list(session.scalars(statement))


def test_issue_queues_audits_and_announces(any_sessions: sessionmaker[Session], day: Day) -> None:
    with any_sessions.begin() as session:
        cursor = feed.latest_id(session.connection())
        row = _warn(session)
    with any_sessions() as session:
        stored = session.get(OutgoingCommand, row.command_id)
        assert stored is not None
        assert (stored.state, stored.device_id, stored.centre_id) == (
            "queued",
            "kiosk-1",
            "centre-1",
        )
        wire = to_wire(stored)
        assert wire.type is CommandType.WARN
        assert wire.args == {"text": "Eyes on your screen"}
        assert wire.issued_by == "ivy"
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "command.warn"))
        assert [a.target_id for a in audit] == ["A-01"]
        rows = feed.read_after(session.connection(), "hall-a", cursor)
        assert [r.kind for r in rows] == ["command"]
        assert '"state":"queued"' in rows[0].data
        assert feed.read_after(session.connection(), "hall-b", cursor) == []


def test_issue_refuses_bad_commands(any_sessions: sessionmaker[Session], day: Day) -> None:
    with any_sessions() as session:
        with pytest.raises(InvalidParameter):
            _warn(session, "   ")
        with pytest.raises(InvalidParameter):
            _warn(session, "x" * 501)
        session.add(Hall(hall_id="hall-c", centre_id="centre-1", name="C", grid_rows=1,
                         grid_columns=1, gaps=[], created_at=datetime.now(UTC)))  # fmt: skip
        session.flush()
        session.add(Seat(seat_id="C-01", hall_id="hall-c", label="C-01", grid_row=1,
                         grid_column=1, device_id=None))  # fmt: skip
        session.flush()
        with pytest.raises(Conflict):
            issue_command(session, IVY, CommandRequest("C-01", CommandType.PAUSE, {}))


def test_receipts_move_commands_forward_only(any_sessions: sessionmaker[Session], day: Day) -> None:
    with any_sessions.begin() as session:
        command_id = _warn(session).command_id
    with any_sessions.begin() as session:
        # done arrives in the same batch as received, and a forged receipt from kiosk-2
        store_batch(
            session,
            [
                _receipt(command_id, "done", seq=101),
                _receipt(command_id, "received", seq=100),
                _receipt(command_id, "rejected", device="kiosk-2", seq=5),
            ],
        )
    with any_sessions.begin() as session:
        now = datetime.now(UTC)
        assert advance(session.connection(), [command_id], "published", "", now) == []
    with any_sessions() as session:
        row = session.get(OutgoingCommand, command_id)
        assert row is not None
        assert row.state == "done"
        states = [r.data for r in _feed(session) if r.kind == "command"]
        assert [s.split('"state":"')[1].split('"')[0] for s in states] == [
            "queued",
            "received",
            "done",
        ]


def test_overdue_commands_expire_instead_of_being_sent(
    any_sessions: sessionmaker[Session], day: Day
) -> None:
    with any_sessions.begin() as session:
        old = _warn(session).command_id
    later = datetime.now(UTC) + timedelta(minutes=11)
    with any_sessions.begin() as session:
        assert due_commands(session, later, set(), 10) == []
    with any_sessions() as session:
        row = session.get(OutgoingCommand, old)
        assert row is not None
        assert row.state == "expired"


def test_stored_messages_are_announced_once(any_sessions: sessionmaker[Session], day: Day) -> None:
    event = f.event(seq=50, subject=f.subject("sess-1", "A-01"))
    beat = f.heartbeat().model_copy(
        update={
            "exam": ExamProgress(state="running", answered=3, total=5, remaining_s=600.0),
            "disabled_stages": {"objects": "no model file configured"},
        }
    )
    with any_sessions.begin() as session:
        cursor = feed.latest_id(session.connection())
        store_batch(session, [event, beat])
    with any_sessions.begin() as session:
        store_batch(session, [event])  # redelivery: a duplicate, nothing new to show
    with any_sessions() as session:
        rows = feed.read_after(session.connection(), "hall-a", cursor)
        assert [(r.kind, r.seat_id) for r in rows] == [("event", "A-01"), ("device", "A-01")]
        assert str(event.violation_id) in rows[0].data
        assert '"remaining_s":600.0' in rows[1].data
        assert '"objects":"no model file configured"' in rows[1].data
        assert [r.id for r in rows] == [cursor + 1, cursor + 2]


def test_feed_writers_take_ids_in_commit_order(
    any_sessions: sessionmaker[Session], day: Day
) -> None:
    """A second writer waits for the first one's commit, so a reader that saw id N has seen
    every id below N."""
    item = feed.FeedItem("ack", "hall-a", None, None, {"n": 1})
    first = any_sessions()
    first.begin()
    first_ids = feed.append(first.connection(), [item, item], datetime.now(UTC))
    second_ids: list[int] = []

    def second_writer() -> None:
        with any_sessions.begin() as session:
            second_ids.extend(feed.append(session.connection(), [item], datetime.now(UTC)))

    thread = threading.Thread(target=second_writer)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive(), "the second writer must wait for the first one's commit"
    if first.get_bind().dialect.name != "sqlite":  # SQLite readers wait for the lock too
        with any_sessions() as reader:
            assert feed.read_after(reader.connection(), "hall-a", first_ids[0] - 1) == []
    first.commit()
    first.close()
    thread.join(10)
    assert not thread.is_alive()
    assert second_ids == [first_ids[-1] + 1]


def test_snapshot_shows_tiles_alerts_and_trust(
    any_sessions: sessionmaker[Session], day: Day
) -> None:
    beat = f.heartbeat().model_copy(
        update={
            "session_id": "sess-1",
            "exam": ExamProgress(state="running", answered=4, total=5, remaining_s=300.0),
        }
    )
    with any_sessions.begin() as session:
        store_batch(session, [beat, f.status()])
    with any_sessions() as session:
        hall = session.get(Hall, "hall-a")
        assert hall is not None
        snap = hall_snapshot(session, hall)
    assert (snap["rows"], snap["columns"], snap["gaps"]) == (2, 3, [[1, 2]])
    assert snap["cursor"] > 0
    (tile,) = snap["seats"]
    assert tile["seat_id"] == "A-01"
    assert tile["candidate"]["name"] == "Ada Candidate"
    assert tile["connection"] == "online"
    assert tile["device"]["heartbeat"]["exam"]["answered"] == 4
    types = {a["type"] for a in tile["open_alerts"]}
    assert types == {"phone_in_view", "looking_away", "raised_hand"}
    # Pending flags count at half weight: phone 15*(1+3/60)*0.5, looking away 4*(1+95/60)*0.5
    assert tile["trust"] == pytest.approx(round(100 - 7.875 - 5.1667, 1))
    assert snap["exams"]["exam-1"]["policy"]["weights"]["phone_in_view"] == 15.0
    assert snap["alerts"][0]["type"] == "raised_hand"  # newest first


def test_acknowledged_alert_leaves_the_open_alerts(
    any_sessions: sessionmaker[Session], day: Day
) -> None:
    with any_sessions.begin() as session:
        cursor = feed.latest_id(session.connection())
        acknowledge_alert(session, IVY, day.raised_hand, "hall-a")
    with any_sessions.begin() as session:
        again = acknowledge_alert(session, IVY, day.raised_hand, "hall-a")  # idempotent
        assert again.username == "ivy"
    with any_sessions() as session:
        hall = session.get(Hall, "hall-a")
        assert hall is not None
        tile = hall_snapshot(session, hall)["seats"][0]
        assert day.raised_hand not in {a["violation_id"] for a in tile["open_alerts"]}
        rows = feed.read_after(session.connection(), "hall-a", cursor)
        assert [r.kind for r in rows] == ["ack"]
        actions = list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.action == "alert.acknowledge")))  # fmt: skip
        assert actions == ["alert.acknowledge"]


def test_stale_cursor_is_detected(any_sessions: sessionmaker[Session], day: Day) -> None:
    with any_sessions.begin() as session:
        latest = feed.latest_id(session.connection())
        assert not feed.cursor_is_stale(session.connection(), latest)
        assert feed.cursor_is_stale(session.connection(), latest + 5)
        later = datetime.now(UTC) + feed.FEED_RETENTION + timedelta(minutes=1)
        feed.prune(session.connection(), later)
        assert latest > 0
        assert feed.cursor_is_stale(session.connection(), 0)  # its rows were pruned
