"""The kiosk's local API (docs/kiosk-local-api.md) as a WSGI app on plain Werkzeug.

    api = LocalApi(state, outbox, Sender(origin, clock, seat_id), sensors, on_progress=sink)
    server = LocalApiServer(api, port=8771)  # edge_agent.seat.server

Errors are `{"error": {"code", "message"}}`: 400 invalid (naming the field), 403 forbidden (a
request not addressed to the loopback host, or from a web page of another origin: DNS
rebinding and cross-site posts), 404 unknown, 405 method_not_allowed, 409 no_session,
413 too_large (bodies over 64 KiB), 503 storage (the outbox or the seat state cannot store:
the screen keeps the message and retries), 503 no_frame (no preview yet).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from edge_agent.outbox import Outbox, OutboxError
from edge_agent.seat.bodies import (
    CalibrateBody,
    FaceMatchBody,
    LockdownBody,
    MessageEnvelope,
    RaiseHandBody,
    SignalBody,
)
from edge_agent.seat.messages import (
    BodyError,
    Sender,
    lockdown_details,
    point_violation,
    session_message,
    with_seq,
)
from edge_agent.seat.sensors import FaceMatchResult, SeatSensors
from edge_agent.seat.state import Control, SeatState, SeatStateError
from protocol import ExamProgress, ViolationType
from protocol.exam import Enrolment

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
T = TypeVar("T")
ProgressSink = Callable[[ExamProgress], None]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class _Request(Request):
    max_content_length = MAX_BODY_BYTES


def _json(payload: object, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _json({"error": {"code": code, "message": message}}, status)


def _invalid(error: ValidationError | BodyError) -> ApiError:
    if isinstance(error, BodyError):
        return ApiError(400, "invalid", str(error))
    item = error.errors()[0]
    field = ".".join(str(part) for part in item["loc"]) or "body"
    return ApiError(400, "invalid", f"{field}: {item['msg']}")


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class LocalApi:
    """The WSGI app. `on_progress` gets every ExamProgress the screen reports (for the
    heartbeat); the last one is also kept in the seat state."""

    def __init__(
        self,
        state: SeatState,
        outbox: Outbox,
        sender: Sender,
        sensors: SeatSensors,
        *,
        on_progress: ProgressSink | None = None,
    ) -> None:
        self.state = state
        self.outbox = outbox
        self.sender = sender
        self.sensors = sensors
        self._on_progress = on_progress
        self._routes: dict[str, Callable[..., Response]] = {
            "state": self._get_state,
            "messages": self._post_message,
            "signals": self._post_signal,
            "face_match": self._post_face_match,
            "calibrate": self._post_calibrate,
            "progress": self._put_progress,
            "warning_seen": self._post_warning_seen,
            "preview": self._get_preview,
            "qr": self._get_qr,
        }
        self.url_map = Map(
            [
                Rule("/v1/state", endpoint="state", methods=["GET"]),
                Rule("/v1/messages", endpoint="messages", methods=["POST"]),
                Rule("/v1/signals", endpoint="signals", methods=["POST"]),
                Rule("/v1/face-match", endpoint="face_match", methods=["POST"]),
                Rule("/v1/calibrate", endpoint="calibrate", methods=["POST"]),
                Rule("/v1/progress", endpoint="progress", methods=["PUT"]),
                Rule("/v1/warnings/<warning_id>/seen", endpoint="warning_seen", methods=["POST"]),
                Rule("/v1/preview.jpg", endpoint="preview", methods=["GET"]),
                Rule("/v1/qr", endpoint="qr", methods=["GET"]),
            ]
        )

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        response = self.dispatch(_Request(environ))
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:  # noqa: PLR0911 - one error table
        try:
            _check_addressed_to_us(request)
            endpoint, values = self.url_map.bind_to_environ(request.environ).match()
            return self._routes[str(endpoint)](request, **values)
        except ApiError as exc:
            return _error(exc.status, exc.code, exc.message)
        except NotFound:
            return _error(404, "unknown", f"no such resource: {request.path}")
        except MethodNotAllowed as exc:
            allowed = ", ".join(exc.valid_methods or ())
            return _error(405, "method_not_allowed", f"{request.method} not allowed; use {allowed}")
        except RequestEntityTooLarge:
            return _error(413, "too_large", f"body is larger than {MAX_BODY_BYTES} bytes")
        except (OutboxError, SeatStateError) as exc:
            log.error("local API cannot store: %s", exc)
            return _error(503, "storage", f"cannot store now, retry later: {exc}")
        except HTTPException as exc:
            return _error(exc.code or 500, "http", exc.description or exc.name)
        except Exception:  # request boundary: the screen gets an answer, the log the trace
            log.exception("local API %s %s failed", request.method, request.path)
            return _error(500, "internal", "internal error in the agent")

    # -- bodies ----------------------------------------------------------------------------

    @staticmethod
    def _body(request: Request, adapter: TypeAdapter[T], *, empty_ok: bool = False) -> T:
        data = request.get_data(cache=False)
        if not data.strip() and empty_ok:
            data = b"{}"
        try:
            return adapter.validate_json(data)
        except ValidationError as exc:
            if any(item["type"] == "json_invalid" for item in exc.errors()):
                raise ApiError(400, "invalid", "body: is not valid JSON") from exc
            raise _invalid(exc) from exc

    def _enrolment(self) -> Enrolment:
        enrolment = self.state.enrolment()
        if enrolment is None:
            raise ApiError(409, "no_session", "no candidate is enrolled at this seat")
        return enrolment

    # -- endpoints -------------------------------------------------------------------------

    def _get_state(self, _request: Request) -> Response:
        enrolment = self.state.enrolment()
        exam_json = self.state.exam_json()
        origin = self.sender.origin
        health: dict[str, object] = dict(self.sensors.health())
        health["outbox_depth"] = self.outbox.depth()
        return _json(
            {
                "device_id": origin.device_id,
                "centre_id": origin.centre_id,
                "seat_id": enrolment.seat_id if enrolment else self.sender.seat_id,
                "enrolment": None if enrolment is None else _public(enrolment),
                "exam": None if exam_json is None else json.loads(exam_json),
                "control": _control(self.state.control()),
                "health": health,
            }
        )

    def _post_message(self, request: Request) -> Response:
        envelope = self._body(request, _ENVELOPE)
        message_id = envelope.id
        seq = self.state.local_message_seq(str(message_id))
        if seq is not None:
            return _json({"id": str(message_id), "seq": seq, "duplicate": True})
        self._enrolment()
        body = {**(envelope.model_extra or {}), "kind": envelope.kind}
        try:
            message = session_message(body, message_id, self.sender, self.state.subject())
        except BodyError as exc:
            raise _invalid(exc) from exc
        stored, duplicate = self.outbox.enqueue_once(message_id, with_seq(message))
        self.state.remember_local_message(str(message_id), stored.seq)
        if duplicate:
            return _json({"id": str(message_id), "seq": stored.seq, "duplicate": True})
        log.info("%s %s stored as seq %d", envelope.kind, message_id, stored.seq)
        return _json({"id": str(message_id), "seq": stored.seq}, 201)

    def _post_signal(self, request: Request) -> Response:
        body = self._body(request, _SIGNAL)
        subject = self.state.subject(self.sender.seat_id)
        if isinstance(body, LockdownBody):
            details = lockdown_details(body.signal, body.detail)
            kind = ViolationType.LOCKDOWN_BREACH
        else:
            details, kind = {}, ViolationType.RAISED_HAND
        violation_id = point_violation(self.outbox, self.sender, subject, kind, details)
        return _json({"violation_id": str(violation_id)}, 201)

    def _post_face_match(self, request: Request) -> Response:
        body = self._body(request, _FACE_MATCH)
        enrolment = self.state.enrolment()
        if enrolment is None:
            result = FaceMatchResult("no_enrolment")
        elif _same_number(body.candidate_number, enrolment.candidate_number):
            result = self.sensors.face_match(list(enrolment.encoding), body.candidate_number)
        else:
            result = FaceMatchResult("wrong_candidate")
        log.info("face match: %s (distance %s)", result.status, result.distance)
        return _json({"status": result.status, "distance": result.distance})

    def _post_calibrate(self, request: Request) -> Response:
        body = self._body(request, _CALIBRATE, empty_ok=True)
        result = self.sensors.calibrate(body.seconds)
        neutral = None if result.neutral is None else asdict(result.neutral)
        return _json(
            {
                "status": result.status,
                "neutral": neutral,
                "face_found_ratio": result.face_found_ratio,
            }
        )

    def _put_progress(self, request: Request) -> Response:
        progress = self._body(request, _PROGRESS)
        self.state.set_progress(progress)
        if self._on_progress is not None:
            self._on_progress(progress)
        return Response(status=204)

    def _post_warning_seen(self, _request: Request, warning_id: str) -> Response:
        if not self.state.mark_warning_seen(warning_id):
            raise ApiError(404, "unknown", f"no warning {warning_id}")
        return Response(status=204)

    def _get_qr(self, _request: Request) -> Response:
        return _json({"text": self.sensors.read_qr()})

    def _get_preview(self, _request: Request) -> Response:
        jpeg = self.sensors.preview_jpeg()
        if jpeg is None:
            raise ApiError(503, "no_frame", "no camera frame yet")
        response = Response(jpeg, mimetype="image/jpeg")
        response.headers["Cache-Control"] = "no-store"
        return response


_ENVELOPE = TypeAdapter(MessageEnvelope)
_SIGNAL: TypeAdapter[LockdownBody | RaiseHandBody] = TypeAdapter(SignalBody)
_FACE_MATCH = TypeAdapter(FaceMatchBody)
_CALIBRATE = TypeAdapter(CalibrateBody)
_PROGRESS = TypeAdapter(ExamProgress)


def _check_addressed_to_us(request: Request) -> None:
    """Refuse what a web page elsewhere could make a browser send: a Host other than the
    loopback (DNS rebinding) or an Origin that is not a loopback page (cross-site posts)."""
    host = urlsplit(f"//{request.host}").hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise ApiError(403, "forbidden", f"host {host!r} is not the loopback address")
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null":
        origin_host = urlsplit(origin).hostname or ""
        if origin_host not in LOOPBACK_HOSTS:
            raise ApiError(403, "forbidden", f"requests from {origin!r} are not accepted")


def _same_number(typed: str, enrolled: str) -> bool:
    """Candidate numbers as typed on a kiosk: spaces around and letter case do not matter."""
    return typed.strip().casefold() == enrolled.strip().casefold()


def _public(enrolment: Enrolment) -> dict[str, str]:
    """The enrolment without its face encoding (the screen never needs it)."""
    return enrolment.model_dump(
        mode="json",
        include={
            "session_id",
            "candidate_id",
            "candidate_number",
            "display_name",
            "exam_id",
            "seat_id",
            "language",
        },
    )


def _control(control: Control) -> dict[str, object]:
    return {
        "paused": control.paused,
        "ended": control.ended,
        "ended_reason": control.ended_reason,
        "warnings": [
            {"id": w.id, "text": w.text, "issued_at": _utc(w.issued_at), "issued_by": w.issued_by}
            for w in control.warnings
        ],
        "warning_count": len(control.warnings),
        "extra_time_s": control.extra_time_s,
        "messages": [
            {"id": m.id, "text": m.text, "issued_at": _utc(m.issued_at)} for m in control.messages
        ],
    }
