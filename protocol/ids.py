"""UUIDv7 ids made on the kiosk (RFC 9562): time-ordered, so they index well as primary keys.

Python 3.11 has no uuid7; this is the RFC layout: 48-bit Unix milliseconds, version 7,
12 bits of sub-millisecond sequence, variant, 62 random bits. The sequence keeps ids from one
process strictly increasing even when several are made in the same millisecond or the wall
clock steps back (kiosks have no real-time clock).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_SEQ_MAX = 0xFFF


class _Uuid7Generator:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._last_seq = 0

    def _next_stamp(self, ms: int) -> tuple[int, int]:
        with self._lock:
            if ms <= self._last_ms:
                # Same millisecond or the clock went back: keep the last stamp, count up.
                ms = self._last_ms
                self._last_seq += 1
                if self._last_seq > _SEQ_MAX:
                    ms += 1
                    self._last_seq = 0
            else:
                # Random start in the lower half leaves room to count up within this ms.
                self._last_seq = int.from_bytes(os.urandom(2), "big") & 0x3FF
            self._last_ms = ms
            return ms, self._last_seq

    def new(self, now_ms: int | None) -> uuid.UUID:
        ms, seq = self._next_stamp(int(time.time() * 1000) if now_ms is None else now_ms)
        rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | rand
        return uuid.UUID(int=value)


_generator = _Uuid7Generator()


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """Return a new UUIDv7; ids from one process are strictly increasing."""
    return _generator.new(now_ms)


def uuid7_time_ms(value: uuid.UUID) -> int:
    """The Unix millisecond timestamp embedded in a UUIDv7."""
    return value.int >> 80
