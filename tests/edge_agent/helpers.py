"""Small builders shared by the edge_agent tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.clock import Clock
from edge_agent.mqtt_client import ClientOptions
from edge_agent.outbox import MessageFactory, Outbox
from edge_agent.publisher import Publisher, PublisherSettings
from protocol import AckedMessage, AnswerSaved, Command, DeviceStatus, SessionRef, decode
from protocol import topics as topic_names
from protocol.broker_url import BrokerUrl

CENTRE = "centre-t"


def new_device_id() -> str:
    return f"kiosk-{uuid.uuid4().hex[:8]}"


def answer_factory(
    clock: Clock,
    device_id: str,
    question: str = "q-001",
    *,
    centre_id: str = CENTRE,
    answer: str = "B",
) -> MessageFactory:
    def factory(message_id: uuid.UUID, seq: int) -> AckedMessage:
        return AnswerSaved(
            schema_version=1,
            centre_id=centre_id,
            device_id=device_id,
            clock=clock.now(),
            id=message_id,
            seq=seq,
            kind="answer",
            subject=SessionRef(seat_id="seat-01", session_id="sess-1"),
            question_id=question,
            answer=answer,
        )

    return factory


def fill(outbox: Outbox, clock: Clock, device_id: str, count: int) -> list[AckedMessage]:
    return [outbox.enqueue(answer_factory(clock, device_id, f"q-{i:03d}")) for i in range(count)]


def make_publisher(
    url: BrokerUrl,
    outbox: Outbox,
    clock: Clock,
    device_id: str,
    *,
    on_command: Callable[[Command], None] | None = None,
    **overrides: Any,
) -> Publisher:
    settings: dict[str, Any] = {
        "centre_id": CENTRE,
        "device_id": device_id,
        "broker": url,
        "ack_timeout_s": 30.0,
        "heartbeat_interval_s": 60.0,
        "poll_interval_s": 0.05,
        "client": ClientOptions(client_id=device_id, reconnect_min_s=1, reconnect_max_s=1),
    }
    settings.update(overrides)
    return Publisher(PublisherSettings(**settings), outbox, clock, on_command=on_command)


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def retained_status(
    url: BrokerUrl, device_id: str, timeout: float = 5, centre_id: str = CENTRE
) -> list[DeviceStatus]:
    """Subscribe to a device's status topic and collect what arrives within `timeout`."""
    topic = topic_names.build(centre_id, device_id, "status")
    got: list[DeviceStatus] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        message = decode(msg.topic, bytes(msg.payload)).message
        assert isinstance(message, DeviceStatus)
        got.append(message)

    client.on_message = on_message
    client.connect(url.host, url.port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    wait_until(lambda: bool(got), timeout)
    client.loop_stop()
    client.disconnect()
    return got


def start(publisher: Publisher, running: list[Publisher]) -> Publisher:
    """Start a publisher that the `running` fixture stops; wait until it is connected."""
    running.append(publisher)
    publisher.start()
    assert publisher.wait_connected(10), "publisher did not connect"
    return publisher
