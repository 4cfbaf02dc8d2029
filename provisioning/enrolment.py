"""Enrolling many kiosks: one-time tokens, pending requests, admin approval, one download.

1. An admin issues a token for a seat (`provisioning enrolment-token --hall B --seat 12`):
   only its sha256 is kept, with the seat and an expiry.
2. A fresh kiosk presents it (`python -m edge_agent enrol --central URL --token T`, through
   central's API): the token is used up and a pending request appears in the admin pages.
3. An admin approves it: the kiosk is registered for the token's seat (credentials, keys,
   bundle) exactly as `register-kiosk` does, or rejects it.
4. The kiosk, polling with its token, downloads its bundle once. A token that leaked after
   that buys nothing; one that leaks before is one pending request an admin has to approve.

Everything lives in the registry (changed under its lock), beside the devices.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from provisioning import broker_control, registry
from provisioning.bundle import tarball_path
from provisioning.devices import register_kiosk
from provisioning.registry import EnrolmentRequest, EnrolmentToken, RegistryError, RequestStatus

TOKEN_BYTES = 24
MAX_TTL = dt.timedelta(days=30)


class EnrolmentError(RegistryError):
    """A token or a request that cannot be used; the message says why (never the token)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(centre_dir: Path, hall: str, seat: str, ttl: dt.timedelta) -> str:
    """A new one-time token for the seat; only its hash is stored."""
    if not dt.timedelta(0) < ttl <= MAX_TTL:
        raise EnrolmentError(f"a token lives between 1 second and {MAX_TTL.days} days")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = registry.utc_now()
    with registry.locked(centre_dir):
        reg = registry.load(centre_dir)
        reg.enrolment_tokens[token_hash(token)] = EnrolmentToken(
            hall=hall, seat=seat, issued_at=now, expires_at=now + ttl
        )
        registry.save(centre_dir, reg)
    return token


def request_enrolment(centre_dir: Path, token: str, hostname: str = "") -> EnrolmentRequest:
    """A kiosk presents its token: a pending request for the token's seat. The token is used
    up here, so it can start only one request."""
    digest = token_hash(token)
    with registry.locked(centre_dir):
        reg = registry.load(centre_dir)
        entry = reg.enrolment_tokens.get(digest)
        if entry is None:
            raise EnrolmentError("unknown enrolment token")
        if entry.used_by is not None:
            raise EnrolmentError("this enrolment token was already used")
        if entry.expires_at <= registry.utc_now():
            raise EnrolmentError("this enrolment token has expired")
        request = EnrolmentRequest(
            request_id=secrets.token_hex(8),
            token_hash=digest,
            hall=entry.hall,
            seat=entry.seat,
            hostname=hostname[:253],
            requested_at=registry.utc_now(),
        )
        reg.enrolment_requests[request.request_id] = request
        reg.enrolment_tokens[digest] = entry.model_copy(update={"used_by": request.request_id})
        registry.save(centre_dir, reg)
    return request


def pending(centre_dir: Path) -> list[EnrolmentRequest]:
    reg = registry.load(centre_dir)
    waiting = [r for r in reg.enrolment_requests.values() if r.status == "pending"]
    return sorted(waiting, key=lambda r: r.requested_at)


def _decided(
    centre_dir: Path, request_id: str, status: RequestStatus, by: str, **fields: object
) -> EnrolmentRequest:
    with registry.locked(centre_dir):
        reg = registry.load(centre_dir)
        request = reg.enrolment_requests.get(request_id)
        if request is None:
            raise EnrolmentError(f"no enrolment request {request_id!r}")
        if request.status != "pending":
            raise EnrolmentError(f"request {request_id} is already {request.status}")
        decided = request.model_copy(
            update={"status": status, "decided_by": by, "decided_at": registry.utc_now(), **fields}
        )
        reg.enrolment_requests[request_id] = decided
        registry.save(centre_dir, reg)
    return decided


def approve(centre_dir: Path, request_id: str, by: str) -> EnrolmentRequest:
    """Register the kiosk for the request's seat (as register-kiosk does) and approve it."""
    request = registry.load(centre_dir).enrolment_requests.get(request_id)
    if request is None:
        raise EnrolmentError(f"no enrolment request {request_id!r}")
    if request.status != "pending":
        raise EnrolmentError(f"request {request_id} is already {request.status}")
    registered = register_kiosk(centre_dir, request.hall, request.seat)
    return _decided(centre_dir, request_id, "approved", by, device_id=registered.device.device_id)


def reject(centre_dir: Path, request_id: str, by: str, reason: str = "") -> EnrolmentRequest:
    return _decided(centre_dir, request_id, "rejected", by, reason=reason[:500])


@dataclass(frozen=True)
class Delivery:
    """What a polling kiosk gets: its request's status, and the bundle once approved."""

    request: EnrolmentRequest
    tarball: Path | None


def collect(centre_dir: Path, request_id: str, token: str) -> Delivery:
    """The kiosk polls with its token. Once approved, the bundle is handed over exactly once
    (the request becomes `delivered`); the caller sends `tarball` and may then delete it."""
    with registry.locked(centre_dir):
        reg = registry.load(centre_dir)
        request = reg.enrolment_requests.get(request_id)
        if request is None or not secrets.compare_digest(request.token_hash, token_hash(token)):
            raise EnrolmentError("unknown enrolment request")
        if request.status != "approved" or request.device_id is None:
            return Delivery(request, None)
        delivered = request.model_copy(update={"status": "delivered"})
        reg.enrolment_requests[request_id] = delivered
        registry.save(centre_dir, reg)
    return Delivery(delivered, tarball_path(centre_dir, request.device_id))


def reload_broker_if_running(centre_dir: Path) -> bool:
    """After an approval from the web: SIGHUP the centre's broker through its pid file, so
    the new kiosk's login works at once. False when no broker runs (it reads the files at
    start) or this process may not signal it."""
    pid_file = registry.load(centre_dir).settings.broker.pid_file
    try:
        broker_control.reload_broker(broker_control.read_pid_file(pid_file))
    except (broker_control.BrokerControlError, OSError):
        return False
    return True
