"""A private Mosquitto run from the configuration `init-centre` wrote, and MQTT v5 clients that
log in the way a kiosk or central does. Ports are free loopback ports chosen per test."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from provisioning import centre, registry
from provisioning.broker_files import broker_paths
from provisioning.settings import BrokerSettings, CentreSettings
from tests.support.services import free_port, require_binary, wait_for_port

HOST = "localhost"  # in the server certificate's SAN: TLS host name checks stay on


def _two_free_ports() -> tuple[int, int]:
    """Two distinct free ports: the OS may hand the same just-released port out twice."""
    first = free_port()
    while (second := free_port()) == first:
        pass
    return first, second


def make_centre(centre_dir: Path, centre_id: str = "centre-1") -> CentreSettings:
    tls_port, local_port = _two_free_ports()
    settings = CentreSettings(
        centre_id=centre_id,
        broker=BrokerSettings(
            host=HOST,
            tls_port=tls_port,
            local_port=local_port,
            pid_file=centre_dir / "mosquitto.pid",
        ),
        ingest_workers=1,
    )
    centre.init_centre(centre_dir, settings)
    return settings


class GeneratedBroker:
    """mosquitto -c <generated conf>, plus only what a test run needs (log file; `user root`
    when the tests run as root, since mosquitto would otherwise drop to a user that cannot
    read the 0600 files)."""

    def __init__(self, centre_dir: Path) -> None:
        self.binary = require_binary("mosquitto", "tests need a real MQTT v5 broker")
        self.settings = registry.load(centre_dir).settings
        paths = broker_paths(centre_dir, self.settings.broker)
        self.log = centre_dir / "mosquitto.log"
        self.conf = centre_dir / "test-mosquitto.conf"
        extra = [f"log_dest file {self.log}", "log_type all"]
        if os.geteuid() == 0:
            extra.append("user root")
        self.conf.write_text(paths.conf.read_text() + "\n" + "\n".join(extra) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)])
        wait_for_port(self.settings.broker.tls_port, 10, self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=15)

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


@dataclass
class Recorder:
    """What a client saw, with a way to wait for it."""

    connacks: list[str] = field(default_factory=list)
    disconnects: list[str] = field(default_factory=list)
    pubacks: dict[int, str] = field(default_factory=dict)
    subacks: dict[int, list[str]] = field(default_factory=dict)
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, update: Callable[[], object]) -> None:
        with self.changed:
            update()
            self.changed.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(remaining)
            return True


def mqtt_client(
    username: str | None, password: str | None, ca_file: Path | None
) -> tuple[mqtt.Client, Recorder]:
    """An MQTT v5 client (TLS when ca_file is given) that records what happens; not connected
    yet: call connect_and_wait. No automatic reconnect: a refused login must stay refused."""
    seen = Recorder()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5, reconnect_on_failure=False
    )
    if username is not None:
        client.username_pw_set(username, password)
    if ca_file is not None:
        client.tls_set(ca_certs=str(ca_file))

    def on_connect(_c: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object) -> None:
        seen.add(lambda: seen.connacks.append(str(rc)))

    def on_disconnect(_c: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object) -> None:
        seen.add(lambda: seen.disconnects.append(str(rc)))

    def on_publish(_c: mqtt.Client, _u: object, mid: int, rc: ReasonCode, _p: object) -> None:
        seen.add(lambda: seen.pubacks.__setitem__(mid, str(rc)))

    def on_subscribe(
        _c: mqtt.Client, _u: object, mid: int, codes: list[ReasonCode], _p: object
    ) -> None:
        seen.add(lambda: seen.subacks.__setitem__(mid, [str(code) for code in codes]))

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        seen.add(lambda: seen.messages.append((msg.topic, bytes(msg.payload))))

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.on_publish = on_publish
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    return client, seen


def connect_and_wait(client: mqtt.Client, seen: Recorder, port: int) -> str:
    """Connect, run the network loop, and return the CONNACK reason ('Success', ...)."""
    try:
        client.connect(HOST, port)
    except OSError as exc:  # e.g. the broker closed the socket during the handshake
        return f"connect failed: {exc}"
    client.loop_start()
    seen.wait(lambda: bool(seen.connacks) or bool(seen.disconnects))
    return seen.connacks[0] if seen.connacks else f"disconnected: {seen.disconnects}"
