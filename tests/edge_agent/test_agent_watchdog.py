"""systemd's watchdog is fed by the frame loop itself: pings flow while frames are processed
and stop when the loop is stuck, so systemd restarts a hung agent (Type=notify, WatchdogSec)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from edge_agent.agent import Agent
from edge_agent.kiosk_config import KioskConfig
from edge_agent.sd_notify import Notifier
from protocol.broker_url import BrokerUrl
from tests.edge_agent.capture.helpers import FlakyCamera


def _pings(sock: socket.socket, seconds: float) -> int:
    """WATCHDOG=1 datagrams received within the next `seconds`."""
    count, deadline = 0, time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            count += sock.recv(256) == b"WATCHDOG=1"
        except TimeoutError:
            break
    return count


def test_watchdog_pings_follow_the_frame_loop(tmp_path: Path) -> None:
    address = str(tmp_path / "notify.sock")
    systemd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    systemd.bind(address)
    # WatchdogSec=0.2 s: the agent pings at most every 0.1 s.
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "200000"})
    config = KioskConfig.model_validate({
        "identity": {"centre_id": "centre-1", "device_id": "kiosk-wd"},
        "data_dir": str(tmp_path / "data"),
        "evidence": {"upload": {"url": "http://127.0.0.1:9"}},
        "rules": {"camera_covered": {"enabled": False}, "face_absent": {"enabled": False}},
    })  # fmt: skip
    agent = Agent(
        config, source=FlakyCamera(interval_s=0.03), publish=False, watchdog=notifier.watchdog
    )
    release = threading.Event()
    process = agent.watcher.process

    def stuck(frame: Any) -> Any:
        release.wait(30)
        return process(frame)

    agent.start()
    try:
        assert _pings(systemd, 1.0) >= 5  # about one per 0.1 s while frames flow
        agent.watcher.process = stuck  # type: ignore[method-assign]
        _pings(systemd, 0.3)  # the turn in progress may still ping once
        assert _pings(systemd, 1.0) == 0  # a hung loop starves the watchdog
        release.set()
        agent.watcher.process = process  # type: ignore[method-assign]
        assert _pings(systemd, 1.0) >= 5  # and it resumes with the loop
    finally:
        release.set()
        agent.stop()
        assert agent.join(30)
        notifier.close()
        systemd.close()


def _notification(sock: socket.socket, agent: subprocess.Popen[bytes]) -> str:
    """The next datagram; fails at once if the agent died, else after 60 s (models load first)."""
    deadline = time.monotonic() + 60
    sock.settimeout(1.0)
    while time.monotonic() < deadline:
        try:
            return sock.recv(256).decode()
        except TimeoutError:
            assert agent.poll() is None, f"the agent exited with {agent.returncode}"
    raise AssertionError("no notification from the agent within 60 s")


def test_the_agent_service_tells_systemd_ready_alive_and_stopping(
    tmp_path: Path, mosquitto: BrokerUrl, fixtures_dir: Path
) -> None:
    """`python -m edge_agent run` as systemd runs it: READY once started, watchdog pings from
    the frame loop, STOPPING on SIGTERM, then a clean exit."""
    address = str(tmp_path / "notify.sock")
    systemd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    systemd.bind(address)
    video = fixtures_dir / "video" / "center_left_center.mp4"
    config = tmp_path / "kiosk.toml"
    config.write_text("\n".join([
        f'data_dir = "{tmp_path / "data"}"',
        "[identity]", 'centre_id = "centre-1"', 'device_id = "kiosk-svc"', 'seat_id = "A-01"',
        "[broker]", f'url = "{mosquitto.to_url(redact=False)}"',
        "[capture]", 'type = "file"', f'path = "{video}"', 'rotate = "90cw"', "loop = true",
        "[evidence.upload]", 'url = "http://127.0.0.1:9"', "",
    ]))  # fmt: skip
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"}
    agent = subprocess.Popen(
        [sys.executable, "-m", "edge_agent", "run", "--config", str(config)], env=env
    )
    try:
        received: list[str] = []
        while not {"WATCHDOG=1", "READY=1\nSTATUS=watching seat A-01"} <= set(received):
            received.append(_notification(systemd, agent))
        agent.send_signal(signal.SIGTERM)
        while received[-1] != "STOPPING=1":
            received.append(_notification(systemd, agent))
        assert agent.wait(60) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
        systemd.close()
