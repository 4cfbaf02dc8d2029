"""Signed outboxes: every message names the hash of the device's previous one and carries an
Ed25519 signature over its canonical form; the chain continues across restarts, and any
change to a stored message is found by the verifier central runs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_agent.clock import SystemClock
from edge_agent.outbox import Outbox
from protocol.signing import GENESIS, message_hash, verify_chain
from tests.edge_agent.helpers import fill, new_device_id


def payloads(path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT payload FROM outbox ORDER BY seq").fetchall()
    return [json.loads(bytes(row[0])) for row in rows]


def test_messages_are_chained_and_signed_across_a_restart(tmp_path: Path) -> None:
    key, device, clock = Ed25519PrivateKey.generate(), new_device_id(), SystemClock()
    path = tmp_path / "outbox.sqlite3"
    with Outbox(path, signer=key) as outbox:
        fill(outbox, clock, device, 2)
    with Outbox(path, signer=key) as outbox:
        returned = fill(outbox, clock, device, 1)[0]
    stored = payloads(path)
    assert [m["seq"] for m in stored] == [0, 1, 2]
    assert stored[0]["prev_hash"] == GENESIS
    assert stored[1]["prev_hash"] == message_hash(stored[0])
    assert stored[2]["prev_hash"] == message_hash(stored[1])  # after the reopen
    assert returned.signature == stored[2]["signature"]  # the caller gets the signed message
    assert verify_chain(key.public_key(), stored) == []


def test_a_changed_or_missing_message_is_found(tmp_path: Path) -> None:
    key, device = Ed25519PrivateKey.generate(), new_device_id()
    with Outbox(tmp_path / "o.sqlite3", signer=key) as outbox:
        fill(outbox, SystemClock(), device, 4)
    stored = payloads(tmp_path / "o.sqlite3")

    changed = [dict(m) for m in stored]
    changed[1]["answer"] = "D"
    problems = {(f.seq, f.problem) for f in verify_chain(key.public_key(), changed)}
    assert problems == {(1, "bad_signature"), (2, "broken_link")}

    missing = [m for m in stored if m["seq"] != 2]
    assert [(f.seq, f.problem) for f in verify_chain(key.public_key(), missing)] == [(3, "gap")]

    other = Ed25519PrivateKey.generate().public_key()
    assert {f.problem for f in verify_chain(other, stored)} == {"bad_signature"}


def test_without_a_key_messages_carry_no_signature_fields(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        fill(outbox, SystemClock(), new_device_id(), 1)
    (stored,) = payloads(tmp_path / "o.sqlite3")
    assert "prev_hash" not in stored
    assert "signature" not in stored
