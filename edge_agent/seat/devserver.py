"""The local API without the agent: real seat-state and outbox files, a file as the camera.

For the kiosk screen's browser tests and for the demo. Besides the `/v1` API it serves a few
`/dev` routes (here only, never in the agent) so a test can play central and the camera:

    POST /dev/command  {"type": "warn", "args": {"text": "..."}, "issued_by": "..."}
                       -> {"command_id", "status", "detail"}  (applied like central's command)
    GET  /dev/outbox   -> {"messages": [...every message waiting in the outbox, as JSON...]}
    PUT  /dev/camera   {"path": "/some/photo.jpg" or null}  -> 204 (null: camera lost)
    PUT  /dev/network  {"network": "online" | "offline"}    -> 204 (what /v1/state reports)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import cv2
from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError
from werkzeug.wrappers import Request, Response

from edge_agent.capture.source import check_image
from edge_agent.clock import SystemClock
from edge_agent.messages import Origin
from edge_agent.outbox import Outbox
from edge_agent.seat.face_match import FaceMatcher
from edge_agent.seat.file_camera import FileCamera, FileSensors
from edge_agent.seat.local_api import LocalApi
from edge_agent.seat.messages import Sender, apply_and_answer
from edge_agent.seat.server import LocalApiServer
from edge_agent.seat.state import SeatState
from edge_agent.vision.identity import FaceRecognitionConfig
from protocol import Command, CommandType, decode, uuid7

log = logging.getLogger(__name__)


class DevStartError(RuntimeError):
    """The dev server cannot start as asked (bad exam file, photo without a face, ...)."""


@dataclass(frozen=True)
class DevOptions:
    data_dir: Path
    port: int = 8771
    camera: Path | None = None
    exam: Path | None = None
    enrolment: Path | None = None
    enrol_photo: Path | None = None
    candidate_number: str = "C-0001"
    centre_id: str = "centre-1"
    device_id: str = "kiosk-dev"
    seat_id: str = "seat-01"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _CommandBody(_Strict):
    type: CommandType
    args: dict[str, JsonValue] = {}
    issued_by: str = "dev server"


class _CameraBody(_Strict):
    path: str | None


class _NetworkBody(_Strict):
    network: Literal["online", "offline"]


class DevServer:
    def __init__(self, options: DevOptions) -> None:
        self.options = options
        options.data_dir.mkdir(parents=True, exist_ok=True)
        self.state = SeatState(options.data_dir / "seat.sqlite3")
        self.outbox = Outbox(options.data_dir / "outbox.sqlite3")
        clock = SystemClock(synced_override=True)
        origin = Origin(options.centre_id, options.device_id, simulated=True)
        self.sender = Sender(origin, clock, options.seat_id)
        matcher = FaceMatcher.create(FaceRecognitionConfig(separate_process=False))
        self.sensors = FileSensors(FileCamera(options.camera), matcher)
        self.api = LocalApi(self.state, self.outbox, self.sender, self.sensors)
        self._server: LocalApiServer | None = None

    def load(self) -> None:
        """Apply --exam and --enrolment / --enrol-photo as if central had sent them."""
        options = self.options
        if options.exam is not None:
            self.command(CommandType.LOAD_EXAM, {"exam": _read_json(options.exam)}, strict=True)
        enrolment = _read_json(options.enrolment) if options.enrolment else None
        if options.enrol_photo is not None:
            enrolment = self._enrolment_from_photo(options.enrol_photo, enrolment)
        if enrolment is not None:
            self.command(CommandType.ENROL, {"enrolment": enrolment}, strict=True)

    def _enrolment_from_photo(self, photo_path: Path, given: JsonValue) -> JsonValue:
        photo = check_image(cv2.imread(str(photo_path)))
        if photo is None:
            raise DevStartError(f"{photo_path} is not a readable image")
        try:
            encoding = self.sensors.matcher.identity.enrol(photo)
        except ValueError as exc:  # no face, several faces
            raise DevStartError(f"{photo_path}: {exc}") from exc
        exam = self.state.exam()
        base: dict[str, JsonValue] = {
            "session_id": "dev-session",
            "candidate_id": "dev-candidate",
            "candidate_number": self.options.candidate_number,
            "display_name": "Dev Candidate",
            "exam_id": exam.id if exam is not None else "dev-exam",
            "seat_id": self.options.seat_id,
        }
        if isinstance(given, dict):
            base.update(given)
        base["encoding"] = [float(value) for value in encoding]
        return base

    def command(
        self, kind: CommandType, args: dict[str, JsonValue], *, by: str = "dev server",
        strict: bool = False,
    ) -> dict[str, str]:  # fmt: skip
        command = Command(
            schema_version=1, kind="command", id=uuid7(), centre_id=self.options.centre_id,
            device_id=self.options.device_id, type=kind, args=args,
            issued_at=datetime.now(UTC), issued_by=by,
        )  # fmt: skip
        outcome = apply_and_answer(self.state, self.outbox, self.sender, command)
        if strict and outcome.status != "done":
            raise DevStartError(f"{kind.value} rejected: {outcome.detail}")
        return {"command_id": str(command.id), "status": outcome.status, "detail": outcome.detail}

    def start(self) -> str:
        self._server = LocalApiServer(self.wsgi, port=self.options.port)
        self._server.start()
        return self._server.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        self.sensors.close()
        self.outbox.close()
        self.state.close()

    # -- the /dev routes -------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if not request.path.startswith("/dev/"):
            return self.api(environ, start_response)
        return self._dev(request)(environ, start_response)

    def _dev(self, request: Request) -> Response:
        route = (request.method, request.path)
        try:
            if route == ("POST", "/dev/command"):
                body = _CommandBody.model_validate_json(request.get_data())
                return _json(self.command(body.type, body.args, by=body.issued_by))
            if route == ("GET", "/dev/outbox"):
                return _json({"messages": self._outbox_messages()})
            if route == ("PUT", "/dev/camera"):
                camera = _CameraBody.model_validate_json(request.get_data())
                self.sensors.camera.switch(None if camera.path is None else Path(camera.path))
                return Response(status=204)
            if route == ("PUT", "/dev/network"):
                network = _NetworkBody.model_validate_json(request.get_data())
                self.sensors.network = network.network
                return Response(status=204)
        except ValidationError as exc:
            return _json({"error": {"code": "invalid", "message": str(exc)}}, 400)
        return _json({"error": {"code": "unknown", "message": f"no dev route {route}"}}, 404)

    def _outbox_messages(self) -> list[Any]:
        rows = self.outbox.pending(10_000)
        messages = (decode(row.topic, row.payload).message for row in rows)
        return [json.loads(message.model_dump_json()) for message in messages]


def _json(payload: object, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _read_json(path: Path) -> JsonValue:
    try:
        value: JsonValue = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DevStartError(f"cannot read {path}: {exc}") from exc
    return value
