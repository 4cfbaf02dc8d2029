"""Registering, revoking and rotating kiosks. Each change updates the registry and re-renders
the broker's password and ACL files from it; the caller then reloads the broker."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.topics import ID_PATTERN
from provisioning import accounts, broker_files, bundle, registry
from provisioning.passwd import generate_password, hash_password
from provisioning.registry import Device, RegistryError

_ID_RE = re.compile(ID_PATTERN)


@dataclass(frozen=True)
class Registered:
    device: Device
    tarball: Path
    bundle_dir: Path


def device_id_for(hall: str, seat: str) -> str:
    return f"kiosk-{hall}-{seat}".lower()


def _check_id(value: str, what: str) -> str:
    if not _ID_RE.match(value):
        raise RegistryError(
            f"{what} {value!r} is not a valid id: letters, digits, '_', '.', '-', at most 64"
        )
    return value


def _new_signing_key() -> tuple[bytes, str]:
    """(private key PEM for the kiosk, raw public key in base64 for central)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return pem, base64.b64encode(public).decode()


def register_kiosk(
    centre_dir: Path, hall: str, seat: str, device_id: str | None = None
) -> Registered:
    _check_id(hall, "hall")
    seat_id = _check_id(f"{hall}-{seat}", "seat")
    device_id = _check_id(device_id or device_id_for(hall, seat), "device id")
    with registry.locked(centre_dir):
        reg = registry.load(centre_dir)
        _refuse_conflicts(reg, device_id, seat_id)
        password = generate_password()
        signing_pem, public_b64 = _new_signing_key()
        device = Device(
            device_id=device_id,
            hall=hall,
            seat_id=seat_id,
            password_hash=hash_password(password),
            signing_public_key=public_b64,
            registered_at=registry.utc_now(),
        )
        reg.devices[device_id] = device
        tarball = bundle.write_bundle(
            centre_dir,
            reg.settings,
            bundle.KioskIdentity(device_id, seat_id),
            bundle.KioskSecrets(password, signing_pem),
        )
        registry.save(centre_dir, reg)
        broker_files.write_access_files(centre_dir, reg)
    return Registered(device, tarball, bundle.bundle_dir(centre_dir, device_id))


def _refuse_conflicts(reg: registry.Registry, device_id: str, seat_id: str) -> None:
    if device_id in accounts.reserved_usernames(reg.settings.ingest_workers):
        raise RegistryError(f"{device_id!r} is reserved for central's own broker accounts")
    existing = reg.devices.get(device_id)
    if existing is not None and existing.status == "revoked":
        raise RegistryError(
            f"{device_id!r} was revoked on {existing.revoked_at}; a revoked id is never reused "
            "(central rejects what it signs): pass another --device-id"
        )
    if existing is not None:
        raise RegistryError(f"{device_id!r} is already registered (seat {existing.seat_id})")
    holder = reg.seat_holder(seat_id)
    if holder is not None:
        raise RegistryError(
            f"seat {seat_id} already has kiosk {holder.device_id!r}; revoke it first"
        )


def revoke(centre_dir: Path, device_id: str, reason: str = "") -> Device:
    with registry.locked(centre_dir):
        reg = registry.load(centre_dir)
        device = reg.device(device_id)
        if device.status == "revoked":
            raise RegistryError(f"{device_id!r} is already revoked (on {device.revoked_at})")
        revoked = device.model_copy(
            update={
                "status": "revoked",
                "revoked_at": registry.utc_now(),
                "revoked_reason": reason[:500],
            }
        )
        reg.devices[device_id] = revoked
        registry.save(centre_dir, reg)
        broker_files.write_access_files(centre_dir, reg)
        bundle.remove_bundle(centre_dir, device_id)
    return revoked


def rotate(centre_dir: Path, device_id: str) -> tuple[Device, Path]:
    """A new broker password. Nothing else changes: the outbox lives on the kiosk and is keyed
    by message id, so events queued there are sent with the new login once it is installed."""
    with registry.locked(centre_dir):
        reg = registry.load(centre_dir)
        device = reg.device(device_id)
        if device.status == "revoked":
            raise RegistryError(f"{device_id!r} is revoked; register a new kiosk instead")
        password = generate_password()
        rotated = device.model_copy(
            update={
                "password_hash": hash_password(password),
                "credential_version": device.credential_version + 1,
                "rotated_at": registry.utc_now(),
            }
        )
        reg.devices[device_id] = rotated
        tarball = bundle.replace_password(centre_dir, device_id, password)
        registry.save(centre_dir, reg)
        broker_files.write_access_files(centre_dir, reg)
    return rotated, tarball
