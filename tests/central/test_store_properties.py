"""Property: whatever the order and number of redeliveries, each event is stored once with its
first delivery's fields, and the violation summary ends at the highest seq."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.models import Event, Violation
from central.services import StoreItem, store_batch
from protocol import EventState, uuid7
from tests.central import factories as f

STATES = [EventState.STARTED, EventState.UPDATED, EventState.UPDATED, EventState.ENDED]


@settings(
    max_examples=40,
    deadline=None,
    database=None,  # no example database in the working directory
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # ids are new per example
)
@given(
    deliveries=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=12),
    batch_breaks=st.lists(st.integers(min_value=1, max_value=12), max_size=4),
)
def test_any_redelivery_order(
    sessions: sessionmaker[Session], deliveries: list[int], batch_breaks: list[int]
) -> None:
    violation = uuid7()
    lifecycle = [
        f.event(seq=100 + i, violation_id=violation, state=state, confidence=0.1 * (i + 1))
        for i, state in enumerate(STATES)
    ]
    # a redelivered copy differs in a field, as if the kiosk had been changed: must be ignored
    copies = [e.model_copy(update={"confidence": 1.0}) for e in lifecycle]
    stream: list[StoreItem] = []
    seen: set[int] = set()
    for index in deliveries:
        stream.append(lifecycle[index] if index not in seen else copies[index])
        seen.add(index)
    cuts = sorted({0, len(stream), *(b for b in batch_breaks if b < len(stream))})
    for start, end in pairwise(cuts):
        with sessions.begin() as session:
            store_batch(session, stream[start:end])

    with sessions() as session:
        rows = session.scalars(select(Event).where(Event.violation_id == str(violation))).all()
        summary = session.get_one(Violation, str(violation))
    assert sorted(r.seq for r in rows) == sorted(100 + i for i in seen)
    assert all(abs(r.confidence - 0.1 * (r.seq - 99)) < 1e-9 for r in rows)
    assert summary.last_seq == 100 + max(seen)
    assert summary.state == STATES[max(seen)].value
