"""The paho-mqtt client of an ingest worker: persistent session, manual acks, QoS 1."""

from __future__ import annotations

from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from protocol import topics
from protocol.broker_url import BrokerUrl
from protocol.topics import TopicKind

INGESTED_KINDS = (
    TopicKind.EVENT,
    TopicKind.SESSION,
    TopicKind.RECEIPT,
    TopicKind.HEARTBEAT,
    TopicKind.STATUS,
)
KEEPALIVE_S = 30
SESSION_EXPIRY_S = 7 * 24 * 3600  # the broker keeps our queue this long while we are away
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 30


@dataclass(frozen=True)
class MqttSettings:
    broker: BrokerUrl
    client_id: str
    share_group: str  # "" = plain subscription
    receive_maximum: int  # MQTT v5: most unacknowledged messages the broker may send us


def subscription_filters(share_group: str) -> list[str]:
    group = share_group or None
    return [topics.shared(topics.subscription(kind), group) for kind in INGESTED_KINDS]


def make_client(settings: MqttSettings) -> mqtt.Client:
    """A client that keeps its broker session across restarts and acks only when told to."""
    v5 = settings.broker.version == "5"
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=settings.client_id,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        clean_session=None if v5 else False,
        manual_ack=True,
        reconnect_on_failure=True,
    )
    if settings.broker.username:
        client.username_pw_set(settings.broker.username, settings.broker.password)
    if settings.broker.tls:
        client.tls_set(ca_certs=settings.broker.ca_file)
    client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
    return client


def connect_async(client: mqtt.Client, settings: MqttSettings) -> None:
    """Start connecting; the network loop connects, and reconnects with backoff."""
    broker = settings.broker
    if broker.version != "5":
        client.connect_async(broker.host, broker.port, keepalive=KEEPALIVE_S)
        return
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = SESSION_EXPIRY_S
    properties.ReceiveMaximum = max(1, min(settings.receive_maximum, 65535))
    client.connect_async(
        broker.host,
        broker.port,
        keepalive=KEEPALIVE_S,
        clean_start=False,  # never wipe the session: it holds what we have not acked yet
        properties=properties,
    )


def subscribe_all(client: mqtt.Client, settings: MqttSettings) -> None:
    filters = subscription_filters(settings.share_group)
    if settings.broker.version == "5":
        client.subscribe([(f, SubscribeOptions(qos=1)) for f in filters])
    else:
        client.subscribe([(f, 1) for f in filters])
