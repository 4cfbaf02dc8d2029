"""Smoke test of `python -m benchmarks.load`: a few kiosks for a few seconds, and the JSON
on its last line has every field, with nothing lost and nothing duplicated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.services import ROOT, require_binary

pytestmark = [pytest.mark.mariadb, pytest.mark.mosquitto, pytest.mark.slow]
FIELDS = {
    "sent", "stored", "lost", "duplicated", "events_per_s",
    "p50_ms", "p99_ms", "broker_cpu", "ingest_cpu", "kiosk_cpu", "cpu_count",
}  # fmt: skip


def test_load_benchmark_prints_its_figures(mariadb_url: str, tmp_path: Path) -> None:
    require_binary("mosquitto", "the benchmark starts a private broker")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.load", "--kiosks", "10", "--rate", "4",
         "--seconds", "3", "--workers", "2", "--database-url", mariadb_url,
         "--kiosk-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures.keys() >= FIELDS
    assert figures["sent"] >= 10 * 4 * 3 * 0.5  # Poisson arrivals: about 120 expected
    assert figures["stored"] == figures["sent"]
    assert figures["lost"] == figures["duplicated"] == figures["unknown"] == 0
    assert figures["workers"] == 2
    assert figures["kiosk_dir"] == str(tmp_path)
    assert figures["kiosk_exit_codes"] == [0]
    assert 0 < figures["p50_ms"] <= figures["p99_ms"] < 30_000
    assert figures["events_per_s"] > 0
    assert figures["broker_cpu"] >= 0
    assert figures["ingest_cpu"] > 0
    assert figures["kiosk_cpu"] > 0
