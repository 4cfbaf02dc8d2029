"""Every admin form posted with generated values (wrong types, huge strings, control
characters, odd numbers): the answer is a redirect with a message or a page listing the
problems, never a server error, and the database stays consistent."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.central.admin.conftest import csrf_token, login

FORM_FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "0", "-1", "1e309", "nan", "inf", "2,3; 9,9", "1,1", "on", "x" * 5000]),
    st.integers(-(10**20), 10**20).map(str),
    st.floats().map(str),
).map(lambda v: v.replace("\x00", ""))  # werkzeug drops NUL-containing fields itself

FORMS = {
    "/admin/centres": ["centre_id", "name"],
    "/admin/halls": ["hall_id", "name", "centre_id", "rows", "columns", "gaps"],
    "/admin/halls/h1/layout": ["rows", "columns", "gaps"],
    "/admin/halls/h1/seats": ["seat_id", "label", "row", "column", "device_id"],
    "/admin/seats/h1-A1/kiosk": ["device_id"],
    "/admin/exams/e1/scoring": ["title", "duration_min", "negative_marks", "time_penalty_s",
                                "pass_percent", "warning_limit", "floor_at_zero"],
    "/admin/exams/e1/proctoring": ["rule_speech", "weight_speech", "duration_unit_s",
                                   "duration_cap_s", "pending_factor", "pass_threshold"],
    "/admin/exams/e1/retention": ["clean_days", "flagged_days_after_release"],
    "/admin/sessions": ["candidate_id", "seat_id", "exam_id", "start", "end", "session_id"],
}  # fmt: skip


@pytest.fixture
def ready(admin_app: Flask) -> tuple[FlaskClient, str]:
    client = login(admin_app, "ada")
    token = csrf_token(client, "/admin/")
    setup = [
        ("/admin/centres", {"centre_id": "c1", "name": "C"}),
        ("/admin/halls", {"hall_id": "h1", "centre_id": "c1", "rows": "2", "columns": "2"}),
        ("/admin/halls/h1/fill", {}),
    ]
    for path, data in setup:
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 303
    bank = (io.BytesIO(b"id,kind,prompt,answer\nq1,numeric,Two?,2\n"), "b.csv")
    form = {"exam_id": "e1", "title": "E", "duration_min": "30", "bank": bank, "csrf_token": token}
    assert client.post("/admin/exams", data=form).status_code == 303
    return client, token


@FORM_FUZZ
@given(st.sampled_from(sorted(FORMS)), st.data())
def test_generated_form_values_never_cause_a_server_error(
    ready: tuple[FlaskClient, str], path: str, data: st.DataObject
) -> None:
    client, token = ready
    form = {name: data.draw(values, label=name) for name in FORMS[path]}
    response = client.post(path, data={**form, "csrf_token": token})
    assert response.status_code in (303, 422), (path, form, response.get_data(as_text=True))
    assert client.get("/admin/halls/h1").status_code == 200
    assert client.get("/admin/exams/e1").status_code == 200


@FORM_FUZZ
@given(st.binary(max_size=2000), st.sampled_from(["bank.csv", "bank.json", "bank"]))
def test_generated_bank_uploads_never_cause_a_server_error(
    ready: tuple[FlaskClient, str], bank: bytes, name: str
) -> None:
    client, token = ready
    form = {"bank": (io.BytesIO(bank), name), "csrf_token": token}
    response = client.post("/admin/exams/e1/questions", data=form)
    assert response.status_code in (303, 422)
    assert client.get("/admin/exams/e1").status_code == 200
