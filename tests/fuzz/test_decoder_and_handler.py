"""Over 10,000 generated malformed payloads through the decoder, and 10,000 more through the
ingest handler with valid messages around them: no crash, each one dead-lettered with a
reason, the valid ones stored."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from central.ingest.batch import Received, to_store_item
from central.ingest.storing import BatchStorer
from central.models import DeadLetter, Event
from central.services import RejectedPayload, StoreItem
from protocol import ProtocolError, ViolationEvent, decode, encode
from tests.fuzz.payloads import TOPIC, future_timestamp, malformed, valid_event

PER_BATCH = 25


@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(malformed)
def test_decoder_refuses_every_malformed_payload_with_a_reason(payload: bytes) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(TOPIC, payload)
    assert caught.value.reason
    assert caught.value.message


def _valid(seq: int) -> ViolationEvent:
    return valid_event(seq)


def _received(payload: bytes, mid: int) -> Received:
    return Received(TOPIC, payload, mid, 1, 1)


def _count(sessions: sessionmaker[Session], model: type[object]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(batch=st.lists(malformed, min_size=PER_BATCH, max_size=PER_BATCH))
def test_handler_dead_letters_each_and_keeps_the_valid_around_them(
    sessions: sessionmaker[Session], batch: list[bytes]
) -> None:
    letters_before, events_before = _count(sessions, DeadLetter), _count(sessions, Event)
    valid = [_valid(seq) for seq in range(len(batch) + 1)]
    received = [_received(encode(valid[0]), 0)]
    for n, payload in enumerate(batch, start=1):
        received += [_received(payload, 2 * n - 1), _received(encode(valid[n]), 2 * n)]
    items: list[StoreItem] = [to_store_item(r) for r in received]
    results = BatchStorer(sessions, threading.Event(), lambda: None).store(items)
    assert results is not None
    rejected = [item for item in items if isinstance(item, RejectedPayload)]
    assert len(rejected) == len(batch)
    assert all(item.reason and item.reason_code for item in rejected)
    statuses = [r.status for r in results[0::2] if r is not None]
    assert statuses == ["stored"] * len(valid)
    assert _count(sessions, DeadLetter) - letters_before == len(batch)
    assert _count(sessions, Event) - events_before == len(valid)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(future_timestamp())
def test_future_timestamps_are_stored_not_refused(
    sessions: sessionmaker[Session], payload: bytes
) -> None:
    item = to_store_item(_received(payload, 1))
    assert isinstance(item, ViolationEvent)
    results = BatchStorer(sessions, threading.Event(), lambda: None).store([item])
    assert results is not None
    assert results[0] is not None
    assert results[0].status == "stored"
