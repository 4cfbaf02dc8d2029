"""An in-process MQTT broker (amqtt) so the demo runs with no server installed.

amqtt speaks MQTT 3.1.1 only and has no shared subscriptions: clients of the embedded broker
use a `?version=3.1.1` broker URL and ingest subscribes without a `$share` group. It keeps
sessions in memory only; the kiosks' outboxes, not the broker, are what make delivery durable.
Production uses Mosquitto (see README).

    python -m central.embedded_broker --port 1884
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

from amqtt.broker import Broker

logger = logging.getLogger(__name__)

# Sessions of disconnected clients (e.g. ingest while it restarts) are kept this long.
SESSION_EXPIRY_S = 7 * 24 * 3600


def broker_config(host: str, port: int) -> dict[str, Any]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "session_expiry_interval": SESSION_EXPIRY_S,
        "plugins": {
            # Demo only: anyone on this machine may connect. Real brokers use per-device logins.
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
        },
    }


async def serve(host: str, port: int, stop: asyncio.Event) -> None:
    broker = Broker(broker_config(host, port))
    await broker.start()
    print(f"embedded broker ready on mqtt://{host}:{port}?version=3.1.1", flush=True)
    await stop.wait()
    await broker.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1884)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    # amqtt logs every client disconnect as an error with a traceback; keep the demo readable.
    logging.getLogger("amqtt").setLevel(logging.CRITICAL)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(args.host, args.port, stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()
