"""The candidate report PDF, fetched through the web route and rendered with pdfium: one page,
the right words, and a chart that is really drawn (pixels, not just text)."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest
from flask import Flask
from PIL import Image

from central.db import create_db_engine, make_sessionmaker
from central.domain_models import Candidate
from central.reports import pdf as report_pdf_module
from central.reports.data import candidate_report
from central.reports.pdf import report_pdf
from central.services.review import decide
from central.services.users import UserInfo
from tests.central.exam_day import SHA_A, Day
from tests.central.test_review_web import login

SCALE = 2.0  # 144 dpi
NON_LATIN_NAME = "Zoë Ødegård 名前"


def _rename(app: Flask, name: str) -> None:
    engine = create_db_engine(app.config["DATABASE_URL"])
    with make_sessionmaker(engine).begin() as session:
        candidate = session.get(Candidate, "cand-1")
        assert candidate is not None
        candidate.display_name = name
    engine.dispose()


def _top_px(page: pdfium.PdfPage, text: str) -> float:
    """The pixel row of the top of `text` on the rendered page."""
    textpage = page.get_textpage()
    found = textpage.search(text).get_next()
    assert found is not None, text
    _, _, _, top = textpage.get_charbox(found[0])
    return float(page.get_height() - top) * SCALE


def _share_below(image: Image.Image, level: int) -> float:
    """The share of pixels darker than `level` (0 black .. 255 white)."""
    histogram = image.convert("L").histogram()
    return sum(histogram[:level]) / (image.width * image.height)


def _saturated(image: Image.Image) -> int:
    """Pixels of a strong colour: bars and legend swatches (text, grid and lanes are grey)."""
    saturation = image.convert("HSV").histogram()[256:512]
    return sum(saturation[100:])


def test_pdf_renders_with_the_result_and_a_drawn_chart(
    day_app: tuple[Flask, Day], tmp_path: Path
) -> None:
    app, _ = day_app
    _rename(app, NON_LATIN_NAME)
    response = login(app, "rita").get("/results/sessions/sess-1/report.pdf")
    assert response.status_code == 200
    document = pdfium.PdfDocument(response.data)
    try:
        assert len(document) == 1
        page = document[0]
        text = page.get_textpage().get_text_range()
        assert "Candidate report" in text
        assert "Zoë Ødegård ?? (1001)" in text  # no CJK glyphs in DejaVu: replaced, no crash
        assert "Provisional: not yet released" in text
        assert "Pass: trust 87 ≥ 70, score 75 % ≥ 40 %" in text
        assert "Quiz score: 3.75 of 5 (75 %, pass at 40 %)" in text
        assert f"/api/v1/evidence/{SHA_A}" in "".join(text.split())  # wrapped in its cell
        assert "kiosk-1: Evidence integrity not verifiable" in text
        chart_top, chart_bottom = _top_px(page, "Timeline of"), _top_px(page, "Violation log")
        image = page.render(scale=SCALE).to_pil()
        page.close()
    finally:
        document.close()
    image.save(tmp_path / "report-page-1.png")
    chart = image.crop((0, int(chart_top) + 30, image.width, int(chart_bottom) - 10))
    chart.save(tmp_path / "report-chart.png")
    assert chart.height > 150  # about 33 mm at 144 dpi
    assert _share_below(chart, 250) > 0.15  # lane bands, grid, labels, bars
    assert _share_below(chart, 200) > 0.02  # text and outlines
    lanes = chart.crop((0, 0, chart.width, chart.height * 55 // 100))  # above the axis
    assert _saturated(lanes) > 250  # the three bars are really painted, not just the legend
    assert _saturated(chart) > 1000


def test_released_report_and_no_dejavu_fallback(
    day_app: tuple[Flask, Day], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app, day = day_app
    engine = create_db_engine(app.config["DATABASE_URL"])
    rita = UserInfo(id=day.user_ids["rita"], username="rita", role="reviewer")
    with make_sessionmaker(engine).begin() as session:
        candidate = session.get(Candidate, "cand-1")
        assert candidate is not None
        candidate.display_name = NON_LATIN_NAME
        decide(session, rita, day.phone, "confirmed", "phone on the desk")
        decide(session, rita, day.looking_away, "dismissed", "reading the clock")
        monkeypatch.setattr(report_pdf_module, "DEJAVU_DIR", tmp_path / "no-fonts")
        body = report_pdf(candidate_report(session, "sess-1"))
    engine.dispose()
    document = pdfium.PdfDocument(body)
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert "Zoë Ødegård ?? (1001)" in text  # Helvetica: Latin-1 kept, the rest replaced
    assert "Pass: trust 84.2 >= 70, score 75 % >= 40 %" in text
    assert "Provisional" not in text
    assert "Released 20" in text
    assert "confirmed (-15.8)" in text
    assert "phone on the desk (rita)" in text
