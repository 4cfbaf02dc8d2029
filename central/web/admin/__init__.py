"""Administration pages (admin role only): centres, halls and seat maps, exams with their
question banks and policies, candidates (bulk import), sessions. Every change goes through
central.services.planning, which writes the audit log.

Every form carries a CSRF token (Flask-WTF); a service error on a form becomes a message on the
page it came from."""

from __future__ import annotations

from flask import Blueprint, abort, request

from central.web.auth import role_required
from central.web.translation import _

bp = Blueprint("admin", __name__, url_prefix="/admin")
MAX_UPLOAD_BYTES = 300 * 1024 * 1024  # the candidates' photo zip is the largest upload


@bp.before_request
@role_required("admin")
def _admins_only() -> None:
    """Every admin page needs the admin role (401/redirect if not logged in, 403 otherwise)."""
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES:
        limit = MAX_UPLOAD_BYTES // 2**20
        abort(413, description=_("Uploads are limited to %(limit)d MB.", limit=limit))


from central.web.admin import exams, people, places  # noqa: E402  (routes register on bp)

__all__ = ["bp", "exams", "people", "places"]
