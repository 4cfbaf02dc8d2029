"""The result's reason in the page's language.

central/scoring/result.py assembles the reason from parts; its ENGLISH words give the text the
database stores and the exports carry. Here are the same parts in the current request's
language (gettext, violation types from central/web/labels.py, the locale's decimal mark), so a
page rebuilds the reason from the live ExamResult without a second copy of its logic.
"""

from __future__ import annotations

from babel.numbers import get_decimal_symbol
from flask import has_request_context
from flask_babel import get_locale

from central.scoring.result import ENGLISH, ReasonWords, number, result_reason, type_label
from central.services.results import SessionResult
from central.web import labels
from central.web.translation import _, ngettext, pgettext


def _decimal_mark() -> str:
    """The locale's decimal mark (French: 61,3); outside a request, the English point."""
    locale = get_locale() if has_request_context() else None
    return str(get_decimal_symbol(locale)) if locale is not None else "."


def _type_words(code: str) -> str:
    word = labels.violation_type(code)
    return type_label(code) if word == code else word  # a new code: its English-ish form


def reason_words() -> ReasonWords:
    """The reason's words in the current request's language (English outside a request)."""
    decimal = _decimal_mark()
    return ReasonWords(
        # TRANSLATORS: a result's reason: "Pass: trust 96 ≥ 70, …".
        passed=lambda criteria: _("Pass: %(criteria)s", criteria=criteria),
        # TRANSLATORS: a result's reason: "Fail: trust 54 < 70, …".
        failed=lambda criteria: _("Fail: %(criteria)s", criteria=criteria),
        # TRANSLATORS: in a result's reason: the trust score passed.
        trust_reached=lambda score, threshold: _(
            "trust %(score)s ≥ %(threshold)s", score=score, threshold=threshold
        ),
        # TRANSLATORS: in a result's reason: the trust score failed.
        trust_missed=lambda score, threshold: _(
            "trust %(score)s < %(threshold)s", score=score, threshold=threshold
        ),
        # TRANSLATORS: in a result's reason: the quiz percent passed.
        score_reached=lambda percent, pass_percent: _(
            "score %(percent)s %% ≥ %(pass_percent)s %%", percent=percent, pass_percent=pass_percent
        ),
        # TRANSLATORS: in a result's reason: the quiz percent failed.
        score_missed=lambda percent, pass_percent: _(
            "score %(percent)s %% < %(pass_percent)s %%", percent=percent, pass_percent=pass_percent
        ),
        # TRANSLATORS: in a result's reason: the confirmed flags.
        confirmed=lambda violations: _("confirmed: %(violations)s", violations=violations),
        # TRANSLATORS: in a result's reason: the flags waiting for review.
        pending=lambda violations: _("pending: %(violations)s", violations=violations),
        # TRANSLATORS: a violation type, how many times: "phone in view 2x".
        counted=lambda label, count: ngettext(
            "%(type)s %(num)dx", "%(type)s %(num)dx", count, type=label
        ),
        # TRANSLATORS: a violation type, how long in all: "looking away 95 s".
        timed=lambda label, seconds: _("%(type)s %(seconds)d s", type=label, seconds=seconds),
        type_label=_type_words,
        number=lambda value: number(value).replace(".", decimal),
        separator=ENGLISH.separator,
        # TRANSLATORS: between two failed criteria in a result's reason.
        failure_separator=pgettext("result reason", "; "),
    )


def shown_reason(current: SessionResult) -> str:
    """The session's reason in the page's language, from the live result.

    A released result must say what was released. Its stored text is the English of the same
    parts, so while the live result still gives that text, its figures and decision are the
    released ones and are shown in the page's language; if the live result has moved since
    (a policy edited after the release, say), the stored English text is shown as it is.
    """
    result = current.result
    stored = current.exam_session.result_reason
    if current.released and stored and result.reason != stored:
        return stored
    return result_reason(result.trust, result.quiz, current.policy, reason_words())
