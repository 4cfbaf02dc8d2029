"""The console in English and French: the French catalogue is complete and compiled, the
switcher and Accept-Language choose the language, and pages (login, admin, review) render in
it, with the Flask test client and in Debian's Chromium."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect
from werkzeug.serving import make_server

import central
from central.db import create_db_engine, make_sessionmaker
from central.services.planning import SESSION_STATES
from central.web import create_app, labels
from central.web.i18n import LANGUAGES, TRANSLATIONS
from protocol.exam import QuestionKind
from protocol.models import EventState, Severity, ViolationType
from tests.central import exam_day
from tests.central.exam_day import PASSWORD, Day
from tests.support.browser import chromium
from tests.support.catalogues import (
    Marked,
    compiled_matches_source,
    marked_messages,
    method_map,
    read_catalogue,
    translation_problems,
)
from tests.support.services import free_port

PACKAGE = Path(central.__file__).parent
QUEUE = "/review/exams/exam-1"


def catalogue(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def marked() -> set[Marked]:
    """What pybabel extracts, read with the same mapping (central/babel.cfg)."""
    return marked_messages(PACKAGE, method_map(PACKAGE / "babel.cfg"))


# -- the catalogue ----------------------------------------------------------------------------


def test_every_message_is_translated() -> None:
    messages = marked()
    assert len(messages) > 250
    assert any(m.plural for m in messages)
    assert any(m.context for m in messages)
    for language in set(LANGUAGES) - {"en"}:
        problems = translation_problems(read_catalogue(catalogue(language), language), messages)
        assert not problems, f"{language}:\n" + "\n".join(problems)


def test_the_template_holds_every_marked_message() -> None:
    template = read_catalogue(TRANSLATIONS / "messages.pot", "en")
    missing = [m for m in marked() if template.get(m.msgid, context=m.context) is None]
    assert not missing, "re-extract: see docs/translations.md"


def test_compiled_catalogues_match_their_sources() -> None:
    for language in set(LANGUAGES) - {"en"}:
        assert compiled_matches_source(catalogue(language)), (
            f"{language}: run pybabel compile -d central/translations"
        )


def test_every_code_a_page_shows_has_words(day_app: tuple[Flask, Day]) -> None:
    """A code added to the protocol without a word here would show raw on French pages."""
    tables = {
        labels.violation_type: [t.value for t in ViolationType],
        labels.severity: [s.value for s in Severity],
        labels.event_state: [s.value for s in EventState],
        labels.session_state: list(SESSION_STATES),
        labels.question_kind: [k.value for k in QuestionKind],
    }
    with day_app[0].test_request_context(headers={"Accept-Language": "fr"}):
        for word, codes in tables.items():
            for code in codes:
                assert word(code) != code or code == "info", f"no French word for {code!r}"
        assert labels.violation_type("new_code") == "new_code"  # unknown: shown as is


# -- choosing the language, with the test client ---------------------------------------------


@pytest.fixture
def day_app(migrated_sqlite_url: str, tmp_path: Path) -> tuple[Flask, Day]:
    engine = create_db_engine(migrated_sqlite_url)
    with make_sessionmaker(engine).begin() as session:
        day = exam_day.build(session, tmp_path / "evidence")
    engine.dispose()
    app = create_app(
        {
            "DATABASE_URL": migrated_sqlite_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
        }
    )
    return app, day


def _page(client: FlaskClient, path: str, **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _csrf(client: FlaskClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', _page(client, path))
    assert match
    return match.group(1)


def _choose(client: FlaskClient, language: str, back: str = "/login") -> None:
    data = {"language": language, "next": back, "csrf_token": _csrf(client)}
    response = client.post("/language", data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == back


def _login(client: FlaskClient, user: str) -> None:
    data = {"username": user, "password": PASSWORD, "csrf_token": _csrf(client)}
    assert client.post("/login", data=data).status_code == 302


def _lang(page: str) -> str:
    match = re.search(r'<html lang="([a-z]+)">', page)
    assert match
    return match.group(1)


def test_english_by_default_with_the_switcher_on_the_login_page(
    day_app: tuple[Flask, Day],
) -> None:
    page = _page(day_app[0].test_client(), "/login")
    assert _lang(page) == "en"
    assert "<h1>Log in</h1>" in page
    assert 'action="/language"' in page
    assert '<button type="submit" name="language" value="fr" lang="fr"' in page
    assert '<button type="submit" name="language" value="en" lang="en" aria-pressed="true">' in page


def test_the_switcher_sets_french_for_login_admin_and_review_pages(
    day_app: tuple[Flask, Day],
) -> None:
    client = day_app[0].test_client()
    _choose(client, "fr")
    login = _page(client, "/login")
    assert _lang(login) == "fr"
    assert "<h1>Se connecter</h1>" in login
    assert "Nom d'utilisateur" in login
    assert "Mot de passe" in login
    assert 'value="fr" lang="fr" aria-pressed="true"' in login

    _login(client, "ada")  # the choice outlives logging in
    admin = _page(client, "/admin/")
    assert "<h2>Centres</h2>" in admin
    assert "Ajouter la salle" in admin
    assert "Se déconnecter" in admin
    assert "administrateur" in admin
    hall = _page(client, "/admin/halls/hall-a")
    assert "Plan des places" in hall
    assert "2 rangées \N{MULTIPLICATION SIGN} 3 colonnes" in hall
    assert "Places et bornes" in hall
    assert "Seat map" not in hall
    exam = _page(client, "/admin/exams/exam-1")
    assert "Règles de surveillance" in exam
    assert "téléphone visible" in exam
    assert "Note de réussite (%)" in exam
    assert "Conservation des preuves" in exam
    sessions = _page(client, "/admin/sessions")
    assert "Planifier une session" in sessions
    assert "planifiée" in sessions

    review = _page(client, "/review/")
    assert "Signalements à examiner" in review
    assert "Flags to review" not in review
    queue = _page(client, QUEUE)
    assert "Signalements : Scoring test" in queue
    assert "téléphone visible · place A-01" in queue
    assert "regard détourné" in queue
    assert "Explication du candidat :" in queue
    assert "95 s (terminé)" in queue


def test_flash_messages_follow_the_language_with_french_plurals(
    day_app: tuple[Flask, Day],
) -> None:
    app, day = day_app
    client = app.test_client()
    _choose(client, "fr")
    _login(client, "ada")
    token = _csrf(client, QUEUE)
    data = {"decision": "confirmed", "note": "", "csrf_token": token}
    client.post(f"/review/violations/{day.phone}", data=data)
    assert "Téléphone visible à la place A-01 : confirmé." in _page(client, QUEUE)

    client.post("/admin/halls/hall-b/fill", data={"csrf_token": token})
    # Hall B is 2 x 3 with a gap at 1,2 and seat B-01 at 1,1: four cells are free.
    assert "4 places ajoutées." in _page(client, "/admin/halls/hall-b")
    client.post("/admin/centres", data={"centre_id": "", "name": "x", "csrf_token": token})
    assert "centre_id : valeur obligatoire" in _page(client, "/admin/")


def test_accept_language_picks_french_and_unknown_languages_fall_back_to_english(
    day_app: tuple[Flask, Day],
) -> None:
    client = day_app[0].test_client()
    assert _lang(_page(client, "/login", **{"Accept-Language": "fr"})) == "fr"
    assert _lang(_page(client, "/login", **{"Accept-Language": "fr-CA,fr;q=0.9"})) == "fr"
    assert _lang(_page(client, "/login", **{"Accept-Language": "de, fr;q=0.5"})) == "fr"
    page = _page(client, "/login", **{"Accept-Language": "de-DE,de;q=0.9"})
    assert _lang(page) == "en"
    assert "<h1>Log in</h1>" in page
    response = client.get("/login", headers={"Accept-Language": "fr"})
    assert "Accept-Language" in response.headers["Vary"]


def test_an_explicit_choice_beats_the_browser_and_unknown_choices_are_ignored(
    day_app: tuple[Flask, Day],
) -> None:
    client = day_app[0].test_client()
    _choose(client, "en")
    assert _lang(_page(client, "/login", **{"Accept-Language": "fr"})) == "en"
    _choose(client, "fr")
    _choose(client, "xx")  # not offered: the last real choice stays
    assert _lang(_page(client, "/login")) == "fr"


def test_the_switcher_needs_the_csrf_token_and_only_goes_back_to_local_pages(
    day_app: tuple[Flask, Day],
) -> None:
    client = day_app[0].test_client()
    refused = client.post("/language", data={"language": "fr", "next": "/login"})
    assert refused.status_code == 400
    assert _lang(_page(client, "/login")) == "en"
    data = {"language": "fr", "next": "https://evil.example/", "csrf_token": _csrf(client)}
    response = client.post("/language", data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


# -- in Debian's Chromium ---------------------------------------------------------------------


@pytest.fixture
def served_day(day_app: tuple[Flask, Day]) -> Iterator[str]:
    port = free_port()
    server = make_server("127.0.0.1", port, day_app[0], threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_switch_to_french_in_a_browser_by_keyboard(served_day: str, tmp_path: Path) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page.goto(f"{served_day}/review/")
        page.get_by_label("Username").fill("ada")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Review", exact=True)).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "en")

        # The switcher is a plain form: Tab reaches its button, Enter submits it.
        french = page.get_by_role("button", name="Français")
        for _ in range(40):
            page.keyboard.press("Tab")
            if french.evaluate("button => button === document.activeElement"):
                break
        expect(french).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page).to_have_url(f"{served_day}/review/")
        expect(page.get_by_role("heading", name="Signalements", exact=True)).to_be_visible()
        expect(page.get_by_role("columnheader", name="Signalements à examiner")).to_be_visible()
        expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
        page.screenshot(path=str(tmp_path / "review-fr.png"), full_page=True)

        page.get_by_role("link", name="Administration").click()
        page.get_by_role("link", name="hall-a").click()
        expect(page.get_by_role("heading", name="Plan des places")).to_be_visible()
        expect(page.locator("#seat-map")).to_contain_text("vide")
        expect(page.get_by_role("button", name="Supprimer la place A-01")).to_be_visible()
        page.screenshot(path=str(tmp_path / "seat-map-fr.png"), full_page=True)

        # Back to English with the mouse: the same page, in English.
        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("heading", name="Seat map")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "en")
