"""A fresh kiosk asks to join the centre with a one-time token and waits for an admin.

    python -m edge_agent enrol --central https://central.exam.local --token T --out DIR

It presents the token (central/web/enrolments.py), polls until an admin approves or rejects
the request, then writes the kiosk's bundle (configuration, CA certificate, credentials,
signing key, systemd units, install script) to DIR and unpacks it there. The token is the
only credential until then: keep it off shared screens.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

log = logging.getLogger(__name__)

TIMEOUT_S = 15.0


class EnrolmentFailed(RuntimeError):
    """Central refused the token or the request, or the bundle cannot be written."""


@dataclass(frozen=True)
class EnrolOptions:
    central: str  # base URL of central, e.g. https://central.exam.local
    token: str
    out: Path
    ca_file: Path | None = None
    poll_s: float = 10.0
    wait_s: float = 24 * 3600.0  # give up after this long without a decision
    hostname: str = ""


def _context(options: EnrolOptions) -> ssl.SSLContext | None:
    if not options.central.startswith("https://"):
        return None
    return ssl.create_default_context(cafile=str(options.ca_file) if options.ca_file else None)


def _call(
    options: EnrolOptions, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, str, bytes]:
    request = urllib.request.Request(  # noqa: S310 - the admin gives the central URL
        options.central.rstrip("/") + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {options.token}"},
    )
    try:
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=TIMEOUT_S, context=_context(options)
        ) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read()


def _message(raw: bytes) -> str:
    try:
        body = json.loads(raw)
    except ValueError:
        return raw[:200].decode(errors="replace")
    return str(body.get("message", body)) if isinstance(body, dict) else str(body)


def enrol(options: EnrolOptions) -> Path:
    """Run the whole exchange; the unpacked bundle's directory (with install.sh)."""
    hostname = options.hostname or socket.gethostname()
    status, _, raw = _call(
        options, "POST", "/api/v1/enrolments", {"token": options.token, "hostname": hostname}
    )
    if status != 201:
        raise EnrolmentFailed(f"central refused the token ({status}): {_message(raw)}")
    request_id = str(json.loads(raw)["request_id"])
    print(f"request {request_id} is waiting for an admin's approval", flush=True)
    deadline = time.monotonic() + options.wait_s
    while True:
        try:
            status, kind, raw = _call(options, "GET", f"/api/v1/enrolments/{request_id}")
        except OSError as exc:  # network down or central restarting: keep waiting
            log.warning("central not reachable (%s); polling again", exc)
            status, kind, raw = 0, "", b""
        if status == 200 and kind == "application/gzip":
            return _unpack(raw, options.out)
        if status == 200:
            state = json.loads(raw)
            if state.get("status") == "rejected":
                raise EnrolmentFailed(f"an admin rejected the request: {state.get('reason')}")
            if state.get("status") == "delivered":
                raise EnrolmentFailed("the bundle was already handed out for this request")
        elif status not in (0, 429, 502, 503, 504):
            raise EnrolmentFailed(f"central refused the request ({status}): {_message(raw)}")
        if time.monotonic() > deadline:
            raise EnrolmentFailed(f"no decision within {options.wait_s:.0f} s")
        time.sleep(options.poll_s)


def _unpack(tarball: bytes, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    archive = out / "bundle.tar.gz"
    archive.write_bytes(tarball)
    archive.chmod(0o600)  # it holds the broker password and the signing key
    with tarfile.open(archive) as tar:
        tops = {PurePosixPath(name).parts[0] for name in tar.getnames() if name}
        tar.extractall(out, filter="data")  # no absolute paths, links out, or devices
    # The bundle holds one directory named after the kiosk: that is what install.sh is in.
    return out / tops.pop() if len(tops) == 1 else out
