"""The private servers the integration tests rely on really start, serve and restart."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol.broker_url import BrokerUrl
from tests.support.services import MosquittoInstance


def _round_trip(url: BrokerUrl) -> bytes:
    version = mqtt.MQTTv5 if url.version == "5" else mqtt.MQTTv311
    got: list[bytes] = []
    arrived = threading.Event()
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="selftest", protocol=version)

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        got.append(bytes(msg.payload))
        arrived.set()

    client.on_message = on_message
    client.on_subscribe = lambda *_args: subscribed.set()
    client.connect(url.host, url.port)
    client.loop_start()
    try:
        client.subscribe("selftest/#", qos=1)
        assert subscribed.wait(5), "no SUBACK from the broker"
        client.publish("selftest/x", b"hello", qos=1).wait_for_publish(5)
        assert arrived.wait(5), "message did not come back through the broker"
    finally:
        client.loop_stop()
        client.disconnect()
    return got[0]


def test_private_mosquitto_serves_and_restarts(mosquitto_server: MosquittoInstance) -> None:
    assert _round_trip(mosquitto_server.url) == b"hello"
    mosquitto_server.kill()
    mosquitto_server.start()
    assert _round_trip(mosquitto_server.url) == b"hello"


def test_embedded_broker_serves(amqtt_broker: BrokerUrl) -> None:
    assert _round_trip(amqtt_broker) == b"hello"


@pytest.mark.mariadb
def test_private_mariadb_gives_fresh_databases(mariadb_url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(mariadb_url)
    with engine.begin() as conn:
        assert (
            conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()"
                )
            ).scalar_one()
            == 0
        )
        conn.execute(sa.text("CREATE TABLE t (id INT PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        assert conn.execute(sa.text("SELECT id FROM t")).scalar_one() == 1
    engine.dispose()


def test_private_mosquitto_persists_queued_messages_across_a_kill(
    mosquitto_server: MosquittoInstance,
) -> None:
    """A persistent session's queued QoS 1 message survives SIGKILL once autosaved (1 s)."""
    url = mosquitto_server.url
    got: list[bytes] = []
    arrived = threading.Event()

    def client(on_message: bool) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="persist", protocol=mqtt.MQTTv5)
        if on_message:

            def on_msg(_c: mqtt.Client, _u: object, m: mqtt.MQTTMessage) -> None:
                got.append(bytes(m.payload))
                arrived.set()

            c.on_message = on_msg
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        c.connect(url.host, url.port, clean_start=False, properties=props)
        return c

    subscriber = client(on_message=False)
    subscriber.loop_start()
    subscriber.subscribe("persist/#", qos=1)[0]
    time.sleep(0.5)
    subscriber.disconnect()
    subscriber.loop_stop()
    sender = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="sender", protocol=mqtt.MQTTv5)
    sender.connect(url.host, url.port)
    sender.loop_start()
    sender.publish("persist/x", b"kept", qos=1).wait_for_publish(5)
    sender.disconnect()
    sender.loop_stop()
    time.sleep(2.5)  # past autosave_interval
    mosquitto_server.kill()
    mosquitto_server.start()
    again = client(on_message=True)
    again.loop_start()
    try:
        assert arrived.wait(10), (
            f"queued message lost; broker log: {mosquitto_server.log.read_text()}"
        )
    finally:
        again.loop_stop()
        again.disconnect()
    assert got == [b"kept"]
