"""A stand-in kiosk on a real broker: publishes messages and collects central's acks."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from central.ingest import IngestOptions, IngestWorker
from protocol import Ack, AckResult, decode, encode, topic_for
from protocol.broker_url import BrokerUrl
from protocol.models import Message

ACK_FILTER = "proctor/v1/+/+/ack"


class FakeKiosk:
    def __init__(self, url: BrokerUrl) -> None:
        self.results: dict[uuid.UUID, AckResult] = {}
        self.acks: list[Ack] = []
        self._changed = threading.Condition()
        subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"fake-kiosk-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5 if url.version == "5" else mqtt.MQTTv311,
        )
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.connect(url.host, url.port)
        self.client.loop_start()
        self.client.subscribe(ACK_FILTER, qos=1)
        assert subscribed.wait(10), "no SUBACK for the ack topic"

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        ack = decode(msg.topic, bytes(msg.payload)).message
        assert isinstance(ack, Ack)
        with self._changed:
            self.acks.append(ack)
            for result in ack.results:
                self.results.setdefault(result.id, result)
            self._changed.notify_all()

    def forget(self) -> None:
        """Drop the results seen so far, so that wait_for waits for new acks."""
        with self._changed:
            self.results.clear()
            self.acks.clear()

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def send(self, *messages: Message) -> None:
        for message in messages:
            self.publish(topic_for(message), encode(message))

    def wait_for(self, ids: Iterable[uuid.UUID], timeout: float = 20) -> dict[uuid.UUID, str]:
        wanted = set(ids)
        deadline = time.monotonic() + timeout
        with self._changed:
            while not wanted <= self.results.keys():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    missing = wanted - self.results.keys()
                    raise AssertionError(f"no ack for {len(missing)} of {len(wanted)} ids")
                self._changed.wait(remaining)
            return {i: self.results[i].status for i in wanted}

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def start_worker(url: BrokerUrl, database_url: str, **options: Any) -> IngestWorker:
    worker = IngestWorker(
        IngestOptions(broker=url, database_url=database_url, batch_wait_ms=20, **options)
    )
    worker.start()
    assert worker.wait_subscribed(15), "ingest did not subscribe"
    return worker


def stop_worker(worker: IngestWorker) -> None:
    worker.stop()
    assert worker.join(20), "ingest did not stop"
