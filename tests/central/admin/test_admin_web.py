"""Administration pages with the Flask test client on SQLite: admin role only, CSRF enforced,
every change audit-logged, import problems shown per row."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.console_models import OutgoingCommand
from central.db import create_db_engine, make_sessionmaker
from central.domain_models import AuditEntry, Candidate, Exam, ExamSession, Hall, Seat
from central.services.planning import exam_definition, proctoring_policy
from protocol.exam import judge
from protocol.models import ViolationType
from tests.central.admin.conftest import FACES, csrf_token, login, zip_of

T = TypeVar("T")
GET_PAGES = ["/admin/", "/admin/exams", "/admin/candidates", "/admin/sessions"]
BANK = (
    "id,kind,prompt,options,answer,marks\n"
    "q1,single,Which gas do plants take in?,Oxygen|Carbon dioxide,b,2\n"
    "q2,numeric,Twelve times twelve?,,144,1\n"
)


@contextmanager
def _db(app: Flask) -> Iterator[Session]:
    engine = create_db_engine(app.config["DATABASE_URL"])
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _get(session: Session, model: type[T], key: str) -> T:
    found = session.get(model, key)
    assert found is not None, key
    return found


def _post(client: FlaskClient, path: str, data: dict[str, Any], page: str = "/admin/") -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def _actions(app: Flask) -> list[str]:
    with _db(app) as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.mark.parametrize("user", ["rita", "ivy"])
def test_non_admins_get_403_on_every_page_and_form(admin_app: Flask, user: str) -> None:
    client = login(admin_app, user)
    for path in GET_PAGES:
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/login")
    response = client.post(
        "/admin/centres", data={"centre_id": "c1", "name": "X", "csrf_token": token}
    )
    assert response.status_code == 403
    assert "admin" in response.get_json()["message"]
    assert _actions(admin_app) == []


def test_anonymous_users_are_sent_to_log_in(admin_app: Flask) -> None:
    response = admin_app.test_client().get("/admin/exams")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_csrf_is_enforced(admin_app: Flask) -> None:
    client = login(admin_app, "ada")
    response = client.post("/admin/centres", data={"centre_id": "c1", "name": "Centre"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "csrf_failed"
    assert _actions(admin_app) == []


def _centre_and_hall(client: FlaskClient) -> None:
    assert _post(client, "/admin/centres", {"centre_id": "c1", "name": "North"}).status_code == 303
    hall = {"hall_id": "h1", "name": "Main hall", "centre_id": "c1", "rows": "2", "columns": "3",
            "gaps": "1,2"}  # fmt: skip
    response = _post(client, "/admin/halls", hall)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/halls/h1")


def test_hall_seat_map_fill_bind_and_layout(admin_app: Flask) -> None:
    client = login(admin_app, "ada")
    _centre_and_hall(client)
    page = "/admin/halls/h1"
    assert _post(client, f"{page}/fill", {}, page).status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert html.count('class="cell gap"') == 1
    for label in ("A1", "A3", "B1", "B2", "B3"):
        assert f"<strong>{label}</strong>" in html
    assert (
        _post(client, "/admin/seats/h1-A1/kiosk", {"device_id": "kiosk-7"}, page).status_code == 303
    )
    # The same kiosk on a second seat is refused with a message, and nothing changes.
    _post(client, "/admin/seats/h1-B2/kiosk", {"device_id": "kiosk-7"}, page)
    assert "already bound to seat" in client.get(page).get_data(as_text=True)
    # A gap where a seat stands is refused; an empty layout change is saved.
    _post(client, f"{page}/layout", {"rows": "2", "columns": "3", "gaps": "2,2"}, page)
    assert "remove it first" in client.get(page).get_data(as_text=True)
    # Once the seat in the way is removed, the gap can go there.
    assert _post(client, "/admin/seats/h1-B2/remove", {}, page).status_code == 303
    _post(client, f"{page}/layout", {"rows": "3", "columns": "3", "gaps": "1,2; 2,2; 3,1"}, page)
    with _db(admin_app) as session:
        hall = _get(session, Hall, "h1")
        assert (hall.grid_rows, hall.gaps) == (3, [[1, 2], [2, 2], [3, 1]])
        assert _get(session, Seat, "h1-A1").device_id == "kiosk-7"
        assert session.get(Seat, "h1-B2") is None
    actions = _actions(admin_app)
    assert actions[:2] == ["centre.create", "hall.create"]
    assert actions.count("seat.create") == 5
    assert actions[-3:] == ["seat.bind", "seat.remove", "hall.layout"]


def _upload(client: FlaskClient, path: str, data: dict[str, Any], bank: bytes, name: str) -> Any:
    form = {
        **data,
        "bank": (io.BytesIO(bank), name),
        "csrf_token": csrf_token(client, "/admin/exams"),
    }
    return client.post(path, data=form, content_type="multipart/form-data")


def test_exam_from_a_question_bank_then_scoring_and_proctoring(admin_app: Flask) -> None:
    client = login(admin_app, "ada")
    header = {"exam_id": "chem-1", "title": "Chemistry", "duration_min": "45"}
    assert _upload(client, "/admin/exams", header, BANK.encode(), "bank.csv").status_code == 303
    page = client.get("/admin/exams/chem-1").get_data(as_text=True)
    assert "Which gas do plants take in?" in page
    assert "Carbon dioxide" in page

    scoring = {"title": "Chemistry I", "duration_min": "50", "negative_marks": "0.5",
               "time_penalty_s": "30", "pass_percent": "60", "warning_limit": "3",
               "floor_at_zero": "on", "shuffle_options": "on"}  # fmt: skip
    assert _post(client, "/admin/exams/chem-1/scoring", scoring).status_code == 303
    proctoring = {f"rule_{t.value}": "on" for t in ViolationType if t is not ViolationType.SPEECH}
    proctoring |= {"weight_phone_in_view": "20", "weight_looking_away": "4",
                   "duration_unit_s": "30", "duration_cap_s": "600", "pending_factor": "0.25",
                   "pass_threshold": "75"}  # fmt: skip
    assert _post(client, "/admin/exams/chem-1/proctoring", proctoring).status_code == 303

    with _db(admin_app) as session:
        exam = _get(session, Exam, "chem-1")
        definition, policy = exam_definition(exam), proctoring_policy(exam)
    assert (exam.version, definition.title, definition.policy.duration_s) == (
        2,
        "Chemistry I",
        3000,
    )
    assert (definition.scoring.negative_marks, definition.scoring.pass_percent) == (0.5, 60)
    assert (definition.policy.shuffle_options, definition.policy.shuffle_questions) == (True, False)
    assert judge(definition, definition.questions[1], 144) == "correct"
    assert ViolationType.SPEECH not in policy.enabled_rules
    assert policy.weights == {ViolationType.PHONE_IN_VIEW: 20.0}  # 4 is looking away's default
    assert (policy.pass_threshold, policy.auto_release_clean) == (75, False)
    assert _actions(admin_app) == ["exam.create", "exam.scoring", "exam.proctoring"]


def test_bad_question_bank_shows_every_row_and_stores_nothing(admin_app: Flask) -> None:
    client = login(admin_app, "ada")
    bad = BANK + "q3,single,Pick one,Only,a,1\nq1,numeric,Again?,,x,1\n"
    header = {"exam_id": "chem-1", "title": "Chemistry", "duration_min": "45"}
    response = _upload(client, "/admin/exams", header, bad.encode(), "bank.csv")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was stored: 3 problem(s)" in html
    assert "<td>4</td><td>options</td>" in html
    assert "<td>5</td><td>id</td><td>&#39;q1&#39; is also row 2</td>" in html
    assert "<td>5</td><td>answer</td>" in html
    with _db(admin_app) as session:
        assert session.get(Exam, "chem-1") is None
    assert _actions(admin_app) == []


def test_replacing_the_bank_keeps_the_policy_and_bumps_the_version(admin_app: Flask) -> None:
    client = login(admin_app, "ada")
    header = {"exam_id": "chem-1", "title": "Chemistry", "duration_min": "45"}
    _upload(client, "/admin/exams", header, BANK.encode(), "bank.csv")
    document = json.dumps(
        {"questions": [{"id": "n1", "kind": "text", "prompt": "A noble gas?", "answer": "neon"}]}
    ).encode()
    assert (
        _upload(client, "/admin/exams/chem-1/questions", {}, document, "new.json").status_code
        == 303
    )
    with _db(admin_app) as session:
        definition = exam_definition(_get(session, Exam, "chem-1"))
    assert [q.id for q in definition.questions] == ["n1"]
    assert (definition.version, definition.policy.duration_s) == (2, 2700)
    assert judge(definition, definition.questions[0], "Neon") == "correct"


def test_candidate_import_with_progress_and_per_candidate_errors(admin_app: Flask) -> None:
    client = login(admin_app, "ada")
    roster = (
        b"candidate_number,name,language,photo\n1,Ann,en,a.jpg\n2,Bob,fr,b.jpg\n3,Cy,en,c.jpg\n"
    )
    photos = zip_of({"a.jpg": b"face-a", "b.jpg": b"noface"})
    form = {"roster": (io.BytesIO(roster), "r.csv"), "photos": (io.BytesIO(photos), "p.zip"),
            "csrf_token": csrf_token(client, "/admin/candidates")}  # fmt: skip
    response = client.post(
        "/admin/candidates/import", data=form, content_type="multipart/form-data"
    )
    assert response.status_code == 303
    job_page = response.headers["Location"]
    assert "progress" in client.get(job_page).get_data(as_text=True)
    deadline = time.monotonic() + 10
    while (status := client.get(f"{job_page}/status").get_json())["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status["state"] == "finished"
    assert (status["done"], status["total"], status["imported"]) == (3, 3, ["1"])
    assert status["problems"] == [
        "row 3 (2): no face found in the enrolment photo",
        "row 4 (3): photo 'c.jpg' is not in the zip",
    ]
    with _db(admin_app) as session:
        assert [c.display_name for c in session.scalars(select(Candidate))] == ["Ann"]
    assert "Ann" in client.get("/admin/candidates").get_data(as_text=True)
    assert login(admin_app, "rita").get(f"{job_page}/status").status_code == 403


def test_schedule_a_session(admin_app: Flask) -> None:
    client = login(admin_app, "ada")
    _centre_and_hall(client)
    _post(client, "/admin/halls/h1/fill", {}, "/admin/halls/h1")
    _upload(client, "/admin/exams", {"exam_id": "e1", "title": "E", "duration_min": "30"},
            BANK.encode(), "b.csv")  # fmt: skip
    roster = b"candidate_number,name,photo\n7,Ann,a.jpg\n"
    photos = zip_of({"a.jpg": b"x"})
    form = {"roster": (io.BytesIO(roster), "r.csv"), "photos": (io.BytesIO(photos), "p.zip"),
            "csrf_token": csrf_token(client, "/admin/candidates")}  # fmt: skip
    job = client.post("/admin/candidates/import", data=form, content_type="multipart/form-data")
    deadline = time.monotonic() + 10
    while client.get(job.headers["Location"] + "/status").get_json()["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    sitting = {"candidate_id": "cand-7", "seat_id": "h1-A1", "exam_id": "e1",
               "start": "2026-12-10T09:00", "end": "2026-12-10T10:00",
               "session_id": "s-1"}  # fmt: skip
    assert _post(client, "/admin/sessions", sitting, "/admin/sessions").status_code == 303
    page = client.get("/admin/sessions").get_data(as_text=True)
    assert "<td>s-1</td>" in page
    assert "2026-12-10 09:00" in page
    _post(client, "/admin/sessions", {**sitting, "end": "2026-12-10T08:00", "session_id": "s-2"},
          "/admin/sessions")  # fmt: skip
    assert "this candidate already has a session" in client.get("/admin/sessions").get_data(
        as_text=True
    )
    with _db(admin_app) as session:
        row = _get(session, ExamSession, "s-1")
        assert (row.seat_id, row.state, row.scheduled_start.hour) == ("h1-A1", "scheduled", 9)
    assert "session.schedule" in _actions(admin_app)
    _post(client, "/admin/seats/h1-A1/remove", {}, "/admin/halls/h1")
    assert "seat &#39;A1&#39; has sessions" in client.get("/admin/halls/h1").get_data(as_text=True)


def _import_candidate(client: FlaskClient, number: str, name: str) -> None:
    roster = f"candidate_number,name,photo\n{number},{name},a.jpg\n".encode()
    form = {"roster": (io.BytesIO(roster), "r.csv"),
            "photos": (io.BytesIO(zip_of({"a.jpg": b"x"})), "p.zip"),
            "csrf_token": csrf_token(client, "/admin/candidates")}  # fmt: skip
    job = client.post("/admin/candidates/import", data=form, content_type="multipart/form-data")
    deadline = time.monotonic() + 10
    while client.get(job.headers["Location"] + "/status").get_json()["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _commands(app: Flask) -> list[tuple[str, str]]:
    with _db(app) as session:
        rows = session.scalars(select(OutgoingCommand).order_by(OutgoingCommand.issued_at))
        return [(r.type, r.device_id) for r in rows]


def test_scheduling_sends_the_exam_and_enrolment_to_the_seat_kiosk(admin_app: Flask) -> None:
    client = login(admin_app, "ada")
    _centre_and_hall(client)
    _post(client, "/admin/halls/h1/fill", {}, "/admin/halls/h1")
    _upload(client, "/admin/exams", {"exam_id": "e1", "title": "E", "duration_min": "30"},
            BANK.encode(), "b.csv")  # fmt: skip
    _import_candidate(client, "7", "Ann")
    _import_candidate(client, "8", "Ben")
    start = datetime.now(UTC) + timedelta(hours=1)
    sitting = {"candidate_id": "cand-7", "seat_id": "h1-A1", "exam_id": "e1",
               "start": f"{start:%Y-%m-%dT%H:%M}",
               "end": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M}",
               "session_id": "s-1"}  # fmt: skip
    # No kiosk at the seat yet: scheduled, and the admin is told why nothing went out.
    _post(client, "/admin/sessions", sitting, "/admin/sessions")
    page = client.get("/admin/sessions").get_data(as_text=True)
    assert "Session s-1 scheduled. Not sent yet: no kiosk is bound to the seat." in page
    assert '<span class="delivery" data-session="s-1">not sent</span>' in page
    assert _commands(admin_app) == []
    # Binding the kiosk sends it, and says so.
    _post(client, "/admin/seats/h1-A1/kiosk", {"device_id": "kiosk-9"}, "/admin/halls/h1")
    hall_page = client.get("/admin/halls/h1").get_data(as_text=True)
    assert "Seat A1: kiosk kiosk-9. Exam and enrolment sent to the kiosk." in hall_page
    assert _commands(admin_app) == [("load_exam", "kiosk-9"), ("enrol", "kiosk-9")]
    page = client.get("/admin/sessions").get_data(as_text=True)
    assert '<span class="delivery" data-session="s-1">sending</span>' in page
    # A later sitting at the same seat waits for the first; asking to send it says so.
    later = {**sitting, "candidate_id": "cand-8", "session_id": "s-2",
             "start": f"{start + timedelta(hours=2):%Y-%m-%dT%H:%M}",
             "end": f"{start + timedelta(hours=3):%Y-%m-%dT%H:%M}"}  # fmt: skip
    _post(client, "/admin/sessions", later, "/admin/sessions")
    page = client.get("/admin/sessions").get_data(as_text=True)
    assert "Session s-2 scheduled. The seat&#39;s next sitting is s-1" in page
    _post(client, "/admin/sessions/s-2/deliver", {}, "/admin/sessions")
    assert "s-2 is not its seat&#39;s next sitting; nothing was sent" in client.get(
        "/admin/sessions"
    ).get_data(as_text=True)
    # Sending again (a kiosk that was reset) queues both once more.
    _post(client, "/admin/sessions/s-1/deliver", {}, "/admin/sessions")
    assert "Session s-1: Exam and enrolment sent to the kiosk." in client.get(
        "/admin/sessions"
    ).get_data(as_text=True)
    assert len(_commands(admin_app)) == 4
    reviewer = login(admin_app, "rita")
    token = csrf_token(reviewer, "/login")
    refused = reviewer.post("/admin/sessions/s-1/deliver", data={"csrf_token": token})
    assert refused.status_code == 403
    assert len(_commands(admin_app)) == 4


def test_candidate_import_computes_real_encodings_on_the_server(admin_app: Flask) -> None:
    """No encoder configured: the server's own (MediaPipe + dlib), imported when needed."""
    admin_app.config["CANDIDATE_ENCODER"] = None
    client = login(admin_app, "ada")
    roster = b"candidate_number,name,photo\n1,Barack,obama.jpg\n2,Two,two.jpg\n"
    photos = zip_of(
        {
            "obama.jpg": (FACES / "obama_small.jpg").read_bytes(),
            "two.jpg": (FACES / "two_people.jpg").read_bytes(),
        }
    )
    form = {"roster": (io.BytesIO(roster), "r.csv"), "photos": (io.BytesIO(photos), "p.zip"),
            "csrf_token": csrf_token(client, "/admin/candidates")}  # fmt: skip
    job = client.post("/admin/candidates/import", data=form).headers["Location"]
    deadline = time.monotonic() + 60
    while (status := client.get(f"{job}/status").get_json())["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert (status["state"], status["imported"]) == ("finished", ["1"])
    assert status["problems"] == [
        "row 3 (2): 2 faces found in the enrolment photo; it must show one person"
    ]
    with _db(admin_app) as session:
        encoding = _get(session, Candidate, "cand-1").encoding
    assert encoding is not None
    assert len(encoding) == 128
