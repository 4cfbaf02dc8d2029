"""Enrolling a kiosk with a one-time token: the rules (one use, expiry, one download), and the
whole exchange over real HTTP: the kiosk's `python -m edge_agent enrol` waits while an admin
approves it in the admin page, then unpacks a bundle the agent can load."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from central.db import create_db_engine, make_sessionmaker
from central.services import create_user
from central.web import create_app
from edge_agent.enrol import EnrolmentFailed, EnrolOptions, enrol
from edge_agent.kiosk_config import load_kiosk_config
from provisioning import enrolment, registry
from provisioning.__main__ import main as provisioning_main

PASSWORD = "correct horse battery"
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def centre(tmp_path: Path) -> Path:
    root = tmp_path / "centre"
    args = ["init-centre", "--out", str(root), "--centre-id", "c1", "--broker-host", "b.local",
            "--broker-pid-file", str(tmp_path / "broker.pid")]  # fmt: skip
    assert provisioning_main(args) == 0
    return root


def test_a_token_starts_one_request_and_the_bundle_is_handed_out_once(centre: Path) -> None:
    token = enrolment.issue_token(centre, "b", "12", HOUR)
    assert token not in registry.registry_path(centre).read_text()  # only its hash is kept
    request = enrolment.request_enrolment(centre, token, "pi-b12")
    with pytest.raises(enrolment.EnrolmentError, match="already used"):
        enrolment.request_enrolment(centre, token)
    assert [r.request_id for r in enrolment.pending(centre)] == [request.request_id]
    assert enrolment.collect(centre, request.request_id, token).tarball is None  # not yet
    with pytest.raises(enrolment.EnrolmentError, match="unknown enrolment request"):
        enrolment.collect(centre, request.request_id, "another token")

    approved = enrolment.approve(centre, request.request_id, "ada")
    assert approved.device_id == "kiosk-b-12"
    assert registry.load(centre).devices["kiosk-b-12"].seat_id == "b-12"
    delivery = enrolment.collect(centre, request.request_id, token)
    assert delivery.tarball is not None
    assert delivery.tarball.is_file()
    again = enrolment.collect(centre, request.request_id, token)
    assert (again.tarball, again.request.status) == (None, "delivered")
    with pytest.raises(enrolment.EnrolmentError, match="already delivered"):
        enrolment.approve(centre, request.request_id, "ada")


def test_expired_unknown_and_rejected(centre: Path) -> None:
    with pytest.raises(enrolment.EnrolmentError, match="unknown"):
        enrolment.request_enrolment(centre, "made-up")
    old = enrolment.issue_token(centre, "b", "13", dt.timedelta(seconds=1))
    reg = registry.load(centre)
    (digest,) = [d for d, t in reg.enrolment_tokens.items() if t.seat == "13"]
    reg.enrolment_tokens[digest] = reg.enrolment_tokens[digest].model_copy(
        update={"expires_at": registry.utc_now() - HOUR}
    )
    registry.save(centre, reg)
    with pytest.raises(enrolment.EnrolmentError, match="expired"):
        enrolment.request_enrolment(centre, old)
    token = enrolment.issue_token(centre, "b", "14", HOUR)
    request = enrolment.request_enrolment(centre, token)
    rejected = enrolment.reject(centre, request.request_id, "ada", "not our kiosk")
    assert (rejected.status, rejected.reason) == ("rejected", "not our kiosk")
    assert "kiosk-b-14" not in registry.load(centre).devices
    with pytest.raises(enrolment.EnrolmentError, match="between"):
        enrolment.issue_token(centre, "b", "15", dt.timedelta(days=90))


def test_the_cli_issues_lists_and_approves(
    centre: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--centre", str(centre)]
    assert provisioning_main(["enrolment-token", *base, "--hall", "c", "--seat", "1"]) == 0
    token = capsys.readouterr().out.splitlines()[1].strip()
    request = enrolment.request_enrolment(centre, token, "pi-c1")
    assert provisioning_main(["enrolments", *base]) == 0
    assert f"{request.request_id}  seat c-1 (host pi-c1)" in capsys.readouterr().out
    assert provisioning_main(["approve", *base, request.request_id, "--by", "ada"]) == 0
    assert "kiosk-c-1" in capsys.readouterr().out


# -- over HTTP -------------------------------------------------------------------------------


@pytest.fixture
def central(centre: Path, migrated_sqlite_url: str) -> Iterator[tuple[Flask, str]]:
    engine = create_db_engine(migrated_sqlite_url)
    with make_sessionmaker(engine).begin() as session:
        create_user(session, "ada", PASSWORD, "admin")
        create_user(session, "ivy", PASSWORD, "invigilator")
    engine.dispose()
    app = create_app({"DATABASE_URL": migrated_sqlite_url, "SECRET_KEY": "test",
                      "CENTRE_DIR": str(centre)})  # fmt: skip
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def _admin(app: Flask, user: str = "ada") -> FlaskClient:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    data = {"username": user, "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=data).status_code == 302
    return client


def _approve_when_waiting(app: Flask, done: threading.Event) -> None:
    client = _admin(app)
    while not done.is_set():
        page = client.get("/enrolments").get_data(as_text=True)
        form = re.search(r'action="(/enrolments/\w+/approve)"', page)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        if form and csrf:
            response = client.post(form.group(1), data={"csrf_token": csrf.group(1)})
            assert response.status_code == 303
            return
        done.wait(0.1)


def test_a_kiosk_enrols_over_http_after_an_admin_approves(
    central: tuple[Flask, str], centre: Path, tmp_path: Path
) -> None:
    app, url = central
    token = enrolment.issue_token(centre, "d", "4", HOUR)
    done = threading.Event()
    admin = threading.Thread(target=_approve_when_waiting, args=(app, done), daemon=True)
    admin.start()
    try:
        out = enrol(EnrolOptions(url, token, tmp_path / "kiosk", poll_s=0.2, wait_s=60))
    finally:
        done.set()
        admin.join(10)
    config = load_kiosk_config(out / "etc" / "kiosk.toml", {"PROCTOR_BROKER_PASSWORD": "x"})
    assert (config.identity.device_id, config.identity.seat_id) == ("kiosk-d-4", "d-4")
    assert (out / "install.sh").is_file()
    assert (out.parent / "bundle.tar.gz").stat().st_mode & 0o077 == 0
    # The page no longer lists it, and the token cannot start another request.
    assert 'id="none-waiting"' in _admin(app).get("/enrolments").get_data(as_text=True)
    with pytest.raises(EnrolmentFailed, match="already used"):
        enrol(EnrolOptions(url, token, tmp_path / "again", poll_s=0.2, wait_s=5))


def test_only_admins_see_the_page_and_wrong_tokens_are_throttled(
    central: tuple[Flask, str], tmp_path: Path
) -> None:
    app, url = central
    assert _admin(app, "ivy").get("/enrolments").status_code == 403
    for _ in range(10):
        with pytest.raises(EnrolmentFailed, match="401"):
            enrol(EnrolOptions(url, "guessed", tmp_path / "k", poll_s=0.1, wait_s=1))
    with pytest.raises(EnrolmentFailed, match="429"):
        enrol(EnrolOptions(url, "guessed", tmp_path / "k", poll_s=0.1, wait_s=1))
