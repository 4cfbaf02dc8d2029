"""Publisher against a private Mosquitto (MQTT v5): acks, resends, window, commands, heartbeats."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from edge_agent.clock import SystemClock
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from protocol import (
    Ack,
    AckResult,
    Command,
    CommandReceipt,
    decode,
    encode,
)
from protocol import topics as topic_names
from protocol.broker_url import BrokerUrl
from tests.edge_agent.central_stub import CentralStub
from tests.edge_agent.helpers import (
    CENTRE,
    fill,
    make_publisher,
    start,
    wait_until,
)

pytestmark = pytest.mark.mosquitto


def test_puback_alone_deletes_nothing_central_ack_does(
    mosquitto: BrokerUrl,
    silent_central: CentralStub,
    outbox: Outbox,
    clock: SystemClock,
    device_id: str,
    running: list[Publisher],
) -> None:
    publisher = start(make_publisher(mosquitto, outbox, clock, device_id), running)
    messages = fill(outbox, clock, device_id, 3)
    ids = {m.id for m in messages}
    assert silent_central.wait_for(lambda: silent_central.outbox_ids() == ids)
    # The broker has PUBACKed and even delivered every message: still nothing is deleted.
    assert wait_until(lambda: publisher.stats().sent == 3)
    threading.Event().wait(0.5)
    assert outbox.depth() == 3
    assert publisher.stats().in_flight == 3
    silent_central.ack(CENTRE, device_id, [messages[0].id, messages[2].id])
    assert wait_until(lambda: outbox.depth() == 1)
    assert [r.id for r in outbox.pending(10)] == [messages[1].id]
    silent_central.ack(CENTRE, device_id, [messages[1].id], "duplicate")
    assert wait_until(lambda: outbox.depth() == 0)
    stats = publisher.stats()
    assert (stats.acked, stats.in_flight, stats.resent) == (3, 0, 0)


def test_unacked_messages_are_resent_with_the_same_id_and_bytes(
    mosquitto: BrokerUrl,
    silent_central: CentralStub,
    outbox: Outbox,
    clock: SystemClock,
    device_id: str,
    running: list[Publisher],
) -> None:
    publisher = start(
        make_publisher(mosquitto, outbox, clock, device_id, ack_timeout_s=0.5), running
    )
    messages = fill(outbox, clock, device_id, 2)
    assert silent_central.wait_for(lambda: all(silent_central.counts[m.id] >= 3 for m in messages))
    for message in messages:
        copies = silent_central.payloads_of(message.id)
        assert set(copies) == {encode(message)}  # same id, same seq, same bytes
    assert publisher.stats().resent >= 4
    assert all(row.attempts >= 3 for row in outbox.pending(10))
    silent_central.ack(CENTRE, device_id, [m.id for m in messages])
    assert wait_until(lambda: outbox.depth() == 0)


def test_window_limits_messages_in_flight(
    mosquitto: BrokerUrl,
    silent_central: CentralStub,
    outbox: Outbox,
    clock: SystemClock,
    device_id: str,
    running: list[Publisher],
) -> None:
    publisher = start(make_publisher(mosquitto, outbox, clock, device_id, max_in_flight=4), running)
    messages = fill(outbox, clock, device_id, 10)
    assert silent_central.wait_for(lambda: len(silent_central.outbox_ids()) == 4)
    threading.Event().wait(0.3)
    assert silent_central.outbox_ids() == {m.id for m in messages[:4]}  # oldest first
    assert publisher.stats().in_flight == 4
    silent_central.ack(CENTRE, device_id, [m.id for m in messages[:4]])
    assert silent_central.wait_for(lambda: len(silent_central.outbox_ids()) == 8)


def test_command_is_answered_with_a_receipt_through_the_outbox(
    mosquitto: BrokerUrl,
    silent_central: CentralStub,
    outbox: Outbox,
    clock: SystemClock,
    device_id: str,
    running: list[Publisher],
) -> None:
    handled: list[Command] = []
    publisher = start(
        make_publisher(mosquitto, outbox, clock, device_id, on_command=handled.append), running
    )
    command = silent_central.command(CENTRE, device_id)
    assert wait_until(lambda: len(handled) == 1)
    assert handled[0] == command
    silent_central.publish(  # redelivered: no second receipt, no second call
        topic_names.build(CENTRE, device_id, "command"), encode(command)
    )
    assert silent_central.wait_for(
        lambda: any(isinstance(m, CommandReceipt) for m in silent_central.messages())
    )
    threading.Event().wait(0.3)
    [row] = outbox.pending(10)  # durable until central acks the receipt
    receipt = decode(row.topic, row.payload).message
    assert isinstance(receipt, CommandReceipt)
    assert (receipt.command_id, receipt.status, receipt.seq) == (command.id, "received", 0)
    assert len(handled) == 1
    assert publisher.stats().commands == 1
    silent_central.ack(CENTRE, device_id, [receipt.id])
    assert wait_until(lambda: outbox.depth() == 0)


def test_malformed_and_foreign_acks_are_ignored(
    mosquitto: BrokerUrl,
    silent_central: CentralStub,
    outbox: Outbox,
    clock: SystemClock,
    device_id: str,
    running: list[Publisher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    publisher = start(make_publisher(mosquitto, outbox, clock, device_id), running)
    [message] = fill(outbox, clock, device_id, 1)
    assert silent_central.wait_for(lambda: message.id in silent_central.outbox_ids())
    ack_topic = topic_names.build(CENTRE, device_id, "ack")
    valid = Ack(
        schema_version=1,
        kind="ack",
        centre_id=CENTRE,
        device_id=device_id,
        results=[AckResult(id=message.id, status="stored")],
        acked_at=clock.now().wall_time,
    )
    other_device = valid.model_copy(update={"device_id": "someone-else"})
    bad = [
        b"not json",
        b'{"schema_version": 1, "kind": "ack"}',
        encode(valid).replace(b'"schema_version":1', b'"schema_version":99'),
        encode(other_device),  # an ack for another kiosk published on my topic
    ]
    with caplog.at_level(logging.WARNING, logger="edge_agent.publisher"):
        for payload in bad:
            silent_central.publish(ack_topic, payload)
        assert wait_until(lambda: publisher.stats().malformed == len(bad))
    assert outbox.depth() == 1
    assert "ignoring invalid message" in caplog.text
    silent_central.publish(ack_topic, encode(valid))
    assert wait_until(lambda: outbox.depth() == 0)


def test_rejected_results_delete_the_row_and_warn(
    mosquitto: BrokerUrl,
    silent_central: CentralStub,
    outbox: Outbox,
    clock: SystemClock,
    device_id: str,
    running: list[Publisher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    publisher = start(make_publisher(mosquitto, outbox, clock, device_id), running)
    [message] = fill(outbox, clock, device_id, 1)
    assert silent_central.wait_for(lambda: message.id in silent_central.outbox_ids())
    with caplog.at_level(logging.WARNING, logger="edge_agent.publisher"):
        silent_central.ack(CENTRE, device_id, [message.id], "rejected")
        assert wait_until(lambda: outbox.depth() == 0)
    assert publisher.stats().rejected == 1
    assert f"central rejected message {message.id}: test" in caplog.text


def test_heartbeats_carry_outbox_depth(
    mosquitto: BrokerUrl,
    silent_central: CentralStub,
    outbox: Outbox,
    clock: SystemClock,
    device_id: str,
    running: list[Publisher],
) -> None:
    fill(outbox, clock, device_id, 2)
    start(make_publisher(mosquitto, outbox, clock, device_id, heartbeat_interval_s=0.2), running)
    assert silent_central.wait_for(lambda: len(silent_central.heartbeats()) >= 3)
    beat = silent_central.heartbeats()[-1]
    assert beat.outbox_depth == 2
    assert beat.device_id == device_id
    assert beat.rss_mb is not None
    assert beat.rss_mb > 0
    assert outbox.depth() == 2  # heartbeats never go through the outbox


class _CountingOutbox(Outbox):
    """The real outbox, counting how often the sender reads it."""

    reads = 0

    def pending(self, *args: Any, **kwargs: Any) -> Any:
        type(self).reads += 1
        return super().pending(*args, **kwargs)


def test_an_idle_sender_does_not_read_the_outbox_on_every_poll(
    mosquitto: BrokerUrl,
    silent_central: CentralStub,
    tmp_path: Path,
    clock: SystemClock,
    device_id: str,
    running: list[Publisher],
) -> None:
    """Polling every 50 ms with nothing to send reads the outbox only when woken (new row,
    ack, reconnect) or an ack timeout runs out, not twenty times a second."""
    outbox = _CountingOutbox(tmp_path / "counting.sqlite3")
    publisher = start(
        make_publisher(mosquitto, outbox, clock, device_id, ack_timeout_s=1.0), running
    )
    assert publisher.wait_connected(10)
    threading.Event().wait(0.3)
    before = _CountingOutbox.reads
    threading.Event().wait(1.0)  # 20 polls
    assert _CountingOutbox.reads - before <= 1
    (message,) = fill(outbox, clock, device_id, 1)  # a new row wakes the sender at once
    assert silent_central.wait_for(lambda: silent_central.counts[message.id] == 1, timeout=2)
    # Nobody acks: the window's expiry alone brings the sender back to send it again.
    assert silent_central.wait_for(lambda: silent_central.counts[message.id] >= 2, timeout=5)
    silent_central.ack(CENTRE, device_id, [message.id])
    assert wait_until(lambda: outbox.depth() == 0)
