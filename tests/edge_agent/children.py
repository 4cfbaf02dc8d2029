"""Child processes the tests SIGKILL: `python -m tests.edge_agent.children <mode> ...`.

outbox PATH DEVICE N      write N messages, print "wrote N", then wait to be killed.
publisher URL DEVICE DB   run a Publisher, print "connected" once it is, then wait.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from edge_agent.clock import SystemClock
from edge_agent.outbox import Outbox
from protocol.broker_url import BrokerUrl
from tests.edge_agent.helpers import fill, make_publisher


def _outbox(path: str, device_id: str, count: str) -> None:
    outbox = Outbox(Path(path))
    fill(outbox, SystemClock(synced_override=False), device_id, int(count))
    print(f"wrote {count}", flush=True)


def _publisher(url: str, device_id: str, db: str) -> None:
    outbox = Outbox(Path(db))
    publisher = make_publisher(BrokerUrl.parse(url), outbox, SystemClock(), device_id)
    publisher.start()
    if not publisher.wait_connected(10):
        sys.exit("publisher did not connect")
    print("connected", flush=True)


def main(argv: list[str]) -> None:
    mode, *args = argv
    {"outbox": _outbox, "publisher": _publisher}[mode](*args)
    while True:  # wait for SIGKILL; never close anything
        time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1:])
