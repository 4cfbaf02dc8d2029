"""`python -m edge_agent <command>`: parse arguments, configure logging, run.

Commands: `run` (the kiosk agent), `simulate` (simulated kiosks), `replay` (the real pipeline
on a recording).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from edge_agent import simulate

ROTATIONS = ("none", "90cw", "90ccw", "180")


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    """Declared here so `simulate` never imports OpenCV or the vision stack."""
    add = parser.add_argument
    add("video", type=Path, help="video file or folder of images")
    add(
        "--rotate",
        choices=ROTATIONS,
        default="none",
        help="rotate every frame first (90cw: sideways)",
    )
    add("--enroll", type=Path, help="photo of the candidate: enables identity checks")
    add("--rules", type=Path, help="TOML file with rule thresholds (RulesConfig keys)")
    add("--width", type=int, default=640, help="resize frames to this width (0: keep)")
    add("--realtime", action="store_true", help="pace frames at the file's frame rate")
    add("--json", action="store_true", help="print only the JSON summary")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m edge_agent", description=__doc__)
    parser.add_argument(
        "--log-level",
        default=os.environ.get("PROCTOR_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="logging level (env PROCTOR_LOG_LEVEL)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="run simulated kiosks against a broker")
    simulate.add_arguments(sim)
    run = commands.add_parser("run", help="run the kiosk agent (camera, vision, rules, outbox)")
    run.add_argument("--config", type=Path, required=True, help="kiosk TOML configuration")
    replay = commands.add_parser("replay", help="print the violations a recording would raise")
    add_replay_arguments(replay)
    enrol = commands.add_parser("enrol", help="join the centre with a one-time token")
    enrol.add_argument("--central", required=True, help="central's URL, e.g. https://central")
    enrol.add_argument("--token", required=True, help="from `provisioning enrolment-token`")
    enrol.add_argument("--out", type=Path, required=True, help="where the bundle is unpacked")
    enrol.add_argument("--ca-file", type=Path, help="CA certificate of central's TLS")
    enrol.add_argument("--poll-s", type=float, default=10.0, help="seconds between polls")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.command == "simulate":
        try:
            options = simulate.options_from_args(args, dict(os.environ))
        except ValueError as exc:
            parser.error(str(exc))
        return simulate.run(options)
    if args.command == "run":
        from edge_agent import run_agent  # noqa: PLC0415 - OpenCV and vision only when needed

        return run_agent.main(args.config)
    if args.command == "enrol":
        from edge_agent.enrol import EnrolmentFailed, EnrolOptions, enrol  # noqa: PLC0415

        wanted = EnrolOptions(args.central, args.token, args.out, args.ca_file, args.poll_s)
        try:
            out = enrol(wanted)
        except EnrolmentFailed as exc:
            print(f"enrolment failed: {exc}", file=sys.stderr)
            return 1
        print(f"bundle unpacked in {out}; next: sudo {out}/install.sh")
        return 0
    if args.command == "replay":
        from edge_agent import replay  # noqa: PLC0415 - OpenCV and vision only when needed

        return replay.run(args)
    parser.error(f"unknown command {args.command}")
    return 2  # not reached: parser.error exits


if __name__ == "__main__":
    sys.exit(main())
