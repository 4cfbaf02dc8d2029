"""The evidence API: PUT stores once and checks the hash, type and size; GET needs a login,
serves the right type with ranges; no hash, no file; no way out of the evidence directory."""

from __future__ import annotations

import hashlib
import http.client
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from central.db import create_db_engine, make_sessionmaker
from central.models import Evidence
from central.services import create_user
from central.web import create_app
from tests.central.test_web import PASSWORD, _login, basic
from tests.edge_agent.evidence.central_server import CentralServer

BODY = b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 40
SHA = hashlib.sha256(BODY).hexdigest()
URL = f"/api/v1/evidence/{SHA}"


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    return tmp_path / "evidence-store"


@pytest.fixture
def app(migrated_sqlite_url: str, evidence_dir: Path) -> Flask:
    engine = create_db_engine(migrated_sqlite_url)
    with make_sessionmaker(engine).begin() as session:
        create_user(session, "ivy", PASSWORD, "invigilator")
        create_user(session, "kiosk", PASSWORD, "reviewer")
    engine.dispose()
    return create_app(
        {
            "DATABASE_URL": migrated_sqlite_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "EVIDENCE_DIR": str(evidence_dir),
            "EVIDENCE_MAX_BYTES": 64 * 1024,
        }
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _put(
    client: FlaskClient,
    body: bytes = BODY,
    url: str = URL,
    media_type: str = "video/webm",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, object]]:
    response = client.put(
        url,
        data=body,
        headers={"Content-Type": media_type, **basic("kiosk"), **(headers or {})},
    )
    return response.status_code, response.get_json(silent=True) or {}


def _rows(app: Flask) -> list[Evidence]:
    engine = create_db_engine(app.config["DATABASE_URL"])
    try:
        with make_sessionmaker(engine)() as session:
            return list(session.scalars(select(Evidence)))
    finally:
        engine.dispose()


def test_put_stores_once(app: Flask, client: FlaskClient, evidence_dir: Path) -> None:
    status, body = _put(client, headers={"X-Device-Id": "kiosk-7"})
    assert status == 201
    assert body["created"] is True
    assert body["sha256"] == SHA
    path = evidence_dir / SHA[:2] / f"{SHA}.webm"
    assert path.read_bytes() == BODY
    mtime = path.stat().st_mtime_ns
    status, body = _put(client)
    assert status == 200
    assert body["created"] is False
    assert path.stat().st_mtime_ns == mtime
    rows = _rows(app)
    assert [(r.sha256, r.size_bytes, r.media_type, r.device_id) for r in rows] == [
        (SHA, len(BODY), "video/webm", "kiosk-7")
    ]
    assert rows[0].stored_path == f"{SHA[:2]}/{SHA}.webm"
    assert list((evidence_dir / "tmp").iterdir()) == []


def test_put_checks_the_hash(app: Flask, client: FlaskClient, evidence_dir: Path) -> None:
    status, body = _put(client, body=BODY + b"x")
    assert status == 400
    assert body["error"] == "invalid_parameter"
    assert _rows(app) == []
    assert list((evidence_dir / "tmp").iterdir()) == []
    assert not (evidence_dir / SHA[:2]).exists() or not any((evidence_dir / SHA[:2]).iterdir())


def test_put_refuses_other_types_and_sizes(app: Flask, client: FlaskClient) -> None:
    assert _put(client, media_type="text/html")[0] == 415
    assert _put(client, media_type="image/png")[0] == 415
    big = b"x" * (64 * 1024 + 1)
    status, body = _put(client, body=big, url=f"/api/v1/evidence/{hashlib.sha256(big).hexdigest()}")
    assert status == 413
    assert body["error"] == "payload_too_large"
    assert _put(client, headers={"X-Device-Id": "../../etc"})[0] == 400
    assert _put(client, body=b"")[0] == 400
    assert _rows(app) == []


def test_put_needs_basic_credentials(client: FlaskClient) -> None:
    response = client.put(URL, data=BODY, headers={"Content-Type": "video/webm"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    wrong = client.put(
        URL, data=BODY, headers={"Content-Type": "video/webm", **basic("kiosk", "no")}
    )
    assert wrong.status_code == 401
    assert _login(client) == 302  # a session cookie alone is not enough for PUT
    response = client.put(URL, data=BODY, headers={"Content-Type": "video/webm"})
    assert response.status_code == 401


def test_get_needs_login_and_serves_ranges(client: FlaskClient) -> None:
    assert _put(client)[0] == 201
    response = client.get(URL)
    assert response.status_code == 401
    response = client.get(URL, headers=basic("kiosk"))
    assert response.status_code == 200
    assert response.mimetype == "video/webm"
    assert response.data == BODY
    assert response.headers["Accept-Ranges"] == "bytes"
    partial = client.get(URL, headers={"Range": "bytes=100-199", **basic("kiosk")})
    assert partial.status_code == 206
    assert partial.data == BODY[100:200]
    assert partial.headers["Content-Range"] == f"bytes 100-199/{len(BODY)}"
    assert _login(client, "kiosk") == 302  # the browser's way: the login session
    tail = client.get(URL, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206
    assert tail.data == BODY[-10:]
    head = client.head(URL)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(BODY))


def test_snapshot_is_served_as_jpeg(client: FlaskClient) -> None:
    jpeg = b"\xff\xd8\xff\xe0 pretend jpeg \xff\xd9"
    url = f"/api/v1/evidence/{hashlib.sha256(jpeg).hexdigest()}"
    assert _put(client, body=jpeg, url=url, media_type="image/jpeg")[0] == 201
    response = client.get(url, headers=basic("kiosk"))
    assert response.mimetype == "image/jpeg"
    assert response.data == jpeg


@pytest.mark.parametrize(
    "name",
    [
        "0" * 64,  # well formed, unknown
        SHA.upper(),
        SHA[:-1],
        SHA + "0",
        "not-a-hash",
        "..%2F..%2Fcentral.sqlite3",
        "..%2f" * 3 + "etc%2fpasswd",
        "%2E%2E",
        f"{SHA}.webm",
    ],
)
def test_unknown_or_malformed_names_are_404(client: FlaskClient, name: str) -> None:
    assert _put(client)[0] == 201
    response = client.get(f"/api/v1/evidence/{name}", headers=basic("kiosk"))
    assert response.status_code == 404


def test_file_missing_on_disk_is_404_and_a_re_upload_restores_it(
    client: FlaskClient, evidence_dir: Path
) -> None:
    assert _put(client)[0] == 201
    path = evidence_dir / SHA[:2] / f"{SHA}.webm"
    path.unlink()
    assert client.get(URL, headers=basic("kiosk")).status_code == 404
    assert _put(client)[0] == 200
    assert path.read_bytes() == BODY


def test_traversal_over_a_real_socket(tmp_path: Path) -> None:
    """Raw paths as an attacker would send them, not normalised by a client library."""
    server = CentralServer(tmp_path / "central").start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        auth = basic("kiosk-uploader", "kiosk uploader password")
        for raw in (
            "/api/v1/evidence/..%2F..%2Fcentral.sqlite3",
            "/api/v1/evidence/../../central.sqlite3",
            "/api/v1/evidence/%2e%2e/%2e%2e/central.sqlite3",
            "/api/v1/evidence/..\\..\\central.sqlite3",
        ):
            conn.request("GET", raw, headers=auth)
            response = conn.getresponse()
            body = response.read()
            assert response.status == 404, raw
            assert b"SQLite" not in body
        conn.close()
    finally:
        server.stop()
