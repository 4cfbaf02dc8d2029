"""Head-pose accuracy of the vision stages (FaceMesh landmarks + solvePnP) on labelled photos.

    python -m benchmarks.eval_headpose --labels CSV --images DIR [--method sqpnp|iterative]

CSV columns: ``file,yaw,pitch,roll`` in degrees (the fixtures' sign convention), optional
``in_range_99`` (only rows with 1 are scored; without the column every row is) and optional
``bbox_x0,bbox_y0,bbox_x1,bbox_y1`` (the labelled face when a photo shows several).
A face that is not found, or only another face is, counts against ``detection_rate``; the
errors are averaged over the faces found. Prints one line per photo, then JSON on its last
line: ``{"yaw_mae", "pitch_mae", "roll_mae", "detection_rate", "n", ...}``.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from edge_agent.vision.boxes import iou, same_face
from edge_agent.vision.facemesh import FaceMeshConfig, MediaPipeFaceMesh
from edge_agent.vision.headpose import SolvePnPConfig, SolvePnPHeadPose
from edge_agent.vision.types import FaceBox, FaceLandmarks, HeadPose, Image

log = logging.getLogger("benchmarks.eval_headpose")
BBOX_COLUMNS = ("bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1")


@dataclass(frozen=True)
class Sample:
    file: str
    pose: HeadPose
    box: FaceBox | None


def read_labels(path: Path) -> list[Sample]:
    """The in-range rows of a labels CSV."""
    samples = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("in_range_99", "1").strip() not in ("1", "1.0"):
                continue
            pose = HeadPose(float(row["yaw"]), float(row["pitch"]), float(row["roll"]))
            box = None
            if all(row.get(name, "").strip() for name in BBOX_COLUMNS):
                x0, y0, x1, y1 = (float(row[name]) for name in BBOX_COLUMNS)
                box = FaceBox(round(x0), round(y0), round(x1 - x0), round(y1 - y0))
            samples.append(Sample(row["file"], pose, box))
    return samples


def choose_face(faces: list[FaceLandmarks], labelled: FaceBox | None) -> FaceLandmarks | None:
    """The labelled face (best overlap with its box), or the largest without a box."""
    if labelled is None:
        return faces[0] if faces else None
    candidates = [face for face in faces if same_face(face.box, labelled)]
    return max(candidates, key=lambda face: iou(face.box, labelled), default=None)


def read_image(path: Path) -> Image | None:
    image = cv2.imread(str(path))
    return None if image is None else np.asarray(image, dtype=np.uint8)


def angle_error(estimate: float, label: float) -> float:
    return abs((estimate - label + 180.0) % 360.0 - 180.0)


Method = Literal["sqpnp", "iterative"]


def evaluate(samples: list[Sample], images: Path, method: Method = "sqpnp") -> dict[str, object]:
    mesh = MediaPipeFaceMesh(FaceMeshConfig(static_image_mode=True, max_num_faces=5))
    estimator = SolvePnPHeadPose(SolvePnPConfig(method=method))
    errors: list[tuple[float, float, float]] = []
    missed: list[str] = []
    try:
        for sample in samples:
            image = read_image(images / sample.file)
            face = None if image is None else choose_face(mesh.infer(image), sample.box)
            pose = None
            if image is not None and face is not None:
                pose = estimator.infer(face, (image.shape[1], image.shape[0]))
            if pose is None:
                missed.append(sample.file)
                print(f"{sample.file}: no face" + (" (unreadable)" if image is None else ""))
                continue
            label = sample.pose
            errors.append(
                (
                    angle_error(pose.yaw, label.yaw),
                    angle_error(pose.pitch, label.pitch),
                    angle_error(pose.roll, label.roll),
                )
            )
            print(
                f"{sample.file}: label {label.yaw:6.1f} {label.pitch:6.1f} {label.roll:6.1f}"
                f"  estimate {pose.yaw:6.1f} {pose.pitch:6.1f} {pose.roll:6.1f}"
            )
    finally:
        mesh.close()
    return summary(errors, len(samples), missed, method)


def summary(
    errors: list[tuple[float, float, float]], n: int, missed: list[str], method: str
) -> dict[str, object]:
    def mae(axis: int) -> float | None:
        values = [error[axis] for error in errors]
        return round(sum(values) / len(values), 3) if values else None

    return {
        "yaw_mae": mae(0),
        "pitch_mae": mae(1),
        "roll_mae": mae(2),
        "detection_rate": round(len(errors) / n, 4) if n else None,
        "n": n,
        "detected": len(errors),
        "missed": missed,
        "method": method,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, required=True, help="labels CSV")
    parser.add_argument("--images", type=Path, required=True, help="folder of the photos")
    parser.add_argument("--method", choices=("sqpnp", "iterative"), default="sqpnp")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    samples = read_labels(args.labels)
    print(json.dumps(evaluate(samples, args.images, args.method)))


if __name__ == "__main__":
    main()
