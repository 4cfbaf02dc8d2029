"""Telling a running Mosquitto to re-read its password and ACL files.

Mosquitto 2.0 re-reads both on SIGHUP and then re-checks every connected client: one whose
login is no longer in the password file is disconnected at once (measured with 2.0.11 in
tests/provisioning/test_broker_acceptance.py), and its reconnect is refused.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path


class BrokerControlError(RuntimeError):
    """The broker could not be told to reload."""


def read_pid_file(path: Path) -> int:
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise BrokerControlError(f"cannot read broker pid file {path}: {exc.strerror}") from None
    if not text.isdigit():
        raise BrokerControlError(f"broker pid file {path} does not hold a pid: {text[:40]!r}")
    return int(text)


def reload_broker(pid: int) -> None:
    """SIGHUP: Mosquitto reloads password_file and acl_file (not the listeners)."""
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        raise BrokerControlError(f"no broker process with pid {pid}") from None
    except PermissionError:
        raise BrokerControlError(f"not allowed to signal pid {pid}: run as its owner") from None
