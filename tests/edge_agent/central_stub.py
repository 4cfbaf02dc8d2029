"""A test-side stand-in for central: records what kiosks publish and answers with Acks.

It connects with a persistent session (like central ingest), so it survives broker restarts,
and acks each message it receives unless told not to.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from edge_agent.mqtt_client import ClientOptions, connect_async, make_client
from protocol import (
    Ack,
    AckResult,
    Command,
    CommandType,
    Decoded,
    Heartbeat,
    Message,
    OutboxMessage,
    ProtocolError,
    decode,
    encode,
    uuid7,
)
from protocol import topics as topic_names
from protocol.broker_url import BrokerUrl
from protocol.topics import TopicKind

AckStatus = Literal["stored", "duplicate", "rejected"]


class CentralStub:
    def __init__(self, url: BrokerUrl, *, auto_ack: bool = True, centre_id: str = "+") -> None:
        self.url = url
        self.auto_ack = auto_ack
        self.centre_id = centre_id
        self.received: list[Decoded] = []
        self.raw: list[tuple[str, bytes]] = []
        self.counts: Counter[uuid.UUID] = Counter()
        self.rejects: set[uuid.UUID] = set()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        options = ClientOptions(client_id=f"central-stub-{uuid.uuid4().hex[:8]}")
        self._options = options
        self.client = make_client(url, options)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_args: self._ready.set()
        self.client.on_message = self._on_message

    def start(self) -> CentralStub:
        connect_async(self.client, self.url, self._options)
        self.client.loop_start()
        assert self._ready.wait(10), "central stub could not subscribe"
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object
    ) -> None:
        if rc.is_failure:
            return
        kinds = ("event", "session", "receipt", "heartbeat")
        client.subscribe([(topic_names.subscription(kind, self.centre_id), 1) for kind in kinds])

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.raw.append((msg.topic, bytes(msg.payload)))
        try:
            decoded = decode(msg.topic, bytes(msg.payload))
        except ProtocolError:
            return
        message = decoded.message
        with self._lock:
            self.received.append(decoded)
            if isinstance(message, OutboxMessage):
                self.counts[message.id] += 1
        if self.auto_ack and isinstance(message, OutboxMessage):
            status: AckStatus = "rejected" if message.id in self.rejects else "stored"
            self.ack(message.centre_id, message.device_id, [message.id], status)

    # -- what arrived ----------------------------------------------------------------------

    def messages(self) -> list[Message]:
        with self._lock:
            return [d.message for d in self.received]

    def heartbeats(self) -> list[Heartbeat]:
        return [m for m in self.messages() if isinstance(m, Heartbeat)]

    def payloads_of(self, message_id: uuid.UUID) -> list[bytes]:
        """Every copy received of one outbox message, as raw bytes."""
        needle = str(message_id).encode()
        with self._lock:
            return [payload for _topic, payload in self.raw if needle in payload]

    def outbox_ids(self) -> set[uuid.UUID]:
        with self._lock:
            return set(self.counts)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    # -- what central sends ----------------------------------------------------------------

    def ack(
        self, centre: str, device: str, ids: list[uuid.UUID], status: AckStatus = "stored"
    ) -> None:
        ack = Ack(
            schema_version=1,
            kind="ack",
            centre_id=centre,
            device_id=device,
            results=[
                AckResult(id=i, status=status, reason="test" if status == "rejected" else "")
                for i in ids
            ],
            acked_at=datetime.now(UTC),
        )
        self.publish(topic_names.build(centre, device, TopicKind.ACK), encode(ack))

    def command(self, centre: str, device: str, kind: CommandType = CommandType.WARN) -> Command:
        command = Command(
            schema_version=1,
            kind="command",
            id=uuid7(),
            centre_id=centre,
            device_id=device,
            type=kind,
            args={"text": "eyes on your own screen"},
            issued_at=datetime.now(UTC),
            issued_by="invigilator-1",
        )
        self.publish(topic_names.build(centre, device, TopicKind.COMMAND), encode(command))
        return command

    def publish(self, topic: str, payload: bytes) -> None:
        # No wait_for_publish: this also runs in paho's callback thread, which must not block.
        self.client.publish(topic, payload, qos=1)
