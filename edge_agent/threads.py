"""Thread priorities: background work (clip encoding, identity checks, object detection) must
never take the CPU from capture and the frame loop."""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)


def lower_thread_priority(niceness: int) -> int | None:
    """Raise the calling thread's nice value by `niceness` (Linux: nice is per thread, and
    threads it starts inherit it). Returns the new value, None when unchanged."""
    if niceness <= 0 or not hasattr(os, "setpriority"):
        return None
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + niceness))
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError as exc:
        log.warning("cannot lower %s's priority: %s", threading.current_thread().name, exc)
        return None
