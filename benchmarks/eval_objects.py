"""Object detection per class on labelled photos, at the configured thresholds.

    python -m benchmarks.eval_objects --images DIR --expected CSV [--model ONNX]
        [--look-closer on|off] [--face-widths W]

CSV columns ``file,object,present`` (present 1 or 0; other columns ignored); object names as
in COCO (``cell phone``, ``book``, ``laptop``, ``tv``). A photo counts as showing an object
when the stage finds it at or above that class's configured threshold. The stage runs as on
the kiosk (one onnxruntime thread); with look-closer on, the face box is the kiosk's default
face detector's largest face. Prints one line per photo, then JSON on its last line:
``{"by_class": {name: {"precision", "recall", "tp", "fp", "fn", "tn", "detections", ...}},
"call_ms": {...}, "sweep": {...}, ...}``. ``call_ms`` times each model call after one
warm-up call; ``run_ms`` each photo's run (two calls when the crop ran). ``sweep`` gives
precision and recall at other thresholds, to show the trade-off, not to pick per photo.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edge_agent.vision.facedetect import MediaPipeFaceDetector
from edge_agent.vision.objects import WANTED, ObjectRun, ObjectStage
from edge_agent.vision.objects_config import LookCloserConfig, ObjectsConfig
from edge_agent.vision.types import FaceBox, Image

log = logging.getLogger("benchmarks.eval_objects")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT.parent / "shared" / "fixtures" / "models" / "yolox_nano.onnx"
SWEEP = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


class LabelError(ValueError):
    """The expected CSV cannot be used; the message names the line."""


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, expected: bool, found: bool) -> None:
        if expected:
            self.tp += found
            self.fn += not found
        else:
            self.fp += found
            self.tn += not found

    def figures(self) -> dict[str, object]:
        flagged, positives = self.tp + self.fp, self.tp + self.fn
        return {
            "precision": round(self.tp / flagged, 4) if flagged else None,
            "recall": round(self.tp / positives, 4) if positives else None,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
        }


@dataclass
class Results:
    runs: dict[str, ObjectRun] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    cropped: list[str] = field(default_factory=list)


def read_expected(path: Path) -> dict[str, dict[str, bool]]:
    """file -> {object: present}. Unknown objects, bad flags and repeats are errors."""
    expected: dict[str, dict[str, bool]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"file", "object", "present"} - set(reader.fieldnames or ())
        if missing:
            raise LabelError(f"{path}: missing columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            name, obj, flag = row["file"].strip(), row["object"].strip(), row["present"].strip()
            if obj not in WANTED:
                raise LabelError(f"{path}:{line}: object {obj!r} is not one of {list(WANTED)}")
            if flag not in ("0", "1"):
                raise LabelError(f"{path}:{line}: present must be 0 or 1, not {flag!r}")
            if obj in expected.setdefault(name, {}):
                raise LabelError(f"{path}:{line}: {name} / {obj} is labelled twice")
            expected[name][obj] = flag == "1"
    return expected


@contextmanager
def face_finder(enabled: bool) -> Iterator[MediaPipeFaceDetector | None]:
    """The kiosk's default face detector when look-closer needs a face, else None."""
    if not enabled:
        yield None
        return
    detector = MediaPipeFaceDetector()
    try:
        yield detector
    finally:
        detector.close()


def run_all(stage: ObjectStage, images: Path, names: list[str]) -> Results:
    results = Results()
    with face_finder(stage.config.look_closer.enabled) as detector:
        for name in names:
            image = cv2.imread(str(images / name))
            if image is None:
                results.unreadable.append(name)
                continue
            pixels: Image = np.asarray(image, dtype=np.uint8)
            faces: list[FaceBox] = detector.infer(pixels) if detector is not None else []
            run = stage.look(pixels, faces[0] if faces else None)
            results.runs[name] = run
            if run.region is not None:
                results.cropped.append(name)
    return results


def best(run: ObjectRun, label: str) -> float:
    return max((d.score for d in run.detections if d.label == label), default=0.0)


def by_class(
    expected: dict[str, dict[str, bool]], results: Results, config: ObjectsConfig
) -> dict[str, dict[str, object]]:
    labelled = sorted({obj for objects in expected.values() for obj in objects})
    out: dict[str, dict[str, object]] = {}
    for label in labelled:
        threshold = config.thresholds.for_label(label)
        tally, sweep = Tally(), {t: Tally() for t in SWEEP}
        detections = 0
        for name, run in results.runs.items():
            if label not in expected[name]:
                continue
            present, score = expected[name][label], best(run, label)
            tally.add(present, score >= threshold)
            for value, other in sweep.items():
                other.add(present, score >= value)
            detections += sum(d.label == label and d.score >= threshold for d in run.detections)
        out[label] = {
            "threshold": threshold,
            **tally.figures(),
            "detections": detections,
            "sweep": {str(value): other.figures() for value, other in sweep.items()},
        }
    return out


def timing(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "mean": None, "p50": None, "p95": None}
    array = np.array(values)
    return {
        "n": len(values),
        "mean": round(float(array.mean()), 2),
        "p50": round(float(np.percentile(array, 50)), 2),
        "p95": round(float(np.percentile(array, 95)), 2),
    }


def print_photo(name: str, run: ObjectRun, labels: dict[str, bool]) -> None:
    seen = {label: round(best(run, label), 2) for label in WANTED if best(run, label) > 0}
    wanted = [label for label, present in labels.items() if present]
    crop = " crop" if run.region is not None else ""
    print(f"{name} expected={wanted} best={seen}{crop}")


def evaluate(images: Path, expected_csv: Path, config: ObjectsConfig) -> dict[str, object]:
    expected = read_expected(expected_csv)
    stage = ObjectStage(config)
    if not stage.enabled:
        raise SystemExit(f"object stage {stage.status.state}: {stage.status.reason}")
    names = sorted(expected)
    try:
        warm = cv2.imread(str(images / names[0])) if names else None
        if warm is not None:  # onnxruntime's first call allocates; keep it out of the timing
            stage.look(np.asarray(warm, dtype=np.uint8))
        results = run_all(stage, images, names)
    finally:
        stage.close()
    for name, run in results.runs.items():
        print_photo(name, run, expected[name])
    runs = results.runs.values()
    return {
        "model": str(config.model_path),
        "look_closer": config.look_closer.enabled,
        "images": len(results.runs),
        "by_class": by_class(expected, results, config),
        "call_ms": timing([ms for run in runs for ms in run.call_ms]),
        "run_ms": timing([sum(run.call_ms) for run in runs]),
        "threads": config.threads,
        "cropped": len(results.cropped),
        "unreadable": results.unreadable,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, required=True, help="folder of the photos")
    parser.add_argument("--expected", type=Path, required=True, help="CSV file,object,present")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="YOLOX ONNX file")
    parser.add_argument(
        "--look-closer", choices=("on", "off"), help="default: the stage's configured value"
    )
    parser.add_argument("--face-widths", type=float, help="look-closer crop side in face widths")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    closer = LookCloserConfig().model_dump()
    if args.look_closer is not None:
        closer["enabled"] = args.look_closer == "on"
    if args.face_widths is not None:
        closer["face_widths"] = args.face_widths
    config = ObjectsConfig(model_path=args.model, look_closer=LookCloserConfig(**closer))
    try:
        result = evaluate(args.images, args.expected, config)
    except LabelError as exc:
        raise SystemExit(str(exc)) from exc
    print(json.dumps(result))


if __name__ == "__main__":
    main()
