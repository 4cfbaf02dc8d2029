"""`make bench`: run every benchmark and evaluation; each prints JSON on its last line.

Evaluations use the labelled media in ../shared/fixtures/ (skipped with a message when it is
absent). MariaDB figures use a private mariadbd, as the tests do, when the binary is installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import store_throughput
from tests.support.services import MariaDBServer, run_sql

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"


def _evaluations() -> list[list[str]]:
    f = FIXTURES
    video = f / "video"
    return [
        ["benchmarks.eval_headpose", "--labels", str(f / "headpose/labels.csv"),
         "--images", str(f / "headpose/images")],
        ["benchmarks.eval_identity", "--pairs", str(f / "faces/pairs.csv"),
         "--root", str(f / "faces")],
        ["benchmarks.edge_pipeline", "--video", str(video / "short_hamilton_clip.mp4"),
         "--enroll", str(f / "faces/lin-manuel-miranda.png")],
        ["benchmarks.eval_gaze", "--video", str(video / "center_left_center.mp4"),
         "--labels", str(video / "labels.csv"), "--rotate", "90cw"],
        ["benchmarks.eval_vad", "--manifest", str(f / "audio/manifest.csv"),
         "--clips", str(f / "audio/clips")],
        ["benchmarks.eval_objects", "--images", str(f / "objects/images"),
         "--expected", str(f / "objects/expected.csv")],
    ]  # fmt: skip


def _load_runs() -> list[list[str]]:
    """Capacity against private Mosquitto and MariaDB: steady 1,000 kiosks, then bursts."""
    steady = ["benchmarks.load", "--kiosks", "1000", "--rate", "1", "--seconds", "300"]
    bursts = [
        ["benchmarks.load", "--kiosks", "300", "--seconds", "30", "--burst", "--workers", str(w)]
        for w in (1, 2, 4)
    ]
    return [[*steady, "--workers", "2"], *bursts]


def _run_module(args: list[str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        return json.dumps({"benchmark": args[0], "error": result.stderr.strip()[-500:]})
    return lines[-1]


def _mariadb_run() -> dict[str, object] | None:
    if not (shutil.which("mariadbd") or Path("/usr/sbin/mariadbd").exists()):
        return None
    server = MariaDBServer(Path(tempfile.mkdtemp(prefix="bench-mariadb-")))
    server.start()
    try:
        for name in ("batched", "baseline"):
            run_sql(server.root_url(), f"CREATE DATABASE {name}")
        url = server.root_url("{name}")
        return store_throughput.run(url, events=5000, batch=500, baseline_events=500)
    finally:
        server.stop()


def main() -> None:
    print(json.dumps(store_throughput.run(None, events=5000, batch=500, baseline_events=1000)))
    mariadb = _mariadb_run()
    print(json.dumps(mariadb) if mariadb else "mariadbd not installed: MariaDB figures skipped")
    if not FIXTURES.is_dir():
        print(f"fixtures not found at {FIXTURES}: evaluations skipped")
        return
    for args in _evaluations():
        print(_run_module(args), flush=True)
    print(_run_module(["benchmarks.kiosk_screen", "--questions", "100"]), flush=True)
    for args in _load_runs():
        print(_run_module(args), flush=True)


if __name__ == "__main__":
    main()
