"""`python -m edge_agent <command>`: parse arguments, configure logging, run.

Commands: `simulate` (simulated kiosks). `run` and `replay` come with the camera pipeline.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from edge_agent import simulate


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
    parser.error(f"unknown command {args.command}")
    return 2  # not reached: parser.error exits


if __name__ == "__main__":
    sys.exit(main())
