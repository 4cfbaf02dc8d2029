"""Property tests: nothing a network peer can send makes decode raise anything but a
ProtocolError, and valid messages always survive a round trip."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import ProtocolError, decode, encode
from tests.protocol.examples import EXAMPLES

TOPIC = "proctor/v1/centre-1/kiosk-a07/event"
BASE = json.loads(encode(EXAMPLES["violation_ended"]))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _decode_or_protocol_error(topic: str, payload: bytes) -> None:
    try:
        decode(topic, payload)
    except ProtocolError as exc:
        message = exc.message
    else:
        return
    assert message, "every rejection says why"


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(payload: bytes) -> None:
    _decode_or_protocol_error(TOPIC, payload)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(BASE)), json_values)
def test_one_field_replaced_by_anything(field: str, value: Any) -> None:
    body = dict(BASE)
    body[field] = value
    _decode_or_protocol_error(TOPIC, json.dumps(body).encode())


@settings(max_examples=300)
@given(st.text(max_size=120))
def test_arbitrary_topics(topic: str) -> None:
    _decode_or_protocol_error(topic, encode(EXAMPLES["violation_started"]))


@settings(max_examples=300)
@given(
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.floats(min_value=0, max_value=1, allow_nan=False),
    st.integers(min_value=0, max_value=2**53),
)
def test_valid_events_round_trip(duration: float, confidence: float, seq: int) -> None:
    event = EXAMPLES["violation_ended"].model_copy(
        update={"duration_s": duration, "confidence": confidence, "seq": seq}
    )
    assert decode(TOPIC, encode(event)).message == event
