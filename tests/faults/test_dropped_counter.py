"""The dropped-message check every fault test ends with can fail: a broker that queues at
most 5 messages for an offline subscriber drops the rest, and the check says so."""

from __future__ import annotations

import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.faults.harness import DroppedCounter, wait_for
from tests.support.services import MosquittoInstance

pytestmark = pytest.mark.mosquitto


def test_dropped_counter_sees_a_queue_overflow(tmp_path: Path) -> None:
    broker = MosquittoInstance(tmp_path / "mosquitto", extra_conf="max_queued_messages 5\n")
    broker.start()
    counter = DroppedCounter(broker.url)
    try:
        counter.assert_none_dropped()
        subscriber = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="offline-sub", protocol=mqtt.MQTTv5
        )
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 300
        subscribed = threading.Event()
        subscriber.on_subscribe = lambda *_a: subscribed.set()
        subscriber.connect("127.0.0.1", broker.port, clean_start=False, properties=properties)
        subscriber.loop_start()
        subscriber.subscribe("overflow/t", qos=1)
        assert subscribed.wait(5), "no SUBACK"
        subscriber.disconnect()
        subscriber.loop_stop()
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        publisher.connect("127.0.0.1", broker.port)
        publisher.loop_start()
        for n in range(20):
            publisher.publish("overflow/t", str(n), qos=1).wait_for_publish(5)
        publisher.disconnect()
        publisher.loop_stop()
        wait_for(lambda: counter.readings[-1] > 0, 10, "the dropped counter to rise")
        with pytest.raises(AssertionError, match="dropped"):
            counter.assert_none_dropped()
    finally:
        counter.close()
        broker.stop()
