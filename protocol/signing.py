"""Tamper-evident messages: an Ed25519 signature over a canonical form, and a hash chain.

Canonical form: the message's JSON-mode model dump without the signature fields, serialised
with sorted keys, no whitespace and UTF-8 (`canonical_bytes`). Evidence hashes are fields of
the event, so the signature covers them too. Each message names the sha256 of the canonical
form of the device's previous message (`prev_hash`); the first one names GENESIS. A verifier
walking a device's messages in `seq` order reports a changed message (bad signature or a
broken link) and a missing one (a gap in `seq`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel

SIGNATURE_FIELD = "signature"
PREV_HASH_FIELD = "prev_hash"
UNSIGNED_FIELDS = frozenset({SIGNATURE_FIELD})
GENESIS = "0" * 64  # prev_hash of a device's first message


class SigningError(ValueError):
    """A key or signature that cannot be used."""


def canonical_bytes(message: BaseModel | Mapping[str, Any]) -> bytes:
    """Sorted-key compact JSON of the message without its signature. Pydantic's JSON mode
    fixes how datetimes, UUIDs and floats print, so kiosk and central produce the same bytes."""
    data = message.model_dump(mode="json") if isinstance(message, BaseModel) else dict(message)
    body = {k: v for k, v in data.items() if k not in UNSIGNED_FIELDS}
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def message_hash(message: BaseModel | Mapping[str, Any]) -> str:
    """sha256 of the canonical form: what the next message names as its prev_hash."""
    return hashlib.sha256(canonical_bytes(message)).hexdigest()


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise SigningError(f"cannot read signing key {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise SigningError(f"{path} is not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path} is not an Ed25519 key")
    return key


def public_key_from_b64(value: str) -> Ed25519PublicKey:
    """The registry's form: 32 raw bytes, base64."""
    try:
        raw = base64.b64decode(value, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise SigningError("not a base64 Ed25519 public key (32 bytes)") from None


def sign(key: Ed25519PrivateKey, message: BaseModel | Mapping[str, Any]) -> str:
    """Base64 signature over the canonical form (any existing signature is ignored)."""
    return base64.b64encode(key.sign(canonical_bytes(message))).decode()


def verify(public_key: Ed25519PublicKey, message: BaseModel | Mapping[str, Any]) -> bool:
    data = message.model_dump(mode="json") if isinstance(message, BaseModel) else message
    signature = data.get(SIGNATURE_FIELD)
    if not isinstance(signature, str):
        return False
    try:
        public_key.verify(base64.b64decode(signature, validate=True), canonical_bytes(data))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


class Chain:
    """The kiosk side: remembers the last hash and stamps prev_hash into the next message.
    The last hash must be persisted with the outbox row (same transaction) to survive restarts."""

    def __init__(self, last_hash: str = GENESIS) -> None:
        self.last_hash = last_hash

    def link(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {**fields, PREV_HASH_FIELD: self.last_hash}

    def advance(self, message: BaseModel | Mapping[str, Any]) -> str:
        self.last_hash = message_hash(message)
        return self.last_hash


Problem = Literal["bad_signature", "broken_link", "gap", "duplicate_seq"]


@dataclass(frozen=True)
class Finding:
    seq: int
    problem: Problem
    detail: str


def verify_chain(
    public_key: Ed25519PublicKey, messages: Iterable[Mapping[str, Any]]
) -> list[Finding]:
    """Check one device's messages (JSON dicts): signatures, links and seq continuity.
    An empty list means the evidence is intact. Messages are sorted by seq first."""
    findings: list[Finding] = []
    ordered = sorted(messages, key=lambda m: int(m["seq"]))
    previous: Mapping[str, Any] | None = None
    for message in ordered:
        seq = int(message["seq"])
        if not verify(public_key, message):
            findings.append(Finding(seq, "bad_signature", "signature does not match content"))
        if previous is not None:
            findings += _link_findings(previous, message, seq)
        elif seq == 0 and message.get(PREV_HASH_FIELD) != GENESIS:
            findings.append(Finding(seq, "broken_link", "first message does not start the chain"))
        previous = message
    return findings


def _link_findings(
    previous: Mapping[str, Any], message: Mapping[str, Any], seq: int
) -> list[Finding]:
    prev_seq = int(previous["seq"])
    if seq == prev_seq:
        return [Finding(seq, "duplicate_seq", "two different messages share this seq")]
    if seq != prev_seq + 1:
        return [Finding(seq, "gap", f"messages {prev_seq + 1}..{seq - 1} are missing")]
    if message.get(PREV_HASH_FIELD) != message_hash(previous):
        return [Finding(seq, "broken_link", f"prev_hash does not match message {prev_seq}")]
    return []
