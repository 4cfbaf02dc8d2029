"""Outbox.enqueue_once: a producer-made id is stored once, whatever the retries."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from edge_agent.clock import FakeClock
from edge_agent.outbox import MessageFactory, Outbox
from protocol import AckedMessage, uuid7
from tests.edge_agent.helpers import answer_factory

DEVICE = "kiosk-seat-1"


def _counting(factory: MessageFactory, calls: list[int]) -> MessageFactory:
    def counted(message_id: uuid.UUID, seq: int) -> AckedMessage:
        calls.append(seq)
        return factory(message_id, seq)

    return counted


def test_the_same_id_is_stored_once_and_returned_again(tmp_path: Path) -> None:
    clock, calls, woken = FakeClock(), list[int](), list[int]()
    with Outbox(tmp_path / "outbox.sqlite3") as outbox:
        outbox.add_listener(lambda: woken.append(1))
        outbox.enqueue(answer_factory(clock, DEVICE))
        message_id = uuid7()
        factory = _counting(answer_factory(clock, DEVICE, "q-002"), calls)
        first, first_dup = outbox.enqueue_once(message_id, factory)
        clock.advance(5)
        again, again_dup = outbox.enqueue_once(message_id, factory)
        assert (first.id, first.seq, first_dup) == (message_id, 1, False)
        assert (again, again_dup) == (first, True)
        assert calls == [1]  # the retry did not build a message
        assert woken == [1, 1]  # nor woke the sender
        assert outbox.depth() == 2
        assert outbox.next_seq() == 2


def test_the_id_is_found_after_reopening(tmp_path: Path) -> None:
    clock, message_id = FakeClock(), uuid7()
    with Outbox(tmp_path / "outbox.sqlite3") as outbox:
        outbox.enqueue_once(message_id, answer_factory(clock, DEVICE))
    with Outbox(tmp_path / "outbox.sqlite3") as reopened:
        stored, duplicate = reopened.enqueue_once(message_id, answer_factory(clock, DEVICE))
        assert (stored.id, stored.seq, duplicate) == (message_id, 0, True)


def test_a_factory_that_ignores_the_id_is_refused_without_a_gap(tmp_path: Path) -> None:
    clock = FakeClock()
    factory = answer_factory(clock, DEVICE)

    def wrong_id(_message_id: uuid.UUID, seq: int) -> AckedMessage:
        return factory(uuid7(), seq)

    with Outbox(tmp_path / "outbox.sqlite3") as outbox:
        with pytest.raises(TypeError, match="given id"):
            outbox.enqueue_once(uuid7(), wrong_id)
        assert (outbox.depth(), outbox.next_seq()) == (0, 0)
