"""list_events and EventQuery: filters, validation, keyset paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from central.models import Event
from central.services import EventFilters, EventQuery, InvalidParameter, list_events, store_batch
from protocol import ViolationType
from tests.central import factories as f


@pytest.fixture
def stored(any_sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    items = []
    for i in range(12):
        items.append(
            f.event(
                device=f"kiosk-{i % 3}",
                seq=i + 1,
                started_at=f.T0 + timedelta(minutes=i),
                type=ViolationType.SPEECH if i % 4 == 0 else ViolationType.LOOKING_AWAY,
                subject=f.subject(session="sess-even" if i % 2 == 0 else "sess-odd"),
            )
        )
    with any_sessions.begin() as session:
        store_batch(session, items)
    return any_sessions


def _ids(page_items: list[Event]) -> list[str]:
    return [e.event_id for e in page_items]


def test_filters(stored: sessionmaker[Session]) -> None:
    with stored() as session:
        assert len(list_events(session, EventFilters(device_id="kiosk-1")).items) == 4
        assert len(list_events(session, EventFilters(session_id="sess-odd")).items) == 6
        assert len(list_events(session, EventFilters(type="speech")).items) == 3
        window = EventFilters(since=f.T0 + timedelta(minutes=2), until=f.T0 + timedelta(minutes=5))
        assert [e.seq for e in list_events(session, window).items] == [3, 4, 5]
        both = EventFilters(device_id="kiosk-0", type="speech")
        assert [e.seq for e in list_events(session, both).items] == [1]


def test_keyset_paging_visits_every_event_once_in_id_order(stored: sessionmaker[Session]) -> None:
    seen: list[str] = []
    cursor = None
    with stored() as session:
        everything = _ids(list_events(session, EventFilters(), limit=1000).items)
        while True:
            page = list_events(session, EventFilters(), cursor=cursor, limit=5)
            seen += _ids(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert seen == everything == sorted(everything)
    assert len(seen) == 12


def test_newest_first(stored: sessionmaker[Session]) -> None:
    with stored() as session:
        page = list_events(session, EventFilters(), limit=5, newest_first=True)
        rest = list_events(session, EventFilters(), cursor=page.next_cursor, newest_first=True)
    ids = _ids(page.items) + _ids(rest.items)
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 12
    assert rest.next_cursor is None


def test_limit_bounds(stored: sessionmaker[Session]) -> None:
    with stored() as session, pytest.raises(InvalidParameter) as err:
        list_events(session, EventFilters(), limit=1001)
    assert err.value.parameter == "limit"


def test_query_from_params() -> None:
    query = EventQuery.from_params(
        {"device": "kiosk-1", "type": "speech", "since": "2026-11-25T09:00:00Z", "limit": "7"}
    )
    assert query.filters.device_id == "kiosk-1"
    assert query.limit == 7
    assert query.filters.since == datetime(2026, 11, 25, 9, tzinfo=UTC)
    assert EventQuery.from_params({}).limit == 100


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-11-25T09:00:00"}, "until"),  # no timezone
        ({"since": "2026-11-25T10:00:00Z", "until": "2026-11-25T09:00:00Z"}, "until"),
        ({"type": "dancing"}, "type"),
        ({"device": "bad/id"}, "device"),
        ({"session": "x" * 65}, "session"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "²"}, "limit"),
    ],
)
def test_bad_params_name_the_parameter(params: dict[str, str], parameter: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        EventQuery.from_params(params)
    assert err.value.parameter == parameter
