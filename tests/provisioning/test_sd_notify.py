"""sd_notify over a real unix datagram socket, as systemd's NOTIFY_SOCKET is."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent.sd_notify import Notifier


def _receive(sock: socket.socket) -> str:
    sock.settimeout(2)
    return sock.recv(4096).decode()


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    yield address, sock
    sock.close()


def test_ready_status_and_watchdog_reach_the_socket(path_socket: tuple[str, socket.socket]) -> None:
    address, sock = path_socket
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": address})
    assert notifier.enabled
    assert notifier.ready("outbox open")
    assert _receive(sock) == "READY=1\nSTATUS=outbox open"
    assert notifier.status("camera lost\nreopening")
    assert _receive(sock) == "STATUS=camera lost reopening"
    assert notifier.watchdog()
    assert _receive(sock) == "WATCHDOG=1"
    assert notifier.stopping()
    assert _receive(sock) == "STOPPING=1"
    notifier.close()


def test_abstract_namespace_socket() -> None:
    name = f"proctor-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    try:
        notifier = Notifier.from_environment({"NOTIFY_SOCKET": "@" + name})
        assert notifier.watchdog()
        assert _receive(sock) == "WATCHDOG=1"
    finally:
        sock.close()


def test_watchdog_pings_at_most_every_half_timeout(path_socket: tuple[str, socket.socket]) -> None:
    address, sock = path_socket
    # WATCHDOG_USEC=30 s: the frame loop calls watchdog() per frame, one ping goes out.
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "30000000"})
    assert notifier.watchdog()
    assert [notifier.watchdog() for _ in range(50)] == [False] * 50
    assert _receive(sock) == "WATCHDOG=1"
    sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        sock.recv(4096)


def test_without_notify_socket_every_call_is_a_no_op() -> None:
    notifier = Notifier.from_environment({})
    assert not notifier.enabled
    assert (notifier.ready(), notifier.watchdog(), notifier.status("x")) == (False, False, False)


def test_a_vanished_socket_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier(str(tmp_path / "gone.sock"))
    assert notifier.ready() is False
    assert "sd_notify failed" in caplog.text
