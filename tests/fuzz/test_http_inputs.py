"""Generated HTTP inputs for the REST API and the evidence PUT: every answer is a success or a
JSON error naming the problem (4xx), never a server error, and nothing half-stored."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.db import create_db_engine, make_sessionmaker, upgrade_database
from central.services import create_user
from central.web import create_app

PASSWORD = "fuzz password 1"
MAX_EVIDENCE = 4096
EVENT_PARAMS = ("device_id", "session_id", "type", "since", "until", "cursor", "limit", "order")
# Each request checks a password hash (about 0.2 s here), so fewer examples than the codec.
HTTP_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


def _auth(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    return tmp_path / "evidence"


@pytest.fixture
def client(sqlite_url: str, evidence_dir: Path) -> FlaskClient:
    upgrade_database(sqlite_url)
    engine = create_db_engine(sqlite_url)
    with make_sessionmaker(engine).begin() as session:
        create_user(session, "ada", PASSWORD, "admin")
    engine.dispose()
    app: Flask = create_app(
        {
            "DATABASE_URL": sqlite_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "EVIDENCE_DIR": str(evidence_dir),
            "EVIDENCE_MAX_BYTES": MAX_EVIDENCE,
        }
    )
    return app.test_client()


def _assert_json_error(status: int, body: object) -> None:
    assert 400 <= status < 500, f"HTTP {status}: {body}"
    assert isinstance(body, dict), body
    assert body.get("error"), body
    assert body.get("message"), body


query_values = st.one_of(
    st.text(max_size=80),
    st.integers().map(str),
    st.sampled_from(("2026-11-25T09:00:00Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z")),
)


_C1_CONTROLS = "".join(map(chr, range(0x7F, 0xA0)))


def header_text(max_size: int) -> st.SearchStrategy[str]:
    """What an HTTP client can put in a header: no control characters (clients refuse them)."""
    return st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters=_C1_CONTROLS),
        max_size=max_size,
    )


queries = st.dictionaries(
    st.one_of(st.sampled_from(EVENT_PARAMS), st.text(min_size=1, max_size=10)),
    query_values,
    max_size=5,
)


@HTTP_SETTINGS
@given(path=st.sampled_from(("/api/v1/events", "/api/v1/dead-letters")), query=queries)
def test_api_queries(client: FlaskClient, path: str, query: dict[str, str]) -> None:
    response = client.get(path, query_string=query, headers=_auth("ada"))
    body = response.get_json(silent=True)
    if response.status_code == 200:
        assert isinstance(body, dict)
        assert isinstance(body["items"], list)
    else:
        _assert_json_error(response.status_code, body)


@HTTP_SETTINGS
@given(
    name=st.one_of(st.text(min_size=1, max_size=70), st.from_regex(r"\A[0-9a-f]{64}\Z")),
    media_type=st.one_of(st.sampled_from(("video/webm", "image/jpeg")), header_text(30)),
    device=st.one_of(st.none(), header_text(80)),
    body=st.binary(max_size=2 * MAX_EVIDENCE),
    hash_matches=st.booleans(),
)
def test_evidence_put(
    client: FlaskClient,
    evidence_dir: Path,
    name: str,
    media_type: str,
    device: str | None,
    body: bytes,
    hash_matches: bool,
) -> None:
    sha = hashlib.sha256(body).hexdigest() if hash_matches else name
    headers = {**_auth("ada"), "Content-Type": media_type}
    if device is not None:
        headers["X-Device-Id"] = device
    response = client.put(f"/api/v1/evidence/{quote(sha, safe='')}", data=body, headers=headers)
    if response.status_code in (200, 201):
        assert hashlib.sha256(body).hexdigest() == sha
        assert body
        stored = list(evidence_dir.glob(f"{sha[:2]}/{sha}.*"))
        assert len(stored) == 1
        assert stored[0].read_bytes() == body
    else:
        _assert_json_error(response.status_code, response.get_json(silent=True))
    tmp = evidence_dir / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == [], "an upload left a temporary file"
