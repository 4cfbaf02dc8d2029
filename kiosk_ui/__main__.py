"""Serve the kiosk screen: `python -m kiosk_ui --db PATH --agent-url URL [--port N]`.

Binds to 127.0.0.1 only: Chromium on the same kiosk is the only client.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from werkzeug.serving import make_server

from kiosk_ui.app import LOOPBACK, create_app
from kiosk_ui.loop import SeatLoop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kiosk_ui", description=__doc__)
    parser.add_argument("--db", type=Path, required=True, help="the screen's SQLite file")
    parser.add_argument("--agent-url", default="http://127.0.0.1:8771", help="local agent API")
    parser.add_argument("--port", type=int, default=8780)
    parser.add_argument("--beat-s", type=float, default=1.0, help="heartbeat interval")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(args.db, args.agent_url)
    loop = SeatLoop(app.extensions["kiosk"], args.beat_s)
    server = make_server(LOOPBACK, args.port, app, threaded=True)
    # SIGTERM (systemd stop) ends serve_forever from another thread, then cleans up below.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    loop.start()
    logging.getLogger("kiosk_ui").info("kiosk screen on http://%s:%d", LOOPBACK, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        loop.stop()
        loop.join(5)
        app.extensions["kiosk"].store.close()


if __name__ == "__main__":
    main()
