"""Uploads stored evidence to central: `PUT /api/v1/evidence/<sha256>`, idempotent.

The local copy and its index row are deleted only after a 2xx, so evidence survives central
being down and the agent restarting. Network errors, 5xx, 401/403/408/429 are retried with
exponential backoff (with jitter) and stop the round, since central is probably unreachable;
other 4xx (wrong hash, too large, bad type) will never succeed: the item is marked rejected and
reported. Uses the standard library (urllib) only, so the kiosk needs no extra package.

Authentication is HTTP Basic from the settings for now; per-device credentials and TLS client
certificates come with provisioning.
"""

from __future__ import annotations

import base64
import http.client
import logging
import os
import random
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from edge_agent.evidence.store import EvidenceError, EvidenceStore, StoredEvidence

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({401, 403, 408, 425, 429})
DEVICE_HEADER = "X-Device-Id"


@dataclass(frozen=True)
class UploaderSettings:
    base_url: str  # central's web address, e.g. https://central.example:8443
    device_id: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None  # CA bundle for https; None: the system's
    timeout_s: float = 30.0
    retry_min_s: float = 1.0
    retry_max_s: float = 60.0
    poll_interval_s: float = 2.0  # look for new evidence this often when idle
    batch: int = 20  # items looked at per round


class Outcome(Enum):
    UPLOADED = "uploaded"
    RETRY = "retry"
    REJECTED = "rejected"
    GONE = "gone"  # deleted locally meanwhile (disk budget)


@dataclass(frozen=True)
class UploadStats:
    uploaded: int
    failed_attempts: int
    rejected: int
    backlog: int
    last_error: str | None


class Uploader:
    def __init__(
        self,
        store: EvidenceStore,
        settings: UploaderSettings,
        *,
        on_rejected: Callable[[StoredEvidence, str], None] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self._on_rejected = on_rejected
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._delay = settings.retry_min_s
        self._failing = False
        self._counts = {"uploaded": 0, "failed": 0, "rejected": 0}
        self._last_error: str | None = None
        self._ssl = self._ssl_context()
        self._thread = threading.Thread(target=self._run, name="evidence-uploader", daemon=True)

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.settings.base_url.lower().startswith("https:"):
            return None
        cafile = str(self.settings.ca_file) if self.settings.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def wake(self) -> None:
        """New evidence is stored: look now rather than at the next poll (not during backoff)."""
        self._wake.set()

    def stats(self) -> UploadStats:
        return UploadStats(
            uploaded=self._counts["uploaded"],
            failed_attempts=self._counts["failed"],
            rejected=self._counts["rejected"],
            backlog=self.store.backlog(),
            last_error=self._last_error,
        )

    # work --------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ok = self.upload_round()
            except EvidenceError as exc:  # the local index failed: try again later
                log.error("evidence uploader: %s", exc)
                ok = False
            if ok:
                self._delay = self.settings.retry_min_s
                self._wake.wait(self.settings.poll_interval_s)
            else:
                delay = self._delay * random.uniform(0.8, 1.2)
                self._delay = min(self._delay * 2, self.settings.retry_max_s)
                self._stop.wait(delay)
            self._wake.clear()

    def upload_round(self) -> bool:
        """Try the oldest pending items once; False if central could not be reached (the
        round stopped at the first retryable failure)."""
        for item in self.store.pending(self.settings.batch):
            if self._stop.is_set():
                return True
            outcome, detail = self.upload(item)
            if outcome is Outcome.UPLOADED:
                self.store.remove(item.sha256)
                self._counts["uploaded"] += 1
            elif outcome is Outcome.GONE:
                log.warning("evidence %s lost its local file; forgetting it", item.sha256[:12])
                self.store.remove(item.sha256)
            elif outcome is Outcome.REJECTED:
                self._reject(item, detail)
            elif outcome is Outcome.RETRY:
                self._counts["failed"] += 1
                self._last_error = detail
                self.store.record_failure(item.sha256, detail)
                if not self._failing:
                    log.warning("evidence upload failing, will retry: %s", detail)
                self._failing = True
                return False
        if self._failing:
            log.info("evidence upload works again")
        self._failing = False
        return True

    def _reject(self, item: StoredEvidence, detail: str) -> None:
        self._counts["rejected"] += 1
        self._last_error = detail
        log.error("central refused evidence %s for good: %s", item.sha256[:12], detail)
        self.store.record_failure(item.sha256, detail, rejected=True)
        if self._on_rejected is not None:
            try:
                self._on_rejected(item, detail)
            except Exception:  # a broken listener must not end the uploader
                log.exception("rejected-evidence listener failed")

    def upload(self, item: StoredEvidence) -> tuple[Outcome, str]:
        """One PUT of `item`; the outcome and a short description."""
        url = f"{self.settings.base_url.rstrip('/')}/api/v1/evidence/{item.sha256}"
        started = time.monotonic()
        try:
            with item.path.open("rb") as body:
                size = os.fstat(body.fileno()).st_size  # what is sent, whatever the index says
                request = urllib.request.Request(  # noqa: S310 (the URL is from settings)
                    url, data=body, method="PUT", headers=self._headers(item, size)
                )
                with urllib.request.urlopen(  # noqa: S310
                    request, timeout=self.settings.timeout_s, context=self._ssl
                ) as response:
                    status = int(response.status)
        except FileNotFoundError:
            return Outcome.GONE, "the local file was deleted"
        except urllib.error.HTTPError as exc:
            return self._classify(exc.code, _error_text(exc))
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            return Outcome.RETRY, f"central unreachable: {_reason(exc)}"
        log.info(
            "uploaded evidence %s (%d bytes, HTTP %d, %.0f ms)",
            item.sha256[:12],
            item.size_bytes,
            status,
            (time.monotonic() - started) * 1000,
        )
        return self._classify(status, "")

    @staticmethod
    def _classify(status: int, text: str) -> tuple[Outcome, str]:
        if 200 <= status < 300:
            return Outcome.UPLOADED, f"HTTP {status}"
        detail = f"HTTP {status} {text}".strip()
        if status >= 500 or status in RETRY_STATUSES or 300 <= status < 400:
            return Outcome.RETRY, detail
        return Outcome.REJECTED, detail

    def _headers(self, item: StoredEvidence, size: int) -> dict[str, str]:
        headers = {
            "Content-Type": item.media_type,
            "Content-Length": str(size),
            DEVICE_HEADER: self.settings.device_id,
        }
        if self.settings.username is not None:
            pair = f"{self.settings.username}:{self.settings.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return headers


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read(300).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        exc.close()


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason if reason is not None else exc) or type(exc).__name__
