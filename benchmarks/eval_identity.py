"""Identity accuracy of the vision stages on labelled photo pairs.

    python -m benchmarks.eval_identity --pairs CSV --root DIR [--tolerance T]

CSV columns ``img_a,img_b,same`` (same = 1 for the same person), paths relative to --root.
Each photo is encoded once, the way the kiosk encodes an enrolment photo: MediaPipe's
full-range detector finds the face, face_recognition's encoder encodes that box. A photo with
no face is listed under ``no_face`` (one that cannot be read under ``unreadable``) and its
pairs are counted in ``pairs_skipped``, outside ``n``; a photo with several faces is encoded
by its largest and listed under ``several_faces``.
Prints one line per pair, then JSON on its last line: ``{"accuracy", "false_match_rate",
"false_non_match_rate", "n", "tolerance", ...}`` at the configured tolerance.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edge_agent.vision.facedetect import FaceDetectionConfig, MediaPipeFaceDetector
from edge_agent.vision.identity import FaceRecognitionConfig, FaceRecognitionIdentity
from edge_agent.vision.stages import Encoding

log = logging.getLogger("benchmarks.eval_identity")


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    same: bool


@dataclass
class Encodings:
    """Encodings by photo path, and the photos that gave none or an ambiguous one."""

    by_path: dict[str, Encoding | None] = field(default_factory=dict)
    no_face: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    several_faces: list[str] = field(default_factory=list)


def read_pairs(path: Path) -> list[Pair]:
    with path.open(newline="") as handle:
        return [
            Pair(row["img_a"].strip(), row["img_b"].strip(), row["same"].strip() in ("1", "true"))
            for row in csv.DictReader(handle)
        ]


def encode_all(paths: list[str], root: Path, identity: FaceRecognitionIdentity) -> Encodings:
    detector = MediaPipeFaceDetector(
        FaceDetectionConfig(model="full_range", min_score=identity.config.enrol_min_score)
    )
    found = Encodings()
    try:
        for path in paths:
            found.by_path[path] = None
            image = cv2.imread(str(root / path))
            if image is None:
                found.unreadable.append(path)
                continue
            boxes = detector.infer(np.asarray(image, dtype=np.uint8))
            if not boxes:
                found.no_face.append(path)
                continue
            if len(boxes) > 1:
                found.several_faces.append(path)
            found.by_path[path] = identity.encode(np.asarray(image, dtype=np.uint8), boxes[0])
    finally:
        detector.close()
    return found


def rate(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def evaluate(pairs: list[Pair], root: Path, tolerance: float | None = None) -> dict[str, object]:
    config = FaceRecognitionConfig()
    if tolerance is not None:
        config = config.model_copy(update={"tolerance": tolerance})
    identity = FaceRecognitionIdentity(config)
    encodings = encode_all(sorted({p for pair in pairs for p in (pair.a, pair.b)}), root, identity)
    counts = {"same": 0, "different": 0, "false_match": 0, "false_non_match": 0, "skipped": 0}
    distances: dict[bool, list[float]] = {True: [], False: []}
    for pair in pairs:
        a, b = encodings.by_path[pair.a], encodings.by_path[pair.b]
        if a is None or b is None:
            counts["skipped"] += 1
            continue
        distance = identity.distance(a, b)
        distances[pair.same].append(distance)
        match = distance <= identity.tolerance
        counts["same" if pair.same else "different"] += 1
        counts["false_non_match"] += pair.same and not match
        counts["false_match"] += match and not pair.same
        verdict = "ok" if match == pair.same else "WRONG"
        print(f"{pair.a} {pair.b} same={int(pair.same)} distance={distance:.3f} {verdict}")
    n = counts["same"] + counts["different"]
    errors = counts["false_match"] + counts["false_non_match"]
    return {
        "accuracy": rate(n - errors, n),
        "false_match_rate": rate(counts["false_match"], counts["different"]),
        "false_non_match_rate": rate(counts["false_non_match"], counts["same"]),
        "n": n,
        "tolerance": identity.tolerance,
        "max_same_distance": round(max(distances[True]), 4) if distances[True] else None,
        "min_different_distance": round(min(distances[False]), 4) if distances[False] else None,
        "pairs_skipped": counts["skipped"],
        "no_face": encodings.no_face,
        "unreadable": encodings.unreadable,
        "several_faces": encodings.several_faces,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, required=True, help="CSV img_a,img_b,same")
    parser.add_argument("--root", type=Path, required=True, help="folder the paths start in")
    parser.add_argument("--tolerance", type=float, help="default: the stage's configured value")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    print(json.dumps(evaluate(read_pairs(args.pairs), args.root, args.tolerance)))


if __name__ == "__main__":
    main()
