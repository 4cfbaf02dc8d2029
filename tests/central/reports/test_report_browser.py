"""The printable report in Debian's Chromium: the server-drawn chart is visible with its bars,
from a link on the result page, and prints to one A4 page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest
from flask import Flask
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.central.exam_day import PASSWORD, Day
from tests.support.browser import chromium
from tests.support.services import free_port


@pytest.fixture
def served(day_app: tuple[Flask, Day]) -> Iterator[str]:
    app, _ = day_app
    app.config["TESTING"] = False
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_report_chart_is_visible(served: str, tmp_path: Path) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(f"{served}/results/sessions/sess-1")
        page.get_by_label("Username").fill("rita")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="Printable report").click()
        expect(page.get_by_role("heading", name="Candidate report")).to_be_visible()

        chart = page.get_by_role("img", name="Timeline of violations, 1001")
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] > 600
        assert box["height"] > 100
        bars = chart.locator("rect[data-decision]")
        expect(bars).to_have_count(3)
        for n in range(3):
            bar = bars.nth(n).bounding_box()
            assert bar is not None
            assert bar["width"] >= 2
            assert bar["height"] >= 5
        expect(page.locator("#violation-log tbody tr")).to_have_count(3)
        chart.screenshot(path=str(tmp_path / "report-chart.png"))
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)

        page.emulate_media(media="print")
        expect(page.get_by_role("navigation", name="Report actions")).to_be_hidden()
        printed = page.pdf(format="A4")  # Chromium's own print of the page
    (tmp_path / "report-print.pdf").write_bytes(printed)
    document = pdfium.PdfDocument(printed)
    try:
        assert len(document) <= 2
        document[0].render(scale=1.5).to_pil().save(tmp_path / "report-print.png")
    finally:
        document.close()
