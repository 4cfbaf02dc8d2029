"""axe-core (bundled in the axe-playwright-python wheel, nothing fetched at test time) on every
screen of the candidate's path, in English and French, in Debian's Chromium: zero serious or
critical findings. Against the agent's real local API dev server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.base import AXE_FILE_PATH
from playwright.sync_api import Browser, Page, expect

from tests.kiosk_ui.exams import four_kinds
from tests.kiosk_ui.flow import Shots, calibrate, choose_language
from tests.kiosk_ui.servers import KioskScreen, SeatAgent
from tests.support.browser import chromium
from tests.support.services import free_port

pytestmark = pytest.mark.slow

AXE_SCRIPT = AXE_FILE_PATH.read_text(encoding="utf-8")
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeatAgent]:
    seat = SeatAgent(tmp_path_factory.mktemp("agent"), four_kinds(policy={"duration_s": 900}))
    seat.start()
    yield seat
    seat.stop()


class Audit:
    """Runs axe on the page as it is and keeps every blocking finding, by screen."""

    def __init__(self, page: Page, shots: Shots) -> None:
        self.page = page
        self.shots = shots
        self.findings: dict[str, list[str]] = {}
        self.screens: list[str] = []

    def check(self, screen: str) -> None:
        self.page.evaluate(AXE_SCRIPT)
        result: dict[str, Any] = self.page.evaluate(
            "axe.run(document, {resultTypes: ['violations']})"
        )
        blocking = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in BLOCKING
        ]
        self.screens.append(screen)
        self.shots.take(self.page, screen)
        if blocking:
            self.findings[screen] = blocking


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_screen_has_no_serious_findings(
    browser: Browser, agent: SeatAgent, tmp_path: Path, language: str
) -> None:
    screen = KioskScreen(tmp_path / "screen")
    screen.start(agent.url)
    context = browser.new_context(viewport={"width": 1024, "height": 600}, bypass_csp=True)
    page = context.new_page()
    audit = Audit(page, Shots(tmp_path / "kiosk-shots"))
    try:
        walk(page, screen.url, language, audit)
    finally:
        context.close()
        screen.stop()
    assert audit.findings == {}
    assert len(audit.screens) == 16


def walk(page: Page, url: str, language: str, audit: Audit) -> None:
    page.goto(url)
    audit.check("language")
    choose_language(page, language)
    audit.check("checkin")
    for _ in range(3):  # a number that is not this seat's: the hint, then the override form
        page.fill("#candidate_number", "X-404")
        page.locator("#candidate_number").press("Enter")
        expect(page.locator("#hint")).to_be_visible()
    audit.check("checkin-override")
    page.fill("#invigilator", "J. Smith")
    page.locator("#invigilator").press("Enter")
    expect(page.locator("#calibrate")).to_be_visible()
    audit.check("calibration")
    calibrate(page)
    audit.check("readiness")
    page.locator("#continue").click()
    expect(page.locator("#accept")).to_be_visible()
    audit.check("consent")
    page.locator("#accept").check()
    page.locator("#start").click()
    expect(page.locator("#timer")).to_be_visible()
    for kind in ("single", "multiple", "numeric", "text"):
        expect(page.locator("#quiz-root")).to_have_attribute("data-kind", kind)
        audit.check(f"quiz-{kind}")
        if kind != "text":
            page.locator("button[value=next]").click()
    page.locator("button[value=flag]").click()
    expect(page.locator("button[value=flag]")).to_have_attribute("aria-pressed", "true")
    audit.check("quiz-flagged")
    page.evaluate("document.getElementById('warning').hidden = false")
    page.evaluate("document.getElementById('message').hidden = false")
    audit.check("quiz-banners")
    page.evaluate("document.getElementById('paused').hidden = false")
    audit.check("quiz-paused")
    page.evaluate("document.getElementById('paused').hidden = true")
    page.evaluate("document.getElementById('explain-dialog').showModal()")
    audit.check("quiz-explain")
    page.evaluate("document.getElementById('explain-dialog').close()")
    page.locator("#finish").click()
    expect(page.locator("#confirm-submit")).to_be_visible()
    audit.check("submit")
    page.locator("#confirm-submit").click()
    expect(page.locator("#score")).to_be_visible()
    audit.check("result")


def test_waiting_screen_has_no_serious_findings(browser: Browser, tmp_path: Path) -> None:
    screen = KioskScreen(tmp_path / "screen")
    screen.start(f"http://127.0.0.1:{free_port()}")  # no agent there yet
    context = browser.new_context(viewport={"width": 1024, "height": 600}, bypass_csp=True)
    page = context.new_page()
    audit = Audit(page, Shots(tmp_path / "kiosk-shots"))
    try:
        page.goto(screen.url)
        expect(page.locator("h1")).to_have_text("Please wait")
        audit.check("waiting")
    finally:
        context.close()
        screen.stop()
    assert audit.findings == {}
