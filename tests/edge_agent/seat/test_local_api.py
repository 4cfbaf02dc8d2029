"""Every endpoint of docs/kiosk-local-api.md over real HTTP: happy paths and errors."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from edge_agent.seat.commands import apply_command
from edge_agent.seat.sensors import CalibrationResult, FaceMatchResult
from protocol import (
    AnswerSaved,
    CommandType,
    EventState,
    ExamProgress,
    SessionRef,
    Severity,
    ViolationEvent,
    ViolationType,
    decode,
    uuid7,
)
from tests.edge_agent.seat.builders import CENTRE, DEVICE, SEAT, command, enrolment_json, exam_json
from tests.edge_agent.seat.conftest import Served

SUBJECT = SessionRef(seat_id=SEAT, session_id="sess-1", candidate_id="cand-1", exam_id="exam-1")


def _enrol(served: Served) -> None:
    apply_command(served.state, command(CommandType.ENROL, enrolment=enrolment_json()))


def _queued(served: Served) -> list[ViolationEvent | AnswerSaved]:
    messages: list[ViolationEvent | AnswerSaved] = []
    for row in served.outbox.pending(100):
        message = decode(row.topic, row.payload).message
        assert isinstance(message, ViolationEvent | AnswerSaved)
        messages.append(message)
    return messages


def _answer(message_id: uuid.UUID | str, **extra: Any) -> dict[str, Any]:
    return {"id": str(message_id), "kind": "answer", "question_id": "q1", "answer": "b", **extra}


def _error(response: requests.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    return str(error["message"])


# -- GET /v1/state --------------------------------------------------------------------------


def test_state_before_anything_was_sent(served: Served) -> None:
    response = served.get("/state")
    assert response.status_code == 200
    assert response.json() == {
        "device_id": DEVICE,
        "centre_id": CENTRE,
        "seat_id": SEAT,
        "enrolment": None,
        "exam": None,
        "control": {
            "paused": False,
            "ended": False,
            "ended_reason": None,
            "warnings": [],
            "warning_count": 0,
            "extra_time_s": 0.0,
            "messages": [],
        },
        "health": {
            "camera": "ok",
            "microphone": "off",
            "face_found_ratio": 0.9,
            "network": "online",
            "outbox_depth": 0,
        },
    }


def test_state_shows_what_central_sent_but_never_the_encoding(served: Served) -> None:
    apply_command(served.state, command(CommandType.LOAD_EXAM, exam=exam_json()))
    _enrol(served)
    warn = command(CommandType.WARN, text="Eyes on your screen")
    apply_command(served.state, warn)
    apply_command(served.state, command(CommandType.MESSAGE, text="Ten minutes left"))
    apply_command(served.state, command(CommandType.PAUSE))
    body = served.get("/state").json()
    assert body["enrolment"] == {
        "session_id": "sess-1",
        "candidate_id": "cand-1",
        "candidate_number": "C-1001",
        "display_name": "Ada Lovelace",
        "exam_id": "exam-1",
        "seat_id": SEAT,
        "language": "en",
    }
    assert body["exam"]["id"] == "exam-1"
    assert [q["id"] for q in body["exam"]["questions"]] == ["q1", "q2"]
    control = body["control"]
    assert control["paused"] is True
    assert control["warnings"] == [
        {
            "id": str(warn.id),
            "text": "Eyes on your screen",
            "issued_at": "2026-12-04T09:30:00Z",
            "issued_by": "invigilator-3",
        }
    ]
    assert control["warning_count"] == 1
    assert [m["text"] for m in control["messages"]] == ["Ten minutes left"]
    assert "encoding" not in json.dumps(body)


# -- POST /v1/messages ----------------------------------------------------------------------


def test_an_answer_goes_into_the_outbox_under_the_screens_id(served: Served) -> None:
    _enrol(served)
    message_id = uuid7()
    response = served.post("/messages", _answer(message_id, flagged_for_review=True))
    assert response.status_code == 201
    assert response.json() == {"id": str(message_id), "seq": 0}
    [stored] = _queued(served)
    assert isinstance(stored, AnswerSaved)
    assert (stored.id, stored.seq, stored.subject) == (message_id, 0, SUBJECT)
    assert (stored.question_id, stored.answer, stored.flagged_for_review) == ("q1", "b", True)
    assert (stored.centre_id, stored.device_id) == (CENTRE, DEVICE)


def test_the_same_id_twice_is_stored_once(served: Served) -> None:
    _enrol(served)
    served.post("/messages", _answer(uuid7()))
    message_id = uuid7()
    first = served.post("/messages", _answer(message_id))
    again = served.post("/messages", _answer(message_id))
    assert (first.status_code, first.json()) == (201, {"id": str(message_id), "seq": 1})
    assert (again.status_code, again.json()) == (
        200,
        {"id": str(message_id), "seq": 1, "duplicate": True},
    )
    assert served.outbox.depth() == 2


def test_an_id_is_remembered_after_central_acknowledged_it(served: Served) -> None:
    """The outbox row is gone once acked; the seat state still knows the id was taken."""
    _enrol(served)
    message_id = uuid7()
    served.post("/messages", _answer(message_id))
    served.outbox.delete([message_id])
    again = served.post("/messages", _answer(message_id))
    assert again.json() == {"id": str(message_id), "seq": 0, "duplicate": True}
    assert served.outbox.depth() == 0


def test_every_session_kind_is_accepted(served: Served) -> None:
    _enrol(served)
    bodies: list[dict[str, Any]] = [
        {"kind": "checkin", "method": "face_match", "match_distance": 0.31, "attempts": 1},
        {"kind": "consent", "rules_version": "2026-1", "language": "en", "accepted": True},
        {"kind": "answer", "question_id": "q2", "answer": 3.14},
        {"kind": "explanation", "violation_id": str(uuid7()), "note": "I sneezed."},
        {"kind": "submitted", "reason": "candidate", "answered_count": 2},
    ]
    for seq, body in enumerate(bodies):
        response = served.post("/messages", {"id": str(uuid7()), **body})
        assert (response.status_code, response.json()["seq"]) == (201, seq), response.text
    kinds = [decode(row.topic, row.payload).message.kind for row in served.outbox.pending(10)]
    assert kinds == ["checkin", "consent", "answer", "explanation", "submitted"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "answer", "question_id": "q1", "answer": "b"}, "id"),
        ({"id": str(uuid.uuid4()), "kind": "answer", "question_id": "q1"}, "id"),
        ({"id": "not-a-uuid", "kind": "answer"}, "id"),
        (_answer(uuid7(), kind="grade"), "kind"),
        (_answer(uuid7(), seq=4), "seq"),
        (_answer(uuid7(), subject={"seat_id": "seat-99"}), "subject"),
        (_answer(uuid7(), colour="red"), "colour"),
        (_answer(uuid7(), question_id="has spaces"), "question_id"),
        ({"id": str(uuid7()), "kind": "checkin", "method": "face_match"}, "attempts"),
        ([1, 2], "body"),
    ],
)
def test_an_invalid_message_names_the_field(served: Served, body: Any, field: str) -> None:
    _enrol(served)
    message = _error(served.post("/messages", body), 400, "invalid")
    assert message.startswith(field), message
    assert served.outbox.depth() == 0


def test_a_body_that_is_not_json_is_invalid(served: Served) -> None:
    response = requests.post(served.url("/messages"), data=b"{nope", timeout=10)
    assert _error(response, 400, "invalid") == "body: is not valid JSON"


def test_a_message_without_an_enrolment_is_refused(served: Served) -> None:
    _error(served.post("/messages", _answer(uuid7())), 409, "no_session")
    assert served.outbox.depth() == 0


def test_a_body_over_64_kib_is_too_large(served: Served) -> None:
    _enrol(served)
    response = served.post("/messages", _answer(uuid7(), answer="x" * (64 * 1024)))
    _error(response, 413, "too_large")
    assert served.outbox.depth() == 0


def test_an_outbox_that_cannot_store_answers_503(served: Served) -> None:
    _enrol(served)
    served.outbox.close()
    _error(served.post("/messages", _answer(uuid7())), 503, "storage")


# -- POST /v1/signals -----------------------------------------------------------------------


def test_a_lockdown_signal_becomes_a_point_lockdown_breach(served: Served) -> None:
    _enrol(served)
    body = {"kind": "lockdown", "signal": "fullscreen_exit", "detail": "F11"}
    response = served.post("/signals", body)
    assert response.status_code == 201
    violation_id = uuid.UUID(response.json()["violation_id"])
    started, ended = _queued(served)
    for event in (started, ended):
        assert isinstance(event, ViolationEvent)
        assert (event.violation_id, event.type, event.severity) == (
            violation_id,
            ViolationType.LOCKDOWN_BREACH,
            Severity.MEDIUM,
        )
        assert event.details == {"signal": "fullscreen_exit", "detail": "F11"}
        assert (event.subject, event.duration_s) == (SUBJECT, 0.0)
    assert isinstance(started, ViolationEvent)
    assert isinstance(ended, ViolationEvent)
    assert (started.state, ended.state) == (EventState.STARTED, EventState.ENDED)
    assert ended.ended_at == ended.started_at


def test_a_raised_hand_is_an_info_violation(served: Served) -> None:
    response = served.post("/signals", {"kind": "raise_hand"})
    assert response.status_code == 201
    events = _queued(served)
    assert [(e.type, e.severity) for e in events if isinstance(e, ViolationEvent)] == [
        (ViolationType.RAISED_HAND, Severity.INFO)
    ] * 2
    assert events[0].subject == SessionRef(seat_id=SEAT)  # nobody enrolled: the seat only


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "lockdown", "signal": "screenshot"}, "lockdown.signal"),
        ({"kind": "lockdown", "signal": "focus_lost", "detail": "x" * 201}, "lockdown.detail"),
        ({"kind": "raise_hand", "urgent": True}, "raise_hand.urgent"),
        ({"kind": "wave"}, "body"),
    ],
)
def test_an_invalid_signal_names_the_field(served: Served, body: Any, field: str) -> None:
    message = _error(served.post("/signals", body), 400, "invalid")
    assert message.startswith(field), message
    assert served.outbox.depth() == 0


# -- POST /v1/face-match --------------------------------------------------------------------


def test_face_match_asks_the_sensors_with_the_enrolment(served: Served) -> None:
    _enrol(served)
    response = served.post("/face-match", {"candidate_number": " c-1001 "})
    assert response.json() == {"status": "match", "distance": 0.31}
    assert served.sensors.asked == [("face_match", (128, " c-1001 "))]
    served.sensors.match = FaceMatchResult("more_light")
    response = served.post("/face-match", {"candidate_number": "C-1001"})
    assert response.json() == {"status": "more_light", "distance": None}


def test_face_match_without_enrolment_or_for_another_candidate(served: Served) -> None:
    response = served.post("/face-match", {"candidate_number": "C-1001"})
    assert response.json() == {"status": "no_enrolment", "distance": None}
    _enrol(served)
    response = served.post("/face-match", {"candidate_number": "C-2002"})
    assert response.json() == {"status": "wrong_candidate", "distance": None}
    assert served.sensors.asked == []
    _error(served.post("/face-match", {"candidate_number": ""}), 400, "invalid")
    _error(served.post("/face-match", {}), 400, "invalid")


# -- POST /v1/calibrate ---------------------------------------------------------------------


def test_calibrate_defaults_to_three_seconds(served: Served) -> None:
    response = requests.post(served.url("/calibrate"), timeout=10)
    assert response.json() == {
        "status": "ok",
        "neutral": {"yaw": 4.0, "pitch": -6.0, "roll": 1.0},
        "face_found_ratio": 0.95,
    }
    served.sensors.calibration = CalibrationResult("no_face", None, 0.1)
    response = served.post("/calibrate", {"seconds": 5})
    assert response.json() == {"status": "no_face", "neutral": None, "face_found_ratio": 0.1}
    assert served.sensors.asked == [("calibrate", 3.0), ("calibrate", 5.0)]


@pytest.mark.parametrize("body", [{"seconds": 0}, {"seconds": 11}, {"seconds": "3"}, {"s": 3}])
def test_calibrate_refuses_bad_durations(served: Served, body: dict[str, Any]) -> None:
    _error(served.post("/calibrate", body), 400, "invalid")
    assert served.sensors.asked == []


# -- PUT /v1/progress -----------------------------------------------------------------------


def test_progress_is_kept_and_handed_to_the_heartbeat(served: Served) -> None:
    body = {"state": "running", "answered": 3, "total": 10, "remaining_s": 600.0, "warnings": 1}
    response = served.put("/progress", body)
    assert (response.status_code, response.content) == (204, b"")
    expected = ExamProgress(state="running", answered=3, total=10, remaining_s=600.0, warnings=1)
    assert served.progress == [expected]
    assert served.state.progress() == expected


def test_bad_progress_is_refused(served: Served) -> None:
    message = _error(served.put("/progress", {"state": "dancing"}), 400, "invalid")
    assert message.startswith("state")
    _error(served.post("/progress", {"state": "running"}), 405, "method_not_allowed")
    assert served.progress == []


# -- POST /v1/warnings/<id>/seen -------------------------------------------------------------


def test_a_warning_is_marked_seen(served: Served) -> None:
    _enrol(served)
    warn = command(CommandType.WARN, text="No phones")
    apply_command(served.state, warn)
    response = requests.post(served.url(f"/warnings/{warn.id}/seen"), timeout=10)
    assert response.status_code == 204
    assert served.state.control().warnings[0].seen
    missing = requests.post(served.url(f"/warnings/{uuid7()}/seen"), timeout=10)
    _error(missing, 404, "unknown")


# -- GET /v1/preview.jpg --------------------------------------------------------------------


def test_preview_is_the_sensors_jpeg_or_503(served: Served) -> None:
    response = served.get("/preview.jpg")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content == served.sensors.jpeg
    served.sensors.jpeg = None
    _error(served.get("/preview.jpg"), 503, "no_frame")


# -- everything else ------------------------------------------------------------------------


def test_unknown_paths_and_methods(served: Served) -> None:
    _error(served.get("/nothing"), 404, "unknown")
    _error(served.post("/state", {}), 405, "method_not_allowed")


def test_requests_for_another_host_or_from_another_origin_are_refused(served: Served) -> None:
    rebinding = served.get("/state", headers={"Host": "evil.example:8771"})
    _error(rebinding, 403, "forbidden")
    cross_site = served.post(
        "/signals", {"kind": "raise_hand"}, headers={"Origin": "https://evil.example"}
    )
    _error(cross_site, 403, "forbidden")
    assert served.outbox.depth() == 0
    local_page = served.get("/state", headers={"Origin": "http://127.0.0.1:8770"})
    assert local_page.status_code == 200
