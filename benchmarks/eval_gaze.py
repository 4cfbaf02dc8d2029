"""Gaze evaluation: how many frames are flagged `eyes_away` inside the labelled away segments
and inside the centre segments, and which violations the rules raise.

    python -m benchmarks.eval_gaze --video V --labels CSV [--rotate 90cw] [--trim 0.5]

Labels CSV: `file,start_s,end_s,gaze_label` (rows for other files are ignored); label
`center` is a centre segment, any other label (left, right, up, down) an away segment.
Each segment is trimmed by --trim seconds at both ends (the labels are +-0.5 s). Prints JSON
on its last line: {"inside", "centre", "violations", "frames"}.
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from edge_agent.capture.replay import FileReplaySource, Pacing
from edge_agent.replay import describe
from edge_agent.rules.engine import RuleEngine
from edge_agent.vision.pipeline import VisionPipeline
from edge_agent.watch import SeatWatcher, replay_frames
from protocol import EventState
from protocol import ViolationType as V


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    away: bool

    def contains(self, t: float, trim: float) -> bool:
        return self.start_s + trim <= t <= self.end_s - trim


def load_segments(labels: Path, video: Path) -> list[Segment]:
    with labels.open(newline="") as file:
        rows = [r for r in csv.DictReader(file) if r["file"] == video.name]
    if not rows:
        raise SystemExit(f"{labels} has no rows for {video.name}")
    return [
        Segment(float(r["start_s"]), float(r["end_s"]), r["gaze_label"] != "center") for r in rows
    ]


@dataclass(frozen=True)
class GazeResult:
    inside: float  # share of away-segment frames flagged
    centre: float  # share of centre-segment frames flagged
    frames: dict[str, int]
    violations: list[dict[str, object]]


def evaluate(video: Path, segments: list[Segment], rotate: str, trim: float) -> GazeResult:
    pipeline = VisionPipeline()
    watcher = SeatWatcher(pipeline, RuleEngine())
    counts = {"inside": [0, 0], "centre": [0, 0]}  # [flagged, frames]
    violations = []
    source = FileReplaySource(video, rotation=rotate, width=640, pacing=Pacing.FAST)
    last = None
    try:
        for frame in replay_frames(source):
            last = frame
            step = watcher.process(frame)
            flagged = watcher.engine.last_flags.get(V.EYES_AWAY, False)
            for segment in segments:
                if segment.contains(frame.monotonic_s, trim):
                    bucket = counts["inside" if segment.away else "centre"]
                    bucket[0] += int(flagged)
                    bucket[1] += 1
            violations += [c for c in step.changes if c.state is EventState.ENDED]
        violations += [c for c in watcher.finish(last) if c.state is EventState.ENDED]
    finally:
        pipeline.close()
    return GazeResult(
        inside=round(counts["inside"][0] / max(1, counts["inside"][1]), 3),
        centre=round(counts["centre"][0] / max(1, counts["centre"][1]), 3),
        frames={"inside": counts["inside"][1], "centre": counts["centre"][1]},
        violations=[describe(c, 0.0) for c in violations],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--rotate", default="none", help="none, 90cw, 90ccw or 180")
    parser.add_argument("--trim", type=float, default=0.5)
    args = parser.parse_args(argv)
    segments = load_segments(args.labels, args.video)
    print(json.dumps(asdict(evaluate(args.video, segments, args.rotate, args.trim))))


if __name__ == "__main__":
    main()
