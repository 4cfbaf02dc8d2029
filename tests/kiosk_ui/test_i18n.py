"""The French catalogue is complete and its compiled .mo is current; pages follow the
candidate's language and writing direction."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import kiosk_ui
from kiosk_ui.i18n import LANGUAGES, TRANSLATIONS, text_direction

PACKAGE = Path(kiosk_ui.__file__).parent
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+\}")


def extracted() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    return {
        str(message)
        for _, _, message, _, _ in extract_from_dir(PACKAGE, method_map, keywords=KEYWORDS)
    }


def catalogue(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def test_every_message_is_translated() -> None:
    ids = extracted()
    assert len(ids) > 90
    for language in set(LANGUAGES) - {"en"}:
        with catalogue(language).open("rb") as handle:
            po = read_po(handle, locale=language)
        for msgid in ids:
            message = po.get(msgid)
            assert message is not None, f"{language}: not in the catalogue: {msgid!r}"
            assert message.string, f"{language}: untranslated {msgid!r}"
            assert not message.fuzzy, f"{language}: fuzzy {msgid!r}"
            assert set(PLACEHOLDER.findall(str(message.string))) == set(
                PLACEHOLDER.findall(msgid)
            ), f"{language}: placeholders differ in {msgid!r}"


def test_compiled_catalogues_match_their_sources() -> None:
    for language in set(LANGUAGES) - {"en"}:
        with catalogue(language).open("rb") as handle:
            po = {m.id: m.string for m in read_po(handle) if m.id}
        with catalogue(language).with_suffix(".mo").open("rb") as handle:
            mo = {m.id: m.string for m in read_mo(handle) if m.id}
        assert mo == po, f"{language}: run pybabel compile -d kiosk_ui/translations"


def test_writing_direction() -> None:
    assert text_direction("en") == "ltr"
    assert text_direction("fr") == "ltr"
    assert text_direction("ar") == "rtl"
    assert text_direction("he") == "rtl"
