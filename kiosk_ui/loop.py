"""The screen's background heartbeat: tick the exam clock, follow the agent, forward messages."""

from __future__ import annotations

import logging
import threading

from kiosk_ui.service import KioskService

log = logging.getLogger(__name__)


class SeatLoop:
    """Beats every `interval_s`; a queued message wakes it to forward at once."""

    def __init__(self, service: KioskService, interval_s: float = 1.0) -> None:
        self.service = service
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-seat-loop", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.service.forward_now.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.service.beat()
            except Exception:  # the loop must outlive any one bad beat
                log.exception("kiosk beat failed")
            woke = self.service.forward_now.wait(self.interval_s)
            if woke and not self._stop.is_set():
                self.service.forward_now.clear()
                try:
                    self.service.forward()
                except Exception:
                    log.exception("forwarding failed")
