"""The Flask app: auth (session and HTTP Basic), JSON errors, the events API, the console."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from central.db import create_db_engine, make_sessionmaker
from central.services import RejectedPayload, StoreItem, create_user, store_batch
from central.web import create_app
from protocol import MalformedPayload
from tests.central import factories as f

PASSWORD = "correct horse battery"


@pytest.fixture
def app(migrated_sqlite_url: str) -> Flask:
    engine = create_db_engine(migrated_sqlite_url)
    with make_sessionmaker(engine).begin() as session:
        create_user(session, "ada", PASSWORD, "admin")
        create_user(session, "ivy", PASSWORD, "invigilator")
        items: list[StoreItem] = [
            f.event(seq=i, started_at=f.T0 + timedelta(minutes=i)) for i in range(1, 6)
        ]
        items += [f.event(device="kiosk-2", seq=1, simulated=True), f.heartbeat(device="kiosk-2")]
        items.append(
            RejectedPayload.from_error("proctor/v1/c/k/event", b"{", MalformedPayload("x"))
        )
        store_batch(session, items)
    engine.dispose()
    app = create_app({"DATABASE_URL": migrated_sqlite_url, "SECRET_KEY": "test", "TESTING": True})
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def basic(user: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, page
    return match.group(1)


def _login(client: FlaskClient, user: str = "ivy", password: str = PASSWORD) -> int:
    data = {"username": user, "password": password, "csrf_token": _csrf(client)}
    return client.post("/login", data=data).status_code


def test_api_needs_auth(client: FlaskClient) -> None:
    response = client.get("/api/v1/events")
    assert response.status_code == 401
    assert response.json is not None
    assert response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert client.get("/api/v1/events", headers=basic("ivy", "wrong")).status_code == 401


def test_basic_auth_lists_events(client: FlaskClient) -> None:
    response = client.get("/api/v1/events", headers=basic("ada"))
    assert response.status_code == 200
    body = response.json
    assert body is not None
    assert len(body["items"]) == 6
    assert body["next_cursor"] is None
    item = body["items"][0]
    assert item["started_at"].endswith("Z")
    assert item["type"] == "looking_away"
    assert response.headers["Cache-Control"] == "no-store"


def test_filters_and_paging(client: FlaskClient) -> None:
    seen: list[str] = []
    url = "/api/v1/events?device=kiosk-1&limit=2"
    while True:
        body = client.get(url, headers=basic("ada")).json
        assert body is not None
        seen += [item["event_id"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        url = f"/api/v1/events?device=kiosk-1&limit=2&cursor={body['next_cursor']}"
    assert len(seen) == 5 == len(set(seen))
    assert seen == sorted(seen)
    since = client.get(
        "/api/v1/events?since=2026-11-25T09:33:00%2B00:00", headers=basic("ada")
    ).json
    assert since is not None
    assert [i["seq"] for i in since["items"]] == [3, 4, 5]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("since=not-a-time", "since"), ("limit=5000", "limit"), ("type=nope", "type")],
)
def test_bad_filter_is_400_naming_the_parameter(
    client: FlaskClient, query: str, parameter: str
) -> None:
    response = client.get(f"/api/v1/events?{query}", headers=basic("ivy"))
    assert response.status_code == 400
    body = response.json
    assert body is not None
    assert body["error"] == "invalid_parameter"
    assert body["parameter"] == parameter
    assert parameter in body["message"]


def test_dead_letters_are_admin_only(client: FlaskClient) -> None:
    assert client.get("/api/v1/dead-letters", headers=basic("ivy")).status_code == 403
    body = client.get("/api/v1/dead-letters", headers=basic("ada")).json
    assert body is not None
    assert body["items"][0]["reason_code"] == "malformed"
    assert body["items"][0]["payload_preview"] == "{"


def test_unknown_route_and_method_are_json(client: FlaskClient) -> None:
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404
    body = missing.json
    assert body is not None
    assert body["error"] == "not_found"
    assert body["message"]
    wrong = client.post("/api/v1/events", headers=basic("ivy"))
    assert wrong.status_code in (400, 405)  # CSRF check may come first: both are JSON
    assert wrong.is_json


def test_login_without_csrf_token_is_400(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "ivy", "password": PASSWORD})
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"] == "csrf_failed"


def test_login_session_then_console_then_logout(client: FlaskClient) -> None:
    assert client.get("/").status_code == 302  # to the login page
    assert _login(client, password="wrong") == 401
    assert _login(client, "ada") == 302  # invigilators see only their halls' events
    page = client.get("/").get_data(as_text=True)
    assert "kiosk-2" in page
    assert "SIMULATED" in page
    assert "looking_away" in page
    assert "http" not in re.sub(r'(href|src)="/[^"]*"', "", page).lower()  # nothing external
    assert client.get("/api/v1/events").status_code == 200  # the session works for the API
    token = _csrf(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/v1/events").status_code == 401


def test_login_redirect_stays_on_site(client: FlaskClient) -> None:
    data = {"username": "ivy", "password": PASSWORD, "csrf_token": _csrf(client)}
    response = client.post("/login?next=//evil.example/", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_session_cookie_flags(app: Flask, client: FlaskClient) -> None:
    _csrf(client)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    secure = create_app({**app.config, "SESSION_COOKIE_SECURE": True})
    assert secure.config["SESSION_COOKIE_SECURE"] is True


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_healthz_reports_a_dead_database() -> None:
    app = create_app({"DATABASE_URL": "mysql+pymysql://nobody@127.0.0.1:1/none", "TESTING": True})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["error"] == "database_unavailable"


def test_console_shows_each_kiosks_health_and_the_stages_that_are_off(
    migrated_sqlite_url: str,
) -> None:
    engine = create_db_engine(migrated_sqlite_url)
    beat = f.heartbeat(device="kiosk-9").model_copy(
        update={
            "audio_level_dbfs": -42.4,
            "disabled_stages": {"objects": "no model path configured (vision.objects.model_path)"},
        }
    )
    with make_sessionmaker(engine).begin() as session:
        create_user(session, "ivy", PASSWORD, "invigilator")
        store_batch(session, [beat])
    engine.dispose()
    client = create_app(
        {"DATABASE_URL": migrated_sqlite_url, "SECRET_KEY": "test", "TESTING": True}
    ).test_client()
    assert _login(client) == 302
    page = client.get("/").get_data(as_text=True)
    row = page[page.index("kiosk-9") :]
    assert "25 fps" in row
    assert "mic -42 dBFS" in row
    assert "objects off: no model path configured" in row


def test_the_eleventh_failed_login_in_a_minute_gets_429(client: FlaskClient) -> None:
    token = _csrf(client)
    wrong = {"username": "ivy", "password": "wrong password", "csrf_token": token}
    for attempt in range(10):
        assert client.post("/login", data=wrong).status_code == 401, attempt
    response = client.post("/login", data=wrong)
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    # Locked out for the rest of the minute, even with the right password and over Basic.
    right = {**wrong, "password": PASSWORD}
    assert client.post("/login", data=right).status_code == 429
    assert client.get("/api/v1/events", headers=basic("ada")).status_code == 429


def test_successful_requests_are_never_throttled(client: FlaskClient) -> None:
    for _ in range(30):
        assert client.get("/api/v1/events", headers=basic("ada")).status_code == 200


def test_security_headers_and_hsts_only_over_tls(app: Flask) -> None:
    plain = app.test_client().get("/login")
    assert "default-src 'self'" in plain.headers["Content-Security-Policy"]
    assert "script-src" not in plain.headers["Content-Security-Policy"]  # no inline script
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert plain.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in plain.headers
    tls = app.test_client().get("/login", base_url="https://central.exam.local")
    assert tls.headers["Strict-Transport-Security"].startswith("max-age=31536000")
