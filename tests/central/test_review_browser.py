"""The review flow in Debian's Chromium: a reviewer confirms one flag with the mouse, dismisses
the other with the keyboard, and sees the candidate's result released."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from central.db import create_db_engine, make_sessionmaker
from central.web import create_app
from tests.central import exam_day
from tests.central.exam_day import EXPLANATION, PASSWORD, SHA_A, Day
from tests.support.browser import chromium
from tests.support.services import free_port


@pytest.fixture
def served_day(migrated_sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, Day]]:
    engine = create_db_engine(migrated_sqlite_url)
    with make_sessionmaker(engine).begin() as session:
        day = exam_day.build(session, tmp_path / "evidence")
    engine.dispose()
    app = create_app(
        {
            "DATABASE_URL": migrated_sqlite_url,
            "SECRET_KEY": "test",
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
        }
    )
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", day
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_confirm_a_flag_and_see_the_result_released(
    served_day: tuple[str, Day], tmp_path: Path
) -> None:
    base, day = served_day
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/review/exams/exam-1")
        page.get_by_label("Username").fill("rita")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Review: Scoring test")).to_be_visible()

        flags = page.locator("li.flag")
        expect(flags).to_have_count(2)
        first = flags.first
        expect(first).to_have_attribute("data-violation", day.phone)
        expect(first.locator("blockquote.explanation")).to_contain_text(EXPLANATION)
        expect(first.locator("video")).to_have_attribute("src", f"/api/v1/evidence/{SHA_A}")
        page.screenshot(path=str(tmp_path / "review-queue.png"), full_page=True)

        first.get_by_label("Note").fill("Phone visible on the desk in the clip")
        first.get_by_role("button", name="Confirm").click()
        expect(page.get_by_role("status").first).to_contain_text("Phone in view at seat A-01")
        expect(flags).to_have_count(1)

        # The last flag by keyboard: n focuses its note, then d (outside the box) dismisses.
        page.keyboard.press("n")
        page.keyboard.type("Reading the wall clock")
        page.locator("h1").click()
        page.keyboard.press("d")
        expect(page.get_by_text("Result of session sess-1 released.")).to_be_visible()
        expect(page.get_by_text("Every flag of this exam is reviewed.")).to_be_visible()

        page.get_by_role("link", name="sess-1").first.click()
        verdict = page.locator("#verdict")
        expect(verdict).to_have_text("Pass: trust 84.2 ≥ 70, score 75 % ≥ 40 %")
        expect(page.locator("#violations")).to_contain_text("confirmed")
        expect(page.locator("#violations")).to_contain_text("Reading the wall clock")
        page.screenshot(path=str(tmp_path / "result-released.png"), full_page=True)
