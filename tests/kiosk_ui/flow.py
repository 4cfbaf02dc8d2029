"""Steps of the candidate's path in the browser, by ids and values (the same in every language),
with a screenshot after each step."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.kiosk_ui.servers import CANDIDATE_NUMBER


class Shots:
    """Numbered screenshots of each step, for a person to look at."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def take(self, page: Page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=path)
        return path


def choose_language(page: Page, language: str) -> None:
    page.locator(f"button[value={language}]").click()
    expect(page.locator("#candidate_number")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", language)


def check_in(page: Page) -> None:
    page.fill("#candidate_number", CANDIDATE_NUMBER)
    page.locator("#candidate_number").press("Enter")
    expect(page.locator("#calibrate")).to_be_visible()


def calibrate(page: Page) -> None:
    page.locator("#calibrate").click()
    expect(page.locator("#continue")).to_be_visible(timeout=15_000)


def consent(page: Page) -> None:
    page.locator("#continue").click()
    page.locator("#accept").check()
    page.locator("#start").click()
    expect(page.locator("#timer")).to_be_visible()


def to_quiz(page: Page, url: str, language: str = "en") -> None:
    page.goto(url)
    choose_language(page, language)
    check_in(page)
    calibrate(page)
    consent(page)


def answer_by_click(page: Page, selector: str) -> None:
    """Click an option and wait until the screen has stored the answer."""
    with page.expect_response(lambda r: r.url.endswith("/api/answer") and r.ok):
        page.locator(selector).click()
