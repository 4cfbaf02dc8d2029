"""Languages the candidate can choose, and their writing direction.

Catalogues live in kiosk_ui/translations (`.po` sources and the compiled `.mo` next to them, both
committed so a kiosk image needs no build step; tests/kiosk_ui/test_i18n.py fails when a `.mo`
is stale or a message is untranslated). To change texts:

    .venv/bin/pybabel extract -k _l -F kiosk_ui/babel.cfg -o /tmp/kiosk.pot kiosk_ui
    .venv/bin/pybabel update -i /tmp/kiosk.pot -d kiosk_ui/translations
    (translate) then .venv/bin/pybabel compile -d kiosk_ui/translations
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale

TRANSLATIONS = Path(__file__).with_name("translations")
# Each language names itself, in its own words.
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français"}


def text_direction(language: str) -> str:
    return "rtl" if Locale.parse(language).character_order == "right-to-left" else "ltr"
