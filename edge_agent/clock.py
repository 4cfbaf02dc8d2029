"""Device time as the wire contract wants it: wall time, monotonic time, boot id, sync flag.

Kiosks have no real-time clock, so wall time may be wrong until time sync has run; every
message says whether it was synced, and carries monotonic time with the boot id so central
can still order events from one boot.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from protocol import DeviceClock

log = logging.getLogger(__name__)

BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")
# systemd-timesyncd touches this file once the clock has been synchronised since boot.
SYNC_MARKERS: tuple[Path, ...] = (Path("/run/systemd/timesync/synchronized"),)


class Clock(Protocol):
    """Anything that can say what time it is on this device."""

    def now(self) -> DeviceClock: ...

    def monotonic(self) -> float: ...

    @property
    def boot_id(self) -> str: ...


def read_boot_id(path: Path = BOOT_ID_PATH) -> str:
    """The kernel's boot id, or a random id for this process when there is none."""
    try:
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        value = ""
    if 0 < len(value) <= 64:
        return value
    fallback = f"proc-{uuid.uuid4().hex}"
    log.warning("no boot id at %s; using per-process id %s", path, fallback)
    return fallback


class SystemClock:
    """The real clock. `synced` is forced by `synced_override`, else read from sync markers."""

    def __init__(
        self,
        *,
        synced_override: bool | None = None,
        boot_id: str | None = None,
        sync_markers: Sequence[Path] = SYNC_MARKERS,
    ) -> None:
        self._synced_override = synced_override
        self._boot_id = boot_id or read_boot_id()
        self._sync_markers = tuple(sync_markers)

    @property
    def boot_id(self) -> str:
        return self._boot_id

    def synced(self) -> bool:
        if self._synced_override is not None:
            return self._synced_override
        return any(marker.exists() for marker in self._sync_markers)

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> DeviceClock:
        return DeviceClock(
            wall_time=datetime.now(UTC),
            monotonic_s=time.monotonic(),
            boot_id=self._boot_id,
            synced=self.synced(),
        )


class FakeClock:
    """A clock that moves only when told to; for tests and deterministic simulations."""

    def __init__(
        self,
        wall_time: datetime | None = None,
        monotonic_s: float = 1000.0,
        *,
        boot_id: str = "fake-boot",
        synced: bool = True,
    ) -> None:
        self._lock = threading.Lock()
        self._wall = wall_time or datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
        self._mono = monotonic_s
        self._boot_id = boot_id
        self.synced = synced

    @property
    def boot_id(self) -> str:
        return self._boot_id

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._mono += seconds
            self._wall += timedelta(seconds=seconds)

    def set_wall(self, wall_time: datetime) -> None:
        """Step wall time only, like time sync does after boot."""
        with self._lock:
            self._wall = wall_time

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def now(self) -> DeviceClock:
        with self._lock:
            return DeviceClock(
                wall_time=self._wall,
                monotonic_s=self._mono,
                boot_id=self._boot_id,
                synced=self.synced,
            )
