"""Pure parts of ingest: decoding into store items, recovering ids, building acks."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from central.ingest.batch import MAX_RESULTS_PER_ACK, Received, build_acks, to_store_item
from central.ingest.mqtt import subscription_filters
from central.services import RejectedPayload, StoreItem
from central.services.rejects import recover_id
from protocol import AckResult, decode, encode, topic_for, uuid7
from tests.central import factories as f


def _received(topic: str, payload: bytes) -> Received:
    return Received(topic, payload, mid=1, qos=1, generation=1)


def test_valid_message_decodes() -> None:
    event = f.event()
    assert to_store_item(_received(topic_for(event), encode(event))) == event


def test_rejected_payload_keeps_topic_device_and_recovers_id() -> None:
    wanted = uuid7()
    payload = json.dumps({"id": str(wanted), "schema_version": 1, "kind": "violation"}).encode()
    item = to_store_item(_received("proctor/v1/c-1/k-1/event", payload))
    assert isinstance(item, RejectedPayload)
    assert (item.centre_id, item.device_id, item.message_id) == ("c-1", "k-1", wanted)
    assert item.reason_code == "schema"
    assert item.reason


def test_no_id_recovered_for_unacked_kinds_or_bad_topics() -> None:
    payload = json.dumps({"id": str(uuid7())}).encode()
    heartbeat = to_store_item(_received("proctor/v1/c-1/k-1/heartbeat", payload))
    assert isinstance(heartbeat, RejectedPayload)
    assert heartbeat.message_id is None
    bad_topic = to_store_item(_received("proctor/v1/c 1/k-1/event", payload))
    assert isinstance(bad_topic, RejectedPayload)
    assert bad_topic.device_id is None
    assert bad_topic.reason_code == "topic"


def test_recover_id_never_raises() -> None:
    for payload in (b"", b"\xff", b"[1]", b'{"id": 5}', b'{"id": "nope"}', b"[" * 100_000):
        assert recover_id(payload) is None
    assert recover_id(b'{"id": "%s"}' % str(uuid.UUID(int=7)).encode()) == uuid.UUID(int=7)


def test_acks_grouped_per_device_in_order_and_split() -> None:
    events = [f.event(device="k-1", seq=i) for i in range(1, MAX_RESULTS_PER_ACK + 3)]
    events.insert(1, f.event(device="k-2"))
    results: list[AckResult | None] = [AckResult(id=e.id, status="stored") for e in events]
    items: list[StoreItem] = [*events, f.heartbeat()]
    acks = build_acks(items, [*results, None], datetime.now(UTC))
    decoded = [decode(a.topic, a.payload).message for a in acks]
    assert [a.topic for a in acks] == [
        "proctor/v1/centre-1/k-1/ack",
        "proctor/v1/centre-1/k-1/ack",
        "proctor/v1/centre-1/k-2/ack",
    ]
    k1_ids = [r.id for ack in decoded[:2] for r in ack.results]  # type: ignore[union-attr]
    assert k1_ids == [e.id for e in events if e.device_id == "k-1"]


def test_subscriptions() -> None:
    assert subscription_filters("ingest")[0] == "$share/ingest/proctor/v1/+/+/event"
    assert subscription_filters("") == [
        f"proctor/v1/+/+/{kind}" for kind in ("event", "session", "receipt", "heartbeat", "status")
    ]
