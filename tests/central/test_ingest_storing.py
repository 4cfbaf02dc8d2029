"""A batch the database refuses for one message's sake: the message is dead-lettered with the
error, the others are stored, nothing stalls. The database really refuses it (a trigger), on
SQLite and MariaDB."""

from __future__ import annotations

import threading

import pymysql
import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from central.ingest.storing import BatchStorer, is_outage
from central.services import RejectedPayload, StoreItem
from tests.central import factories

POISON_SEAT = "POISON"


def _install_poison_trigger(sessions: sessionmaker[Session]) -> None:
    """Make the database itself refuse any event for seat POISON."""
    with sessions.begin() as session:
        if session.bind is not None and session.bind.dialect.name == "sqlite":
            session.execute(sa.text(
                "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.seat_id = 'POISON' "
                "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"))
        else:  # MariaDB: a NOT NULL violation is a real IntegrityError (errno 1048)
            session.execute(sa.text(
                "CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW "
                "IF NEW.seat_id = 'POISON' THEN SET NEW.device_id = NULL; END IF"))


def test_poison_message_is_dead_lettered_and_the_rest_stored(
    any_sessions: sessionmaker[Session],
) -> None:
    _install_poison_trigger(any_sessions)
    good_before, good_after = factories.event(seq=1), factories.event(seq=3)
    poison = factories.event(seq=2, subject=factories.subject(seat=POISON_SEAT))
    items: list[StoreItem] = [good_before, poison, good_after]
    retries: list[int] = []
    storer = BatchStorer(any_sessions, threading.Event(), lambda: retries.append(1))

    results = storer.store(items)

    assert results is not None
    assert [r.status if r else None for r in results] == ["stored", "rejected", "stored"]
    assert results[1] is not None
    assert results[1].id == poison.id
    assert isinstance(items[1], RejectedPayload)  # swapped so the ack goes to the right kiosk
    assert retries == []  # not an outage: no waiting
    with any_sessions() as session:
        stored = session.execute(sa.text("SELECT event_id FROM events")).scalars().all()
        letters = session.execute(sa.text(
            "SELECT reason_code, reason, message_id FROM dead_letters")).all()
    assert sorted(stored) == sorted([str(good_before.id), str(good_after.id)])
    assert len(letters) == 1
    assert letters[0].reason_code == "storage_error"
    assert "IntegrityError" in letters[0].reason
    assert letters[0].message_id == str(poison.id)


def _operational(orig: Exception) -> sa_exc.OperationalError:
    return sa_exc.OperationalError("INSERT ...", {}, orig)


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (_operational(pymysql.err.OperationalError(2006, "MySQL server has gone away")), True),
        (_operational(pymysql.err.OperationalError(1205, "Lock wait timeout exceeded")), True),
        (_operational(pymysql.err.OperationalError(1213, "Deadlock found")), True),
        (_operational(pymysql.err.OperationalError(4025, "CONSTRAINT failed")), False),
        (_operational(pymysql.err.OperationalError(1644, "signalled by a trigger")), False),
        (_operational(Exception("database is locked")), True),
        (_operational(Exception("no such column: colour")), False),
        (sa_exc.IntegrityError("INSERT ...", {}, Exception("NOT NULL")), False),
        (sa_exc.DataError("INSERT ...", {}, Exception("Data too long")), False),
        (sa_exc.InterfaceError("INSERT ...", {}, Exception("connection closed")), True),
        (ValueError("a bug"), False),
    ],
)
def test_outages_are_told_apart_from_bad_data(error: BaseException, outage: bool) -> None:
    assert is_outage(error) is outage


def test_an_outage_is_waited_out_not_dead_lettered(sessions: sessionmaker[Session]) -> None:
    """A write lock held by another connection: the batch waits, then is stored whole."""
    engine = sessions.kw["bind"]
    blocker = engine.raw_connection()
    blocker.execute("PRAGMA busy_timeout = 0")
    blocker.execute("BEGIN EXCLUSIVE")
    # The pooled connection the storer will use meets the lock at once (no busy wait); set
    # outside a transaction, which would itself wait for the lock (BEGIN IMMEDIATE).
    pooled = engine.raw_connection()
    pooled.execute("PRAGMA busy_timeout = 0")
    pooled.close()
    retries: list[int] = []
    release = threading.Timer(1.5, blocker.rollback)
    release.start()
    storer = BatchStorer(sessions, threading.Event(), lambda: retries.append(1))
    try:
        results = storer.store([factories.event(seq=1), factories.event(seq=2)])
    finally:
        release.join()
        blocker.close()
    assert results is not None
    assert [r.status for r in results if r] == ["stored", "stored"]
    assert retries, "the lock should have been met and retried, not waited on silently"
    with sessions() as session:
        assert session.execute(sa.text("SELECT COUNT(*) FROM dead_letters")).scalar_one() == 0
