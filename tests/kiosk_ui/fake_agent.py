"""A stand-in for the agent's local API (docs/kiosk-local-api.md), for tests that must not
depend on the camera and vision stack: in-memory state, every message and signal kept in
`outbox` as the agent would store it. Served for real (werkzeug on 127.0.0.1) so the kiosk
screen talks HTTP to it exactly as to the agent.
"""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, jsonify, request
from PIL import Image
from werkzeug.serving import make_server

from protocol.exam import ExamDefinition
from protocol.ids import uuid7

SESSION_KINDS = {"checkin", "answer", "submitted", "consent", "explanation"}


class FakeAgent:
    def __init__(self, exam: ExamDefinition, *, session_id: str = "sess-1") -> None:
        self.exam = exam
        self.enrolment: dict[str, Any] | None = {
            "session_id": session_id,
            "candidate_id": "cand-1",
            "candidate_number": "C-1001",
            "display_name": "Ada Lovelace",
            "exam_id": exam.id,
            "seat_id": "seat-7",
            "language": "en",
        }
        self.control: dict[str, Any] = {
            "paused": False,
            "ended": False,
            "ended_reason": None,
            "warnings": [],
            "warning_count": 0,
            "messages": [],
            "extra_time_s": 0.0,
        }
        self.health = {
            "camera": "ok",
            "microphone": "ok",
            "face_found_ratio": 0.98,
            "network": "online",
            "outbox_depth": 0,
        }
        self.face_match = ["match"]  # statuses answered in turn; the last one repeats
        self.outbox: list[dict[str, Any]] = []  # messages and violations, as stored
        self.progress: list[dict[str, Any]] = []
        self.seen: list[str] = []
        self.down = False  # answer 503 storage to everything that stores
        self.lock = threading.Lock()

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.outbox if m["kind"] == kind]

    def warn(self, text: str) -> str:
        warning_id = str(uuid7())
        with self.lock:
            self.control["warnings"].append(
                {
                    "id": warning_id,
                    "text": text,
                    "issued_at": "2026-12-04T10:00:00+00:00",
                    "issued_by": "invigilator",
                }
            )
            self.control["warning_count"] += 1
        return warning_id

    def app(self) -> Flask:
        app = Flask("fake_agent")
        fake = self

        def error(status: int, code: str, message: str) -> tuple[Response, int]:
            return jsonify({"error": {"code": code, "message": message}}), status

        @app.get("/v1/state")
        def state() -> Response:
            with fake.lock:
                return jsonify(
                    {
                        "device_id": "kiosk-7",
                        "centre_id": "centre-1",
                        "seat_id": "seat-7",
                        "enrolment": fake.enrolment,
                        "exam": fake.exam.model_dump(mode="json"),
                        "control": fake.control,
                        "health": fake.health,
                    }
                )

        @app.post("/v1/messages")
        def messages() -> tuple[Response, int]:
            body = request.get_json()
            if fake.down:
                return error(503, "storage", "outbox cannot store")
            if body.get("kind") not in SESSION_KINDS:
                return error(400, "invalid", "kind")
            if uuid.UUID(body["id"]).version != 7:
                return error(400, "invalid", "id")
            with fake.lock:
                for seq, stored in enumerate(fake.outbox):
                    if stored.get("id") == body["id"]:
                        return jsonify({"id": body["id"], "seq": seq, "duplicate": True}), 200
                fake.outbox.append(body)
                return jsonify({"id": body["id"], "seq": len(fake.outbox) - 1}), 201

        @app.post("/v1/signals")
        def signals() -> tuple[Response, int]:
            body = request.get_json()
            if fake.down:
                return error(503, "storage", "outbox cannot store")
            violation_id = str(uuid7())
            kind = "lockdown_breach" if body["kind"] == "lockdown" else "raised_hand"
            with fake.lock:
                fake.outbox.append(
                    {
                        "kind": "violation",
                        "type": kind,
                        "violation_id": violation_id,
                        "details": {k: v for k, v in body.items() if k != "kind"},
                    }
                )
            return jsonify({"violation_id": violation_id}), 201

        @app.post("/v1/face-match")
        def face_match() -> Response:
            with fake.lock:
                status = fake.face_match.pop(0) if len(fake.face_match) > 1 else fake.face_match[0]
            return jsonify({"status": status, "distance": 0.31 if status == "match" else None})

        @app.post("/v1/calibrate")
        def calibrate() -> Response:
            return jsonify(
                {
                    "status": "ok",
                    "neutral": {"yaw": 1.0, "pitch": -2.0, "roll": 0.5},
                    "face_found_ratio": 0.97,
                }
            )

        @app.put("/v1/progress")
        def progress() -> Response:
            with fake.lock:
                fake.progress.append(request.get_json())
            return Response(status=204)

        @app.post("/v1/warnings/<warning_id>/seen")
        def seen(warning_id: str) -> Response:
            with fake.lock:
                fake.seen.append(warning_id)
            return Response(status=204)

        @app.get("/v1/preview.jpg")
        def preview() -> Response:
            buffer = io.BytesIO()
            Image.new("RGB", (640, 360), (90, 110, 130)).save(buffer, "JPEG")
            return Response(buffer.getvalue(), mimetype="image/jpeg")

        return app


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
