"""The application-level send window: which outbox rows are sent and not yet acked by central.

Pure bookkeeping (no I/O, no locking): the publisher holds its own lock around it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass
class _Entry:
    sent_at: float
    mid: int | None = None


class InFlightWindow:
    """At most `capacity` ids in flight; an id not acked within `timeout_s` expires."""

    def __init__(self, capacity: int, timeout_s: float) -> None:
        if capacity < 1 or timeout_s <= 0:
            raise ValueError("capacity must be >= 1 and timeout_s > 0")
        self.capacity = capacity
        self.timeout_s = timeout_s
        self._entries: dict[uuid.UUID, _Entry] = {}
        self._by_mid: dict[int, uuid.UUID] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, item: object) -> bool:
        return item in self._entries

    def room(self) -> int:
        return max(0, self.capacity - len(self._entries))

    def ids(self) -> frozenset[uuid.UUID]:
        return frozenset(self._entries)

    def add(self, message_id: uuid.UUID, now: float) -> None:
        self._forget(message_id)
        self._entries[message_id] = _Entry(sent_at=now)

    def set_mid(self, message_id: uuid.UUID, mid: int) -> None:
        """Remember the MQTT packet id of the latest send, to name the row in PUBACK errors."""
        entry = self._entries.get(message_id)
        if entry is None:
            return
        if entry.mid is not None:
            self._by_mid.pop(entry.mid, None)
        entry.mid = mid
        self._by_mid[mid] = message_id

    def id_for_mid(self, mid: int) -> uuid.UUID | None:
        return self._by_mid.get(mid)

    def remove(self, ids: list[uuid.UUID]) -> int:
        """Drop ids (acked, or given back unsent); returns how many were in flight."""
        return sum(self._forget(message_id) for message_id in ids)

    def next_expiry(self) -> float | None:
        """When the oldest id in flight expires (None: nothing in flight). Ids are kept in the
        order they were sent (`add` re-inserts), so the first is the oldest."""
        first = next(iter(self._entries.values()), None)
        return None if first is None else first.sent_at + self.timeout_s

    def expire(self, now: float) -> list[uuid.UUID]:
        """Drop and return the ids sent at least `timeout_s` ago, so they can be sent again."""
        due = [k for k, entry in self._entries.items() if now - entry.sent_at >= self.timeout_s]
        for message_id in due:
            self._forget(message_id)
        return due

    def _forget(self, message_id: uuid.UUID) -> bool:
        entry = self._entries.pop(message_id, None)
        if entry is None:
            return False
        if entry.mid is not None and self._by_mid.get(entry.mid) == message_id:
            del self._by_mid[entry.mid]
        return True
