"""`python -m central.ingest`: one ingest worker; run several with distinct --client-id values."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from pydantic import ValidationError

from central.config import CentralConfig, describe_errors
from central.ingest.worker import IngestOptions, IngestWorker

log = logging.getLogger(__name__)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m central.ingest",
        description="Store kiosk messages from MQTT in the database; ack after commit.",
    )
    parser.add_argument("--broker-url", help="default: $PROCTOR_BROKER_URL or mqtt://127.0.0.1")
    parser.add_argument("--database-url", help="default: $PROCTOR_DATABASE_URL or SQLite ./var")
    parser.add_argument("--client-id", help="default: $PROCTOR_INGEST_CLIENT_ID")
    parser.add_argument("--share-group", help="'' for a plain subscription")
    parser.add_argument("--batch-size", type=int, help="default 500")
    parser.add_argument("--batch-wait-ms", type=int, help="default 50")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser.parse_args(argv)


def load_options(args: argparse.Namespace) -> IngestOptions:
    config = CentralConfig.from_env(
        broker_url=args.broker_url,
        database_url=args.database_url,
        ingest_client_id=args.client_id,
        ingest_share_group=args.share_group,
        ingest_batch_size=args.batch_size,
        ingest_batch_wait_ms=args.batch_wait_ms,
    )
    return IngestOptions(
        broker=config.broker_url,
        database_url=config.database_url,
        client_id=config.ingest_client_id,
        share_group=config.ingest_share_group,
        batch_size=config.ingest_batch_size,
        batch_wait_ms=config.ingest_batch_wait_ms,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        options = load_options(args)
    except ValidationError as exc:
        log.error("invalid configuration: %s", describe_errors(exc))
        return 2
    worker = IngestWorker(options)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        worker.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.start()
    while not worker.join(timeout=1.0):
        pass
    return 1 if worker.failed else 0


if __name__ == "__main__":
    sys.exit(main())
