"""A stand-in kiosk for commands: a persistent MQTT session subscribed to its command topic
(the broker keeps commands for it while it is away, as for a real kiosk), which answers each
command with a `received` and a `done` receipt on its receipt topic."""

from __future__ import annotations

import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol import Command, CommandReceipt, decode, encode, topic_for, topics, uuid7
from protocol.broker_url import BrokerUrl
from tests.central import factories as f


class CommandKiosk:
    def __init__(self, url: BrokerUrl, device_id: str = "kiosk-1", answer: bool = True) -> None:
        self.device_id = device_id
        self.answer = answer
        self.commands: list[Command] = []
        self._seq = 1000
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"test-{device_id}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_a: self._subscribed.set()
        self.client.on_message = self._on_message
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 3600
        self.client.reconnect_delay_set(1, 2)
        self.client.connect(url.host, url.port, clean_start=False, properties=properties)
        self.client.loop_start()
        assert self._subscribed.wait(10), "no SUBACK for the command topic"

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        client.subscribe(topics.build(f.CENTRE, self.device_id, "command"), qos=1)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        command = decode(msg.topic, bytes(msg.payload)).message
        assert isinstance(command, Command)
        with self._changed:
            self.commands.append(command)
            self._changed.notify_all()
        if self.answer:
            for status in ("received", "done"):
                self.send_receipt(command, status)

    def send_receipt(self, command: Command, status: str, detail: str = "") -> None:
        self._seq += 1
        receipt = CommandReceipt(
            schema_version=1,
            kind="receipt",
            centre_id=f.CENTRE,
            device_id=self.device_id,
            clock=f.clock(),
            id=uuid7(),
            seq=self._seq,
            command_id=command.id,
            status=status,  # type: ignore[arg-type]
            detail=detail or f"warning {len(self.commands)} issued",
        )
        self.client.publish(topic_for(receipt), encode(receipt), qos=1)

    def wait_for_commands(self, count: int, timeout: float = 15) -> list[Command]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.commands) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"{len(self.commands)} of {count} commands arrived"
                self._changed.wait(remaining)
            return list(self.commands)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
