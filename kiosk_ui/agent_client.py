"""HTTP client for the local agent API (docs/kiosk-local-api.md), on the standard library.

Short timeouts: the agent is on the same machine; a slow answer means it is down or busy,
and the screen must stay responsive (what needs delivery is in the store and retried).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


class AgentUnavailable(RuntimeError):
    """The agent did not answer (not running, timed out, or a 5xx)."""


@dataclass(frozen=True)
class AgentReply:
    status: int
    body: Any  # parsed JSON, or None for an empty body

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            code = self.body["error"].get("code")
            return str(code) if code is not None else None
        return None


class AgentClient:
    def __init__(self, base_url: str, timeout_s: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def request(
        self, method: str, path: str, body: Any = None, timeout_s: float | None = None
    ) -> AgentReply:
        """Send a JSON request; 4xx replies are returned, 5xx and no reply raise."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (the URL is our own loopback config)
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            timeout = self.timeout_s if timeout_s is None else timeout_s
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return AgentReply(response.status, _parse(response.read()))
        except urllib.error.HTTPError as error:
            reply = AgentReply(error.code, _parse(error.read()))
            if error.code >= 500:
                raise AgentUnavailable(f"{method} {path}: {error.code} {reply.body}") from None
            return reply
        except (OSError, TimeoutError) as error:  # URLError is an OSError
            raise AgentUnavailable(f"{method} {path}: {error}") from None

    def state(self) -> dict[str, Any]:
        reply = self.request("GET", "/v1/state")
        if reply.status != 200 or not isinstance(reply.body, dict):
            raise AgentUnavailable(f"GET /v1/state: {reply.status}")
        return reply.body

    def read_qr(self) -> str | None:
        """A QR code's text in front of the camera; None when there is none (or no agent)."""
        try:
            reply = self.request("GET", "/v1/qr")
        except AgentUnavailable:
            return None
        body = reply.body if reply.status == 200 else None
        text = body.get("text") if isinstance(body, dict) else None
        return text if isinstance(text, str) else None

    def preview_jpeg(self) -> bytes | None:
        request = urllib.request.Request(self.base_url + "/v1/preview.jpg")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                return bytes(response.read())
        except (OSError, TimeoutError):
            return None


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        log.warning("agent answered with non-JSON (%d bytes)", len(raw))
        return None
