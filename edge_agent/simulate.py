"""Simulated kiosks: realistic message streams through the real outbox and publisher.

Each kiosk has its own device id, outbox file (DIR/<device_id>/outbox.sqlite3) and MQTT
client, exactly like a real one; only the messages come from a script (`sim_script`) and say
`simulated=True`. Exit codes: 0 all outboxes drained (or, in an endless run, a clean stop);
1 messages left unacked when the drain timeout passed; 3 an outbox could not be used.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from edge_agent.clock import SystemClock
from edge_agent.config import PASSWORD_ENV
from edge_agent.messages import HealthSnapshot
from edge_agent.mqtt_client import ClientOptions
from edge_agent.outbox import Outbox, OutboxError
from edge_agent.publisher import Publisher, PublisherSettings
from edge_agent.sim_script import KioskScript, SimIdentity
from protocol import AckedMessage
from protocol.broker_url import BrokerUrl, BrokerUrlError

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_NOT_DRAINED = 1
EXIT_STORAGE = 3
# Each kiosk holds about six file descriptors (MQTT socket, paho's wake-up socket pair, the
# outbox database with its WAL and shared-memory files). paho-mqtt's loop uses select(),
# which fails for descriptors above 1023: with more than about 140 kiosks in one process the
# later ones connect at the TCP level and never send CONNECT, silently (measured).
MAX_KIOSKS_PER_PROCESS = 100


@dataclass(frozen=True)
class SimOptions:
    kiosks: int
    broker: BrokerUrl
    centre_id: str
    data_dir: Path
    events_per_kiosk: int | None = None
    rate: float = 1.0
    seconds: float | None = None
    ledger: Path | None = None
    drain_timeout_s: float = 60.0
    prefix: str = "sim-kiosk"
    ack_timeout_s: float = 30.0
    max_in_flight: int = 500
    heartbeat_interval_s: float = 5.0
    seed: int | None = None
    keepalive_s: int = 30

    @property
    def bounded(self) -> bool:
        return self.events_per_kiosk is not None or self.seconds is not None


class Ledger:
    """Appends `<device_id> <message_id> <seq> <kind>` for every committed message."""

    def __init__(self, path: Path | None) -> None:
        self._lock = threading.Lock()
        self._file: TextIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")

    def record(self, message: AckedMessage) -> None:
        if self._file is None:
            return
        with self._lock:
            self._file.write(f"{message.device_id} {message.id} {message.seq} {message.kind}\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class SimKiosk:
    """One simulated kiosk: outbox + publisher + a producer thread running its script."""

    def __init__(self, options: SimOptions, index: int, run_id: str, ledger: Ledger) -> None:
        self.device_id = f"{options.prefix}-{index:02d}"
        self._options = options
        self._ledger = ledger
        self._rng = random.Random(None if options.seed is None else options.seed * 1000 + index)
        clock = SystemClock(synced_override=True)
        identity = SimIdentity(
            centre_id=options.centre_id,
            device_id=self.device_id,
            seat_id=f"seat-{index:02d}",
            session_id=f"sim-{run_id}-{index:02d}",
            candidate_id=f"cand-{run_id}-{index:02d}",
            exam_id="sim-exam-1",
        )
        self.script = KioskScript(identity, clock, self._rng, options.events_per_kiosk)
        self.outbox = Outbox(options.data_dir / self.device_id / "outbox.sqlite3")
        self.publisher = Publisher(self._settings(), self.outbox, clock, health=self._health)
        self.created = 0
        self.failed = False
        self._deadline: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name=f"sim-{self.device_id}")

    def _settings(self) -> PublisherSettings:
        return PublisherSettings(
            centre_id=self._options.centre_id,
            device_id=self.device_id,
            broker=self._options.broker,
            ack_timeout_s=self._options.ack_timeout_s,
            max_in_flight=self._options.max_in_flight,
            heartbeat_interval_s=self._options.heartbeat_interval_s,
            poll_interval_s=0.2,
            simulated=True,
            client=ClientOptions(client_id=self.device_id, keepalive_s=self._options.keepalive_s),
        )

    def _health(self) -> HealthSnapshot:
        """Plausible pipeline numbers for the heartbeat (a Pi runs the mesh at ~15 fps)."""
        return HealthSnapshot(
            fps=round(self._rng.uniform(13.5, 15.5), 1),
            dropped_frames=self._rng.randrange(0, 3),
            stage_ms={"face_mesh": round(self._rng.uniform(18, 30), 1)},
            session_id=self.script.identity.session_id,
        )

    def start(self, deadline: float | None) -> None:
        self._deadline = deadline
        self.publisher.start()
        self._thread.start()

    def _more(self) -> bool:
        total = self._options.events_per_kiosk
        if self._stop.is_set() or (total is not None and self.created >= total):
            return False
        return self._deadline is None or time.monotonic() < self._deadline

    def _produce(self) -> None:
        rate = self._options.rate
        while self._more():
            try:
                message = self.outbox.enqueue(self.script.next_factory())
            except OutboxError as exc:
                log.error("%s: %s; this kiosk stops producing", self.device_id, exc)
                self.failed = True
                return
            self._ledger.record(message)
            self.created += 1
            if rate > 0:
                pause = self._rng.expovariate(rate)
                if self._deadline is not None:  # a slow rate must not outlive the run
                    pause = min(pause, max(0.0, self._deadline - time.monotonic()))
                self._stop.wait(pause)

    def producing(self) -> bool:
        return self._thread.is_alive()

    def stop_producing(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self.publisher.stop()

    def join(self, timeout: float) -> None:
        if self._thread.ident is not None:
            self._thread.join(timeout)
        self.publisher.join(timeout)

    def summary(self) -> dict[str, Any]:
        stats = self.publisher.stats()
        return {
            "device_id": self.device_id,
            "created": self.created,
            "sent": stats.sent,
            "acked": stats.acked,
            "resent": stats.resent,
            "remaining": self.outbox.depth(),
        }


class Simulation:
    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self.stop_requested = threading.Event()
        self._ledger = Ledger(options.ledger)
        run_id = uuid.uuid4().hex[:6]
        self.kiosks: list[SimKiosk] = []
        try:
            for index in range(1, options.kiosks + 1):
                self.kiosks.append(SimKiosk(options, index, run_id, self._ledger))
        except OutboxError:
            for kiosk in self.kiosks:
                kiosk.outbox.close()
            self._ledger.close()
            raise

    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        deadline = None if self.options.seconds is None else started + self.options.seconds
        for kiosk in self.kiosks:
            kiosk.start(deadline)
        while any(k.producing() for k in self.kiosks) and not self.stop_requested.wait(0.2):
            pass
        for kiosk in self.kiosks:
            kiosk.stop_producing()
        drained = self._drain() if self.options.bounded else False
        for kiosk in self.kiosks:
            kiosk.stop()
        for kiosk in self.kiosks:
            kiosk.join(10.0)
        summary = self._summary(time.monotonic() - started, drained)
        for kiosk in self.kiosks:
            kiosk.outbox.close()
        self._ledger.close()
        return summary

    def _depth(self) -> int:
        return sum(kiosk.outbox.depth() for kiosk in self.kiosks)

    def _drain(self) -> bool:
        deadline = time.monotonic() + self.options.drain_timeout_s
        while self._depth() > 0:
            if time.monotonic() >= deadline or self.stop_requested.wait(0.1):
                return False
        return True

    def _summary(self, elapsed: float, drained: bool) -> dict[str, Any]:
        per_kiosk = [kiosk.summary() for kiosk in self.kiosks]
        totals = {
            key: sum(k[key] for k in per_kiosk)
            for key in ("created", "sent", "acked", "resent", "remaining")
        }
        return {
            "kiosks": len(self.kiosks),
            **totals,
            "drained": drained if self.options.bounded else totals["remaining"] == 0,
            "storage_errors": sum(1 for k in self.kiosks if k.failed),
            "elapsed_s": round(elapsed, 3),
            "per_kiosk": per_kiosk,
        }


def exit_code(options: SimOptions, summary: dict[str, Any]) -> int:
    if summary["storage_errors"]:
        return EXIT_STORAGE
    if options.bounded and not summary["drained"]:
        return EXIT_NOT_DRAINED
    return EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--kiosks", type=int, default=1, help="number of simulated kiosks (default 1)")
    add("--broker-url", default="mqtt://127.0.0.1:1883", help="mqtt[s]://... (see BrokerUrl)")
    add("--centre", default="centre-1", help="centre id")
    add("--data-dir", type=Path, required=True, help="outboxes go to DIR/<device_id>/")
    add("--events-per-kiosk", type=int, help="make exactly M messages each, then drain and exit")
    add("--rate", type=float, default=1.0, help="messages per second per kiosk (0: flat out)")
    add("--seconds", type=float, help="stop producing after S seconds, then drain and exit")
    add("--ledger", type=Path, help="append '<device_id> <id> <seq> <kind>' per message")
    add("--drain-timeout", type=float, default=60.0, help="seconds to wait for all acks")
    add("--prefix", default="sim-kiosk", help="device id prefix (default sim-kiosk)")
    add("--ack-timeout", type=float, default=30.0, help="resend unacked messages after T s")
    add("--max-in-flight", type=int, default=500, help="unacked messages per kiosk")
    add("--heartbeat-interval", type=float, default=5.0, help="seconds between heartbeats")
    add("--seed", type=int, help="random seed for reproducible streams")
    add("--keepalive", type=int, default=30, help="MQTT keepalive in seconds (default 30)")


def options_from_args(args: argparse.Namespace, env: dict[str, str]) -> SimOptions:
    """Raises ValueError with a readable message for bad values."""
    if args.kiosks < 1 or args.kiosks > MAX_KIOSKS_PER_PROCESS:
        raise ValueError(
            f"--kiosks must be between 1 and {MAX_KIOSKS_PER_PROCESS}; run several simulator"
            " processes for more (paho waits on its sockets with select(), which cannot watch"
            " a file descriptor above 1023, and each kiosk holds about six)"
        )
    if args.events_per_kiosk is not None and args.events_per_kiosk < 1:
        raise ValueError("--events-per-kiosk must be at least 1")
    if args.keepalive < 1:
        raise ValueError("--keepalive must be at least 1 second")
    if args.rate < 0 or args.drain_timeout < 0 or args.ack_timeout <= 0:
        raise ValueError("--rate and --drain-timeout must be >= 0, --ack-timeout > 0")
    try:
        broker = BrokerUrl.parse(args.broker_url)
    except BrokerUrlError as exc:
        raise ValueError(f"--broker-url: {exc}") from None
    if env.get(PASSWORD_ENV):
        broker = broker.with_credentials(broker.username, env[PASSWORD_ENV])
    return SimOptions(
        kiosks=args.kiosks,
        broker=broker,
        centre_id=args.centre,
        data_dir=args.data_dir,
        events_per_kiosk=args.events_per_kiosk,
        rate=args.rate,
        seconds=args.seconds,
        ledger=args.ledger,
        drain_timeout_s=args.drain_timeout,
        prefix=args.prefix,
        ack_timeout_s=args.ack_timeout,
        max_in_flight=args.max_in_flight,
        heartbeat_interval_s=args.heartbeat_interval,
        seed=args.seed,
        keepalive_s=args.keepalive,
    )


def run(options: SimOptions) -> int:
    """Run the simulation in this (main) thread; SIGINT/SIGTERM stop it cleanly."""
    try:
        simulation = Simulation(options)
    except OutboxError as exc:
        log.error("%s", exc)
        return EXIT_STORAGE

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        simulation.stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        summary = simulation.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(json.dumps(summary, separators=(",", ":")), flush=True)
    return exit_code(options, summary)
