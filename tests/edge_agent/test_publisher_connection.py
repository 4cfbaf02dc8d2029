"""Publisher connection life: broker restarts and kills, status and last will, ACL, MQTT 3.1.1."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.clock import SystemClock
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from protocol import (
    CommandReceipt,
    DeviceStatus,
    decode,
)
from protocol import topics as topic_names
from protocol.broker_url import BrokerUrl
from tests.edge_agent.central_stub import CentralStub
from tests.edge_agent.helpers import (
    CENTRE,
    fill,
    make_publisher,
    retained_status,
    start,
    wait_until,
)
from tests.support.services import MosquittoInstance, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.mosquitto
def test_everything_gets_through_a_broker_restart(
    mosquitto_server: MosquittoInstance,
    central: CentralStub,
    outbox: Outbox,
    clock: SystemClock,
    device_id: str,
    running: list[Publisher],
) -> None:
    publisher = start(
        make_publisher(mosquitto_server.url, outbox, clock, device_id, ack_timeout_s=3.0),
        running,
    )
    before = fill(outbox, clock, device_id, 5)
    assert wait_until(lambda: outbox.depth() == 0)
    mosquitto_server.stop()
    assert wait_until(lambda: not publisher.stats().connected)
    during = fill(outbox, clock, device_id, 20)  # the kiosk keeps working while offline
    assert outbox.depth() == 20
    mosquitto_server.start()
    assert wait_until(lambda: outbox.depth() == 0, timeout=30)
    assert {m.id for m in before + during} <= central.outbox_ids()
    assert publisher.stats().connects >= 2


@pytest.mark.mosquitto
def test_messages_lost_by_a_killed_broker_are_resent(
    mosquitto_server: MosquittoInstance,
    outbox: Outbox,
    clock: SystemClock,
    device_id: str,
    running: list[Publisher],
) -> None:
    url = mosquitto_server.url
    offline_central = CentralStub(url).start()
    offline_central.stop()  # its session keeps queueing messages in the broker
    publisher = start(make_publisher(url, outbox, clock, device_id, ack_timeout_s=2.0), running)
    messages = fill(outbox, clock, device_id, 10)
    assert wait_until(lambda: publisher.stats().sent >= 10)
    mosquitto_server.kill()  # PUBACKed, queued for central, and gone
    mosquitto_server.start()
    central = CentralStub(url).start()
    try:
        assert wait_until(lambda: outbox.depth() == 0, timeout=30)
        assert {m.id for m in messages} <= central.outbox_ids()
    finally:
        central.stop()


class StatusWatcher:
    def __init__(self, url: BrokerUrl, device_id: str) -> None:
        self.statuses: list[DeviceStatus] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect(url.host, url.port)
        self.client.subscribe(topic_names.build(CENTRE, device_id, "status"), qos=1)
        self.client.loop_start()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        message = decode(msg.topic, bytes(msg.payload)).message
        assert isinstance(message, DeviceStatus)
        self.statuses.append(message)

    def states(self) -> list[str]:
        return [s.state for s in self.statuses]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.mark.mosquitto
def test_online_status_is_retained_and_the_will_says_offline_on_sigkill(
    mosquitto: BrokerUrl, tmp_path: Path, device_id: str
) -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.edge_agent.children",
            "publisher",
            mosquitto.to_url(redact=False),
            device_id,
            str(tmp_path / "child.sqlite3"),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "connected"
        [online] = retained_status(mosquitto, device_id)
        assert online.state == "online"
        assert online.clock is not None
        watcher = StatusWatcher(mosquitto, device_id)
        assert wait_until(lambda: watcher.states() == ["online"])  # the retained copy
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    try:
        assert wait_until(lambda: watcher.states() == ["online", "offline"])
    finally:
        watcher.close()
    [offline] = retained_status(mosquitto, device_id)
    assert (offline.state, offline.reason, offline.clock) == ("offline", "connection lost", None)
    assert offline.boot_id == online.boot_id


@pytest.mark.mosquitto
def test_clean_stop_publishes_offline_status(
    mosquitto: BrokerUrl, outbox: Outbox, clock: SystemClock, device_id: str
) -> None:
    publisher = make_publisher(mosquitto, outbox, clock, device_id)
    publisher.start()
    assert publisher.wait_connected(10)
    publisher.stop()
    assert publisher.join(10)
    assert not publisher.stats().connected
    [status] = retained_status(mosquitto, device_id)
    assert (status.state, status.reason) == ("offline", "shutdown")
    assert status.clock is not None


@pytest.mark.mosquitto
def test_broker_refusal_in_puback_is_logged(
    tmp_path: Path,
    outbox: Outbox,
    clock: SystemClock,
    device_id: str,
    running: list[Publisher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    acl = tmp_path / "acl"
    acl.write_text(
        "".join(
            f"topic readwrite proctor/v1/+/+/{kind}\n"
            for kind in ("event", "receipt", "heartbeat", "status", "ack", "command")
        )
    )  # no "session": answers are refused
    server = MosquittoInstance(tmp_path / "acl-broker", extra_conf=f"acl_file {acl}\n")
    server.start()
    try:
        with caplog.at_level(logging.ERROR, logger="edge_agent.publisher"):
            publisher = start(make_publisher(server.url, outbox, clock, device_id), running)
            [message] = fill(outbox, clock, device_id, 1)
            assert wait_until(lambda: publisher.stats().refused == 1)
        assert f"broker refused outbox message {message.id}" in caplog.text
        assert "Not authorized" in caplog.text
        assert outbox.depth() == 1  # still ours to deliver
        publisher.stop()
        publisher.join(10)
    finally:
        server.stop()


def test_mqtt_311_with_the_embedded_broker(
    amqtt_broker: BrokerUrl,
    outbox: Outbox,
    clock: SystemClock,
    device_id: str,
    running: list[Publisher],
) -> None:
    central = CentralStub(amqtt_broker).start()
    try:
        start(make_publisher(amqtt_broker, outbox, clock, device_id), running)
        messages = fill(outbox, clock, device_id, 5)
        assert wait_until(lambda: outbox.depth() == 0)
        assert {m.id for m in messages} <= central.outbox_ids()
        command = central.command(CENTRE, device_id)
        assert central.wait_for(
            lambda: any(
                isinstance(m, CommandReceipt) and m.command_id == command.id
                for m in central.messages()
            )
        )
        assert wait_until(lambda: outbox.depth() == 0)
    finally:
        central.stop()


def test_stop_while_the_broker_is_unreachable(tmp_path: Path, clock: SystemClock) -> None:
    url = BrokerUrl(host="127.0.0.1", port=free_port())  # nothing listens here
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        publisher = make_publisher(url, outbox, clock, "kiosk-unreachable")
        publisher.start()
        fill(outbox, clock, "kiosk-unreachable", 3)  # producers never wait for the network
        assert not publisher.wait_connected(1.5)
        publisher.stop()
        assert publisher.join(5)
        assert publisher.stats().sent == 0
        assert outbox.depth() == 3
