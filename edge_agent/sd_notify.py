"""systemd's notify protocol without a dependency: READY=1, WATCHDOG=1, STATUS=... as one
datagram each to $NOTIFY_SOCKET (a path, or '@name' for the abstract namespace).

Outside systemd (NOTIFY_SOCKET unset) every call does nothing, so the agent runs the same way
from a terminal, in tests and under `Type=notify`.

    notifier = Notifier.from_environment()
    notifier.ready("outbox open")        # once, when the agent can do its job
    notifier.watchdog()                  # from the frame loop, after each frame it processed
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)

SOCKET_ENV = "NOTIFY_SOCKET"
WATCHDOG_USEC_ENV = "WATCHDOG_USEC"


def _address(value: str) -> str | bytes:
    # '@' marks Linux's abstract namespace: the address starts with a NUL byte instead.
    return b"\0" + value[1:].encode() if value.startswith("@") else value


class Notifier:
    def __init__(self, socket_address: str | None, watchdog_usec: int | None = None) -> None:
        self._address = _address(socket_address) if socket_address else None
        self._sock: socket.socket | None = None
        # systemd recommends pinging at half the timeout; pinging per frame is rate-limited.
        self._min_ping_s = watchdog_usec / 2e6 if watchdog_usec else 0.0
        self._last_ping = float("-inf")

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if env is None else env
        usec = env.get(WATCHDOG_USEC_ENV, "")
        return cls(env.get(SOCKET_ENV) or None, int(usec) if usec.isdigit() else None)

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, *assignments: str) -> bool:
        """Send 'KEY=value' lines in one datagram; False when not under systemd or on error."""
        if self._address is None:
            return False
        payload = "\n".join(assignments).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(payload, self._address)
        except OSError as exc:  # systemd gone or socket removed: never kill the agent for it
            log.warning("sd_notify failed: %s", exc)
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text.replace(chr(10), ' ')}")

    def watchdog(self) -> bool:
        """Ping the watchdog; at most once per half timeout however often it is called."""
        now = time.monotonic()
        if now - self._last_ping < self._min_ping_s:
            return False
        sent = self.notify("WATCHDOG=1")
        if sent:
            self._last_ping = now
        return sent

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
