"""The console's languages: English (the default) and French, as on the kiosk screen.

The locale is the user's explicit choice (the switcher in base.html posts to /language and it
is kept in the signed session cookie), else the best match of the browser's Accept-Language,
else English. Catalogues live in central/translations (`.pot`, `.po` and the compiled `.mo`, all
committed); tests/central/test_console_i18n.py fails when a `.mo` is stale or a message is
untranslated. docs/translations.md has the commands to re-extract, update and compile.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, redirect, request, session
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response as BaseResponse

from central.web import labels
from central.web.auth import safe_next

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
DEFAULT_LANGUAGE = "en"
# Each language names itself, in its own words (what a lost user looks for).
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français"}
SESSION_KEY = "language"

bp = Blueprint("i18n", __name__)


def select_language() -> str:
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    # werkzeug matches "fr-CA" to "fr"; no match at all (e.g. only "de") gives the default.
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LANGUAGE)


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


@bp.post("/language")
def choose_language() -> BaseResponse:
    """The switcher's form (CSRF-checked by CSRFProtect): remember the choice, go back."""
    language = request.form.get("language", "")
    if language in LANGUAGES:  # anything else keeps the current language
        session[SESSION_KEY] = language
    return redirect(safe_next(request.form.get("next")), 303)


def _template_globals() -> dict[str, object]:
    return {
        "languages": LANGUAGES,
        "current_language": current_language(),
        "switcher_next": request.full_path.rstrip("?"),
    }


def _vary_on_language(response: Response) -> Response:
    # The same URL renders in either language: caches must not mix them.
    if response.mimetype == "text/html":
        response.vary.add("Accept-Language")
    return response


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(app, locale_selector=select_language)
    app.register_blueprint(bp)
    app.context_processor(_template_globals)
    app.jinja_env.filters.update(labels.FILTERS)
    app.after_request(_vary_on_language)
