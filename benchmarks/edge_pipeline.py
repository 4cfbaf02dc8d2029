"""Edge pipeline speed: the kiosk's per-frame work against a naive loop, same frames, one core.

    python -m benchmarks.edge_pipeline --video V --enroll PHOTO [--rotate R] [--core 0]
        [--objects MODEL.onnx] [--audio SPEECH.wav]

Pipeline: every stage (quality, face detection, FaceMesh with iris, head pose, gaze,
identity on its schedule), the rules, and the JPEG ring buffer for evidence (fed at the clip
rate, as the agent does). fps is frames over the loop's wall time minus decoding, so work the
pipeline does on its own threads (pinned to the same core) is counted; p50 and p99 are the
frame path's latency.

Baseline: what a naive loop does on every frame: face_recognition HOG detection, 128-d
encoding, comparison with the enrolled face, FaceMesh. Decoding is excluded from both. The
process is pinned to one core (all threads, MediaPipe's included). Prints JSON on its last
line: {"fps", "baseline_fps", "ratio", "ms_per_frame_p50", "ms_per_frame_p99", "peak_rss_mb"}.

With ``--objects`` the YOLOX object stage runs as in the agent (on its worker thread, at a
lower priority than the frame loop, on the same core), and its cost is reported separately:
after the loop it runs on its cadence (every ``every_n_frames``-th frame) over the same
frames, timed alone (`object_ms_per_run`, and `object_ms_per_frame` amortised), and
`cpu_share_at_30fps` is the share of the core that the frame path plus the amortised detector
take at a camera's 30 fps. (The detector takes the CPU the frame loop leaves, so at as-fast-as-
possible pacing it may barely run during the loop: `object_runs_during_loop`.)
With ``--audio`` a WAV file is replayed in real time (looping) as the microphone through the
agent's AudioMonitor (Silero VAD on its own thread, same core) and the audio rules and talking
classifier run on every frame; Silero's ms per 32 ms block is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import face_recognition
import mediapipe as mp
import numpy as np

from edge_agent.audio.config import AudioConfig
from edge_agent.audio.monitor import AudioMonitor
from edge_agent.audio.wavfile import Pacing as AudioPacing
from edge_agent.audio.wavfile import WavReplaySource
from edge_agent.capture.replay import FileReplaySource, Pacing
from edge_agent.capture.source import check_image
from edge_agent.evidence.clips import ClipSettings
from edge_agent.evidence.ring import FrameRing
from edge_agent.hearing import Hearing
from edge_agent.rules.config import RulesConfig
from edge_agent.rules.engine import RuleEngine
from edge_agent.rules.tracker import Instant
from edge_agent.vision.config import VisionConfig
from edge_agent.vision.objects import ObjectStage
from edge_agent.vision.objects_config import ObjectsConfig
from edge_agent.vision.pipeline import VisionPipeline
from edge_agent.vision.types import Frame, Image
from edge_agent.watch import RingFeeder, SeatWatcher, replay_frames


def frames(video: Path, rotate: str, width: int) -> Iterator[Frame]:
    return replay_frames(FileReplaySource(video, rotation=rotate, width=width, pacing=Pacing.FAST))


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def decode_seconds(video: Path, rotate: str, width: int) -> float:
    """Wall time of decoding alone, subtracted from the pipeline loop's wall time."""
    start = time.perf_counter()
    for _ in frames(video, rotate, width):
        pass
    return time.perf_counter() - start


def run_pipeline(
    video: Path,
    rotate: str,
    width: int,
    photo: Image,
    *,
    objects: Path | None = None,
    audio: Path | None = None,
) -> dict[str, float]:
    config = VisionConfig(objects=ObjectsConfig(model_path=objects))
    pipeline = VisionPipeline(config, objects_offpath=True)
    pipeline.enrol(photo)
    watcher = SeatWatcher(pipeline, RuleEngine(objects=config.objects))
    feeder = RingFeeder(FrameRing(), ClipSettings().fps)
    hearing = None
    if audio is not None:
        source = WavReplaySource(audio, pacing=AudioPacing.REALTIME, loop=True)
        hearing = Hearing(AudioConfig(), RulesConfig(), monitor=AudioMonitor(source))
        hearing.start()
    times: list[float] = []
    object_runs: list[float] = []
    loop_start = time.perf_counter()
    for frame in frames(video, rotate, width):
        start = time.perf_counter()
        step = watcher.process(frame)
        feeder.offer(frame, step.observation.face_count > 0)
        if hearing is not None:
            now = time.monotonic()
            hearing.step(Instant(now, frame.wall_time), step.observation)
        times.append((time.perf_counter() - start) * 1000)
        if step.observation.objects is not None and step.observation.objects.fresh:
            object_runs.append(step.observation.stage_ms.get("objects", 0.0))
    pipeline.close()  # waits for work still running on the pipeline's own threads
    loop_s = time.perf_counter() - loop_start - decode_seconds(video, rotate, width)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the baseline
    result = {
        "frames": len(times),
        "fps": len(times) / loop_s,
        "p50": percentile(times, 50),
        "p99": percentile(times, 99),
        "rss": rss_mb,
    }
    if objects is not None:
        result["object_runs_during_loop"] = len(object_runs)
        every = config.objects.every_n_frames
        stage = ObjectStage(config.objects)
        calls = [
            stage.look(frame.image).call_ms[0]
            for index, frame in enumerate(frames(video, rotate, width))
            if index % every == 0
        ]
        stage.close()
        result["object_ms_per_run"] = statistics.median(calls)
        result["object_ms_per_frame"] = sum(calls) / max(1, len(times))
        frame_ms = statistics.mean(times)
        result["cpu_share_at_30fps"] = (frame_ms + result["object_ms_per_frame"]) * 30 / 1000
    if hearing is not None:
        hearing.stop()
        hearing.join(5)
        stats = hearing.monitor.stats()
        result["vad_blocks"] = stats.vad_blocks
        result["vad_ms_per_block"] = stats.vad_ms_per_block
    return result


def run_baseline(
    video: Path, rotate: str, width: int, photo: Image, max_frames: int
) -> dict[str, float]:
    known = face_recognition.face_encodings(cv2.cvtColor(photo, cv2.COLOR_BGR2RGB))[0]
    mesh = mp.solutions.face_mesh.FaceMesh(max_num_faces=1, refine_landmarks=True)
    times: list[float] = []
    for frame in frames(video, rotate, width):
        if len(times) >= max_frames:
            break
        start = time.perf_counter()
        rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
        boxes = face_recognition.face_locations(rgb)  # HOG on every frame
        for encoding in face_recognition.face_encodings(rgb, boxes):
            face_recognition.compare_faces([known], encoding)
        mesh.process(rgb)
        times.append((time.perf_counter() - start) * 1000)
    mesh.close()
    return {"frames": len(times), "fps": 1000 * len(times) / sum(times)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--enroll", type=Path, required=True, help="photo of the candidate")
    parser.add_argument("--rotate", default="none")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--core", type=int, default=0, help="CPU core to pin to")
    parser.add_argument("--objects", type=Path, help="YOLOX ONNX model: run the object stage")
    parser.add_argument("--audio", type=Path, help="WAV replayed as the microphone")
    parser.add_argument(
        "--baseline-frames",
        type=int,
        default=80,
        help="the baseline is slow; its rate from this many frames",
    )
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {args.core})
    photo = check_image(cv2.imread(str(args.enroll)))
    if photo is None:
        raise SystemExit(f"{args.enroll}: not a readable image")
    ours = run_pipeline(
        args.video, args.rotate, args.width, photo, objects=args.objects, audio=args.audio
    )
    extra = {
        key: round(ours[key], 2)
        for key in ("object_runs_during_loop", "object_ms_per_run", "object_ms_per_frame",
                    "cpu_share_at_30fps", "vad_blocks", "vad_ms_per_block")
        if key in ours
    }  # fmt: skip
    base = run_baseline(args.video, args.rotate, args.width, photo, args.baseline_frames)
    print(
        json.dumps(
            {
                "fps": round(ours["fps"], 1),
                "baseline_fps": round(base["fps"], 2),
                "ratio": round(ours["fps"] / base["fps"], 1),
                "ms_per_frame_p50": round(ours["p50"], 2),
                "ms_per_frame_p99": round(ours["p99"], 2),
                "peak_rss_mb": round(ours["rss"], 1),
                "frames": int(ours["frames"]),
                "baseline_frames": int(base["frames"]),
                "core": args.core,
                **extra,
            }
        )
    )


if __name__ == "__main__":
    main()
