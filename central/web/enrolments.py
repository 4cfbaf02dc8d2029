"""Kiosk enrolment over HTTP (provisioning/enrolment.py holds the rules).

For the kiosk (no login; its one-time token is its credential):
    POST /api/v1/enrolments            {"token", "hostname"} -> 201 {"request_id", "status"}
    GET  /api/v1/enrolments/<id>       Authorization: Bearer <token>
        -> 200 {"status": "pending" | "rejected" | "delivered", "reason"} while there is no
           bundle to hand over; 200 application/gzip (the bundle) once, after approval.
A wrong token is 401 (and counts towards the failed-login limit: 429 after ten a minute).

For admins: GET /enrolments lists the kiosks waiting; POST .../approve or .../reject decides
(audit-logged). The centre directory is PROCTOR_CENTRE_DIR; without it every endpoint says
enrolment is not set up here (503).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request
from flask import url_for as _url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import StringField
from wtforms.validators import Length

from central.services.audit import record
from central.web.access import current_info
from central.web.auth import role_required
from central.web.database import get_session
from central.web.errors import error_response
from central.web.extensions import csrf
from central.web.translation import _, _l
from provisioning import enrolment
from provisioning.registry import RegistryError

bp = Blueprint("enrolments", __name__)
MAX_BODY = 4096


class DecisionForm(FlaskForm):  # type: ignore[misc]
    reason = StringField(_l("Reason"), validators=[Length(max=500)])


def _centre_dir() -> Path | None:
    value = current_app.config.get("CENTRE_DIR")
    return Path(value) if value else None


def _not_set_up() -> Response:
    return error_response(
        503, "enrolment_not_set_up", "Kiosk enrolment is not set up here (PROCTOR_CENTRE_DIR)."
    )


def _refused(message: str) -> Response:
    return error_response(401, "enrolment_refused", message)


@bp.post("/api/v1/enrolments")
@csrf.exempt  # type: ignore[untyped-decorator]
def start() -> Response | tuple[Response, int]:
    centre = _centre_dir()
    if centre is None:
        return _not_set_up()
    if (request.content_length or 0) > MAX_BODY:
        return error_response(413, "too_large", f"Bodies are at most {MAX_BODY} bytes.")
    body: Any = request.get_json(silent=True)
    token = body.get("token") if isinstance(body, dict) else None
    hostname = body.get("hostname", "") if isinstance(body, dict) else ""
    if not isinstance(token, str) or not token or not isinstance(hostname, str):
        return error_response(400, "invalid", 'Send {"token": string, "hostname": string}.')
    try:
        started = enrolment.request_enrolment(centre, token, hostname)
    except enrolment.EnrolmentError as exc:
        return _refused(str(exc))
    return jsonify({"request_id": started.request_id, "status": started.status}), 201


@bp.get("/api/v1/enrolments/<request_id>")
def poll(request_id: str) -> Response:
    centre = _centre_dir()
    if centre is None:
        return _not_set_up()
    auth = request.headers.get("Authorization", "")
    token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
    if not token:
        return _refused("Send the enrolment token as a Bearer token.")
    try:
        delivery = enrolment.collect(centre, request_id, token)
    except enrolment.EnrolmentError as exc:
        return _refused(str(exc))
    if delivery.tarball is None:
        status = delivery.request.status
        return jsonify({"status": status, "reason": delivery.request.reason})
    response = Response(delivery.tarball.read_bytes(), mimetype="application/gzip")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{delivery.request.device_id}.tar.gz"'
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Device-Id"] = delivery.request.device_id or ""
    return response


@bp.get("/enrolments")
@role_required("admin")
def pending_page() -> str | Response:
    centre = _centre_dir()
    if centre is None:
        return _not_set_up()
    return render_template(
        "enrolments.html", waiting=enrolment.pending(centre), form=DecisionForm()
    )


@bp.post("/enrolments/<request_id>/<decision>")
@role_required("admin")
def decide(request_id: str, decision: str) -> BaseResponse:
    centre = _centre_dir()
    if centre is None:
        return _not_set_up()
    form = DecisionForm()
    if decision not in ("approve", "reject") or not form.validate_on_submit():
        return error_response(400, "invalid", _("Approve or reject, with the form's token."))
    actor = current_info()
    try:
        if decision == "approve":
            decided = enrolment.approve(centre, request_id, actor.username)
            enrolment.reload_broker_if_running(centre)
        else:
            decided = enrolment.reject(centre, request_id, actor.username, form.reason.data or "")
    except RegistryError as exc:
        return error_response(409, "conflict", str(exc))
    session = get_session()
    record(
        session,
        actor,
        f"enrolment.{decided.status}",
        ("enrolment", request_id),
        {"seat": f"{decided.hall}-{decided.seat}", "device_id": decided.device_id},
    )
    session.commit()
    return redirect(_url_for("enrolments.pending_page"), 303)
