"""Put an exam and an enrolment into a kiosk's seat state before its agent starts, exactly as
central's `load_exam` and `enrol` commands would (for the demo and for rehearsals without a
central). The enrolment's face encoding can come from a photo or a frame of a recording.

    python -m edge_agent.seat.preload --data-dir D --device-id K --seat-id S \
        --exam exam.json --enrolment enrolment.json \
        [--enrol-photo P | --enrol-video V --rotate 90cw --frame 10]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2

from edge_agent.capture.source import check_image
from edge_agent.seat.commands import apply_command
from edge_agent.seat.state import SeatState
from edge_agent.vision.identity import FaceRecognitionIdentity
from edge_agent.vision.types import Image
from protocol import Command, CommandType, uuid7

ROTATIONS = {
    "none": None,
    "90cw": cv2.ROTATE_90_CLOCKWISE,
    "90ccw": cv2.ROTATE_90_COUNTERCLOCKWISE,
    "180": cv2.ROTATE_180,
}


class PreloadError(RuntimeError):
    """The exam, the enrolment or the face cannot be used; the message says why."""


def video_frame(path: Path, index: int, rotate: str) -> Image:
    capture = cv2.VideoCapture(str(path))
    try:
        image = None
        for _ in range(index + 1):
            ok, image = capture.read()
            if not ok:
                raise PreloadError(f"{path} has fewer than {index + 1} readable frames")
    finally:
        capture.release()
    assert image is not None  # index >= 0: at least one frame was read
    code = ROTATIONS[rotate]
    frame = check_image(image if code is None else cv2.rotate(image, code))
    if frame is None:
        raise PreloadError(f"frame {index} of {path} is not an image")
    return frame


def encoding_of(image: Image) -> list[float]:
    identity = FaceRecognitionIdentity()
    try:
        return [float(x) for x in identity.enrol(image)]
    except ValueError as exc:  # no face, several faces
        raise PreloadError(f"enrolment picture: {exc}") from exc
    finally:
        identity.close()


def preload(
    state: SeatState, device_id: str, seat_id: str | None, exam: Any, enrolment: Any
) -> None:
    for kind, args in ((CommandType.LOAD_EXAM, {"exam": exam}),
                       (CommandType.ENROL, {"enrolment": enrolment})):  # fmt: skip
        command = Command(
            schema_version=1, kind="command", id=uuid7(), centre_id="preload",
            device_id=device_id, type=kind, args=args, issued_at=datetime.now(UTC),
            issued_by="preload",
        )  # fmt: skip
        outcome = apply_command(state, command, seat_id)
        if outcome.status != "done":
            raise PreloadError(f"{kind.value} rejected: {outcome.detail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge_agent.seat.preload", description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True, help="the agent's data_dir")
    parser.add_argument("--device-id", required=True)
    parser.add_argument("--seat-id")
    parser.add_argument("--exam", type=Path, required=True, help="ExamDefinition JSON")
    parser.add_argument("--enrolment", type=Path, required=True, help="Enrolment JSON")
    face = parser.add_mutually_exclusive_group()
    face.add_argument("--enrol-photo", type=Path, help="photo of the candidate")
    face.add_argument("--enrol-video", type=Path, help="recording of the candidate")
    parser.add_argument("--rotate", choices=sorted(ROTATIONS), default="none")
    parser.add_argument("--frame", type=int, default=10, help="frame of --enrol-video")
    args = parser.parse_args(argv)
    try:
        exam = json.loads(args.exam.read_text())
        enrolment = json.loads(args.enrolment.read_text())
        if args.enrol_photo is not None:
            photo = check_image(cv2.imread(str(args.enrol_photo)))
            if photo is None:
                raise PreloadError(f"{args.enrol_photo} is not a readable image")
            enrolment["encoding"] = encoding_of(photo)
        elif args.enrol_video is not None:
            frame = video_frame(args.enrol_video, args.frame, args.rotate)
            enrolment["encoding"] = encoding_of(frame)
        args.data_dir.mkdir(parents=True, exist_ok=True)
        state = SeatState(args.data_dir / "seat.sqlite3")
        try:
            preload(state, args.device_id, args.seat_id, exam, enrolment)
        finally:
            state.close()
    except (OSError, ValueError, PreloadError) as exc:
        print(f"preload failed: {exc}", file=sys.stderr)
        return 2
    print(f"seat state ready: exam {exam.get('id')}, candidate {enrolment.get('candidate_id')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
