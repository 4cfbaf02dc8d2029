"""Reopening a device that failed (a camera, a microphone): wait, try again, wait longer.

Shared by the camera and the microphone capture threads, so both back off the same way: the
first wait is `min_s`, each failed attempt doubles it up to `max_s`, and an attempt that
delivered something before failing starts over at `min_s` (the device worked for a while).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import NamedTuple


class Attempt(NamedTuple):
    retry: bool  # the device failed and is worth reopening (not stopped, not a finished file)
    progressed: bool  # it delivered data before failing


def keep_reopening(
    stop: threading.Event,
    min_s: float,
    max_s: float,
    attempt: Callable[[], Attempt],
    on_reopen: Callable[[], None],
) -> None:
    """Call `attempt()` until it says not to retry or `stop` is set; `on_reopen()` before
    every attempt after the first."""
    delay, first = min_s, True
    while not stop.is_set():
        if not first:
            on_reopen()
            if stop.wait(delay):
                return
            delay = min(delay * 2, max_s)
        first = False
        outcome = attempt()
        if not outcome.retry:
            return
        if outcome.progressed:
            delay = min_s
