"""Administration fixtures: an app on a migrated SQLite database with one user of each role."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from central.db import create_db_engine, make_sessionmaker
from central.services import create_user
from central.services.candidate_imports import PhotoRejected
from central.web import create_app
from tests.conftest import FIXTURES

PASSWORD = "correct horse battery"
FACES = FIXTURES / "faces"
ROLES = {"ada": "admin", "rita": "reviewer", "ivy": "invigilator"}


def fake_encoder(photo: bytes) -> list[float]:
    """Stands in for the face encoder where faces are not the point: b"noface" has none."""
    if photo.startswith(b"noface"):
        raise PhotoRejected("no face found in the enrolment photo")
    return [len(photo) % 7 / 10] * 128


@pytest.fixture
def admin_app(migrated_sqlite_url: str, tmp_path: Path) -> Flask:
    engine = create_db_engine(migrated_sqlite_url)
    with make_sessionmaker(engine).begin() as session:
        for name, role in ROLES.items():
            create_user(session, name, PASSWORD, role)
    engine.dispose()
    return create_app(
        {
            "DATABASE_URL": migrated_sqlite_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
            "CANDIDATE_ENCODER": fake_encoder,
        }
    )


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, page
    return match.group(1)


def login(app: Flask, user: str) -> FlaskClient:
    client = app.test_client()
    data = {"username": user, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")}
    assert client.post("/login", data=data).status_code == 302
    return client


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
