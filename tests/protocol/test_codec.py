"""Strict decoding: every kind of bad input is refused with a typed error that says why."""

from __future__ import annotations

import json
from typing import Any

import pytest

from protocol import (
    MalformedPayload,
    PayloadTooLarge,
    ProtocolError,
    SchemaViolation,
    TopicError,
    TopicMismatch,
    UnsupportedSchemaVersion,
    decode,
    encode,
)
from tests.protocol.examples import EXAMPLES

EVENT = EXAMPLES["violation_ended"]
TOPIC = "proctor/v1/centre-1/kiosk-a07/event"


def _mutated(**changes: Any) -> bytes:
    body = json.loads(encode(EVENT))
    for key, value in changes.items():
        if value is _DELETE:
            del body[key]
        else:
            body[key] = value
    return json.dumps(body).encode()


_DELETE = object()


def _reject(payload: bytes, topic: str = TOPIC) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decode(topic, payload)
    return info.value


def test_truncated_json_is_malformed() -> None:
    error = _reject(encode(EVENT)[:-10])
    assert isinstance(error, MalformedPayload)
    assert "not JSON" in error.message


def test_invalid_utf8_is_malformed() -> None:
    error = _reject(b'{"schema_version":1,"x":"\xff\xfe"}')
    assert isinstance(error, MalformedPayload)
    assert "UTF-8" in error.message


@pytest.mark.parametrize("payload", [b"[]", b'"text"', b"42", b"null"])
def test_non_object_payload_is_malformed(payload: bytes) -> None:
    assert isinstance(_reject(payload), MalformedPayload)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(constant: str) -> None:
    payload = encode(EVENT).replace(b'"confidence":0.91', f'"confidence":{constant}'.encode())
    assert isinstance(_reject(payload), MalformedPayload)


def test_huge_float_that_overflows_to_infinity_is_refused() -> None:
    payload = encode(EVENT).replace(b'"duration_s":14.0', b'"duration_s":1e999')
    assert isinstance(_reject(payload), SchemaViolation)


@pytest.mark.parametrize("version", [2, 0, "1", 1.0, None])
def test_wrong_schema_version(version: object) -> None:
    error = _reject(_mutated(schema_version=version))
    assert isinstance(error, UnsupportedSchemaVersion)
    assert error.reason == "schema_version"


def test_missing_schema_version() -> None:
    assert isinstance(_reject(_mutated(schema_version=_DELETE)), UnsupportedSchemaVersion)


def test_unknown_field_is_named() -> None:
    error = _reject(_mutated(colour="red"))
    assert isinstance(error, SchemaViolation)
    assert "colour" in error.message


def test_wrong_type_is_not_coerced() -> None:
    error = _reject(_mutated(seq="42"))
    assert isinstance(error, SchemaViolation)
    assert "seq" in error.message


def test_negative_duration_is_refused() -> None:
    error = _reject(_mutated(duration_s=-1.0))
    assert "duration_s" in error.message


def test_ended_before_started_is_refused() -> None:
    error = _reject(_mutated(ended_at="2026-11-25T09:00:00Z"))
    assert "before started_at" in error.message


def test_ended_state_requires_end_time() -> None:
    assert "ended_at" in _reject(_mutated(ended_at=None)).message


def test_naive_timestamp_is_refused() -> None:
    assert "started_at" in _reject(_mutated(started_at="2026-11-25T09:30:00")).message


def test_id_must_be_uuid7() -> None:
    error = _reject(_mutated(id="6f1c0b1e-3d2a-4c5b-9e8f-0a1b2c3d4e5f"))  # a UUIDv4
    assert "UUIDv7" in error.message


def test_unknown_violation_type_is_refused() -> None:
    assert "type" in _reject(_mutated(type="sneezing")).message


def test_deep_nesting_is_refused_without_crashing() -> None:
    deep = b'{"schema_version":1,"details":' + b'{"a":' * 5000 + b"1" + b"}" * 5001
    assert isinstance(_reject(deep), ProtocolError)


def test_oversize_payload_is_refused_before_parsing() -> None:
    error = _reject(b"{" + b" " * (10 * 1024 * 1024) + b"}")
    assert isinstance(error, PayloadTooLarge)
    assert "limit" in error.message


def test_huge_string_is_refused() -> None:
    error = _reject(_mutated(details={"note": "x" * 5000}))
    assert isinstance(error, SchemaViolation)


def test_too_many_detail_keys_are_refused() -> None:
    details = {f"k{i}": i for i in range(40)}
    assert "details" in _reject(_mutated(details=details)).message


def test_payload_for_another_device_is_refused() -> None:
    error = _reject(encode(EVENT), topic="proctor/v1/centre-1/kiosk-b01/event")
    assert isinstance(error, TopicMismatch)
    assert "kiosk-a07" in error.message
    assert "kiosk-b01" in error.message


def test_message_of_another_kind_on_event_topic_is_refused() -> None:
    error = _reject(encode(EXAMPLES["heartbeat"]))
    assert isinstance(error, SchemaViolation)


@pytest.mark.parametrize(
    "topic",
    [
        "proctor/v1/centre-1/kiosk-a07",
        "proctor/v2/centre-1/kiosk-a07/event",
        "proctor/v1/centre-1/kiosk-a07/bogus",
        "proctor/v1/centre-1/+/event",
        "proctor/v1/centre 1/kiosk-a07/event",
        "other/v1/centre-1/kiosk-a07/event",
    ],
)
def test_topics_outside_the_contract_are_refused(topic: str) -> None:
    assert isinstance(_reject(encode(EVENT), topic=topic), TopicError)


def test_session_topic_accepts_each_session_kind() -> None:
    for name in ("checkin", "answer", "submitted"):
        decoded = decode("proctor/v1/centre-1/kiosk-a07/session", encode(EXAMPLES[name]))
        assert decoded.message == EXAMPLES[name]


def test_errors_carry_stable_reason_codes() -> None:
    reasons = {
        type(_reject(encode(EVENT)[:5])).reason,
        type(_reject(_mutated(schema_version=9))).reason,
        type(_reject(_mutated(extra=1))).reason,
        type(_reject(encode(EVENT), topic="proctor/v1/centre-1/kiosk-x/event")).reason,
    }
    assert reasons == {"malformed", "schema_version", "schema", "topic_mismatch"}
