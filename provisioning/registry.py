"""The centre's device registry: one JSON file in the centre directory, changed under a lock.

It holds no plaintext secret: password hashes (Mosquitto's format) and the kiosks' public
signing keys only. The broker's password and ACL files are rendered from it in full after
every change, so they can never drift from it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from protocol.topics import ID_PATTERN
from provisioning.files import write_private
from provisioning.settings import CentreSettings

REGISTRY_FILE = "registry.json"
LOCK_FILE = ".registry.lock"


class RegistryError(ValueError):
    """The registry is missing, unreadable, or the change asked for is not allowed."""


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceAccount(Record):
    username: str = Field(..., pattern=ID_PATTERN, description="Broker username = client id.")
    role: Literal["ingest", "web"] = Field(..., description="What the account may do.")
    password_hash: str = Field(..., description="Mosquitto $7$ hash.")


class Device(Record):
    device_id: str = Field(..., pattern=ID_PATTERN, description="Kiosk id = broker username.")
    hall: str = Field(..., pattern=ID_PATTERN, description="Hall the seat is in.")
    seat_id: str = Field(..., pattern=ID_PATTERN, description="Seat id (hall-seat).")
    status: Literal["active", "revoked"] = Field("active", description="Revoked: no access.")
    password_hash: str = Field(..., description="Mosquitto $7$ hash of the broker password.")
    signing_public_key: str = Field(..., description="Ed25519 public key, raw, base64.")
    credential_version: int = Field(1, ge=1, description="Bumped by every rotation.")
    registered_at: dt.datetime = Field(..., description="When it was registered (UTC).")
    rotated_at: dt.datetime | None = Field(None, description="Last password rotation.")
    revoked_at: dt.datetime | None = Field(None, description="When it was revoked.")
    revoked_reason: str = Field("", max_length=500, description="Why it was revoked.")


RequestStatus = Literal["pending", "approved", "rejected", "delivered"]


class EnrolmentToken(Record):
    """A one-time enrolment token for a seat; the registry keys it by its sha256."""

    hall: str
    seat: str
    expires_at: dt.datetime
    issued_at: dt.datetime
    used_by: str | None = Field(None, description="The request that used it up.")


class EnrolmentRequest(Record):
    """A kiosk that presented a token, waiting for (or past) an admin's decision."""

    request_id: str
    token_hash: str
    hall: str
    seat: str
    hostname: str = Field("", max_length=253)
    requested_at: dt.datetime
    status: RequestStatus = "pending"
    decided_by: str = ""
    decided_at: dt.datetime | None = None
    reason: str = Field("", max_length=500)
    device_id: str | None = None


class Registry(Record):
    format_version: Literal[1] = Field(1, description="File format version.")
    settings: CentreSettings = Field(default_factory=CentreSettings, description="Centre.")
    services: list[ServiceAccount] = Field(default_factory=list, description="Central's logins.")
    devices: dict[str, Device] = Field(default_factory=dict, description="Kiosks by id.")
    enrolment_tokens: dict[str, EnrolmentToken] = Field(
        default_factory=dict, description="One-time enrolment tokens by sha256."
    )
    enrolment_requests: dict[str, EnrolmentRequest] = Field(
        default_factory=dict, description="Kiosks that presented a token, by request id."
    )

    def active_devices(self) -> list[Device]:
        return [d for d in self.devices.values() if d.status == "active"]

    def device(self, device_id: str) -> Device:
        try:
            return self.devices[device_id]
        except KeyError:
            raise RegistryError(f"no device {device_id!r} in this centre") from None

    def seat_holder(self, seat_id: str) -> Device | None:
        return next((d for d in self.active_devices() if d.seat_id == seat_id), None)


def registry_path(centre_dir: Path) -> Path:
    return centre_dir / REGISTRY_FILE


def load(centre_dir: Path) -> Registry:
    path = registry_path(centre_dir)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise RegistryError(
            f"{path} not found: run `python -m provisioning init-centre --out {centre_dir}` first"
        ) from None
    try:
        return Registry.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise RegistryError(f"{path} is not a valid registry: {exc}") from None


def save(centre_dir: Path, registry: Registry) -> None:
    # Private: it lists every device; hashes are slow to attack but need not be handed out.
    write_private(registry_path(centre_dir), registry.model_dump_json(indent=2) + "\n")


@contextmanager
def locked(centre_dir: Path) -> Iterator[None]:
    """Serialise changes: two admins registering at once must not lose one of the devices."""
    centre_dir.mkdir(parents=True, exist_ok=True)
    with (centre_dir / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
