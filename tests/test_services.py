"""The private servers the integration tests rely on really start, serve and restart."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
import pytest

from protocol.broker_url import BrokerUrl
from tests.support.services import MosquittoInstance


def _round_trip(url: BrokerUrl) -> bytes:
    version = mqtt.MQTTv5 if url.version == "5" else mqtt.MQTTv311
    got: list[bytes] = []
    arrived = threading.Event()
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="selftest", protocol=version)

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        got.append(msg.payload)
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
