"""Tamper evidence on central: signatures checked on arrival, a revoked kiosk's messages kept
as dead letters, and the chain report that finds altered, unsigned and missing messages. Keys
come from the provisioning registry through `python -m central sync-devices`."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.__main__ import main as central_main
from central.models import DeadLetter, DeviceKey, DeviceMessage, Event
from central.services import StoreItem, store_batch
from central.services.integrity import RegisteredKey, integrity_report, sync_device_keys
from protocol import CheckIn, ViolationEvent, decode, encode, topic_for
from protocol.models import AckedMessage
from protocol.signing import Chain, sign
from provisioning.__main__ import main as provisioning_main
from provisioning.registry import load as load_registry
from tests.central import factories as f

DEVICE = "kiosk-1"


def public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def signed(messages: Sequence[AckedMessage], key: Ed25519PrivateKey) -> list[AckedMessage]:
    """What central receives from a kiosk with `key`: each message linked to the previous one,
    signed, and sent through the wire encoding (central checks what it decoded)."""
    chain, out = Chain(), list[AckedMessage]()
    for message in messages:
        linked = message.model_copy(update=chain.link({}))
        done = linked.model_copy(update={"signature": sign(key, linked)})
        chain.advance(done)
        received = decode(topic_for(done), encode(done)).message
        assert isinstance(received, ViolationEvent | CheckIn)
        out.append(received)
    return out


def stream(count: int, session: str = "sess-1") -> list[AckedMessage]:
    """An exam's worth of messages from one kiosk: events and a check-in, seq 0.."""
    out: list[AckedMessage] = [f.checkin(seq=0)]
    out += [f.event(seq=i) for i in range(1, count)]
    return out


def register(sessions: sessionmaker[Session], key: Ed25519PrivateKey, revoked: bool) -> None:
    revoked_at = datetime(2026, 12, 4, 10, 0, tzinfo=UTC) if revoked else None
    with sessions.begin() as session:
        sync_device_keys(session, [RegisteredKey(DEVICE, public_b64(key), revoked_at)])


def store(sessions: sessionmaker[Session], items: Sequence[StoreItem]) -> list[str | None]:
    with sessions.begin() as session:
        return [r.status if r else None for r in store_batch(session, list(items))]


def integrity_of(sessions: sessionmaker[Session]) -> list[str | None]:
    with sessions() as session:
        rows: list[tuple[int, str | None]] = [
            (seq, integrity)
            for table in (Event, DeviceMessage)
            for seq, integrity in session.execute(select(table.seq, table.integrity))
        ]
        return [integrity for _, integrity in sorted(rows)]


def test_a_registered_kiosks_signed_stream_is_verified(
    any_sessions: sessionmaker[Session],
) -> None:
    key = Ed25519PrivateKey.generate()
    register(any_sessions, key, revoked=False)
    assert store(any_sessions, signed(stream(5), key)) == ["stored"] * 5
    assert integrity_of(any_sessions) == ["verified"] * 5
    with any_sessions() as session:
        report = integrity_report(session, DEVICE)
        assert report.verified
        assert report.summary() == (
            "Evidence integrity verified: 5 signed messages, chain unbroken"
        )
        assert integrity_report(session, DEVICE, session_id="sess-1").verified


def test_altered_unsigned_and_missing_messages_are_reported(
    any_sessions: sessionmaker[Session],
) -> None:
    key = Ed25519PrivateKey.generate()
    register(any_sessions, key, revoked=False)
    messages = signed(stream(7), key)
    altered = messages[2].model_copy(update={"duration_s": 1.0})  # signature no longer fits
    unsigned = messages[3].model_copy(update={"signature": None})
    kept = [messages[0], messages[1], altered, unsigned, messages[4], messages[6]]  # 5 lost
    assert store(any_sessions, kept) == ["stored"] * 6
    assert integrity_of(any_sessions) == [
        "verified", "verified", "bad_signature", "unsigned", "verified", "verified",
    ]  # fmt: skip
    with any_sessions() as session:
        report = integrity_report(session, DEVICE)
    problems = [(finding.seq, finding.problem) for finding in report.findings]
    # The altered message also no longer hashes to what its successor names.
    assert problems == [(2, "bad_signature"), (3, "unsigned"), (3, "broken_link"), (6, "gap")]
    assert not report.verified
    assert "message 6: messages 5..5 missing" in report.summary()


def test_a_forged_chain_is_a_broken_link(any_sessions: sessionmaker[Session]) -> None:
    key = Ed25519PrivateKey.generate()
    register(any_sessions, key, revoked=False)
    first = signed(stream(2), key)
    # A message signed with the right key but not following its predecessor (replayed from
    # another stream): the signature holds, the link does not.
    other = signed([f.event(seq=5), f.event(seq=2)], key)[1]
    store(any_sessions, [*first, other])
    with any_sessions() as session:
        problems = [(x.seq, x.problem) for x in integrity_report(session, DEVICE).findings]
    assert problems == [(2, "broken_link")]


def test_a_revoked_kiosk_is_kept_out_as_dead_letters(
    any_sessions: sessionmaker[Session],
) -> None:
    key = Ed25519PrivateKey.generate()
    register(any_sessions, key, revoked=True)
    assert store(any_sessions, signed(stream(2), key)) == ["rejected", "rejected"]
    with any_sessions() as session:
        letters = session.scalars(select(DeadLetter)).all()
        assert [d.reason_code for d in letters] == ["revoked_device"] * 2
        assert all("was revoked at 2026-12-04T10:00" in d.reason for d in letters)
        assert session.scalars(select(Event)).all() == []


def test_a_kiosk_without_a_registered_key_is_not_verifiable(
    any_sessions: sessionmaker[Session],
) -> None:
    assert store(any_sessions, stream(2)) == ["stored", "stored"]
    assert integrity_of(any_sessions) == ["no_key", "no_key"]
    with any_sessions() as session:
        report = integrity_report(session, DEVICE)
    assert not report.verified
    assert report.summary().startswith("Evidence integrity not verifiable")


def test_sync_devices_loads_keys_and_revocations_from_the_registry(
    tmp_path: Path, migrated_sqlite_url: str, sessions: sessionmaker[Session]
) -> None:
    centre = tmp_path / "centre"
    assert provisioning_main([
        "init-centre", "--out", str(centre), "--centre-id", "c1", "--broker-host", "b.local",
        "--broker-pid-file", str(tmp_path / "broker.pid"),
    ]) == 0  # fmt: skip
    for seat in ("1", "2"):
        args = ["register-kiosk", "--centre", str(centre), "--hall", "a", "--seat", seat]
        assert provisioning_main(args) == 0
    sync = ["--database-url", migrated_sqlite_url, "sync-devices", "--centre", str(centre)]
    assert central_main(sync) == 0
    assert provisioning_main(["revoke", "--centre", str(centre), "kiosk-a-2"]) == 0
    assert central_main(sync) == 0

    registry = load_registry(centre)
    with sessions() as session:
        rows = {row.device_id: row for row in session.scalars(select(DeviceKey)).all()}
    assert set(rows) == {"kiosk-a-1", "kiosk-a-2"}
    assert rows["kiosk-a-1"].status == "active"
    assert rows["kiosk-a-1"].public_key == registry.devices["kiosk-a-1"].signing_public_key
    assert rows["kiosk-a-2"].status == "revoked"
    assert rows["kiosk-a-2"].revoked_at is not None

    missing = ["--database-url", migrated_sqlite_url, "sync-devices", "--centre", "/nope"]
    assert central_main(missing) == 1
