"""Voice-activity evaluation: frame-level precision, recall and false-alarm rate of the speech
the kiosk flags, overall and per condition, and the `speech` violations the rules raise.

    python -m benchmarks.eval_vad --manifest CSV --clips DIR

Manifest CSV: `file,label_key,...` (optional `condition` and `snr_db` columns group the
results; `noise-only` clips have no speech). Beside the clips, `labels_<label_key>.npy` holds
one 0/1 per 10 ms frame. A frame is flagged when it lies inside a speech segment of the
tracker (Silero VAD with the configured thresholds, minimum duration and hangover), so the
figures are those of what the kiosk acts on. Violations come from the audio rules fed with
the tracker's state per 32 ms block. Prints JSON on its last line: {"precision", "recall",
"false_alarm_rate", "by_condition", "noise_only", "violations", "targets", "config"}.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge_agent.audio import (
    BLOCK_S,
    SileroVad,
    SpeechSegment,
    SpeechTracker,
    VadConfig,
    block_probabilities,
    load_wav,
    speech_segments,
)
from edge_agent.audio.source import AudioSourceError
from edge_agent.rules.audio_rules import AudioRuleEngine
from edge_agent.rules.config import RulesConfig
from edge_agent.rules.engine import ViolationChange
from edge_agent.rules.tracker import Instant
from protocol import EventState
from protocol import ViolationType as V

NOISE_ONLY = "noise-only"
_WALL0 = datetime(2026, 1, 1, tzinfo=UTC)
TARGET_PR = 0.9  # precision and recall on clean and 10 dB mixes
TARGET_NOISE_FLAGGED = 0.02  # share of noise-only frames flagged


@dataclass(frozen=True)
class Clip:
    file: str
    label_key: str
    condition: str
    snr_db: str

    @property
    def spoken(self) -> bool:
        return self.condition != NOISE_ONLY


@dataclass(frozen=True)
class ClipResult:
    clip: Clip
    tp: int
    fp: int
    fn: int
    tn: int
    violations: int


def read_manifest(path: Path) -> list[Clip]:
    try:
        with path.open(newline="") as file:
            reader = csv.DictReader(file)
            missing = {"file", "label_key"} - set(reader.fieldnames or ())
            if missing:
                raise SystemExit(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            rows = list(reader)
    except OSError as exc:
        raise SystemExit(f"cannot read {path}: {exc}") from exc
    if not rows:
        raise SystemExit(f"{path} lists no clips")
    return [
        Clip(
            r["file"],
            r["label_key"],
            (r.get("condition") or "unlabelled").strip(),
            (r.get("snr_db") or "").strip(),
        )
        for r in rows
    ]


def load_labels(clips_dir: Path, key: str) -> npt.NDArray[np.bool_]:
    path = clips_dir / f"labels_{key}.npy"
    try:
        labels = np.load(path)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"cannot read labels {path}: {exc}") from exc
    if labels.ndim != 1 or not np.isin(labels, (0, 1)).all():
        raise SystemExit(f"{path}: expected one 0/1 per 10 ms frame")
    flags: npt.NDArray[np.bool_] = labels.astype(bool)
    return flags


def flagged_frames(segments: list[SpeechSegment], frames: int) -> npt.NDArray[np.bool_]:
    flags = np.zeros(frames, dtype=bool)
    for segment in segments:
        flags[round(segment.start_s * 100) : round(segment.end_s * 100)] = True
    return flags


def count_violations(probabilities: npt.NDArray[np.float64], config: VadConfig) -> int:
    """`speech` violations the audio rules raise on one clip, fed block by block."""
    tracker, engine = SpeechTracker(config), AudioRuleEngine(RulesConfig())
    started = 0
    t = 0.0
    for i, probability in enumerate(probabilities):
        t = i * BLOCK_S
        change = tracker.update(float(probability), t)
        now = Instant(t + BLOCK_S, _WALL0)
        changes = [] if change is None else engine.speech_change(change, now)
        changes += engine.speech(tracker.speaking, now)
        started += _speech_starts(changes)
    end = Instant(t + BLOCK_S, _WALL0)
    final = tracker.flush()
    if final is not None:
        started += _speech_starts(engine.speech_change(final, end))
    engine.finish(end)
    return started


def _speech_starts(changes: list[ViolationChange]) -> int:
    return sum(c.type is V.SPEECH and c.state is EventState.STARTED for c in changes)


def evaluate_clip(vad: SileroVad, clip: Clip, clips_dir: Path, config: VadConfig) -> ClipResult:
    try:
        pcm = load_wav(clips_dir / clip.file)
    except AudioSourceError as exc:
        raise SystemExit(str(exc)) from exc
    labels = load_labels(clips_dir, clip.label_key)
    probabilities = block_probabilities(vad, pcm)
    flags = flagged_frames(speech_segments(probabilities, config), len(labels))
    return ClipResult(
        clip,
        tp=int((flags & labels).sum()),
        fp=int((flags & ~labels).sum()),
        fn=int((~flags & labels).sum()),
        tn=int((~flags & ~labels).sum()),
        violations=count_violations(probabilities, config),
    )


def metrics(results: list[ClipResult]) -> dict[str, Any]:
    tp, fp, fn, tn = (sum(getattr(r, k) for r in results) for k in ("tp", "fp", "fn", "tn"))
    spoken = [r for r in results if r.clip.spoken]
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "false_alarm_rate": round(fp / (fp + tn), 4) if fp + tn else None,
        "clips": len(results),
        "frames": tp + fp + fn + tn,
        "violations": sum(r.violations for r in results),
        "spoken_clips_without_violation": sum(r.violations == 0 for r in spoken),
    }


def group(results: list[ClipResult]) -> dict[str, list[ClipResult]]:
    """Clean, each noise type, each SNR, each noise type at each SNR, and noise-only."""
    groups: dict[str, list[ClipResult]] = defaultdict(list)
    for r in results:
        groups[r.clip.condition].append(r)
        if r.clip.snr_db:
            groups[f"{r.clip.snr_db}dB"].append(r)
            groups[f"{r.clip.condition}@{r.clip.snr_db}dB"].append(r)
    return dict(sorted(groups.items()))


def targets(by: dict[str, dict[str, Any]], results: list[ClipResult]) -> dict[str, bool]:
    def pr_ok(key: str) -> bool:
        m = by.get(key)
        return bool(m and (m["precision"] or 0) >= TARGET_PR and (m["recall"] or 0) >= TARGET_PR)

    noise = by.get(NOISE_ONLY)

    def sentences_above(snr_db: float) -> list[ClipResult]:
        return [
            r
            for r in results
            if r.clip.spoken and (not r.clip.snr_db or float(r.clip.snr_db) >= snr_db)
        ]

    return {
        "clean_precision_recall_0.9": pr_ok("clean"),
        "10dB_precision_recall_0.9": pr_ok("10dB"),
        "noise_only_flagged_le_2pct": bool(
            noise and (noise["false_alarm_rate"] or 0) <= TARGET_NOISE_FLAGGED
        ),
        "no_violation_on_noise_only": bool(noise and noise["violations"] == 0),
        "violation_for_every_sentence_clean_and_20dB": all(
            r.violations >= 1 for r in sentences_above(20)
        ),
        "violation_for_every_sentence_at_10dB_or_better": all(
            r.violations >= 1 for r in sentences_above(10)
        ),
    }


def evaluate(manifest: Path, clips_dir: Path, config: VadConfig) -> dict[str, Any]:
    vad = SileroVad()
    results = [evaluate_clip(vad, clip, clips_dir, config) for clip in read_manifest(manifest)]
    by = {key: metrics(rs) for key, rs in group(results).items()}
    overall = metrics(results)
    return {
        "precision": overall["precision"],
        "recall": overall["recall"],
        "false_alarm_rate": overall["false_alarm_rate"],
        "by_condition": by,
        "noise_only": {
            r.clip.file: {
                "false_alarm_rate": metrics([r])["false_alarm_rate"],
                "violations": r.violations,
            }
            for r in results
            if not r.clip.spoken
        },
        "violations": {
            "spoken_clips": sum(r.clip.spoken for r in results),
            "per_spoken_clip": {r.clip.file: r.violations for r in results if r.clip.spoken},
            "missed": [r.clip.file for r in results if r.clip.spoken and r.violations == 0],
            "on_noise_only": sum(r.violations for r in results if not r.clip.spoken),
        },
        "targets": targets(by, results),
        "config": config.model_dump(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--clips", type=Path, required=True)
    parser.add_argument("--threshold", type=float, help="override vad.threshold")
    parser.add_argument("--end-threshold", type=float, help="override vad.end_threshold")
    args = parser.parse_args(argv)
    overrides = {
        k: v
        for k, v in (("threshold", args.threshold), ("end_threshold", args.end_threshold))
        if v is not None
    }
    config = VadConfig(**overrides)
    print(json.dumps(evaluate(args.manifest, args.clips, config)))


if __name__ == "__main__":
    main()
