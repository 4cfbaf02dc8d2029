"""The console's HTTP side: the SSE stream replays exactly what came after Last-Event-ID, only
for its hall; another hall's invigilator gets 403 everywhere; actions need CSRF and a role."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.console_models import FeedEntry
from central.db import create_db_engine, make_sessionmaker
from central.domain_models import AuditEntry
from central.models import User
from central.services import feed, store_batch
from central.web import create_app
from central.web.feed_hub import FeedHub
from central.web.sse import feed_stream
from tests.central import exam_day
from tests.central import factories as f
from tests.central.exam_day import Day
from tests.central.test_web import basic


@pytest.fixture
def sessions(migrated_sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(migrated_sqlite_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def day(sessions: sessionmaker[Session], tmp_path: Path) -> Day:
    with sessions.begin() as session:
        return exam_day.build(session, tmp_path / "evidence", hall_b_flag=True)


@pytest.fixture
def app(migrated_sqlite_url: str, tmp_path: Path, day: Day) -> Flask:
    return create_app(
        {
            "DATABASE_URL": migrated_sqlite_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
            "LIVE_STREAM_MAX_S": 0.3,  # streams end quickly, so a test can read them whole
        }
    )


def _sse(text: str) -> list[dict[str, str]]:
    messages = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            if name in ("id", "event", "data"):
                fields[name] = value
        if "data" in fields:
            messages.append(fields)
    return messages


def _store_events(sessions: sessionmaker[Session]) -> tuple[int, list[str]]:
    """Three events of hall A's kiosk and one of hall B's, in one batch; returns the cursor
    before them and the event ids."""
    events = [
        f.event("kiosk-1", seq=60, subject=f.subject("sess-1", "A-01")),
        f.event("kiosk-1", seq=61, subject=f.subject("sess-1", "A-01")),
        f.event("kiosk-2", seq=60, subject=f.subject("sess-2", "B-01")),
        f.event("kiosk-1", seq=62, subject=f.subject("sess-1", "A-01")),
    ]
    with sessions.begin() as session:
        cursor = feed.latest_id(session.connection())
        store_batch(session, events)
    return cursor, [str(e.id) for e in events]


def test_stream_replays_what_came_after_last_event_id(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    cursor, ids = _store_events(sessions)
    client = app.test_client()
    headers = {**basic("ivy"), "Last-Event-ID": str(cursor + 1)}
    # The header (what the browser last got) wins over the page's initial ?after=.
    response = client.get("/api/v1/halls/hall-a/live?after=0", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    messages = _sse(response.get_data(as_text=True))
    assert [m["id"] for m in messages] == [str(cursor + 2), str(cursor + 4)]
    bodies = [json.loads(m["data"]) for m in messages]
    assert [b["data"]["event_id"] for b in bodies] == [ids[1], ids[3]]
    assert {b["seat_id"] for b in bodies} == {"A-01"}

    first_page = client.get(f"/api/v1/halls/hall-a/live?after={cursor}", headers=basic("ivy"))
    assert len(_sse(first_page.get_data(as_text=True))) == 3


def test_stream_from_a_forgotten_cursor_says_reset(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    _store_events(sessions)
    headers = {**basic("ivy"), "Last-Event-ID": "999999"}  # another database's id
    messages = _sse(app.test_client().get("/api/v1/halls/hall-a/live", headers=headers).text)
    assert messages[0]["event"] == "reset"


def test_snapshot_and_page(app: Flask, day: Day) -> None:
    client = app.test_client()
    snap = client.get("/api/v1/halls/hall-a/console", headers=basic("ivy")).get_json()
    assert snap["seats"][0]["candidate"]["name"] == "Ada Candidate"
    assert snap["server_time"].endswith("Z")
    page = client.get("/halls/hall-a/console", headers=basic("ivy"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="console-data"' in html
    assert "<script>" not in html  # CSP: no inline script, only data and files
    assert client.get("/static/console.js").status_code == 200
    halls = client.get("/halls", headers=basic("ivy")).get_data(as_text=True)
    assert "/halls/hall-a/console" in halls
    assert "/halls/hall-b/console" not in halls


def _csrf(client: FlaskClient, user: str) -> str:
    html = client.get("/halls/hall-a/console", headers=basic(user)).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_other_halls_invigilator_gets_403(app: Flask, day: Day) -> None:
    client = app.test_client()
    token = _csrf(client, "ivy")
    headers = {**basic("ivy"), "X-CSRFToken": token}
    for path in (
        "/halls/hall-b/console",
        "/api/v1/halls/hall-b/console",
        "/api/v1/halls/hall-b/live",
        "/api/v1/seats/B-01/detail",
    ):
        assert client.get(path, headers=headers).status_code == 403, path
    warn = {"type": "warn", "text": "Eyes on your screen"}
    assert client.post("/api/v1/seats/B-01/commands", json=warn, headers=headers).status_code == 403
    assert day.hall_b_flag is not None
    ack = client.post(f"/api/v1/alerts/{day.hall_b_flag}/ack", headers=headers)
    assert ack.status_code == 403
    # and the own hall works
    assert client.get("/api/v1/seats/A-01/detail", headers=headers).status_code == 200
    assert client.post("/api/v1/seats/A-01/commands", json=warn, headers=headers).status_code == 202


def test_actions_need_csrf_and_an_acting_role(app: Flask, day: Day) -> None:
    client = app.test_client()
    token = _csrf(client, "ivy")
    warn = {"type": "warn", "text": "Eyes on your screen"}
    no_token = client.post("/api/v1/seats/A-01/commands", json=warn, headers=basic("ivy"))
    assert no_token.status_code == 400
    headers = {**basic("ivy"), "X-CSRFToken": token}
    sent = client.post("/api/v1/seats/A-01/commands", json=warn, headers=headers)
    assert sent.status_code == 202
    assert sent.get_json()["state"] == "queued"
    bad = client.post("/api/v1/seats/A-01/commands", json={"type": "enrol"}, headers=headers)
    assert bad.status_code == 400
    ack = client.post(f"/api/v1/alerts/{day.raised_hand}/ack", headers=headers)
    assert ack.get_json()["acked_by"] == "ivy"
    detail = client.get("/api/v1/seats/A-01/detail", headers=headers).get_json()
    assert [c["state"] for c in detail["commands"]] == ["queued"]
    assert detail["clips"][0]["url"] == f"/api/v1/evidence/{exam_day.SHA_A}"

    reviewer = app.test_client()
    reviewer_token = _csrf(reviewer, "rita")
    watched = reviewer.post(
        "/api/v1/seats/A-01/commands",
        json=warn,
        headers={**basic("rita"), "X-CSRFToken": reviewer_token},
    )
    assert watched.status_code == 403


def test_open_stream_gets_new_rows_from_the_shared_reader(
    sessions: sessionmaker[Session], day: Day
) -> None:
    """Two streams of one hall share one reader: rows stored after they started reach both,
    in order, and the other hall's do not."""
    hub = FeedHub(sessions)
    with sessions() as session:
        start = feed.latest_id(session.connection())
    received: list[list[str]] = [[], []]

    def consume(into: list[str]) -> None:
        for chunk in feed_stream(sessions, hub, "hall-a", start, max_s=4.0):
            into.extend(m["data"] for m in _sse(chunk))

    threads = [threading.Thread(target=consume, args=(r,)) for r in received]
    for thread in threads:
        thread.start()
    _wait_until(lambda: "hall-a" in hub._tails)
    _cursor, ids = _store_events(sessions)
    for thread in threads:
        thread.join(10)
    expected = [ids[0], ids[1], ids[3]]
    for stream in received:
        assert [json.loads(d)["data"]["event_id"] for d in stream] == expected


def _wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def _user_id(sessions: sessionmaker[Session], name: str) -> int:
    with sessions() as session:
        user = session.scalar(select(User).where(User.username == name))
        assert user is not None
        return user.id


def test_dispatch_to_a_named_invigilator_then_at_the_seat(
    app: Flask, day: Day, sessions: sessionmaker[Session]
) -> None:
    client = app.test_client()
    headers = {**basic("ada"), "X-CSRFToken": _csrf(client, "ada")}
    snap = client.get("/api/v1/halls/hall-a/console", headers=headers).get_json()
    assert snap["invigilators"] == [{"user_id": _user_id(sessions, "ivy"), "username": "ivy"}]
    hand = f"/api/v1/alerts/{day.raised_hand}"
    # Only an invigilator of the alert's hall can be sent there.
    for wrong in ({"user_id": _user_id(sessions, "ian")}, {"user_id": "ivy"}, {}):
        refused = client.post(f"{hand}/dispatch", json=wrong, headers=headers)
        assert refused.status_code == 400, wrong
    with sessions() as session:
        cursor = feed.latest_id(session.connection())
    sent = client.post(
        f"{hand}/dispatch", json={"user_id": _user_id(sessions, "ivy")}, headers=headers
    )
    assert sent.status_code == 200
    body = sent.get_json()
    assert (body["acked_by"], body["dispatched_to"], body["at_seat_by"]) == ("ada", "ivy", None)
    # A raised hand also tells the candidate, through the command channel.
    detail = client.get("/api/v1/seats/A-01/detail", headers=headers).get_json()
    assert [(c["type"], c["text"]) for c in detail["commands"]] == [
        ("message", "An invigilator is on the way.")
    ]
    ivy = {**basic("ivy"), "X-CSRFToken": _csrf(client, "ivy")}
    arrived = client.post(f"{hand}/at-seat", headers=ivy).get_json()
    assert (arrived["dispatched_to"], arrived["at_seat_by"]) == ("ivy", "ivy")
    assert arrived["at_seat_at"].endswith("Z")
    again = client.post(f"{hand}/at-seat", headers=headers).get_json()
    assert again["at_seat_by"] == "ivy"  # the first arrival stays
    # Every console of the hall hears each step, and the snapshot carries it.
    with sessions() as session:
        acks = [
            json.loads(e.data)
            for e in session.scalars(
                select(FeedEntry).where(FeedEntry.id > cursor, FeedEntry.kind == "ack")
            )
        ]
    assert [(a["dispatched_to"], a["at_seat_by"]) for a in acks][-3:] == [
        ("ivy", None),
        ("ivy", "ivy"),
        ("ivy", "ivy"),
    ]
    snap = client.get("/api/v1/halls/hall-a/console", headers=headers).get_json()
    (alert,) = [a for a in snap["alerts"] if a["violation_id"] == day.raised_hand]
    assert (alert["dispatched_to"], alert["at_seat_by"]) == ("ivy", "ivy")
    with sessions() as session:
        actions = list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("alert.%")))
        )
    assert actions == ["alert.acknowledge", "alert.dispatch", "alert.at_seat"]
    # Another hall's invigilator may do neither.
    other = app.test_client()
    page = other.get("/halls/hall-b/console", headers=basic("ian")).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token is not None
    ian = {**basic("ian"), "X-CSRFToken": token.group(1)}
    assert other.post(f"{hand}/at-seat", headers=ian).status_code == 403
    dispatch = {"user_id": _user_id(sessions, "ian")}
    assert other.post(f"{hand}/dispatch", json=dispatch, headers=ian).status_code == 403


def test_extra_time_is_a_command_in_whole_minutes(app: Flask, day: Day) -> None:
    client = app.test_client()
    headers = {**basic("ivy"), "X-CSRFToken": _csrf(client, "ivy")}
    url = "/api/v1/seats/A-01/commands"
    for minutes in (0, 241, -241, "ten", True, None, 1.5e9):
        body = {"type": "adjust_time", "minutes": minutes}
        assert client.post(url, json=body, headers=headers).status_code == 400, minutes
    sent = client.post(url, json={"type": "adjust_time", "minutes": 10}, headers=headers)
    assert sent.status_code == 202
    assert sent.get_json()["seconds"] == 600
    less = client.post(url, json={"type": "adjust_time", "minutes": "-5"}, headers=headers)
    assert less.get_json()["seconds"] == -300
