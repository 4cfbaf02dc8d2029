"""The console in English and French: the French catalogue is complete and compiled, the
switcher and Accept-Language choose the language, and pages (login, admin, review) render in
it, with the Flask test client and in Debian's Chromium."""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect
from werkzeug.serving import make_server

import central
from central.db import create_db_engine, make_sessionmaker
from central.domain_models import Exam, ExamSession
from central.services.delivery import Delivery
from central.services.planning import SESSION_STATES
from central.web import create_app, labels
from central.web.admin.deliveries import delivery_sentence
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


# -- the live console, results, reports and the PDF in French --------------------------------


def _words(page: str) -> dict[str, Any]:
    match = re.search(
        r'<script type="application/json" id="console-words">(.*?)</script>', page, re.S
    )
    assert match, "the console page carries its words"
    words: dict[str, Any] = json.loads(match.group(1))
    return words


def test_the_hall_console_in_french_carries_french_words_for_its_script(
    day_app: tuple[Flask, Day],
) -> None:
    client = day_app[0].test_client()
    _choose(client, "fr")
    _login(client, "ivy")
    page = _page(client, "/halls/hall-a/console")
    assert _lang(page) == "fr"
    assert "Console en direct" in page
    assert '<h2 id="alerts-title">Alertes</h2>' in page
    assert "<h3>Commandes</h3>" in page
    assert ">Envoyer l'avertissement</button>" in page
    assert 'data-command="end_exam" class="danger">Terminer l\'examen</button>' in page
    assert ">connexion…</span>" in page
    words = _words(page)
    texts = words["texts"]
    assert texts["you are on the way"] == "vous êtes en route"
    assert texts["{who} is on the way"] == "{who} est en route"
    assert texts["seen by {who}"] == "vu par {who}"
    assert texts["Acknowledge"] == "Acquitter"
    assert texts["Send instead"] == "Envoyer plutôt"
    assert texts["Warning “{text}”"] == "Avertissement « {text} »"
    assert texts["End the exam at this seat?"] == "Terminer l'examen à cette place ?"
    # Violation types: the same words as the other pages (central/web/labels.py).
    assert words["violation_types"]["phone_in_view"] == "téléphone visible"
    assert words["violation_types"]["looking_away"] == "regard détourné"
    assert words["connections"]["offline"] == "hors ligne"
    assert words["command_states"]["done"] == "exécutée"
    # Counts per plural category: French says "1 avertissement" and "0 avertissement".
    warnings = words["counts"]["{count} warning(s)"]
    assert warnings == {
        "one": "{count} avertissement",
        "many": "{count} avertissements",
        "other": "{count} avertissements",
    }


def test_the_hall_console_stays_english_by_default(day_app: tuple[Flask, Day]) -> None:
    client = day_app[0].test_client()
    _login(client, "ivy")
    page = _page(client, "/halls/hall-a/console")
    assert _lang(page) == "en"
    assert '<h2 id="alerts-title">Alerts</h2>' in page
    words = _words(page)
    assert words["texts"]["you are on the way"] == "you are on the way"
    assert words["violation_types"]["phone_in_view"] == "phone in view"
    assert words["counts"]["{count} warning(s)"]["one"] == "{count} warning"


def test_result_page_report_and_exports_column_in_french(day_app: tuple[Flask, Day]) -> None:
    client = day_app[0].test_client()
    _choose(client, "fr")
    _login(client, "rita")
    review = _page(client, "/review/")
    assert "<th>Exports</th>" in review
    assert "Résultats (CSV)" in review
    assert "Infractions (JSON)" in review

    result = _page(client, "/results/sessions/sess-1")
    assert "Résultat : " in result
    assert "Rapport imprimable" in result
    assert "2 signalements en attente d'examen." in result
    assert "Score de confiance : 87 (réussite à partir de 70)" in result
    assert "<th>Coût</th>" in result
    assert "téléphone visible" in result
    assert "en attente" in result  # a flag not yet reviewed
    assert "information" in result  # the raised hand
    assert "Intégrité des preuves invérifiable" in result
    # The reason in French words, from the live result (two flags still pending).
    provisional = "Non publié. Provisoire : Réussite : confiance 87 ≥ 70, note 75 % ≥ 40 %"
    assert _verdict(result) == provisional
    assert "4 réponses, +4 points" in result
    assert "1 réponse, \N{MINUS SIGN}0.25 points (notation négative)" in result
    assert "<td>correcte</td>" in result
    assert "Plancher" not in result
    assert "Par question" in result

    report = _page(client, "/results/sessions/sess-1/report")
    assert _lang(report) == "fr"
    assert "<h1>Rapport du candidat</h1>" in report
    assert "Provisoire : pas encore publié." in report
    assert _verdict(report) == "En l'état : Réussite : confiance 87 ≥ 70, note 75 % ≥ 40 %"
    assert "Chronologie des infractions" in report
    assert "Journal des infractions" in report
    assert "Correctes : 4 réponses, +4 points" in report
    # The chart: legend, lanes and its description in French.
    assert ">En attente d&#x27;examen</text>" in report  # escaped in the SVG
    assert ">Information (pas un signalement)</text>" in report
    assert ">téléphone visible</text>" in report
    assert "3 infractions de 3 types sur 60:00 de temps d&#x27;examen : 2 en attente" in report
    assert "Timeline of violations" not in report


def _pdf_text(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    document = pdfium.PdfDocument(response.data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def _verdict(page: str) -> str:
    match = re.search(r'id="verdict">(.*?)</p>', page, re.S)
    assert match, "the page states its verdict"
    return html.unescape(match.group(1))


def test_the_pdf_report_follows_the_language(day_app: tuple[Flask, Day]) -> None:
    client = day_app[0].test_client()
    _choose(client, "fr")
    _login(client, "rita")

    def pdf_text(path: str) -> str:
        return _pdf_text(client, path)

    text = pdf_text("/results/sessions/sess-1/report.pdf")
    for words in (
        "Rapport du candidat",
        "Provisoire : pas encore publié",
        "Score de confiance : 87 (réussite à partir de 70)",
        "Note au questionnaire : 3.75 sur 5 (75 %, réussite à partir de 40 %)",
        "En l'état : Réussite : confiance 87 ≥ 70, note 75 % ≥ 40 %",
        "Chronologie des infractions",
        "Journal des infractions",
        "En attente d'examen",  # the chart's legend
        "Écartée",
        "téléphone visible",
        "Intégrité des preuves",
        "rapport généré le",
        "page 1/1",
    ):
        assert words in text, words
    assert "Candidate report" not in text
    assert "Timeline" not in text

    _choose(client, "en", back="/review/")
    english = pdf_text("/results/sessions/sess-1/report.pdf")
    assert "Candidate report" in english
    assert "Pending review" in english
    assert "As it stands: Pass: trust 87 ≥ 70, score 75 % ≥ 40 %" in english
    assert "Rapport du candidat" not in english


def test_released_reasons_in_french_say_what_was_released(
    day_app: tuple[Flask, Day], migrated_sqlite_url: str
) -> None:
    """The stored reason is English; pages show the same decision and figures in French, and
    the stored text itself once the live result no longer gives it (a policy edited later)."""
    app, day = day_app
    client = app.test_client()
    _choose(client, "fr")
    _login(client, "rita")
    token = _csrf(client, QUEUE)
    for flag in (day.phone, day.looking_away):  # the last decision releases the result
        data = {"decision": "confirmed", "note": "", "csrf_token": token}
        assert client.post(f"/review/violations/{flag}", data=data).status_code == 303
    engine = create_db_engine(migrated_sqlite_url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        sitting = session.get(ExamSession, "sess-1")
        assert sitting is not None
        assert sitting.released_at is not None
        assert sitting.result_reason == "Pass: trust 73.9 ≥ 70, score 75 % ≥ 40 %"

    french = "Réussite : confiance 73,9 ≥ 70, note 75 % ≥ 40 %"
    assert _verdict(_page(client, "/results/sessions/sess-1")) == french
    assert _verdict(_page(client, "/results/sessions/sess-1/report")) == french
    assert french in _pdf_text(client, "/results/sessions/sess-1/report.pdf")
    unreleased = _verdict(_page(client, "/results/sessions/sess-2"))
    assert unreleased == "Non publié. Provisoire : Échec : note 20 % < 40 %"

    # The exam's pass mark raised after the release: the live result would now fail, but the
    # pages keep the released pass, in its stored words.
    with sessions.begin() as session:
        exam = session.get(Exam, "exam-1")
        assert exam is not None
        exam.proctoring = {**exam.proctoring, "pass_threshold": 80.0}
    engine.dispose()
    stored = "Pass: trust 73.9 ≥ 70, score 75 % ≥ 40 %"
    assert _verdict(_page(client, "/results/sessions/sess-1")) == stored
    assert _verdict(_page(client, "/results/sessions/sess-1/report")) == stored
    assert stored in _pdf_text(client, "/results/sessions/sess-1/report.pdf")


def test_delivery_sentences_follow_the_language(day_app: tuple[Flask, Day]) -> None:
    waiting = Delivery("A-01", "sess-1", "no_kiosk", "")
    later = Delivery("A-01", "sess-0", "sent", "")
    refused = Delivery("A-01", "sess-1", "invalid", "the exam is too large")
    with day_app[0].test_request_context(headers={"Accept-Language": "fr"}):
        assert delivery_sentence(waiting) == (
            "Pas encore envoyé : aucune borne n'est attachée à la place."
        )
        assert delivery_sentence(later, "sess-1").startswith(
            "La prochaine session de la place est sess-0"
        )
        assert delivery_sentence(refused) == "Non envoyé : the exam is too large."
    with day_app[0].test_request_context():
        assert delivery_sentence(waiting) == "Not sent yet: no kiosk is bound to the seat."
    # Outside a request (scripts, the services' own tests): English.
    assert delivery_sentence(refused) == "Not sent: the exam is too large."


def test_the_hall_console_in_french_in_a_browser(served_day: str, tmp_path: Path) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="fr-FR")
        page.goto(f"{served_day}/halls/hall-a/console")
        page.get_by_label("Nom d'utilisateur").fill("ivy")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.locator("#live-state")).to_have_text("en direct")
        tile = page.locator(".tile").first
        expect(tile).to_have_attribute("aria-label", "Place A-01, en ligne, 3 alertes ouvertes")
        expect(tile).to_contain_text("pas encore de progression")
        expect(tile.locator(".alert-chip").first).to_have_text(re.compile("^Téléphone visible"))
        feed = page.locator("#alert-feed li")
        phone = feed.filter(has_text="Téléphone visible")
        expect(phone).to_contain_text("(élevée, terminé)")
        expect(phone.get_by_role("button", name="Acquitter")).to_be_visible()
        expect(phone.get_by_role("button", name="Envoyer", exact=True)).to_be_visible()
        expect(phone.get_by_role("button", name="Sur place")).to_be_visible()
        expect(phone.get_by_label("Surveillant à envoyer à la place")).to_be_visible()

        phone.get_by_role("button", name="Envoyer", exact=True).click()
        expect(phone).to_contain_text("vous êtes en route")
        expect(phone.get_by_role("button", name="Envoyer plutôt")).to_be_visible()

        tile.click()
        expect(page.locator("#detail-title")).to_have_text("Place A-01")
        expect(page.get_by_role("heading", name="Commandes")).to_be_visible()
        expect(page.locator("#detail-events li").first).to_contain_text("terminé")
        page.get_by_role("button", name="Envoyer l'avertissement").click()
        command = page.locator("#command-list li").first
        expect(command).to_contain_text("Avertissement « Merci de garder les yeux")
        expect(command).to_contain_text("en file d'attente")
        expect(command).to_contain_text(" par ivy")
        page.screenshot(path=str(tmp_path / "console-fr.png"), full_page=True)
