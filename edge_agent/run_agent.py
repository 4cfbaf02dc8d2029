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

log = logging.getLogger(__name__)
EXIT_OK, EXIT_CONFIG, EXIT_STORAGE = 0, 2, 3


def main(config_path: Path) -> int:
    try:
        config = load_kiosk_config(config_path)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        agent = Agent(config)
    except OutboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_STORAGE

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        agent.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    agent.start()
    while not agent.join(timeout=1.0):
        pass
    return EXIT_OK
