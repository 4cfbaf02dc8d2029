from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from edge_agent.clock import FakeClock
from edge_agent.outbox import (
    Outbox,
    OutboxClosedError,
    OutboxError,
    OutboxFullError,
    OutboxReadOnlyError,
)
from protocol import AnswerSaved, decode, topic_for
from tests.edge_agent.helpers import answer_factory, fill

ROOT = Path(__file__).resolve().parents[2]
DEVICE = "kiosk-01"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "outbox.sqlite3"


def test_enqueue_stores_the_encoded_message_under_its_topic(path: Path, clock: FakeClock) -> None:
    with Outbox(path) as outbox:
        message = outbox.enqueue(answer_factory(clock, DEVICE))
        [row] = outbox.pending(10)
    assert (row.id, row.seq, row.attempts) == (message.id, 0, 0)
    assert row.id.version == 7
    assert row.topic == topic_for(message)
    assert decode(row.topic, row.payload).message == message
    assert row.boot_id == clock.boot_id


def test_sqlite_is_in_wal_mode_with_full_sync(path: Path) -> None:
    with Outbox(path) as outbox:
        conn = outbox._conn
        assert conn is not None
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_seq_is_gap_free_and_survives_reopen(path: Path, clock: FakeClock) -> None:
    with Outbox(path) as outbox:
        first = fill(outbox, clock, DEVICE, 5)
        outbox.delete([m.id for m in first])  # deleting rows must not reset the counter
    with Outbox(path) as outbox:
        second = fill(outbox, clock, DEVICE, 3)
        assert outbox.next_seq() == 8
    assert [m.seq for m in first + second] == list(range(8))


def test_failing_factory_uses_no_seq(path: Path, clock: FakeClock) -> None:
    def broken(_id: uuid.UUID, _seq: int) -> AnswerSaved:
        raise RuntimeError("boom")

    with Outbox(path) as outbox:
        fill(outbox, clock, DEVICE, 1)
        with pytest.raises(RuntimeError):
            outbox.enqueue(broken)
        assert fill(outbox, clock, DEVICE, 1)[0].seq == 1
        assert outbox.depth() == 2


def test_factory_must_use_the_given_seq(path: Path, clock: FakeClock) -> None:
    factory = answer_factory(clock, DEVICE)
    with Outbox(path) as outbox, pytest.raises(TypeError):
        outbox.enqueue(lambda i, s: factory(i, s + 1))


def test_outbox_belongs_to_one_device(path: Path, clock: FakeClock) -> None:
    with Outbox(path) as outbox:
        fill(outbox, clock, DEVICE, 1)
        with pytest.raises(OutboxError, match="belongs to device 'kiosk-01'"):
            fill(outbox, clock, "kiosk-02", 1)
        assert outbox.next_seq() == 1


def test_rows_survive_reopen_without_close(path: Path, clock: FakeClock) -> None:
    crashed = Outbox(path)
    written = fill(crashed, clock, DEVICE, 4)  # never closed: as if the process died
    reopened = Outbox(path)
    assert [r.id for r in reopened.pending(10)] == [m.id for m in written]
    reopened.close()
    crashed.close()


def test_rows_survive_sigkill_of_the_writer(path: Path, clock: FakeClock) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.edge_agent.children", "outbox", str(path), DEVICE, "25"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "wrote 25"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    with Outbox(path) as outbox:
        rows = outbox.pending(100)
        assert [r.seq for r in rows] == list(range(25))
        assert fill(outbox, clock, DEVICE, 1)[0].seq == 25


def test_pending_is_oldest_first_limited_and_skips_in_flight(path: Path, clock: FakeClock) -> None:
    with Outbox(path) as outbox:
        ids = [m.id for m in fill(outbox, clock, DEVICE, 6)]
        assert [r.id for r in outbox.pending(3)] == ids[:3]
        in_flight = {ids[0], ids[2], ids[3]}
        assert [r.id for r in outbox.pending(2, exclude=in_flight)] == [ids[1], ids[4]]
        assert [r.id for r in outbox.pending(10, exclude=set(ids))] == []
        assert outbox.pending(0) == []


def test_pending_excludes_many_ids(path: Path, clock: FakeClock) -> None:
    with Outbox(path) as outbox:
        ids = [m.id for m in fill(outbox, clock, DEVICE, 1200)]
        rest = outbox.pending(10, exclude=set(ids[:1100]))
        assert [r.id for r in rest] == ids[1100:1110]


def test_delete_by_id(path: Path, clock: FakeClock) -> None:
    with Outbox(path) as outbox:
        ids = [m.id for m in fill(outbox, clock, DEVICE, 4)]
        assert outbox.delete([ids[1], ids[3], uuid.uuid4()]) == 2
        assert outbox.delete([ids[1]]) == 0  # a duplicate ack changes nothing
        assert outbox.delete([]) == 0
        assert [r.id for r in outbox.pending(10)] == [ids[0], ids[2]]
        assert outbox.depth() == 2


def test_record_attempts(path: Path, clock: FakeClock) -> None:
    with Outbox(path) as outbox:
        ids = [m.id for m in fill(outbox, clock, DEVICE, 2)]
        outbox.record_attempts([ids[0]], 12.5)
        outbox.record_attempts([ids[0]], 13.5)
        assert [r.attempts for r in outbox.pending(10)] == [2, 0]


def test_listeners_hear_each_commit(path: Path, clock: FakeClock) -> None:
    heard: list[int] = []
    with Outbox(path) as outbox:
        outbox.add_listener(lambda: heard.append(1))
        fill(outbox, clock, DEVICE, 3)
    assert len(heard) == 3


def test_concurrent_producers_get_unique_gap_free_seqs(path: Path, clock: FakeClock) -> None:
    with Outbox(path) as outbox:
        results: list[int] = []
        lock = threading.Lock()

        def produce() -> None:
            for message in fill(outbox, clock, DEVICE, 50):
                with lock:
                    results.append(message.seq)

        threads = [threading.Thread(target=produce) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == list(range(300))
        assert outbox.depth() == 300


def _fill_until_full(outbox: Outbox, clock: FakeClock) -> tuple[list[uuid.UUID], OutboxError]:
    stored: list[uuid.UUID] = []
    for _ in range(1000):
        try:
            stored.append(outbox.enqueue(answer_factory(clock, DEVICE, answer="x" * 1900)).id)
        except OutboxFullError as exc:
            return stored, exc
    raise AssertionError("the size cap never filled")


def test_full_disk_raises_a_clear_error_and_keeps_committed_rows(
    path: Path, clock: FakeClock
) -> None:
    with Outbox(path, max_bytes=64 * 1024) as outbox:
        stored, error = _fill_until_full(outbox, clock)
        message = str(error)
        assert str(path) in message
        assert "full" in message
        assert "SQLITE_FULL" in message
        assert error.path == path
        assert stored  # some fitted before the cap
        assert [r.id for r in outbox.pending(1000)] == stored
        assert outbox.next_seq() == len(stored)  # the refused message used no seq
        outbox.delete(stored)  # acks free space; sending can go on
        assert fill(outbox, clock, DEVICE, 1)[0].seq == len(stored)
    with Outbox(path) as reopened:
        assert reopened.depth() == 1


def test_read_only_database_raises_a_clear_error(path: Path, clock: FakeClock) -> None:
    with Outbox(path) as outbox:
        kept = fill(outbox, clock, DEVICE, 2)
        assert outbox._conn is not None
        outbox._conn.execute("PRAGMA query_only = ON")  # what a read-only remount looks like
        with pytest.raises(OutboxReadOnlyError, match="not writable") as excinfo:
            fill(outbox, clock, DEVICE, 1)
        assert str(path) in str(excinfo.value)
        assert "readonly" in str(excinfo.value)
        with pytest.raises(OutboxReadOnlyError):
            outbox.delete([kept[0].id])
        assert [r.id for r in outbox.pending(10)] == [m.id for m in kept]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_directory_raises_a_clear_error(path: Path, clock: FakeClock) -> None:
    with Outbox(path) as outbox:
        fill(outbox, clock, DEVICE, 1)
    path.chmod(0o444)
    path.parent.chmod(0o555)
    try:
        with pytest.raises(OutboxError, match=str(path)), Outbox(path) as outbox:
            fill(outbox, clock, DEVICE, 1)
    finally:
        path.parent.chmod(0o755)
        path.chmod(0o644)


def test_unopenable_path_raises_outbox_error(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(OutboxError, match="cannot open"):
        Outbox(tmp_path / "dir.sqlite3")


def test_closed_outbox_refuses_work(path: Path, clock: FakeClock) -> None:
    outbox = Outbox(path)
    outbox.close()
    outbox.close()  # idempotent
    with pytest.raises(OutboxClosedError):
        fill(outbox, clock, DEVICE, 1)
    with pytest.raises(OutboxClosedError):
        outbox.depth()
