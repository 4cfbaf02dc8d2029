"""The French catalogue is complete and its compiled .mo is current; pages follow the
candidate's language and writing direction."""

from __future__ import annotations

from pathlib import Path

import kiosk_ui
from kiosk_ui.i18n import LANGUAGES, TRANSLATIONS, text_direction
from tests.support.catalogues import (
    compiled_matches_source,
    marked_messages,
    read_catalogue,
    translation_problems,
)

PACKAGE = Path(kiosk_ui.__file__).parent
METHOD_MAP = [("**.py", "python"), ("templates/**.html", "jinja2")]


def catalogue(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def test_every_message_is_translated() -> None:
    marked = marked_messages(PACKAGE, METHOD_MAP)
    assert len(marked) > 90
    for language in set(LANGUAGES) - {"en"}:
        problems = translation_problems(read_catalogue(catalogue(language), language), marked)
        assert not problems, f"{language}: " + "\n".join(problems)


def test_compiled_catalogues_match_their_sources() -> None:
    for language in set(LANGUAGES) - {"en"}:
        assert compiled_matches_source(catalogue(language)), (
            f"{language}: run pybabel compile -d kiosk_ui/translations"
        )


def test_writing_direction() -> None:
    assert text_direction("en") == "ltr"
    assert text_direction("fr") == "ltr"
    assert text_direction("ar") == "rtl"
    assert text_direction("he") == "rtl"
