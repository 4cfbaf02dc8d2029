"""Flask-Babel's gettext functions with types (the package ships none), for the web layer.

Names match pybabel's keywords (`_`, `ngettext`, `pgettext`, and `_l` via -k _l), so
extraction finds every call. Each translates in the current request's language.
"""

from __future__ import annotations

from flask_babel import gettext as _gettext
from flask_babel import lazy_gettext as _lazy_gettext
from flask_babel import ngettext as _ngettext
from flask_babel import pgettext as _pgettext


def _(string: str, **variables: object) -> str:
    return str(_gettext(string, **variables))


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    return str(_ngettext(singular, plural, num, **variables))


def pgettext(context: str, string: str, **variables: object) -> str:
    return str(_pgettext(context, string, **variables))


def _l(string: str, **variables: object) -> object:
    """Translated when shown, for texts fixed at import time (form field labels)."""
    return _lazy_gettext(string, **variables)


__all__ = ["_", "_l", "ngettext", "pgettext"]
