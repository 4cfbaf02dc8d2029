"""Private server processes for tests: Mosquitto, MariaDB and the embedded amqtt broker.

Each runs on a free loopback port with its state in a temporary directory, so a test can stop,
kill and restart it without touching the machine's own services. When a binary is missing the
test is skipped, except under CI=true where it fails: CI must never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from protocol.broker_url import BrokerUrl

ROOT = Path(__file__).resolve().parents[2]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_binary(name: str, why: str) -> str:
    """Path of a binary, or skip (fail under CI) with a message saying how to get it."""
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if path:
        return path
    message = f"{name} not found: {why} (run `make test`, which installs it)"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def _terminate(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


class MosquittoInstance:
    """A private mosquitto with persistence in `workdir`; the port stays fixed across restarts."""

    def __init__(self, workdir: Path, extra_conf: str = "") -> None:
        self.binary = require_binary("mosquitto", "tests need a real MQTT v5 broker")
        self.workdir = workdir
        self.port = free_port()
        self.conf = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        (workdir / "data").mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {workdir / 'data'}/",
            "autosave_interval 1",
            # 0 = no limit on queued messages: never drop silently (bounded by bytes in prod).
            "max_queued_messages 0",
            "max_inflight_messages 1000",
            "sys_interval 1",
            f"log_dest file {self.log}",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if os.geteuid() == 0:
            # As root, mosquitto drops to the `mosquitto` user, which could not write the log
            # or the persistence file here: persistence would silently be off.
            lines.append("user root")
        self.conf.write_text("\n".join(lines) + "\n" + extra_conf)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> BrokerUrl:
        return BrokerUrl(host="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], cwd=self.workdir)
        wait_for_port(self.port, 10, self.proc)

    def stop(self) -> None:
        """Clean stop: mosquitto saves its persistence file."""
        _terminate(self.proc)

    def kill(self) -> None:
        """SIGKILL: whatever was not autosaved is lost, as on a power cut."""
        _terminate(self.proc, signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()


class MariaDBServer:
    """A private mariadbd on a temporary data directory; `new_database()` gives a clean one."""

    def __init__(self, workdir: Path) -> None:
        self.mariadbd = require_binary("mariadbd", "tests need a real MariaDB server")
        self.install_db = require_binary("mariadb-install-db", "tests need a real MariaDB server")
        self.workdir = workdir
        self.datadir = workdir / "data"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def _initialise(self) -> None:
        result = subprocess.run(
            [
                self.install_db,
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--skip-test-db",
                "--auth-root-authentication-method=normal",
                *self._user_args(),
            ],
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {result.stderr.decode()[-2000:]}")

    @staticmethod
    def _user_args() -> list[str]:
        return ["--user=root"] if os.geteuid() == 0 else []

    def start(self) -> None:
        if not self.datadir.exists():
            self._initialise()
        self.proc = subprocess.Popen(
            [
                self.mariadbd,
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.workdir / 'mysqld.sock'}",
                f"--pid-file={self.workdir / 'mysqld.pid'}",
                f"--log-error={self.workdir / 'err.log'}",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=128M",
                "--max-connections=500",
                *self._user_args(),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, 60, self.proc)

    def stop(self) -> None:
        _terminate(self.proc)

    def kill(self) -> None:
        _terminate(self.proc, signal.SIGKILL)

    def root_url(self, database: str = "") -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}?charset=utf8mb4"


def run_sql(root_url: str, statement: str) -> None:
    import pymysql  # only the tests that need MariaDB import the driver

    rest = root_url.split("@", 1)[1].split("/", 1)[0]
    host, port = rest.split(":")
    conn = pymysql.connect(host=host, port=int(port), user="root", password="", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


class AmqttInstance:
    """The demo's embedded broker, run as its own process exactly as `make demo` runs it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> BrokerUrl:
        return BrokerUrl(host="127.0.0.1", port=self.port, version="3.1.1")

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "central.embedded_broker", "--port", str(self.port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, 20, self.proc)

    def stop(self) -> None:
        _terminate(self.proc)

    def kill(self) -> None:
        _terminate(self.proc, signal.SIGKILL)


@contextmanager
def running(server: MosquittoInstance | MariaDBServer | AmqttInstance) -> Iterator[None]:
    server.start()
    try:
        yield
    finally:
        server.stop()
