"""Review and result pages with the Flask test client: roles, CSRF, decisions, release."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from central.db import create_db_engine, make_sessionmaker
from central.services.audit import entries_for
from central.web import create_app
from tests.central import exam_day
from tests.central.exam_day import EXPLANATION, PASSWORD, SHA_A, Day


@pytest.fixture
def day_app(migrated_sqlite_url: str, tmp_path: Path) -> tuple[Flask, Day]:
    engine = create_db_engine(migrated_sqlite_url)
    with make_sessionmaker(engine).begin() as session:
        day = exam_day.build(session, tmp_path / "evidence")
    engine.dispose()
    app = create_app(
        {
            "DATABASE_URL": migrated_sqlite_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
        }
    )
    return app, day


def _csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, page
    return match.group(1)


def login(app: Flask, user: str) -> FlaskClient:
    client = app.test_client()
    data = {"username": user, "password": PASSWORD, "csrf_token": _csrf(client, "/login")}
    assert client.post("/login", data=data).status_code == 302
    return client


QUEUE = "/review/exams/exam-1"
MINUS = "\N{MINUS SIGN}"


def test_queue_shows_flags_by_severity_with_evidence_and_explanation(
    day_app: tuple[Flask, Day],
) -> None:
    app, day = day_app
    page = login(app, "rita").get(QUEUE).get_data(as_text=True)
    phone = page.index(f'id="flag-{day.phone}"')
    looking = page.index(f'id="flag-{day.looking_away}"')
    assert phone < looking  # high before medium
    assert f'id="flag-{day.raised_hand}"' not in page  # information, not a flag
    assert f'src="/api/v1/evidence/{SHA_A}"' in page
    assert EXPLANATION.replace("'", "&#39;") in page
    assert page.count('name="csrf_token"') >= 3  # each decision form and the release form


@pytest.mark.parametrize("path", [QUEUE, "/review/", "/results/sessions/sess-1"])
def test_invigilators_cannot_review_or_see_results(day_app: tuple[Flask, Day], path: str) -> None:
    app, _ = day_app
    assert login(app, "ivy").get(path).status_code == 403
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]


def test_decision_needs_the_csrf_token(day_app: tuple[Flask, Day]) -> None:
    app, day = day_app
    client = login(app, "rita")
    response = client.post(f"/review/violations/{day.phone}", data={"decision": "confirmed"})
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"] == "csrf_failed"
    assert f'id="flag-{day.phone}"' in client.get(QUEUE).get_data(as_text=True)


def test_confirm_and_dismiss_release_the_result(day_app: tuple[Flask, Day]) -> None:
    app, day = day_app
    client = login(app, "rita")
    before = client.get("/results/sessions/sess-1").get_data(as_text=True)
    assert "Not released. Provisional: Pass: trust 87 ≥ 70, score 75 % ≥ 40 %" in before
    assert "2 flag(s) waiting for review." in before
    for violation, decision in ((day.phone, "confirmed"), (day.looking_away, "dismissed")):
        token = _csrf(client, QUEUE)
        response = client.post(
            f"/review/violations/{violation}",
            data={"csrf_token": token, "decision": decision, "note": f"{decision} on video"},
        )
        assert response.status_code == 303
        assert response.headers["Location"].endswith(QUEUE)
    queue = client.get(QUEUE).get_data(as_text=True)
    assert "Result of session sess-1 released." in queue
    assert "<td>submitted</td>" in queue  # the kiosk's submitted message finished it
    assert "Every flag of this exam is reviewed." in queue
    page = client.get("/results/sessions/sess-1").get_data(as_text=True)
    assert 'class="verdict pass" id="verdict">Pass: trust 84.2 ≥ 70, score 75 % ≥ 40 %' in page
    assert f"{MINUS}15.8" in page  # the phone's cost: 15 x 1.05
    assert f"1 answer, {MINUS}0.25 marks" in page
    assert "4 answers, +4 marks" in page
    # The exam day's kiosk has no key in device_keys: said plainly, never shown as verified.
    assert "Evidence integrity not verifiable: no signing key registered for kiosk-1" in page
    engine = create_db_engine(app.config["DATABASE_URL"])
    with make_sessionmaker(engine)() as session:
        audit = entries_for(session, "violation", day.looking_away)
    engine.dispose()
    assert [(a.action, a.username) for a in audit] == [("review.dismissed", "rita")]


def test_bad_decision_shows_a_message(day_app: tuple[Flask, Day]) -> None:
    app, day = day_app
    client = login(app, "ada")
    token = _csrf(client, QUEUE)
    response = client.post(
        f"/review/violations/{day.raised_hand}",
        data={"csrf_token": token, "decision": "confirmed"},
        follow_redirects=True,
    )
    assert "is information, not a flag to review" in response.get_data(as_text=True)


def test_release_clean_sessions_button(day_app: tuple[Flask, Day]) -> None:
    app, _ = day_app
    client = login(app, "rita")
    token = _csrf(client, QUEUE)
    response = client.post(
        "/review/exams/exam-1/release", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Released 1 result(s): sess-2." in response.get_data(as_text=True)
    page = client.get("/results/sessions/sess-2").get_data(as_text=True)
    assert 'class="verdict fail" id="verdict">Fail: score 20 % &lt; 40 %' in page


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/review/exams/nope"),
        ("get", "/results/sessions/nope"),
        ("post", "/review/violations/nope"),
        ("post", "/review/exams/nope/release"),
        ("post", "/review/sessions/nope/release"),
        ("get", "/results/sessions/..%2F..%2Fetc%2Fpasswd"),
    ],
)
def test_unknown_things_are_404(day_app: tuple[Flask, Day], method: str, path: str) -> None:
    app, _ = day_app
    client = login(app, "rita")
    data = {"csrf_token": _csrf(client, QUEUE), "decision": "confirmed"}
    response = client.post(path, data=data) if method == "post" else client.get(path)
    assert response.status_code == 404
