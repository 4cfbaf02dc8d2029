"""Evidence API: kiosks PUT clips and snapshots by sha256; staff GET them (with ranges, so a
browser can play and seek a WebM clip).

PUT takes HTTP Basic credentials only (no session cookie), so it needs no CSRF token and a
browser page cannot make it on a user's behalf. GET takes the login session or HTTP Basic.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, send_file
from flask.blueprints import BlueprintSetupState
from flask_login import login_required

from central.services import authenticate
from central.services.audit import record
from central.services.errors import NotFound
from central.services.evidence import (
    MEDIA_TYPES,
    EvidenceFiles,
    EvidenceInfo,
    EvidenceUpload,
    PayloadTooLarge,
    UnsupportedMediaType,
    get_evidence,
    parse_sha256,
    store_evidence,
)
from central.web.access import current_info, require_evidence
from central.web.database import get_session
from central.web.errors import error_response
from central.web.extensions import csrf
from central.web.serializers import iso

bp = Blueprint("evidence", __name__, url_prefix="/api/v1/evidence")
DEVICE_HEADER = "X-Device-Id"
_EXTENSION = "central.evidence"


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = state.app
    app.extensions[_EXTENSION] = EvidenceFiles(
        app.config["EVIDENCE_DIR"], int(app.config["EVIDENCE_MAX_BYTES"])
    )


def _files() -> EvidenceFiles:
    files: EvidenceFiles = current_app.extensions[_EXTENSION]
    return files


def evidence_to_dict(info: EvidenceInfo) -> dict[str, object]:
    return {
        "sha256": info.sha256,
        "size_bytes": info.size_bytes,
        "media_type": info.media_type,
        "device_id": info.device_id,
        "uploaded_at": iso(info.uploaded_at),
        "purged_at": iso(info.purged_at),
    }


def _basic_user_ok() -> bool:
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        return False
    return authenticate(get_session(), auth.username, auth.password) is not None


def _unauthorized() -> Response:
    response = error_response(401, "unauthorized", "Send HTTP Basic credentials of a user.")
    response.headers["WWW-Authenticate"] = 'Basic realm="proctor", charset="UTF-8"'
    return response


@bp.put("/<sha256>")
def put_evidence(sha256: str) -> Response:
    if not _basic_user_ok():
        return _unauthorized()
    upload = EvidenceUpload(
        sha256=sha256,
        media_type=request.mimetype,
        device_id=request.headers.get(DEVICE_HEADER),
        body=request.stream,
        content_length=request.content_length,
    )
    session = get_session()
    info, created = store_evidence(session, _files(), upload)
    session.commit()  # on an error the session is rolled back when the request ends
    if not created:
        _drain()  # the body was not needed; read it so the connection stays usable
    response = jsonify({**evidence_to_dict(info), "created": created})
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"{bp.url_prefix}/{info.sha256}"
    return response


csrf.exempt(put_evidence)


def _drain() -> None:
    while request.stream.read(1 << 20):
        pass


@bp.get("/<sha256>")
@login_required  # type: ignore[untyped-decorator]
def get_evidence_file(sha256: str) -> Response:
    if parse_sha256(sha256) is None:
        raise NotFound("no such evidence")
    session = get_session()
    info = get_evidence(session, sha256)
    require_evidence(info.sha256)
    if info.purged_at is not None:  # a tombstone: say what happened rather than "not found"
        message = f"Deleted under the retention policy on {info.purged_at.date().isoformat()}."
        return error_response(410, "gone", message, purged_at=iso(info.purged_at) or "")
    path = _files().absolute(info.stored_path)
    if not path.is_file():
        raise NotFound("no such evidence")
    _audit_view(info.sha256)
    response = send_file(
        path,
        mimetype=info.media_type,
        conditional=True,  # Range and If-None-Match
        etag=info.sha256,
        download_name=f"{info.sha256}{MEDIA_TYPES.get(info.media_type, '')}",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _audit_view(sha256: str) -> None:
    """One audit entry per viewing: a player's follow-up range requests (seeking) add none."""
    first_request = request.headers.get("Range", "bytes=0-").startswith("bytes=0-")
    if request.method == "GET" and first_request:
        session = get_session()
        record(session, current_info(), "evidence.view", ("evidence", sha256))
        session.commit()


@bp.errorhandler(PayloadTooLarge)
def _too_large(exc: PayloadTooLarge) -> Response:
    return error_response(413, exc.code, exc.message)


@bp.errorhandler(UnsupportedMediaType)
def _unsupported(exc: UnsupportedMediaType) -> Response:
    return error_response(415, exc.code, exc.message)
