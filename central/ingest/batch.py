"""Pure helpers of the ingest loop: decoding received messages and building app-level acks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from central.services import RejectedPayload, StoreItem
from central.services.upsert import chunks
from protocol import Ack, AckResult, Command, ProtocolError, decode, encode, topics
from protocol.topics import TopicKind

# An Ack may list 2000 results, but the kiosk refuses acks over 256 KiB: 100 results with
# reasons of at most 300 characters stay far below that.
MAX_RESULTS_PER_ACK = 100


@dataclass(frozen=True)
class Received:
    """One MQTT message as on_message saw it. `generation` counts connections: a PUBACK is
    only sent on the connection the message arrived on."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int


@dataclass(frozen=True)
class OutgoingAck:
    topic: str
    payload: bytes
    count: int


def to_store_item(received: Received) -> StoreItem:
    """Decode strictly; anything that fails becomes a dead letter with its reason."""
    try:
        message = decode(received.topic, received.payload).message
    except ProtocolError as exc:
        return RejectedPayload.from_error(received.topic, received.payload, exc)
    if isinstance(message, Ack | Command):  # central's own kinds; not subscribed, but be sure
        return RejectedPayload.build(
            received.topic, received.payload, "unexpected_kind", f"{message.kind} is not ingested"
        )
    return message


def _route(item: StoreItem) -> tuple[str, str] | None:
    if isinstance(item, RejectedPayload):
        if item.centre_id is None or item.device_id is None:
            return None
        return item.centre_id, item.device_id
    return item.centre_id, item.device_id


def build_acks(
    items: Sequence[StoreItem], results: Sequence[AckResult | None], now: datetime
) -> list[OutgoingAck]:
    """One Ack per device (split when long), results in receive order."""
    by_device: dict[tuple[str, str], list[AckResult]] = {}
    for item, result in zip(items, results, strict=True):
        route = _route(item)
        if result is not None and route is not None:
            by_device.setdefault(route, []).append(result)
    acks = []
    for (centre_id, device_id), device_results in by_device.items():
        for chunk in chunks(device_results, MAX_RESULTS_PER_ACK):
            ack = Ack(
                schema_version=1,
                kind="ack",
                centre_id=centre_id,
                device_id=device_id,
                results=list(chunk),
                acked_at=now,
            )
            topic = topics.build(centre_id, device_id, TopicKind.ACK)
            acks.append(OutgoingAck(topic, encode(ack), len(chunk)))
    return acks
