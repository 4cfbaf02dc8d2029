"""`python -m central.command_publisher`: send the console's queued commands to the kiosks."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from pydantic import ValidationError

from central.command_publisher.publisher import CommandPublisher, PublisherOptions
from central.config import CentralConfig, describe_errors

log = logging.getLogger(__name__)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m central.command_publisher",
        description="Publish queued console commands to the kiosks over MQTT (QoS 1).",
    )
    parser.add_argument("--broker-url", help="default: $PROCTOR_BROKER_URL or mqtt://127.0.0.1")
    parser.add_argument("--database-url", help="default: $PROCTOR_DATABASE_URL or SQLite ./var")
    parser.add_argument("--client-id", default="central-commands", help="MQTT client id")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = CentralConfig.from_env(broker_url=args.broker_url, database_url=args.database_url)
    except ValidationError as exc:
        log.error("invalid configuration: %s", describe_errors(exc))
        return 2
    publisher = CommandPublisher(
        PublisherOptions(config.broker_url, config.database_url, args.client_id)
    )

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        publisher.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    publisher.start()
    while not publisher.join(timeout=1.0):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
