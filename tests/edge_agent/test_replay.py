"""The replay tool and the gaze evaluation run the real pipeline on the labelled fixture video
(eyes centre 0-5 s, left 5-10 s, centre 10-15.3 s; head still; stored sideways)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import eval_gaze
from tests.support.services import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def video(fixtures_dir: Path) -> Path:
    return fixtures_dir / "video" / "center_left_center.mp4"


def test_replay_prints_one_eyes_away_violation_in_the_labelled_window(video: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge_agent",
            "--log-level",
            "WARNING",
            "replay",
            str(video),
            "--rotate",
            "90cw",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    violations = json.loads(result.stdout.strip().splitlines()[-1])["violations"]
    assert [v["type"] for v in violations] == ["eyes_away"]
    # Labels are +-0.5 s; the rule adds gaze smoothing (0.3 s) and a 1 s end hysteresis that
    # is not part of the reported duration.
    assert 4.5 <= violations[0]["start_s"] <= 6.0
    assert 9.5 <= violations[0]["end_s"] <= 11.0


def test_gaze_evaluation_meets_its_targets(video: Path, fixtures_dir: Path) -> None:
    segments = eval_gaze.load_segments(fixtures_dir / "video" / "labels.csv", video)
    result = eval_gaze.evaluate(video, segments, "90cw", trim=0.5)
    assert result.inside >= 0.9
    assert result.centre <= 0.05
    assert [v["type"] for v in result.violations] == ["eyes_away"]


def test_replay_explains_a_missing_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "edge_agent", "replay", str(tmp_path / "nope.mp4")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "no such file" in result.stderr
