"""Report and export routes with the Flask test client: roles, 404s, content types, file names,
audit entries, and the links that lead to them."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from central.db import create_db_engine, make_sessionmaker
from central.services.audit import entries_for
from central.web.reports import safe_filename
from tests.central.exam_day import SHA_A, Day
from tests.central.test_review_web import login

REPORT = "/results/sessions/sess-1/report"
PDF = "/results/sessions/sess-1/report.pdf"
CSV = "/results/exams/exam-1/results.csv"
JSON = "/results/exams/exam-1/violations.json"
ALL = [REPORT, PDF, CSV, JSON]


def _audit(app: Flask, target: tuple[str, str]) -> list[tuple[str, str]]:
    engine = create_db_engine(app.config["DATABASE_URL"])
    with make_sessionmaker(engine)() as session:
        entries = entries_for(session, *target)
    engine.dispose()
    return [(e.action, e.username) for e in entries if e.action.startswith(("report.", "export."))]


@pytest.mark.parametrize("user", ["ada", "rita"])
def test_admins_and_reviewers_get_every_report_and_export(
    day_app: tuple[Flask, Day], user: str
) -> None:
    app, _ = day_app
    client = login(app, user)
    for path in ALL:
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("path", ALL)
def test_invigilators_and_anonymous_are_refused(day_app: tuple[Flask, Day], path: str) -> None:
    """Same roles as the result page: an invigilator is refused even for their own hall."""
    app, _ = day_app
    assert login(app, "ivy").get(path).status_code == 403
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/results/sessions/nope/report",
        "/results/sessions/nope/report.pdf",
        "/results/exams/nope/results.csv",
        "/results/exams/nope/violations.json",
    ],
)
def test_unknown_ids_are_404(day_app: tuple[Flask, Day], path: str) -> None:
    app, _ = day_app
    assert login(app, "rita").get(path).status_code == 404


def test_html_report_has_the_chart_log_and_links(day_app: tuple[Flask, Day]) -> None:
    app, _ = day_app
    response = login(app, "rita").get(REPORT)
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img"' in page
    assert page.count('data-decision="') == 3
    assert "Provisional: not yet released." in page
    assert "As it stands: Pass: trust 87 ≥ 70, score 75 % ≥ 40 %" in page
    assert f'<a href="/api/v1/evidence/{SHA_A}">/api/v1/evidence/{SHA_A}</a>' in page
    assert 'href="/results/sessions/sess-1/report.pdf"' in page
    assert "/static/report.css" in page
    assert "<style" not in page
    assert "<script" not in page
    assert _audit(app, ("session", "sess-1")) == [("report.html", "rita")]
    assert "<td>phone in view</td>" in page
    assert "<td>raised hand</td>" in page


def test_downloads_are_attachments_with_safe_names_and_audited(
    day_app: tuple[Flask, Day],
) -> None:
    app, _ = day_app
    client = login(app, "ada")
    pdf = client.get(PDF)
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
    assert pdf.headers["Content-Disposition"] == (
        'attachment; filename="report-exam-1-1001-sess-1.pdf"'
    )
    csv = client.get(CSV)
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert csv.data.startswith(b"\xef\xbb\xbfcandidate_number,name,seat,")
    assert csv.headers["Content-Disposition"].startswith('attachment; filename="results-exam-1-')
    export = client.get(JSON)
    assert export.mimetype == "application/json"
    assert len(json.loads(export.data)["violations"]) == 4
    assert _audit(app, ("session", "sess-1")) == [("report.pdf", "ada")]
    assert _audit(app, ("exam", "exam-1")) == [
        ("export.results", "ada"),
        ("export.violations", "ada"),
    ]


def test_result_page_and_review_index_link_to_reports(day_app: tuple[Flask, Day]) -> None:
    app, _ = day_app
    client = login(app, "rita")
    result = client.get("/results/sessions/sess-1").get_data(as_text=True)
    assert f'href="{REPORT}"' in result
    assert f'href="{PDF}"' in result
    index = client.get("/review/").get_data(as_text=True)
    assert f'href="{CSV}"' in index
    assert f'href="{JSON}"' in index


def test_safe_filename() -> None:
    assert safe_filename("report", "exam/1", '"; x=../..', suffix=".pdf") == "report-exam_1-x.pdf"
    assert safe_filename("名前", suffix=".pdf") == "report.pdf"
