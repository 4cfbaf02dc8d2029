"""Tamper evidence on central: each kiosk message's signature is checked on arrival, its chain
hashes are kept, and a report walks a device's stored messages in seq order.

On arrival (`store_batch`):
- a message from a device whose key is revoked is dead-lettered (reason `revoked_device`),
  never stored: a stolen kiosk cannot add to anyone's record;
- otherwise it is stored with `integrity` = `verified` (signature good), `bad_signature`,
  `unsigned` (the device has a key but sent no signature) or `no_key` (no key registered:
  a simulated or not yet synced kiosk), plus its own hash and the `prev_hash` it names.

The canonical form is computed from the parsed message (protocol/signing.py), which is the
kiosk's own model dump: kiosk and central must share the wire schema version, as they must
anyway to talk at all.

The report (`integrity_report`) then finds altered messages (bad signature), missing ones (a
gap in seq), messages whose link does not name their predecessor, and unsigned ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select, union_all
from sqlalchemy.orm import Session

from central.models import DeviceKey, DeviceMessage, Event
from central.services.rejects import RejectedPayload
from protocol import encode, topic_for
from protocol.models import AckedMessage, OutboxMessage
from protocol.signing import SigningError, message_hash, public_key_from_b64, verify

log = logging.getLogger(__name__)

Integrity = Literal["verified", "bad_signature", "unsigned", "no_key"]
ACTIVE, REVOKED = "active", "revoked"


@dataclass(frozen=True)
class DeviceKeyInfo:
    public_key: Ed25519PublicKey
    revoked_at: datetime | None


def load_keys(connection: Connection, device_ids: Iterable[str]) -> dict[str, DeviceKeyInfo]:
    ids = sorted(set(device_ids))
    if not ids:
        return {}
    rows = connection.execute(
        select(
            DeviceKey.device_id, DeviceKey.public_key, DeviceKey.status, DeviceKey.revoked_at
        ).where(DeviceKey.device_id.in_(ids))
    ).all()
    keys: dict[str, DeviceKeyInfo] = {}
    for device_id, public_key, status, revoked_at in rows:
        try:
            key = public_key_from_b64(public_key)
        except SigningError:
            log.error("device %s has an unusable public key in device_keys", device_id)
            continue
        revoked = revoked_at or (datetime.now(UTC) if status == REVOKED else None)
        keys[device_id] = DeviceKeyInfo(key, revoked if status == REVOKED else None)
    return keys


def revoked_rejection(
    message: AckedMessage, keys: dict[str, DeviceKeyInfo]
) -> RejectedPayload | None:
    """A dead letter for a message from a revoked device, else None."""
    key = keys.get(message.device_id)
    if key is None or key.revoked_at is None:
        return None
    reason = f"device {message.device_id} was revoked at {key.revoked_at.isoformat()}"
    return RejectedPayload.build(topic_for(message), encode(message), "revoked_device", reason)


def check(message: OutboxMessage, keys: dict[str, DeviceKeyInfo]) -> dict[str, str | None]:
    """The integrity columns of a message's row."""
    key = keys.get(message.device_id)
    signed = message.signature is not None
    status: Integrity
    if key is None:
        status = "no_key"
    elif not signed:
        status = "unsigned"
    else:
        status = "verified" if verify(key.public_key, message) else "bad_signature"
    return {
        "integrity": status,
        "msg_hash": message_hash(message) if signed else None,
        "prev_hash": message.prev_hash,
    }


# -- keys from the provisioning registry --------------------------------------------------


@dataclass(frozen=True)
class RegisteredKey:
    device_id: str
    public_key: str  # base64 raw Ed25519
    revoked_at: datetime | None


def sync_device_keys(session: Session, registered: Iterable[RegisteredKey]) -> dict[str, int]:
    """Make device_keys match the registry: new keys added, rotated keys replaced, revoked
    devices marked. Keys are never deleted (old messages stay verifiable). Returns counts."""
    now = datetime.now(UTC)
    counts = {"added": 0, "changed": 0, "revoked": 0, "unchanged": 0}
    for entry in registered:
        public_key_from_b64(entry.public_key)  # refuse garbage before storing it
        status = REVOKED if entry.revoked_at is not None else ACTIVE
        row = session.get(DeviceKey, entry.device_id)
        if row is None:
            session.add(
                DeviceKey(
                    device_id=entry.device_id,
                    public_key=entry.public_key,
                    status=status,
                    revoked_at=entry.revoked_at,
                    updated_at=now,
                )
            )
            counts["revoked" if status == REVOKED else "added"] += 1
            continue
        if (row.public_key, row.status) == (entry.public_key, status):
            counts["unchanged"] += 1
            continue
        counts["revoked" if status == REVOKED and row.status != REVOKED else "changed"] += 1
        row.public_key, row.status, row.revoked_at = entry.public_key, status, entry.revoked_at
        row.updated_at = now
    session.flush()
    return counts


# -- the report ----------------------------------------------------------------------------

Problem = Literal["bad_signature", "unsigned", "broken_link", "gap"]


@dataclass(frozen=True)
class Finding:
    seq: int
    problem: Problem
    detail: str


@dataclass(frozen=True)
class IntegrityReport:
    device_id: str
    messages: int
    signed: int
    findings: tuple[Finding, ...]
    key_registered: bool

    @property
    def verified(self) -> bool:
        return self.key_registered and self.messages > 0 and not self.findings

    def summary(self) -> str:
        if not self.key_registered:
            return (
                f"Evidence integrity not verifiable: no signing key registered for {self.device_id}"
            )
        if self.verified:
            return f"Evidence integrity verified: {self.messages} signed messages, chain unbroken"
        if self.messages == 0:
            return "Evidence integrity: no messages from this kiosk"
        problems = "; ".join(f"message {f.seq}: {f.detail}" for f in self.findings[:5])
        more = f" (and {len(self.findings) - 5} more)" if len(self.findings) > 5 else ""
        return f"Evidence integrity NOT verified: {problems}{more}"


def session_integrity(session: Session, session_id: str) -> list[IntegrityReport]:
    """One report per kiosk that sent messages about the exam session (usually one)."""
    devices = session.scalars(
        union_all(
            select(Event.device_id).where(Event.session_id == session_id),
            select(DeviceMessage.device_id).where(DeviceMessage.session_id == session_id),
        )
    ).all()
    return [integrity_report(session, d, session_id) for d in sorted(set(devices))]


class _Row(NamedTuple):
    seq: int
    integrity: str | None
    msg_hash: str | None
    prev_hash: str | None
    session_id: str | None


def integrity_report(
    session: Session, device_id: str, session_id: str | None = None
) -> IntegrityReport:
    """Walk the device's stored messages in seq order: all of them, or with `session_id` the
    span from that session's first to its last message (linked to the one before)."""
    columns = ("seq", "integrity", "msg_hash", "prev_hash", "session_id")
    both = union_all(
        select(*(getattr(Event, c) for c in columns)).where(Event.device_id == device_id),
        select(*(getattr(DeviceMessage, c) for c in columns)).where(
            DeviceMessage.device_id == device_id
        ),
    ).subquery()
    rows = sorted((_Row(*row) for row in session.execute(select(both)).all()), key=_seq)
    previous: _Row | None = None
    if session_id is not None:
        span = [row.seq for row in rows if row.session_id == session_id]
        first, last = (min(span), max(span)) if span else (1, 0)
        previous = next((row for row in rows if row.seq == first - 1), None)
        rows = [row for row in rows if first <= row.seq <= last]
    return IntegrityReport(
        device_id=device_id,
        messages=len(rows),
        signed=sum(row.integrity == "verified" for row in rows),
        findings=tuple(_findings(rows, previous)),
        key_registered=session.get(DeviceKey, device_id) is not None,
    )


def _seq(row: _Row) -> int:
    return row.seq


def _findings(rows: list[_Row], previous: _Row | None) -> list[Finding]:
    findings: list[Finding] = []
    for row in rows:
        if row.integrity == "bad_signature":
            findings.append(Finding(row.seq, "bad_signature", "altered (signature does not match)"))
        elif row.integrity == "unsigned":
            findings.append(Finding(row.seq, "unsigned", "not signed although the kiosk has a key"))
        if previous is not None and row.seq > previous.seq + 1:
            missing = f"messages {previous.seq + 1}..{row.seq - 1} missing"
            findings.append(Finding(row.seq, "gap", missing))
        elif previous is not None and previous.msg_hash and row.prev_hash != previous.msg_hash:
            findings.append(
                Finding(row.seq, "broken_link", f"does not follow message {previous.seq}")
            )
        previous = row
    return findings
