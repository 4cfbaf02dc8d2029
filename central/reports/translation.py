"""gettext for the report's words (PDF, timeline chart), in the current request's language.

These delegate to the web layer's typed wrappers (central.web.translation, Flask-Babel),
imported at call time: central.web imports this package for its report pages, so a top-level
import would be circular. Outside a request Flask-Babel gives the English text, so scripts and
tests that build a report without a request get English. The names match pybabel's keywords:
central/babel.cfg extracts reports/**.py into the console's catalogue.
"""

from __future__ import annotations

from central.services.integrity import IntegrityReport
from central.services.results import SessionResult


def _(string: str, **variables: object) -> str:
    from central.web import translation  # noqa: PLC0415 - circular at the top

    return translation._(string, **variables)


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    from central.web import translation  # noqa: PLC0415 - circular at the top

    return translation.ngettext(singular, plural, num, **variables)


def pgettext(context: str, string: str, **variables: object) -> str:
    from central.web import translation  # noqa: PLC0415 - circular at the top

    return translation.pgettext(context, string, **variables)


def violation_type(code: str) -> str:
    """The violation type's words (central.web.labels), the code with spaces if it has none."""
    from central.web import labels  # noqa: PLC0415 - circular at the top

    word = labels.violation_type(code)
    return code.replace("_", " ") if word == code else word


def decision(code: str) -> str:
    """A violation's review decision in words (confirmed, pending, dismissed, information)."""
    from central.web import labels  # noqa: PLC0415 - circular at the top

    return labels.decision(code)


def result_reason(current: SessionResult) -> str:
    """The session's pass/fail reason in the request's language (central.web.result_words):
    the released decision and figures, in English outside a request."""
    from central.web import result_words  # noqa: PLC0415 - circular at the top

    return result_words.shown_reason(current)


def integrity_summary(report: IntegrityReport) -> str:
    """IntegrityReport.summary() in the request's language (the service's text is English)."""
    if not report.key_registered:
        return _(
            "Evidence integrity not verifiable: no signing key registered for %(device)s",
            device=report.device_id,
        )
    if report.verified:
        return ngettext(
            "Evidence integrity verified: %(num)d signed message, chain unbroken",
            "Evidence integrity verified: %(num)d signed messages, chain unbroken",
            report.messages,
        )
    if report.messages == 0:
        return _("Evidence integrity: no messages from this kiosk")
    # Each finding's detail is the service's own text (English).
    problems = "; ".join(
        _("message %(seq)s: %(detail)s", seq=f.seq, detail=f.detail) for f in report.findings[:5]
    )
    if len(report.findings) > 5:
        more = len(report.findings) - 5
        problems += " " + ngettext("(and %(num)d more)", "(and %(num)d more)", more)
    return _("Evidence integrity NOT verified: %(problems)s", problems=problems)
