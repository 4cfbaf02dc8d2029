"""The screens through Flask's test client, against the stand-in agent served over HTTP
(tests/kiosk_ui/fake_agent.py): stage order, check-in retries and override, consent, answers
and submission reaching the agent, control from the agent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from kiosk_ui.app import create_app
from kiosk_ui.service import KioskService, KioskSettings
from protocol.models import ExamProgress
from tests.kiosk_ui.conftest import FakeKioskClock
from tests.kiosk_ui.exams import four_kinds
from tests.kiosk_ui.fake_agent import FakeAgent, serve


@pytest.fixture
def agent() -> FakeAgent:
    return FakeAgent(
        four_kinds(
            scoring={"negative_marks": 0.5, "time_penalty_s": 30}, policy={"duration_s": 300}
        )
    )


@pytest.fixture
def app(tmp_path: Path, agent: FakeAgent, clock: FakeKioskClock) -> Iterator[Flask]:
    with serve(agent.app()) as url:
        application = create_app(
            tmp_path / "screen.sqlite3",
            url,
            clock=clock,
            settings=KioskSettings(max_face_attempts=2),
        )
        yield application
        service(application).store.close()


def service(app: Flask) -> KioskService:
    kiosk: KioskService = app.extensions["kiosk"]
    return kiosk


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def follow(client: FlaskClient, path: str, data: dict[str, Any] | None = None) -> str:
    response = client.post(path, data=data or {}) if data is not None else client.get(path)
    while response.status_code in (302, 303):
        response = client.get(response.headers["Location"])
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def as_json(response: TestResponse) -> dict[str, Any]:
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def checked_in(client: FlaskClient, language: str = "en") -> str:
    follow(client, "/language", {"language": language})
    follow(client, "/checkin", {"candidate_number": "C-1001"})
    follow(client, "/calibration", {})
    follow(client, "/calibration/continue", {})
    return follow(client, "/consent", {"accept": "yes"})


def test_screens_come_in_order(client: FlaskClient) -> None:
    assert "Choose your language" in follow(client, "/")
    assert "Choose your language" in follow(client, "/quiz")  # no skipping ahead
    assert "Check-in" in follow(client, "/language", {"language": "en"})
    assert "Check-in" in follow(client, "/consent")


def test_full_path_sends_every_message(app: Flask, client: FlaskClient, agent: FakeAgent) -> None:
    page = checked_in(client)
    assert "Question 1 of 4" in page
    follow(client, "/quiz", {"answer": "q1o0", "action": "next"})  # wrong: 0.5 marks and 30 s off
    follow(client, "/quiz", {"answer": ["q2o0", "q2o3"], "action": "next"})
    follow(client, "/submit", {"confirm": "yes"})
    page = follow(client, "/result")
    assert "Marks taken off for wrong answers" in page
    assert "30 seconds" in page
    service(app).forward()
    kinds = [m["kind"] for m in agent.outbox]
    assert kinds == ["checkin", "consent", "answer", "answer", "submitted"]
    checkin, consent = agent.outbox[0], agent.outbox[1]
    assert (checkin["method"], checkin["attempts"], checkin["match_distance"]) == (
        "face_match",
        1,
        0.31,
    )
    assert consent["accepted"] is True
    assert consent["language"] == "en"
    assert agent.outbox[-1]["reason"] == "candidate"


def test_failed_face_matches_lead_to_an_override(
    client: FlaskClient, agent: FakeAgent, app: Flask
) -> None:
    agent.face_match = ["move_closer", "more_light"]
    follow(client, "/language", {"language": "en"})
    assert "Move closer to the camera." in follow(
        client, "/checkin", {"candidate_number": "C-1001"}
    )
    page = follow(client, "/checkin", {"candidate_number": "C-1001"})
    assert "More light is needed" in page
    assert "ask the invigilator" in page
    # no third try: the form is gone and a post changes nothing
    assert "invigilator" in follow(client, "/checkin", {"candidate_number": "C-1001"})
    follow(client, "/checkin/override", {"invigilator": "J. Smith"})
    service(app).forward()
    checkin = agent.kinds("checkin")[0]
    assert (checkin["method"], checkin["override_by"], checkin["attempts"]) == (
        "override",
        "J. Smith",
        2,
    )


def test_pages_follow_the_chosen_language(client: FlaskClient) -> None:
    page = follow(client, "/language", {"language": "fr"})
    assert '<html lang="fr" dir="ltr">' in page
    assert "Numéro de candidat" in page
    page = checked_in(client, "fr")
    assert "Question 1 sur 4" in page
    assert "Lever la main" in page


def test_a_new_candidate_starts_in_the_enrolled_language(
    tmp_path: Path, clock: FakeKioskClock
) -> None:
    agent = FakeAgent(four_kinds())
    assert agent.enrolment is not None
    agent.enrolment["language"] = "fr"
    with serve(agent.app()) as url:
        app = create_app(tmp_path / "screen.sqlite3", url, clock=clock)
        assert "Choisissez votre langue" in follow(app.test_client(), "/")
        service(app).store.close()


def test_consent_is_required(client: FlaskClient) -> None:
    follow(client, "/language", {"language": "en"})
    follow(client, "/checkin", {"candidate_number": "C-1001"})
    follow(client, "/calibration", {})
    follow(client, "/calibration/continue", {})
    assert "You must accept the rules" in follow(client, "/consent", {})


def test_answers_wait_for_the_agent(app: Flask, client: FlaskClient, agent: FakeAgent) -> None:
    checked_in(client)
    agent.down = True
    response = client.post("/api/answer", json={"question_id": "q1", "answer": "q1o2"})
    assert response.status_code == 200
    assert as_json(response)["saved"] is True
    service(app).forward()
    assert agent.kinds("answer") == []
    assert service(app).store.pending_count() == 3
    agent.down = False
    service(app).forward()
    assert [m["answer"] for m in agent.kinds("answer")] == ["q1o2"]
    assert service(app).store.pending_count() == 0


def test_api_refuses_bad_answers(client: FlaskClient) -> None:
    checked_in(client)
    bad = client.post("/api/answer", json={"question_id": "q1", "answer": "zzz"})
    assert bad.status_code == 400
    assert as_json(bad)["error"]["code"] == "invalid"
    assert (
        client.post("/api/answer", json={"question_id": "nope", "answer": "x"}).status_code == 400
    )


def test_control_pauses_warns_and_ends(
    app: Flask, client: FlaskClient, agent: FakeAgent, clock: FakeKioskClock
) -> None:
    checked_in(client)
    kiosk = service(app)
    agent.control["paused"] = True
    kiosk.beat()
    clock.advance(100)
    status = as_json(client.get("/api/status"))
    assert status["paused"] is True
    assert status["remaining_s"] == 300
    assert (
        client.post("/api/answer", json={"question_id": "q1", "answer": "q1o2"}).status_code == 409
    )
    agent.control["paused"] = False
    warning_id = agent.warn("Please look at your screen.")
    kiosk.beat()
    status = as_json(client.get("/api/status"))
    assert status["warning_count"] == 1
    assert status["warning_limit"] == 5
    assert status["warnings"][-1]["id"] == warning_id
    assert status["can_explain"] is True
    assert client.post("/api/explain", json={"note": "I was thinking"}).status_code == 200
    agent.control["ended"] = True
    kiosk.beat()
    assert "The invigilator ended the exam" in follow(client, "/quiz")
    kiosk.forward()
    assert agent.kinds("explanation")[0]["violation_id"] == warning_id
    assert agent.kinds("submitted")[0]["reason"] == "remote_end"
    assert [p["state"] for p in agent.progress] == ["paused", "running", "submitted"]
    for body in agent.progress:  # what the agent puts in its heartbeat must fit the wire model
        ExamProgress.model_validate_json(json.dumps(body))


def test_reaching_the_warning_limit_ends_the_exam_if_the_policy_says_so(
    tmp_path: Path, clock: FakeKioskClock
) -> None:
    agent = FakeAgent(four_kinds(policy={"warning_limit": 2, "end_at_warning_limit": True}))
    with serve(agent.app()) as url:
        app = create_app(tmp_path / "screen.sqlite3", url, clock=clock)
        client = app.test_client()
        checked_in(client)
        agent.warn("one")
        service(app).beat()
        assert as_json(client.get("/api/status"))["submitted"] is None
        agent.warn("two")
        service(app).beat()
        assert as_json(client.get("/api/status"))["submitted"] == "remote_end"
        service(app).store.close()


def test_screen_restarted_without_its_agent_carries_on_from_the_store(
    tmp_path: Path, agent: FakeAgent, clock: FakeKioskClock
) -> None:
    with serve(agent.app()) as url:
        first = create_app(tmp_path / "screen.sqlite3", url, clock=clock)
        client = first.test_client()
        checked_in(client)
        follow(client, "/quiz", {"answer": "q1o2", "action": "next"})
        service(first).store.close()
    again = create_app(tmp_path / "screen.sqlite3", "http://127.0.0.1:9", clock=clock)
    page = follow(again.test_client(), "/")
    assert "Question 2 of 4" in page
    response = again.test_client().post(
        "/api/answer", json={"question_id": "q2", "answer": ["q2o1"]}
    )
    assert as_json(response)["saved"] is True
    assert service(again).store.pending_count() >= 1  # kept until the agent is back
    service(again).store.close()


def test_signals_reach_the_agent(app: Flask, client: FlaskClient, agent: FakeAgent) -> None:
    checked_in(client)
    assert client.post("/api/signal", json={"signal": "focus_lost"}).status_code == 200
    assert client.post("/api/signal", json={"signal": "bogus"}).status_code == 400
    assert client.post("/api/raise-hand").status_code == 200
    service(app).forward()
    violations = agent.kinds("violation")
    assert [v["type"] for v in violations] == ["lockdown_breach", "raised_hand"]
    # the lockdown violation is now the flag the candidate can explain
    assert service(app).last_flag() == violations[0]["violation_id"]


def test_posts_from_another_origin_are_refused(client: FlaskClient) -> None:
    response = client.post("/api/raise-hand", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403


def test_the_policy_can_keep_the_score_until_after_review(
    tmp_path: Path, clock: FakeKioskClock
) -> None:
    agent = FakeAgent(four_kinds(policy={"duration_s": 300, "show_score": "after_review"}))
    with serve(agent.app()) as url:
        app = create_app(tmp_path / "screen.sqlite3", url, clock=clock)
        client = app.test_client()
        checked_in(client)
        follow(client, "/submit", {"confirm": "yes"})
        page = follow(client, "/result")
        assert 'id="after-review"' in page
        assert 'id="score"' not in page
        service(app).store.close()


def test_extra_time_from_the_invigilator_extends_the_clock_and_survives_a_restart(
    tmp_path: Path, app: Flask, client: FlaskClient, agent: FakeAgent, clock: FakeKioskClock
) -> None:
    checked_in(client)
    clock.advance(100)
    assert as_json(client.get("/api/status"))["remaining_s"] == 200
    agent.control["extra_time_s"] = 120.0  # adjust_time +120 s, summed by the agent
    service(app).beat()
    assert as_json(client.get("/api/status"))["remaining_s"] == 320
    service(app).store.close()
    # The screen restarts while the agent is unreachable: its own store remembers the time.
    again = create_app(tmp_path / "screen.sqlite3", "http://127.0.0.1:9", clock=clock)
    assert as_json(again.test_client().get("/api/status"))["remaining_s"] == 320
    service(again).store.close()
