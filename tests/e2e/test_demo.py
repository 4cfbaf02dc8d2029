"""Acceptance: `make demo`'s program starts, prints its URL and login, serves simulated
events through the API, and stops on SIGINT leaving no process behind."""

from __future__ import annotations

import hashlib
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from tests.support.browser import chromium
from tests.support.services import ROOT, free_port

BANNER_TIMEOUT_S = 90


def _read_banner(proc: subprocess.Popen[str]) -> tuple[str, str, str]:
    """The central URL, the admin password and the kiosk screen's URL, from the banner."""
    assert proc.stdout is not None
    seen: list[str] = []
    url = password = screen = None
    deadline = time.monotonic() + BANNER_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if match := re.search(r"Central service : (http://\S+)", line):
            url = match.group(1)
        if match := re.search(r"Login +: admin / (\S+)", line):
            password = match.group(1)
        if match := re.search(r"Kiosk screen +: (http://\S+)", line):
            screen = match.group(1)
        if "Press Ctrl-C" in line:
            break
    assert url, "demo printed no URL:\n" + "".join(seen)
    assert password, "demo printed no login:\n" + "".join(seen)
    assert screen, "demo printed no kiosk screen:\n" + "".join(seen)
    return url, password, screen


def _check_in_on_the_kiosk_screen(screen: str, screenshot: Path) -> None:
    """The candidate's screen of the camera kiosk: the printed candidate number and the
    recording's face pass the real agent's face match."""
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1024, "height": 600})
        page.goto(screen)
        page.locator("button[value=en]").click()
        page.fill("#candidate_number", "C-1001")
        page.locator("#candidate_number").press("Enter")
        page.locator("#calibrate").wait_for(timeout=60_000)
        page.screenshot(path=str(screenshot))


def _wait_for_simulated_events(url: str, password: str) -> list[dict[str, object]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = requests.get(f"{url}/api/v1/events", auth=("admin", password), timeout=5)
        assert response.status_code == 200, response.text
        items: list[dict[str, object]] = response.json()["items"]
        if items:
            return items
        time.sleep(0.5)
    raise AssertionError("no events reached the API within 60 s")


def _check_console_in_a_browser(url: str, password: str, screenshot: Path) -> None:
    """A person logs in with the printed login and sees simulated kiosks marked as such."""
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url)
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Recent events").wait_for(timeout=10_000)
        rows = page.locator("table").first.locator("tbody tr")
        assert rows.count() > 0
        assert rows.first.get_by_text("SIMULATED").is_visible()
        page.screenshot(path=str(screenshot), full_page=True)


def _wait_for_camera_kiosk_evidence(url: str, password: str) -> dict[str, Any]:
    """The camera-pipeline kiosk's eyes_away violation, ended, with its evidence on central."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        response = requests.get(f"{url}/api/v1/events", timeout=5, auth=("admin", password),
                                params={"device": "kiosk-cam-01", "type": "eyes_away"})
        items: list[dict[str, Any]] = response.json()["items"]
        ended = [e for e in items if e["state"] == "ended" and e["evidence"]]
        if ended:
            return ended[0]
        time.sleep(1)
    raise AssertionError("the camera kiosk's violation with evidence did not arrive in 120 s")


def _fetch_evidence(url: str, password: str, sha256: str) -> requests.Response:
    deadline = time.monotonic() + 60  # the upload follows the event
    while True:
        response = requests.get(f"{url}/api/v1/evidence/{sha256}", auth=("admin", password),
                                timeout=10)
        if response.status_code != 404 or time.monotonic() > deadline:
            return response
        time.sleep(1)


@pytest.mark.slow
def test_demo_starts_serves_events_and_stops_cleanly(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "central.demo",
            "--data-dir",
            str(tmp_path / "demo"),
            "--kiosks",
            "3",
            "--rate",
            "2",
            "--web-port",
            str(free_port()),
            "--broker-port",
            str(free_port()),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url, password, screen = _read_banner(proc)
        items = _wait_for_simulated_events(url, password)
        assert all(item["simulated"] is True for item in items)
        assert requests.get(f"{url}/api/v1/events", timeout=5).status_code == 401
        assert (
            requests.get(f"{url}/api/v1/events", auth=("admin", "wrong"), timeout=5).status_code
            == 401
        )
        event = _wait_for_camera_kiosk_evidence(url, password)
        assert 3.0 <= event["duration_s"] <= 7.0
        clip = next(e for e in event["evidence"] if e["role"] == "clip")
        response = _fetch_evidence(url, password, clip["sha256"])
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "video/webm"
        assert hashlib.sha256(response.content).hexdigest() == clip["sha256"]
        _check_console_in_a_browser(url, password, tmp_path / "console.png")
        _check_in_on_the_kiosk_screen(screen, tmp_path / "kiosk-screen.png")
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 4  # broker, ingest, web, kiosks
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.5)
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes left behind: {[c.cmdline() for c in alive]}"
    assert (tmp_path / "demo" / "central.sqlite3").exists()
