"""Extensions created unbound; create_app binds them."""

from __future__ import annotations

from flask import Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()

# Failed logins by address, over the whole app: the form's and HTTP Basic's (kiosks, API
# clients). Only requests that end in 401 count, so a busy but honest client is never slowed;
# the 11th failure in a minute gets 429 until the minute is over. Storage:
# PROCTOR_RATE_LIMIT_STORAGE (memory:// is per process; with several web workers, redis://).
FAILED_LOGINS = "10 per minute"


def _failed(response: Response) -> bool:
    return response.status_code == 401


limiter = Limiter(
    key_func=get_remote_address,
    # One count per address across every page and API route (not one per route).
    application_limits=[FAILED_LOGINS],
    application_limits_deduct_when=_failed,
    headers_enabled=True,
)
