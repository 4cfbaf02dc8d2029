"""`python -m edge_agent run --config FILE`: load and validate the config, run until SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from edge_agent.agent import Agent
from edge_agent.config import ConfigError
from edge_agent.kiosk_config import load_kiosk_config
from edge_agent.outbox import OutboxError
from edge_agent.sd_notify import Notifier

log = logging.getLogger(__name__)
EXIT_OK, EXIT_CONFIG, EXIT_STORAGE = 0, 2, 3


def main(config_path: Path) -> int:
    try:
        config = load_kiosk_config(config_path)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    notifier = Notifier.from_environment()  # a no-op unless started by systemd (Type=notify)
    try:
        agent = Agent(config, watchdog=notifier.watchdog)
    except OutboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_STORAGE

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        notifier.stopping()
        agent.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    agent.start()
    notifier.ready(f"watching seat {config.identity.seat_id or config.identity.device_id}")
    while not agent.join(timeout=1.0):
        pass
    notifier.close()
    return EXIT_OK
