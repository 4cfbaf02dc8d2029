"""Administration in Debian's Chromium: an admin creates a centre and a hall with a gap, fills
its seat map, binds a kiosk, imports a question bank (first a wrong one, shown per row), and
imports candidates while the progress bar polls (the page's script runs under the CSP)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from central.db import create_db_engine, make_sessionmaker
from central.domain_models import ImportJob
from central.models import User
from tests.central.admin.conftest import PASSWORD, fake_encoder, zip_of
from tests.support.browser import chromium
from tests.support.services import free_port

GOOD_BANK = (
    "id,kind,prompt,options,answer,marks,decimals\n"
    "q1,single,Which gas do plants take in?,Oxygen|Carbon dioxide|Helium,b,2,\n"
    "q2,multiple,Which are prime?,2|4|7|9,a|c,1,\n"
    "q3,numeric,Pi to two decimals?,,3.14,1,2\n"
)
BAD_BANK = GOOD_BANK + "q4,single,Only one option,Yes,a,1,\nq5,essay,What kind?,,x,1,\n"


RELEASE = threading.Event()


def gated_encoder(photo: bytes) -> list[float]:
    """Like the fake encoder, but a photo starting with b"wait" holds the import until the
    test releases it, so the page shows an import half done."""
    if photo.startswith(b"wait"):
        assert RELEASE.wait(20)
    return fake_encoder(photo)


@pytest.fixture
def served(admin_app: Flask) -> Iterator[str]:
    RELEASE.clear()
    admin_app.config["CANDIDATE_ENCODER"] = gated_encoder
    port = free_port()
    server = make_server("127.0.0.1", port, admin_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
    RELEASE.set()
    thread.join(5)


def test_create_a_hall_and_import_a_question_bank(served: str, tmp_path: Path) -> None:
    files = {"good.csv": GOOD_BANK, "bad.csv": BAD_BANK,
             "roster.csv": "candidate_number,name,language,photo\n"
                           "1,Ann,en,a.jpg\n2,Bob,fr,b.jpg\n3,Cy,en,c.jpg\n"}  # fmt: skip
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "photos.zip").write_bytes(
        zip_of({"a.jpg": b"face", "b.jpg": b"noface", "c.jpg": b"wait"})
    )
    errors: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        # Script errors and CSP refusals; not the favicon's 404 or the 422 of a refused bank.
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.goto(f"{served}/admin/")
        page.get_by_label("Username").fill("ada")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Administration")).to_be_visible()

        page.get_by_label("Centre id").fill("north")
        page.get_by_label("Name").fill("North campus")
        page.get_by_role("button", name="Add centre").click()
        expect(page.get_by_role("status")).to_have_text("Centre north created.")

        page.get_by_label("Hall id").fill("hall-a")
        page.get_by_label("Name", exact=True).nth(1).fill("Hall A")
        page.get_by_label("Rows").fill("3")
        page.get_by_label("Columns").fill("4")
        page.get_by_label("Gaps").fill("1,3; 2,3; 3,3")
        page.get_by_role("button", name="Add hall").click()
        expect(page.get_by_role("heading", name="Hall: Hall A")).to_be_visible()
        page.get_by_role("button", name="Add a seat on every free cell").click()
        expect(page.get_by_role("status")).to_have_text("9 seat(s) added.")
        seat_map = page.locator("#seat-map")
        expect(seat_map.locator("td.gap")).to_have_count(3)
        expect(seat_map.locator("td.seat")).to_have_count(9)
        page.get_by_label("Kiosk of B2").fill("kiosk-12")
        page.get_by_label("Kiosk of B2").locator("xpath=..").get_by_role("button").click()
        expect(page.get_by_role("status")).to_have_text("Seat B2: kiosk kiosk-12.")
        bound = seat_map.locator("td.seat.bound")
        expect(bound).to_have_attribute("data-seat", "hall-a-B2")
        expect(bound).to_contain_text("kiosk-12")
        page.screenshot(path=str(tmp_path / "hall.png"), full_page=True)

        page.get_by_role("link", name="Exams").click()
        page.get_by_label("Exam id").fill("chem-1")
        page.get_by_label("Title").fill("Chemistry")
        page.get_by_label("Question bank (CSV or JSON)").set_input_files(str(tmp_path / "bad.csv"))
        page.get_by_role("button", name="Import").click()
        problems = page.locator("#import-problems tbody tr")
        expect(problems).to_have_count(2)
        expect(problems.nth(0).locator("td")).to_have_text(
            ["5", "options", "a single question needs at least two options"]
        )
        expect(problems.nth(1).locator("td")).to_have_text(
            ["6", "kind", "must be single, multiple, numeric or text"]
        )
        page.screenshot(path=str(tmp_path / "bank-errors.png"), full_page=True)

        expect(page.get_by_label("Exam id")).to_have_value("chem-1")  # kept for the retry
        page.get_by_label("Question bank (CSV or JSON)").set_input_files(str(tmp_path / "good.csv"))
        page.get_by_role("button", name="Import").click()
        expect(page.get_by_role("status")).to_have_text("Exam chem-1 created with 3 question(s).")
        page.get_by_role("link", name="chem-1").click()
        expect(page.locator("#questions tbody tr")).to_have_count(3)
        expect(page.locator("#questions")).to_contain_text("b) Carbon dioxide")
        page.screenshot(path=str(tmp_path / "exam.png"), full_page=True)

        page.get_by_role("link", name="Candidates").click()
        page.get_by_label("Roster (CSV)").set_input_files(str(tmp_path / "roster.csv"))
        page.get_by_label("Photos (zip)").set_input_files(str(tmp_path / "photos.zip"))
        page.get_by_role("button", name="Import candidates").click()
        state, bar = page.locator("#import-state"), page.locator("#import-progress")
        expect(state).to_have_text("running: 2 of 3 checked, 1 imported")
        expect(bar).to_have_attribute("max", "3")
        expect(page.locator("#import-problems")).to_have_text(
            "row 3 (2): no face found in the enrolment photo"
        )
        page.screenshot(path=str(tmp_path / "import-running.png"), full_page=True)
        RELEASE.set()
        expect(state).to_have_text("finished: 3 of 3 checked, 2 imported")
        expect(bar).to_have_js_property("value", 3)
        page.screenshot(path=str(tmp_path / "import.png"), full_page=True)
    assert errors == []
    print(f"screenshots in {tmp_path}")


def test_an_import_that_stops_being_updated_says_to_run_it_again(
    served: str, admin_app: Flask, tmp_path: Path
) -> None:
    """The page follows a running job; when its row goes quiet (the worker running it died),
    the next poll says interrupted and what to do."""
    engine = create_db_engine(admin_app.config["DATABASE_URL"])
    sessions = make_sessionmaker(engine)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        ada = session.scalar(select(User).where(User.username == "ada"))
        assert ada is not None
        session.add(
            ImportJob(job_id="j1", owner_id=ada.id, kind="candidates", state="running",
                      total=4, done=1, imported=["1"], problems=[], error=None,
                      started_at=now, updated_at=now, finished_at=None)
        )  # fmt: skip
    errors: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{served}/admin/")
        page.get_by_label("Username").fill("ada")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{served}/admin/candidates/imports/j1")
        state, error = page.locator("#import-state"), page.locator("#import-error")
        expect(state).to_have_text("running: 1 of 4 checked, 1 imported")
        expect(error).to_be_hidden()
        with sessions.begin() as session:
            job = session.get(ImportJob, "j1")
            assert job is not None
            job.updated_at = now - timedelta(minutes=2)
        expect(state).to_have_text("interrupted: 1 of 4 checked, 1 imported")
        expect(error).to_be_visible()
        expect(error).to_contain_text("run the same import again")
        page.screenshot(path=str(tmp_path / "import-interrupted.png"), full_page=True)
    engine.dispose()
    assert errors == []
