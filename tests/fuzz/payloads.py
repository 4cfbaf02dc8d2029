"""Hypothesis strategies for malformed kiosk payloads: each one is invalid by construction
(the decoder must refuse it) and says which kind of damage it carries."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from protocol import ViolationEvent, encode, uuid7
from tests.protocol.examples import example

CENTRE, DEVICE = "centre-1", "kiosk-a07"  # the examples' identity
TOPIC = f"proctor/v1/{CENTRE}/{DEVICE}/event"
BASE: dict[str, Any] = json.loads(encode(example("violation_ended", ViolationEvent)))
NUMBER_FIELDS = ("seq", "duration_s", "confidence")
TEXT_FIELDS = ("kind", "centre_id", "device_id", "type", "state", "severity", "started_at")
OBJECT_FIELDS = ("clock", "subject", "details")


def valid_event(seq: int) -> ViolationEvent:
    """A valid event of the examples' device with a fresh id."""
    return example("violation_ended", ViolationEvent).model_copy(update={"id": uuid7(), "seq": seq})


def _with(**changes: Any) -> dict[str, Any]:
    body = {**BASE, "id": str(uuid7())}
    body.update(changes)
    return body


def _dump(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


not_a_number = st.one_of(st.text(max_size=20), st.lists(st.integers(), max_size=3), st.booleans())
not_text = st.one_of(st.integers(), st.floats(allow_nan=False), st.lists(st.text(), max_size=3))
not_an_object = st.one_of(st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=3))


@st.composite
def wrong_type(draw: st.DrawFn) -> bytes:
    field = draw(st.sampled_from(NUMBER_FIELDS + TEXT_FIELDS + OBJECT_FIELDS))
    value: Any
    if field in NUMBER_FIELDS:
        value = draw(not_a_number)
    elif field in TEXT_FIELDS:
        value = draw(not_text)
    else:
        value = draw(not_an_object)
    return _dump(_with(**{field: value}))


@st.composite
def huge_string(draw: st.DrawFn) -> bytes:
    field = draw(st.sampled_from(("device_id", "type", "started_at", "colour")))
    size = draw(st.sampled_from((2_001, 10_000, 70_000)))  # past the model cap, then 64 KiB
    return _dump(_with(**{field: draw(st.sampled_from("xé€")) * size}))


@st.composite
def deep_nesting(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(min_value=40, max_value=20_000))
    opener, closer = draw(st.sampled_from((("[", "]"), ('{"a":', "}"))))
    nested = opener * depth + "1" + closer * depth
    raw = _dump(_with())
    assert b'"details":{' in raw
    return raw.replace(b'"details":{', b'"details":{"deep":' + nested.encode() + b",")


@st.composite
def invalid_utf8(draw: st.DrawFn) -> bytes:
    raw = _dump(_with())
    position = draw(st.integers(min_value=0, max_value=len(raw) - 1))
    bad = draw(st.sampled_from((b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80")))
    return raw[:position] + bad + raw[position:]


@st.composite
def non_finite(draw: st.DrawFn) -> bytes:
    field = draw(st.sampled_from(NUMBER_FIELDS))
    constant = draw(st.sampled_from(("NaN", "Infinity", "-Infinity")))
    marker = "__NON_FINITE__"
    return _dump(_with(**{field: marker})).replace(f'"{marker}"'.encode(), constant.encode())


@st.composite
def negative_duration(draw: st.DrawFn) -> bytes:
    value = draw(st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False))
    return _dump(_with(duration_s=value))


@st.composite
def broken_structure(draw: st.DrawFn) -> bytes:
    """Truncated, not an object, missing fields, unknown fields, wrong schema version."""
    raw = _dump(_with())
    choice = draw(st.integers(min_value=0, max_value=4))
    if choice == 0:
        return raw[: draw(st.integers(min_value=0, max_value=len(raw) - 1))]
    if choice == 1:
        return json.dumps(draw(st.lists(st.integers(), max_size=3))).encode()
    if choice == 2:
        body = _with()
        del body[draw(st.sampled_from(sorted(set(BASE) - {"evidence", "details", "simulated"})))]
        return _dump(body)
    if choice == 3:
        return _dump(_with(**{draw(st.from_regex(r"\Ax_[a-z]{1,8}\Z")): 1}))
    return _dump(_with(schema_version=draw(st.integers().filter(lambda v: v != 1))))


malformed = st.one_of(
    wrong_type(),
    huge_string(),
    deep_nesting(),
    invalid_utf8(),
    non_finite(),
    negative_duration(),
    broken_structure(),
)


@st.composite
def future_timestamp(draw: st.DrawFn) -> bytes:
    """Valid: a kiosk without a real-time clock may believe it is any year; central stores it."""
    year = draw(st.integers(min_value=2030, max_value=9998))
    stamp = f"{year}-06-01T12:00:00Z"
    clock = {**BASE["clock"], "wall_time": stamp}
    return _dump(_with(clock=clock, started_at=stamp, ended_at=stamp, duration_s=0.0))
