"""`python -m edge_agent.seat`: the kiosk's local API on its own, for the kiosk screen's
browser tests and the demo (no agent, no broker; messages stay in the outbox file).

It keeps seat.sqlite3 and outbox.sqlite3 in --data-dir, shows --camera (a photo or a video
file) as the camera, loads --exam / --enrolment / --enrol-photo as if central had sent them,
and prints one line `ready: http://127.0.0.1:<port>/v1` on stdout once it answers. SIGTERM or
Ctrl-C stops it. Test-only routes: POST /dev/command, GET /dev/outbox, PUT /dev/camera,
PUT /dev/network (see edge_agent/seat/devserver.py).

Example:
  python -m edge_agent.seat --data-dir /tmp/seat --port 0 \\
      --camera ../shared/fixtures/faces/train__obama__obama2.jpg \\
      --exam exam.json --enrol-photo ../shared/fixtures/faces/train__obama__obama.jpg
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from edge_agent.seat.devserver import DevOptions, DevServer, DevStartError
from edge_agent.seat.server import DEFAULT_PORT

EXIT_OK, EXIT_START = 0, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m edge_agent.seat",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--data-dir", type=Path, required=True, help="folder for seat.sqlite3 and outbox.sqlite3")
    add("--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1 (0: any free port)")
    add("--camera", type=Path, help="photo or video file shown as the camera (none: lost)")
    add("--exam", type=Path, help="ExamDefinition JSON, loaded like a load_exam command")
    add("--enrolment", type=Path, help="Enrolment JSON, loaded like an enrol command")
    add(
        "--enrol-photo",
        type=Path,
        help="photo of the candidate: its face encoding becomes the enrolment's (with "
        "--enrolment, replaces that file's encoding; alone, a dev-session enrolment)",
    )
    add("--candidate-number", default="C-0001", help="for the --enrol-photo enrolment")
    add("--centre-id", default="centre-1")
    add("--device-id", default="kiosk-dev")
    add("--seat-id", default="seat-01")
    add(
        "--log-level",
        default=os.environ.get("PROCTOR_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    options = DevOptions(
        data_dir=args.data_dir, port=args.port, camera=args.camera, exam=args.exam,
        enrolment=args.enrolment, enrol_photo=args.enrol_photo,
        candidate_number=args.candidate_number, centre_id=args.centre_id,
        device_id=args.device_id, seat_id=args.seat_id,
    )  # fmt: skip
    server = DevServer(options)
    try:
        server.load()
        url = server.start()
    except (DevStartError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        server.stop()
        return EXIT_START
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"ready: {url}", flush=True)
    stop.wait()
    server.stop()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
