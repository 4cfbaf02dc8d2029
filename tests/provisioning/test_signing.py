"""Signatures and the hash chain over real wire messages (protocol.models.CheckIn), with the
signing key that register-kiosk puts in the bundle and the public key the registry keeps."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import signing
from protocol.ids import uuid7
from protocol.models import CheckIn, DeviceClock, SessionRef
from protocol.signing import GENESIS, Chain, SigningError
from provisioning import devices, registry
from tests.provisioning.support import make_centre


def checkin(seq: int) -> dict[str, Any]:
    model = CheckIn(
        schema_version=1,
        centre_id="centre-1",
        device_id="kiosk-a-01",
        id=uuid7(),
        seq=seq,
        clock=DeviceClock(
            wall_time=dt.datetime(2026, 12, 4, 9, 0, seq, tzinfo=dt.UTC),
            monotonic_s=10.0 + seq,
            boot_id="boot-1",
            synced=True,
        ),
        kind="checkin",
        subject=SessionRef(seat_id="A-01"),
        method="face_match",
        match_distance=0.31,
        attempts=1,
    )
    return model.model_dump(mode="json")


def signed_chain(key: Ed25519PrivateKey, count: int) -> list[dict[str, Any]]:
    chain, messages = Chain(), []
    for seq in range(count):
        message = chain.link(checkin(seq))
        message["signature"] = signing.sign(key, message)
        chain.advance(message)
        messages.append(message)
    return messages


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_canonical_form_is_sorted_compact_and_ignores_the_signature() -> None:
    message = {"b": 1, "a": "é", "signature": "xyz"}
    assert signing.canonical_bytes(message) == '{"a":"é","b":1}'.encode()


def test_a_model_and_its_json_round_trip_have_the_same_canonical_form() -> None:
    """The kiosk signs its model; central verifies the JSON it decoded: same bytes."""
    data = checkin(0)
    model = CheckIn.model_validate_json(json.dumps(data))
    assert signing.canonical_bytes(model) == signing.canonical_bytes(json.loads(json.dumps(data)))
    assert signing.message_hash(model) == signing.message_hash(data)


def test_an_intact_chain_verifies(key: Ed25519PrivateKey) -> None:
    messages = signed_chain(key, 5)
    assert messages[0]["prev_hash"] == GENESIS
    assert signing.verify_chain(key.public_key(), messages) == []
    # Order of arrival does not matter: the verifier sorts by seq.
    assert signing.verify_chain(key.public_key(), list(reversed(messages))) == []


def test_a_field_changed_after_signing_is_detected(key: Ed25519PrivateKey) -> None:
    messages = signed_chain(key, 4)
    messages[2]["match_distance"] = 0.9
    findings = signing.verify_chain(key.public_key(), messages)
    assert [(f.seq, f.problem) for f in findings] == [(2, "bad_signature"), (3, "broken_link")]


def test_a_removed_message_is_a_gap(key: Ed25519PrivateKey) -> None:
    messages = signed_chain(key, 5)
    del messages[2]
    findings = signing.verify_chain(key.public_key(), messages)
    assert [(f.seq, f.problem, f.detail) for f in findings] == [
        (3, "gap", "messages 2..2 are missing")
    ]


def test_a_resigned_replacement_breaks_the_link(key: Ed25519PrivateKey) -> None:
    """Even with the key, replacing a middle message shows: the next one names the original."""
    messages = signed_chain(key, 3)
    forged = {**messages[1], "attempts": 7}
    forged["signature"] = signing.sign(key, forged)
    findings = signing.verify_chain(key.public_key(), [messages[0], forged, messages[2]])
    assert [(f.seq, f.problem) for f in findings] == [(2, "broken_link")]


def test_another_devices_key_fails_every_signature(key: Ed25519PrivateKey) -> None:
    messages = signed_chain(key, 2)
    other = Ed25519PrivateKey.generate().public_key()
    assert {f.problem for f in signing.verify_chain(other, messages)} == {"bad_signature"}
    assert not signing.verify(other, {**messages[0], "signature": "not base64!"})
    assert not signing.verify(
        key.public_key(), {k: v for k, v in messages[0].items() if k != "signature"}
    )


def test_bundle_key_signs_and_registry_key_verifies(tmp_path: Path) -> None:
    centre = tmp_path / "centre"
    make_centre(centre)
    result = devices.register_kiosk(centre, "A", "01")
    private = signing.load_private_key(result.bundle_dir / "etc" / "signing.key")
    public = signing.public_key_from_b64(
        registry.load(centre).device("kiosk-a-01").signing_public_key
    )
    assert signing.verify_chain(public, signed_chain(private, 3)) == []


def test_unusable_keys_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="cannot read"):
        signing.load_private_key(tmp_path / "missing.key")
    (tmp_path / "bad.key").write_text("not a key")
    with pytest.raises(SigningError, match="not a PEM private key"):
        signing.load_private_key(tmp_path / "bad.key")
    with pytest.raises(SigningError, match="32 bytes"):
        signing.public_key_from_b64("AAAA")
    assert uuid.UUID(checkin(0)["id"]).version == 7
