"""Build and connect a paho-mqtt 2.x client from a `BrokerUrl`, the way every kiosk needs it.

MQTT v5 with ``clean_start=False`` and a session expiry, so acks and commands queued while the
kiosk was offline are delivered when it comes back; MQTT 3.1.1 with ``clean_session=False``
for the embedded demo broker. The loop thread reconnects with exponential backoff.
"""

from __future__ import annotations

from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol.broker_url import BrokerUrl


@dataclass(frozen=True)
class ClientOptions:
    client_id: str
    keepalive_s: int = 30
    session_expiry_s: int = 86_400
    reconnect_min_s: int = 1
    reconnect_max_s: int = 60


@dataclass(frozen=True)
class LastWill:
    topic: str
    payload: bytes
    retain: bool = True


def make_client(
    url: BrokerUrl, options: ClientOptions, will: LastWill | None = None
) -> mqtt.Client:
    """A configured, not yet connected client (TLS, credentials, will, backoff)."""
    v5 = url.version == "5"
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=options.client_id,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        clean_session=None if v5 else False,
    )
    if url.tls:
        client.tls_set(ca_certs=url.ca_file)
    if url.username:
        client.username_pw_set(url.username, url.password)
    if will is not None:
        client.will_set(will.topic, will.payload, qos=1, retain=will.retain)
    client.reconnect_delay_set(options.reconnect_min_s, options.reconnect_max_s)
    return client


def connect_async(client: mqtt.Client, url: BrokerUrl, options: ClientOptions) -> None:
    """Start connecting in the background; call `client.loop_start()` afterwards."""
    if url.version == "5":
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = options.session_expiry_s
        client.connect_async(
            url.host,
            url.port,
            keepalive=options.keepalive_s,
            clean_start=False,
            properties=properties,
        )
    else:
        client.connect_async(url.host, url.port, keepalive=options.keepalive_s)
