"""Store a batch of decoded kiosk messages in one transaction, exactly once.

`store_batch` is the single way messages enter the database, whoever received them (MQTT ingest
today, an HTTP upload path later). It never commits: the caller commits, and only then tells the
broker and the kiosks (ack after commit).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_args

from sqlalchemy import Column, Connection, Table, select
from sqlalchemy.orm import Session

from central.models import DeadLetter, DeviceMessage, Event, Violation
from central.services.devices import FromDevice, update_devices
from central.services.feed_hook import record_stored
from central.services.integrity import DeviceKeyInfo, check, load_keys, revoked_rejection
from central.services.rejects import RejectedPayload
from central.services.upsert import chunks, insert_all_ignoring_duplicates, upsert_all_if_newer
from protocol import encode, topic_for
from protocol.models import (
    AckedMessage,
    AckResult,
    CommandReceipt,
    OutboxMessage,
    SessionMessage,
    ViolationEvent,
)

StoreItem = FromDevice | RejectedPayload

MAX_SEQ = 2**63 - 1  # BIGINT
MIN_STORABLE_YEAR = 1000  # MySQL DATETIME
ACK_REASON_CHARS = 300  # keeps an Ack of 100 results well under the 256 KiB ack limit
SELECT_CHUNK = 500

# Every acknowledged kind but violations is a device message: derived from the protocol's
# union, so a kind added there is stored here too (one once went unstored and unacked).
_SESSION_KINDS: tuple[type[AckedMessage], ...] = (*get_args(SessionMessage), CommandReceipt)
_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_VIOLATIONS: Table = Violation.__table__  # type: ignore[assignment]
_MESSAGES: Table = DeviceMessage.__table__  # type: ignore[assignment]
_DEAD_LETTERS: Table = DeadLetter.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class _Keyed:
    index: int  # position in the batch
    key: str  # primary key
    row: dict[str, Any]


def store_batch(session: Session, items: Sequence[StoreItem]) -> list[AckResult | None]:
    """Store the items; return, for each item in order, its AckResult or None.

    Events, session messages and receipts get `stored` (new) or `duplicate` (the id was already
    stored, or came earlier in this batch: the first delivery is kept unchanged). Rejected
    payloads go to the dead-letter table and get `rejected` when their id was recovered.
    Heartbeats and status messages update the device row and get None (they are not acked).
    """
    now = datetime.now(UTC)
    connection = session.connection()
    keys = load_keys(connection, (m.device_id for m in items if isinstance(m, OutboxMessage)))
    screened = [_screen(item, keys) for item in items]
    results: list[AckResult | None] = [None] * len(screened)
    events = [(i, m) for i, m in enumerate(screened) if isinstance(m, ViolationEvent)]
    new_events = _store_keyed(
        connection,
        _EVENTS,
        [_Keyed(i, str(m.id), {**_event_row(m, now), **check(m, keys)}) for i, m in events],
        results,
    )
    messages = [(i, m) for i, m in enumerate(screened) if isinstance(m, _SESSION_KINDS)]
    _store_keyed(
        connection,
        _MESSAGES,
        [_Keyed(i, str(m.id), {**_message_row(m, now), **check(m, keys)}) for i, m in messages],
        results,
    )
    _update_violations(connection, [m for i, m in events if i in new_events], now)
    _store_dead_letters(connection, screened, now, results)
    update_devices(connection, [m for m in screened if not isinstance(m, RejectedPayload)], now)
    record_stored(connection, screened, results, now)  # live console feed; must come last
    return results


def _screen(item: StoreItem, keys: dict[str, DeviceKeyInfo]) -> StoreItem:
    """Valid messages the database cannot hold (absurd seq or dates), and any message from a
    revoked kiosk, become rejected payloads (dead letters)."""
    if isinstance(item, RejectedPayload):
        return item
    if isinstance(item, OutboxMessage):
        revoked = revoked_rejection(item, keys)
        if revoked is not None:
            return revoked
    problem = unstorable_reason(item)
    if problem is None:
        return item
    return RejectedPayload.build(topic_for(item), encode(item), "unstorable", problem)


def unstorable_reason(message: FromDevice) -> str | None:
    seq = getattr(message, "seq", 0)
    if seq > MAX_SEQ:
        return f"seq {seq} is larger than {MAX_SEQ}"
    times: dict[str, datetime | None] = {}
    clock = getattr(message, "clock", None)
    if clock is not None:
        times["clock.wall_time"] = clock.wall_time
    if isinstance(message, ViolationEvent):
        times["started_at"] = message.started_at
        times["ended_at"] = message.ended_at
    for name, value in times.items():
        if value is not None and not _storable_time(value):
            return f"{name} {value.isoformat()} is outside the storable range"
    return None


def _storable_time(value: datetime) -> bool:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        return False
    return utc.year >= MIN_STORABLE_YEAR


def _store_keyed(
    connection: Connection, table: Table, items: list[_Keyed], results: list[AckResult | None]
) -> set[int]:
    """Insert the items whose key is not stored yet; fill in their results; return the batch
    positions that were stored (first occurrence of a new key)."""
    if not items:
        return set()
    key: Column[str] = next(iter(table.primary_key.columns))
    existing = _existing_keys(connection, key, list(dict.fromkeys(item.key for item in items)))
    stored: dict[str, _Keyed] = {}
    for item in items:
        if item.key in existing or item.key in stored:
            results[item.index] = AckResult(id=uuid.UUID(item.key), status="duplicate")
        else:
            stored[item.key] = item
            results[item.index] = AckResult(id=uuid.UUID(item.key), status="stored")
    rows = [stored[k].row for k in sorted(stored)]  # key order: fewer lock waits between workers
    insert_all_ignoring_duplicates(connection, table, rows)
    return {item.index for item in stored.values()}


def _existing_keys(connection: Connection, key: Column[str], keys: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunks(keys, SELECT_CHUNK):
        found.update(connection.scalars(select(key).where(key.in_(chunk))))
    return found


def _event_row(event: ViolationEvent, now: datetime) -> dict[str, Any]:
    subject = event.subject
    return {
        "event_id": str(event.id),
        "violation_id": str(event.violation_id),
        "device_id": event.device_id,
        "centre_id": event.centre_id,
        "seat_id": subject.seat_id,
        "session_id": subject.session_id,
        "candidate_id": subject.candidate_id,
        "exam_id": subject.exam_id,
        "type": event.type.value,
        "state": event.state.value,
        "severity": event.severity.value,
        "confidence": event.confidence,
        "started_at": event.started_at,
        "ended_at": event.ended_at,
        "duration_s": event.duration_s,
        "details": dict(event.details),
        "evidence": [ref.model_dump(mode="json") for ref in event.evidence],
        "device_time": event.clock.wall_time,
        "monotonic_s": event.clock.monotonic_s,
        "boot_id": event.clock.boot_id,
        "clock_synced": event.clock.synced,
        "seq": event.seq,
        "simulated": event.simulated,
        "received_at": now,
    }


def _message_row(message: AckedMessage, now: datetime) -> dict[str, Any]:
    subject = getattr(message, "subject", None)
    return {
        "message_id": str(message.id),
        "kind": message.kind,
        "device_id": message.device_id,
        "centre_id": message.centre_id,
        "session_id": subject.session_id if subject is not None else None,
        "body": message.model_dump(mode="json"),
        "seq": message.seq,
        "device_time": message.clock.wall_time,
        "received_at": now,
    }


_SUMMARY_FIELDS = (
    "seat_id", "session_id", "candidate_id", "exam_id", "type", "state", "severity",
    "started_at", "ended_at", "duration_s", "simulated",
)  # fmt: skip
_VIOLATION_UPDATED = (*_SUMMARY_FIELDS, "last_seq", "last_event_id", "updated_at")


def _violation_row(event: ViolationEvent, now: datetime) -> dict[str, Any]:
    row = _event_row(event, now)
    return {
        "violation_id": row["violation_id"],
        "device_id": row["device_id"],
        "centre_id": row["centre_id"],
        **{name: row[name] for name in _SUMMARY_FIELDS},
        "last_seq": event.seq,
        "last_event_id": row["event_id"],
        "updated_at": now,
    }


def _update_violations(connection: Connection, events: list[ViolationEvent], now: datetime) -> None:
    """Create missing summaries, or move each to its newest message if its seq is higher than
    the stored one, in one conditional upsert per row: atomic, so concurrent workers and
    out-of-order redelivery can never move a summary backwards."""
    latest: dict[str, ViolationEvent] = {}
    for event in events:
        current = latest.get(str(event.violation_id))
        if current is None or event.seq > current.seq:
            latest[str(event.violation_id)] = event
    if not latest:
        return
    rows = [_violation_row(latest[k], now) for k in sorted(latest)]
    upsert_all_if_newer(connection, _VIOLATIONS, rows, "last_seq", _VIOLATION_UPDATED)


def _store_dead_letters(
    connection: Connection, items: list[StoreItem], now: datetime, results: list[AckResult | None]
) -> None:
    rows = []
    for index, item in enumerate(items):
        if not isinstance(item, RejectedPayload):
            continue
        rows.append(_dead_letter_row(item, now))
        if item.message_id is not None:
            reason = f"{item.reason_code}: {item.reason}"[:ACK_REASON_CHARS]
            results[index] = AckResult(id=item.message_id, status="rejected", reason=reason)
    for chunk in chunks(rows, 100):
        connection.execute(_DEAD_LETTERS.insert().values(list(chunk)))


def _dead_letter_row(item: RejectedPayload, now: datetime) -> dict[str, Any]:
    return {
        "received_at": now,
        "topic": item.topic[:255],
        "payload": item.payload,
        "payload_size": item.payload_size,
        "reason_code": item.reason_code[:32],
        "reason": item.reason,
        "centre_id": item.centre_id,
        "device_id": item.device_id,
        "message_id": str(item.message_id) if item.message_id is not None else None,
    }
