"""Acceptance against a real Mosquitto 2 started from the configuration `init-centre` wrote:
TLS for kiosks, per-device logins and ACL, revocation and rotation with a live broker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from protocol import topics
from protocol.broker_url import BrokerUrl
from protocol.topics import TopicKind
from provisioning import devices
from provisioning.__main__ import main as provisioning_main
from provisioning.bundle import bundle_dir
from tests.provisioning.support import (
    GeneratedBroker,
    Recorder,
    connect_and_wait,
    make_centre,
    mqtt_client,
)

pytestmark = pytest.mark.timeout(90)
CENTRE = "centre-1"
REFUSED = {"Not authorized", "Bad user name or password"}
ACCEPTED = {"Success", "No matching subscribers"}


@dataclass
class Centre:
    root: Path
    broker: GeneratedBroker

    @property
    def ca(self) -> Path:
        return self.root / "ca" / "ca.pem"

    def kiosk_password(self, device_id: str) -> str:
        env = (bundle_dir(self.root, device_id) / "etc" / "broker.env").read_text()
        return env.strip().split("=", 1)[1]

    def central_url(self, username: str) -> BrokerUrl:
        env = (self.root / "central" / f"{username}.env").read_text().splitlines()
        return BrokerUrl.parse(env[0].split("=", 1)[1])


@pytest.fixture
def centre_with_two_kiosks(tmp_path: Path) -> Iterator[Centre]:
    root = tmp_path / "centre"
    make_centre(root, CENTRE)
    devices.register_kiosk(root, "A", "01")
    devices.register_kiosk(root, "A", "02")
    broker = GeneratedBroker(root)
    broker.start()
    yield Centre(root, broker)
    broker.stop()


Clients = list[mqtt.Client]


@pytest.fixture
def clients() -> Iterator[Clients]:
    made: Clients = []
    yield made
    for client in made:
        client.disconnect()
        client.loop_stop()


def kiosk(centre: Centre, made: Clients, device_id: str, password: str | None = None) -> Recorder:
    client, seen = mqtt_client(device_id, password or centre.kiosk_password(device_id), centre.ca)
    made.append(client)
    reason = connect_and_wait(client, seen, centre.broker.settings.broker.tls_port)
    assert reason == "Success", f"{device_id} could not log in: {reason}"
    return seen


def kiosk_client(made: Clients) -> mqtt.Client:
    return made[-1]


def central(centre: Centre, made: Clients, username: str = "central-ingest-1") -> Recorder:
    url = centre.central_url(username)
    assert not url.tls, "central uses the loopback listener"
    assert url.host == "127.0.0.1"
    client, seen = mqtt_client(url.username, url.password, None)
    made.append(client)
    seen_reason = _connect_local(client, seen, url.port)
    assert seen_reason == "Success", seen_reason
    return seen


def _connect_local(client: mqtt.Client, seen: Recorder, port: int) -> str:
    client.connect("127.0.0.1", port)
    client.loop_start()
    seen.wait(lambda: bool(seen.connacks) or bool(seen.disconnects))
    return seen.connacks[0] if seen.connacks else f"disconnected: {seen.disconnects}"


def subscribe(client: mqtt.Client, seen: Recorder, topic: str) -> list[str]:
    """Subscribe and wait for the SUBACK; returns its reason codes."""
    result, mid = client.subscribe(topic, qos=1)
    assert result == mqtt.MQTT_ERR_SUCCESS
    assert mid is not None
    assert seen.wait(lambda: mid in seen.subacks), f"no SUBACK for {topic}"
    return seen.subacks[mid]


def publish(client: mqtt.Client, seen: Recorder, topic: str, payload: bytes) -> str:
    info = client.publish(topic, payload, qos=1)
    assert seen.wait(lambda: info.mid in seen.pubacks), f"no PUBACK for {topic}"
    return seen.pubacks[info.mid]


def test_kiosk_publishes_over_tls_and_receives_centrals_ack(
    centre_with_two_kiosks: Centre, clients: Clients
) -> None:
    centre = centre_with_two_kiosks
    ingest = central(centre, clients)
    ingest_client = clients[-1]
    shared_events = topics.shared(topics.subscription("event", CENTRE), "ingest")
    assert subscribe(ingest_client, ingest, shared_events) == ["Granted QoS 1"]
    a = kiosk(centre, clients, "kiosk-a-01")
    a_client = kiosk_client(clients)
    assert subscribe(a_client, a, topics.build(CENTRE, "kiosk-a-01", TopicKind.ACK)) == [
        "Granted QoS 1"
    ]
    event_topic = topics.build(CENTRE, "kiosk-a-01", TopicKind.EVENT)
    ack_topic = topics.build(CENTRE, "kiosk-a-01", TopicKind.ACK)

    assert publish(a_client, a, event_topic, b"event-1") == "Success"
    assert ingest.wait(lambda: (event_topic, b"event-1") in ingest.messages)
    assert publish(ingest_client, ingest, ack_topic, b"ack-1") == "Success"
    assert a.wait(lambda: (ack_topic, b"ack-1") in a.messages)


def test_kiosk_cannot_speak_or_listen_for_another_kiosk(
    centre_with_two_kiosks: Centre, clients: Clients
) -> None:
    centre = centre_with_two_kiosks
    web = central(centre, clients, "central-web")
    web_client = clients[-1]
    subscribe(web_client, web, topics.subscription("event", CENTRE))
    b = kiosk(centre, clients, "kiosk-a-02")
    subscribe(kiosk_client(clients), b, topics.build(CENTRE, "kiosk-a-02", TopicKind.COMMAND))
    a = kiosk(centre, clients, "kiosk-a-01")
    a_client = kiosk_client(clients)
    # Mosquitto 2.0.11's acl_file grants every SUBACK (it checks `read` on delivery, not on
    # subscribe), so the proof is that nothing of B's ever reaches A.
    for foreign in ("#", "proctor/v1/+/kiosk-a-02/#", topics.build(CENTRE, "kiosk-a-02", "ack")):
        assert subscribe(a_client, a, foreign) == ["Granted QoS 1"]

    b_client = clients[1]
    b_event = topics.build(CENTRE, "kiosk-a-02", TopicKind.EVENT)
    b_command = topics.build(CENTRE, "kiosk-a-02", TopicKind.COMMAND)
    assert publish(web_client, web, b_command, b"warn") == "Success"
    assert b.wait(lambda: (b_command, b"warn") in b.messages)
    assert publish(b_client, b, b_event, b"genuine") == "Success"
    assert web.wait(lambda: (b_event, b"genuine") in web.messages)
    assert not a.wait(lambda: bool(a.messages), timeout=0.5), "A, subscribed to #, heard B"
    assert a.disconnects == []

    assert publish(a_client, a, b_event, b"forged") == "Not authorized"
    # Mosquitto 2.0.11 also closes the connection after a denied publish (the PUBACK comes
    # first): a kiosk that tries is cut off and has to reconnect.
    assert a.wait(lambda: bool(a.disconnects))
    assert publish(b_client, b, b_event, b"after") == "Success"
    assert web.wait(lambda: (b_event, b"after") in web.messages)
    assert (b_event, b"forged") not in web.messages

    b_ack = topics.build(CENTRE, "kiosk-a-02", TopicKind.ACK)
    assert publish(web_client, web, b_ack, b"x") == "Not authorized", "web sends no acks"


def test_wrong_password_unknown_user_and_anonymous_are_refused(
    centre_with_two_kiosks: Centre, clients: Clients
) -> None:
    centre = centre_with_two_kiosks
    port = centre.broker.settings.broker.tls_port
    for username, password in (
        ("kiosk-a-01", "not-the-password"),
        ("kiosk-a-01", centre.kiosk_password("kiosk-a-02")),
        ("kiosk-z-99", "anything"),
        (None, None),
    ):
        client, seen = mqtt_client(username, password, centre.ca)
        clients.append(client)
        reason = connect_and_wait(client, seen, port)
        assert reason in REFUSED, f"{username!r} got {reason}"


def test_the_username_is_the_client_id(centre_with_two_kiosks: Centre, clients: Clients) -> None:
    """A second login as the same kiosk, whatever client id it asks for, takes the session
    over: no kiosk can pick another's client id, and a cloned kiosk shows up as flapping."""
    centre = centre_with_two_kiosks
    first = kiosk(centre, clients, "kiosk-a-01")
    kiosk(centre, clients, "kiosk-a-01")
    assert first.wait(lambda: bool(first.disconnects)), "the first session was not taken over"


def test_revoke_disconnects_the_kiosk_and_it_cannot_come_back(
    centre_with_two_kiosks: Centre, clients: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    centre = centre_with_two_kiosks
    password = centre.kiosk_password("kiosk-a-01")
    a = kiosk(centre, clients, "kiosk-a-01")
    b = kiosk(centre, clients, "kiosk-a-02")

    code = provisioning_main(
        [
            "revoke",
            "--centre",
            str(centre.root),
            "kiosk-a-01",
            "--reason",
            "stolen",
        ]
    )
    assert code == 0
    # No pid given: the pid_file the generated configuration makes the broker write is used.
    assert f"broker (pid {centre.broker.pid}) reloaded" in capsys.readouterr().out
    # Mosquitto 2.0 re-checks connected clients on SIGHUP and drops a login that is gone.
    assert a.wait(lambda: bool(a.disconnects)), "the revoked kiosk is still connected"
    assert "Client kiosk-a-01 disconnected" in centre.broker.log_text()

    client, seen = mqtt_client("kiosk-a-01", password, centre.ca)
    clients.append(client)
    assert connect_and_wait(client, seen, centre.broker.settings.broker.tls_port) in REFUSED
    assert b.disconnects == [], "other kiosks stay connected"
    b_event = topics.build(CENTRE, "kiosk-a-02", TopicKind.EVENT)
    # 0x10 "No matching subscribers" is a success code: nobody listens in this test.
    assert publish(clients[1], b, b_event, b"still here") in ACCEPTED


def test_rotate_replaces_the_password_only(
    centre_with_two_kiosks: Centre, clients: Clients
) -> None:
    centre = centre_with_two_kiosks
    old = centre.kiosk_password("kiosk-a-01")
    live = kiosk(centre, clients, "kiosk-a-01")
    before = _bundle_files(centre.root, "kiosk-a-01")
    code = provisioning_main(
        [
            "rotate",
            "--centre",
            str(centre.root),
            "kiosk-a-01",
            "--broker-pid",
            str(centre.broker.pid),
        ]
    )
    assert code == 0
    after = _bundle_files(centre.root, "kiosk-a-01")
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"etc/broker.env"}, "signing key, config and units must not change"

    # The session logged in with the old password is dropped by the reload (its outbox keeps
    # everything; it reconnects once the new broker.env is installed).
    assert live.wait(lambda: bool(live.disconnects)), "old-password session survived rotation"
    new = centre.kiosk_password("kiosk-a-01")
    assert new != old
    client, seen = mqtt_client("kiosk-a-01", old, centre.ca)
    clients.append(client)
    port = centre.broker.settings.broker.tls_port
    assert _eventually_refused(client, seen, port, centre, old)
    kiosk(centre, clients, "kiosk-a-01", new)


def _eventually_refused(
    client: mqtt.Client, seen: Recorder, port: int, centre: Centre, password: str
) -> bool:
    # The reload is asynchronous: the first attempt may still race it.
    for _attempt in range(20):
        if connect_and_wait(client, seen, port) in REFUSED:
            return True
        client.disconnect()
        client.loop_stop()
        client, seen = mqtt_client("kiosk-a-01", password, centre.ca)
        seen.wait(lambda: False, timeout=0.1)
    return False


def _bundle_files(root: Path, device_id: str) -> dict[str, bytes]:
    base = bundle_dir(root, device_id)
    return {str(p.relative_to(base)): p.read_bytes() for p in base.rglob("*") if p.is_file()}
