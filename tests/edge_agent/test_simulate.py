"""The simulator as a command, against a private Mosquitto with a test-side central."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from edge_agent.__main__ import main
from edge_agent.outbox import Outbox
from protocol.broker_url import BrokerUrl
from tests.edge_agent.central_stub import CentralStub
from tests.edge_agent.helpers import retained_status

ROOT = Path(__file__).resolve().parents[2]
CENTRE = "centre-sim"
pytestmark = pytest.mark.mosquitto


def simulate_args(url: BrokerUrl, data_dir: Path, *extra: str) -> list[str]:
    return [
        "--log-level",
        "WARNING",
        "simulate",
        "--broker-url",
        url.to_url(redact=False),
        "--centre",
        CENTRE,
        "--data-dir",
        str(data_dir),
        *extra,
    ]


def summary_of(output: str) -> dict[str, Any]:
    lines = [line for line in output.splitlines() if line.startswith("{")]
    assert len(lines) == 1, output
    summary: dict[str, Any] = json.loads(lines[0])
    return summary


def read_ledger(path: Path) -> dict[str, list[tuple[uuid.UUID, int, str]]]:
    per_device: dict[str, list[tuple[uuid.UUID, int, str]]] = defaultdict(list)
    for line in path.read_text().splitlines():
        device, message_id, seq, kind = line.split(" ")
        per_device[device].append((uuid.UUID(message_id), int(seq), kind))
    return per_device


def test_counted_run_drains_and_loses_nothing(
    mosquitto: BrokerUrl,
    central: CentralStub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger = tmp_path / "ledger.txt"
    code = main(
        simulate_args(
            mosquitto,
            tmp_path / "data",
            *("--kiosks", "20", "--events-per-kiosk", "15", "--rate", "0"),
            *("--ledger", str(ledger), "--drain-timeout", "30", "--seed", "7"),
        )
    )
    summary = summary_of(capsys.readouterr().out)
    assert code == 0, summary
    assert summary["created"] == summary["acked"] == 300
    assert (summary["remaining"], summary["drained"], summary["kiosks"]) == (0, True, 20)
    assert len(summary["per_kiosk"]) == 20
    entries = read_ledger(ledger)
    assert sorted(entries) == [f"sim-kiosk-{i:02d}" for i in range(1, 21)]
    all_ids = set()
    for device, rows in entries.items():
        assert [seq for _id, seq, _kind in rows] == list(range(15)), device
        assert rows[0][2] == "checkin"
        assert rows[-1][2] == "submitted"
        all_ids |= {message_id for message_id, _seq, _kind in rows}
        assert (tmp_path / "data" / device / "outbox.sqlite3").exists()
    assert len(all_ids) == 300
    assert all_ids <= central.outbox_ids()  # nothing lost
    for message in central.messages():
        assert message.simulated  # type: ignore[union-attr]


def test_without_central_nothing_drains_and_the_exit_code_says_so(
    mosquitto: BrokerUrl, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    code = main(
        simulate_args(
            mosquitto,
            data,
            *("--kiosks", "2", "--events-per-kiosk", "5", "--rate", "0"),
            *("--drain-timeout", "1", "--prefix", "lonely"),
        )
    )
    summary = summary_of(capsys.readouterr().out)
    assert code == 1
    assert (summary["created"], summary["acked"], summary["remaining"]) == (10, 0, 10)
    assert summary["drained"] is False
    with Outbox(data / "lonely-01" / "outbox.sqlite3") as outbox:
        assert outbox.depth() == 5  # kept for the next run


def test_endless_run_stops_cleanly_on_sigterm(
    mosquitto: BrokerUrl, central: CentralStub, tmp_path: Path
) -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edge_agent",
            *simulate_args(mosquitto, tmp_path / "data", "--kiosks", "3", "--rate", "20"),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert central.wait_for(lambda: len(central.outbox_ids()) >= 15, timeout=20)
    finally:
        child.send_signal(signal.SIGTERM)
        output, _ = child.communicate(timeout=30)
    assert child.returncode == 0
    summary = summary_of(output)
    assert summary["created"] >= 15
    assert summary["created"] == summary["acked"] + summary["remaining"]
    for index in (1, 2, 3):
        [status] = retained_status(mosquitto, f"sim-kiosk-{index:02d}", centre_id=CENTRE)
        assert (status.state, status.reason, status.simulated) == ("offline", "shutdown", True)


def test_timed_run_stops_producing_and_drains(
    mosquitto: BrokerUrl,
    central: CentralStub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ("--kiosks", "2", "--seconds", "1", "--rate", "20", "--heartbeat-interval", "0.2")
    code = main(simulate_args(mosquitto, tmp_path / "data", *args))
    summary = summary_of(capsys.readouterr().out)
    assert code == 0
    assert summary["created"] > 10
    assert summary["created"] == summary["acked"]
    assert {h.device_id for h in central.heartbeats()} == {"sim-kiosk-01", "sim-kiosk-02"}


def test_a_slow_rate_ends_with_the_run_not_with_the_next_arrival(
    mosquitto: BrokerUrl,
    central: CentralStub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One message every ~1000 s on average: the run still ends after its one second."""
    args = ("--kiosks", "2", "--seconds", "1", "--rate", "0.001", "--drain-timeout", "5")
    started = time.monotonic()
    code = main(simulate_args(mosquitto, tmp_path / "data", *args))
    assert time.monotonic() - started < 15
    summary = summary_of(capsys.readouterr().out)
    assert code == 0
    assert summary["created"] == summary["acked"]


def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for bad in (["--kiosks", "0"], ["--broker-url", "http://x"], ["--events-per-kiosk", "0"]):
        with pytest.raises(SystemExit) as excinfo:
            main(simulate_args(BrokerUrl("127.0.0.1", 1), tmp_path, *bad))
        assert excinfo.value.code == 2
    assert "--kiosks" in capsys.readouterr().err
