"""`python -m edge_agent replay VIDEO`: run the real pipeline on a recording and print the
violations it would raise, with times in the recording. This is how an admin tunes thresholds
(`--rules FILE`, the `[rules]` table of an exam policy) and how tests run the pipeline."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tomllib
from pathlib import Path
from typing import Any

import cv2
from pydantic import ValidationError

from edge_agent.capture.replay import FileReplaySource, Pacing
from edge_agent.capture.source import SourceError, check_image
from edge_agent.rules.config import RulesConfig
from edge_agent.rules.engine import RuleEngine, ViolationChange
from edge_agent.vision.identity import EnrolmentError
from edge_agent.vision.pipeline import VisionPipeline
from edge_agent.vision.types import Frame
from edge_agent.watch import SeatWatcher, replay_frames
from protocol import EventState

log = logging.getLogger(__name__)

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def load_rules(path: Path | None) -> RulesConfig:
    if path is None:
        return RulesConfig()
    with path.open("rb") as file:
        data: dict[str, Any] = tomllib.load(file)
    return RulesConfig.model_validate(data.get("rules", data))


def describe(change: ViolationChange, epoch_s: float) -> dict[str, object]:
    start = change.started.monotonic_s - epoch_s
    end = start + change.duration_s if change.state is EventState.ENDED else None
    return {
        "type": change.type.value,
        "state": change.state.value,
        "start_s": round(start, 2),
        "end_s": None if end is None else round(end, 2),
        "duration_s": round(change.duration_s, 2),
        "confidence": change.confidence,
        "details": change.details,
    }


def run(args: argparse.Namespace) -> int:
    try:
        rules = load_rules(args.rules)
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        print(f"error: --rules {args.rules}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    pipeline = VisionPipeline()
    try:
        if args.enroll is not None:
            photo = check_image(cv2.imread(str(args.enroll)))
            if photo is None:
                print(f"error: --enroll {args.enroll}: not a readable image", file=sys.stderr)
                return EXIT_BAD_INPUT
            pipeline.enrol(photo)  # also sets the enrolment
        source = FileReplaySource(
            args.video,
            rotation=args.rotate,
            width=args.width or None,
            pacing=Pacing.REALTIME if args.realtime else Pacing.FAST,
        )
        violations = watch(
            SeatWatcher(pipeline, RuleEngine(rules)), replay_frames(source), quiet=args.json
        )
    except EnrolmentError as exc:
        print(f"error: --enroll {args.enroll}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        pipeline.close()
    print(json.dumps({"video": str(args.video), "violations": violations}))
    return EXIT_OK


def watch(
    watcher: SeatWatcher, frames: Any, *, quiet: bool, wait_identity: bool = False
) -> list[dict[str, object]]:
    """Run every frame; print each change as it happens; return the ended violations.

    `wait_identity`: read as fast as possible, a recording would outrun the identity checks
    (they run beside the frame path); waiting after each frame gives the timing a live kiosk
    has, and the same violations however fast the file is read."""
    first: float | None = None
    last: Frame | None = None
    ended: list[dict[str, object]] = []
    for frame in frames:
        first = frame.monotonic_s if first is None else first
        last = frame
        changes = watcher.process(frame).changes
        if wait_identity:
            watcher.pipeline.wait_identity()
        for fault in watcher.pipeline.take_faults():
            print(f"device_fault: {fault}", file=sys.stderr)
        for change in changes:
            ended += _report(change, first, quiet)
    for change in watcher.finish(last):
        ended += _report(change, first or 0.0, quiet)
    return ended


def _report(change: ViolationChange, epoch_s: float, quiet: bool) -> list[dict[str, object]]:
    row = describe(change, epoch_s)
    if not quiet:
        print(
            f"{row['start_s']:>8.2f} s  {change.state.value:<8} {change.type.value:<18} "
            f"{row['duration_s']:>6.2f} s  confidence {change.confidence:.2f}"
        )
    return [row] if change.state is EventState.ENDED else []
