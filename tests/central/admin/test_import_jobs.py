"""Import job status lives in the database: two web apps on one database (as two gunicorn
workers are) see the same job; a job whose process died is reported interrupted; old jobs go.
On SQLite and MariaDB."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from central.db import create_db_engine, make_sessionmaker
from central.domain_models import Candidate, ImportJob
from central.models import User
from central.services import create_user, import_jobs
from central.services.candidate_imports import CandidateUpload
from central.services.import_jobs import import_status, start_import
from central.services.users import UserInfo
from central.web import create_app
from tests.central.admin.conftest import PASSWORD, ROLES, csrf_token, fake_encoder, login, zip_of

ROSTER = b"candidate_number,name,language,photo\n1,Ann,en,a.jpg\n2,Bob,fr,b.jpg\n3,Cy,en,c.jpg\n"
PHOTOS = {"a.jpg": b"face-a", "b.jpg": b"noface", "c.jpg": b"wait-c"}


class Gate:
    """An encoder that holds a photo starting with b"wait" until the test opens the gate."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.waiting = threading.Event()

    def __call__(self, photo: bytes) -> list[float]:
        if photo.startswith(b"wait"):
            self.waiting.set()
            assert self.open.wait(30)
        return fake_encoder(photo)


@pytest.fixture
def db(any_db_url: str) -> Iterator[tuple[str, sessionmaker[Session]]]:
    engine = create_db_engine(any_db_url)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        for name, role in ROLES.items():
            create_user(session, name, PASSWORD, role)
    yield any_db_url, sessions
    engine.dispose()


@pytest.fixture
def gate() -> Iterator[Gate]:
    gate = Gate()
    yield gate
    gate.open.set()  # never leave an import thread waiting after the test


def _worker(url: str, tmp_path: Path, name: str, encoder: Any) -> Flask:
    return create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "EVIDENCE_DIR": str(tmp_path / f"evidence-{name}"),
            "CANDIDATE_ENCODER": encoder,
        }
    )


@pytest.fixture
def workers(
    db: tuple[str, sessionmaker[Session]], tmp_path: Path, gate: Gate
) -> tuple[Flask, Flask]:
    """Two apps on one database, like two gunicorn workers: nothing shared but the database."""
    url = db[0]
    return _worker(url, tmp_path, "a", gate), _worker(url, tmp_path, "b", gate)


def _post_import(client: FlaskClient, roster: bytes, photos: dict[str, bytes]) -> str:
    form = {"roster": (io.BytesIO(roster), "r.csv"),
            "photos": (io.BytesIO(zip_of(photos)), "p.zip"),
            "csrf_token": csrf_token(client, "/admin/candidates")}  # fmt: skip
    response = client.post("/admin/candidates/import", data=form)
    assert response.status_code == 303
    location: str = response.headers["Location"]
    assert "/admin/candidates/imports/" in location
    return location


def _poll(
    client: FlaskClient, job_page: str, until: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        response = client.get(f"{job_page}/status")
        assert response.status_code == 200
        status: dict[str, Any] = response.get_json()
        if until(status):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def _job(sessions: sessionmaker[Session], job_id: str) -> ImportJob:
    with sessions() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        return job


def test_an_import_started_on_one_worker_is_followed_on_another(
    workers: tuple[Flask, Flask],
    db: tuple[str, sessionmaker[Session]],
    gate: Gate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(import_jobs, "HEARTBEAT_EVERY", 0.3)  # 15 s in production
    first, second = workers
    sessions = db[1]
    job_page = _post_import(login(first, "ada"), ROSTER, PHOTOS)
    job_id = job_page.rsplit("/", 1)[-1]
    watcher = login(second, "ada")

    # Half way: the third photo is held; the other worker sees the first two checked.
    status = _poll(watcher, job_page, lambda s: s["done"] == 2)
    assert gate.waiting.is_set()
    assert (status["state"], status["total"], status["imported"]) == ("running", 3, ["1"])
    assert status["problems"] == ["row 3 (2): no face found in the enrolment photo"]
    page = watcher.get(job_page).get_data(as_text=True)
    assert 'value="2"' in page
    assert "running: 2 of 3 checked, 1 imported" in page

    # While one photo takes long, the row keeps being touched: it does not look abandoned.
    before = _job(sessions, job_id).updated_at
    deadline = time.monotonic() + 10
    while _job(sessions, job_id).updated_at == before:
        assert time.monotonic() < deadline, "no heartbeat while the photo was held"
        time.sleep(0.1)
    assert _job(sessions, job_id).state == "running"

    gate.open.set()
    status = _poll(watcher, job_page, lambda s: s["state"] != "running")
    assert (status["state"], status["done"], status["total"]) == ("finished", 3, 3)
    assert status["imported"] == ["1", "3"]
    assert status["error"] is None
    assert status["finished_at"] is not None
    job = _job(sessions, job_id)
    assert (job.owner_id, job.kind, job.state) == (_ada(sessions).id, "candidates", "finished")
    # Any admin may follow it (as before); other roles may not.
    assert login(second, "rita").get(f"{job_page}/status").status_code == 403
    assert login(first, "ivy").get(job_page).status_code == 403


def test_a_job_whose_process_died_is_reported_interrupted_and_can_be_run_again(
    workers: tuple[Flask, Flask], db: tuple[str, sessionmaker[Session]], gate: Gate
) -> None:
    gate.open.set()
    sessions = db[1]
    now, ada = datetime.now(UTC), _ada(sessions)
    with sessions.begin() as session:
        # A worker imported candidate 1 of the roster, then died: its row says running.
        session.add(Candidate(candidate_id="cand-1", candidate_number="1", display_name="Ann",
                              language="en", encoding=[0.1] * 128, created_at=now))  # fmt: skip
        for job_id, quiet_for in (("dead", 61), ("slow", 30)):
            session.add(
                ImportJob(job_id=job_id, owner_id=ada.id, kind="candidates", state="running",
                          total=3, done=1, imported=["1"], problems=[], error=None,
                          started_at=now - timedelta(seconds=90),
                          updated_at=now - timedelta(seconds=quiet_for), finished_at=None)
            )  # fmt: skip
    client = login(workers[1], "ada")
    dead = client.get("/admin/candidates/imports/dead/status").get_json()
    assert (dead["state"], dead["done"], dead["imported"]) == ("interrupted", 1, ["1"])
    assert "run the same import again" in dead["error"]
    assert client.get("/admin/candidates/imports/slow/status").get_json()["state"] == "running"
    page = client.get("/admin/candidates/imports/dead").get_data(as_text=True)
    assert "interrupted: 1 of 3 checked, 1 imported" in page
    assert "they will be listed as already registered" in page
    assert client.get("/admin/candidates/imports/gone/status").status_code == 404

    # Running the same import again keeps candidate 1 and says so.
    again = _post_import(client, ROSTER, PHOTOS)
    status = _poll(login(workers[0], "ada"), again, lambda s: s["state"] != "running")
    assert (status["state"], status["imported"]) == ("finished", ["3"])
    assert status["problems"] == [
        "row 2 (1): candidate number already registered",
        "row 3 (2): no face found in the enrolment photo",
    ]


def test_a_refused_roster_fails_with_its_reasons(workers: tuple[Flask, Flask], gate: Gate) -> None:
    job_page = _post_import(login(workers[0], "ada"), b"number,name\n1,A\n", PHOTOS)
    status = _poll(login(workers[1], "ada"), job_page, lambda s: s["state"] != "running")
    assert status["state"] == "failed"
    assert "column missing" in status["error"]
    assert any("candidate_number" in p for p in status["problems"])


def test_jobs_older_than_a_week_go_when_an_import_starts(
    db: tuple[str, sessionmaker[Session]],
) -> None:
    sessions = db[1]
    now, ada = datetime.now(UTC), _ada(sessions)
    with sessions.begin() as session:
        for job_id, age_days, state in (
            ("old-finished", 8, "finished"),
            ("old-dead", 8, "running"),
            ("recent", 6, "finished"),
        ):
            then = now - timedelta(days=age_days)
            session.add(
                ImportJob(job_id=job_id, owner_id=ada.id, kind="candidates", state=state, total=1,
                          done=1, imported=[], problems=[], error=None, started_at=then,
                          updated_at=then, finished_at=then)
            )  # fmt: skip
    upload = CandidateUpload(b"candidate_number,name,photo\n1,A,a.jpg\n", zip_of({"a.jpg": b"x"}))
    job_id = start_import(sessions, ada, upload, fake_encoder)
    _wait_finished(sessions, job_id)
    with sessions() as session:
        assert set(session.scalars(select(ImportJob.job_id))) == {"recent", job_id}


def test_problems_are_bounded_and_progress_writes_are_few(
    db: tuple[str, sessionmaker[Session]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_jobs, "MAX_PROBLEMS", 5)
    sessions = db[1]
    ada = _ada(sessions)
    rows = "".join(f"{n},Person {n},p{n}.jpg\n" for n in range(1, 121))
    photos = {f"p{n}.jpg": (b"noface" if n <= 8 else b"face") for n in range(1, 121)}
    upload = CandidateUpload(f"candidate_number,name,photo\n{rows}".encode(), zip_of(photos))
    engine = sessions.kw["bind"]
    assert isinstance(engine, Engine)
    updates: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE IMPORT_JOBS"):
            updates.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.monotonic()
        job_id = start_import(sessions, ada, upload, fake_encoder)
        _wait_finished(sessions, job_id)
        elapsed = time.monotonic() - started
    finally:
        event.remove(engine, "before_cursor_execute", count)
    with sessions() as session:
        status = import_status(session, job_id)
    assert status is not None
    assert (status["state"], status["done"], len(status["imported"])) == ("finished", 120, 112)
    assert status["problems"] == [
        *(f"row {n + 1} ({n}): no face found in the enrolment photo" for n in range(1, 5)),
        "... and 4 more problems not listed",
    ]
    # One write per half second at most (plus the last), not one per candidate.
    assert len(updates) <= elapsed / import_jobs.FLUSH_EVERY + 2 < 120


def _ada(sessions: sessionmaker[Session]) -> UserInfo:
    """The admin who starts imports here: a job's owner is a real user (a foreign key)."""
    with sessions() as session:
        ada = session.scalar(select(User).where(User.username == "ada"))
        assert ada is not None
        return UserInfo(id=ada.id, username=ada.username, role=ada.role)


def _wait_finished(sessions: sessionmaker[Session], job_id: str) -> None:
    deadline = time.monotonic() + 30
    while _job(sessions, job_id).state == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
