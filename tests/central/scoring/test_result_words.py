"""The reason in French: the same parts as the English table (test_result.py), assembled with the
words of a French request (central/web/result_words.py, the compiled console catalogue)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from central.scoring.quiz import QuizScore, score_quiz
from central.scoring.result import exam_result, result_reason
from central.scoring.trust import ScoredViolation, trust_score
from central.web.i18n import init_i18n
from central.web.result_words import reason_words
from tests.central.scoring.exams import answers, exam
from tests.central.scoring.test_result import POLICY, _quiz, v


@pytest.fixture(scope="module")
def app() -> Flask:
    """The console's language machinery alone: locale from Accept-Language, its catalogues."""
    app = Flask(__name__)
    init_i18n(app)
    return app


@pytest.fixture
def french(app: Flask) -> Iterator[None]:
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        yield


def _eight(right: int, pass_percent: float) -> QuizScore:
    """Eight questions: 3 right is 37.5 %, a figure with a decimal."""
    return score_quiz(exam(8, pass_percent=pass_percent), answers(right, 0))


CASES: list[tuple[list[ScoredViolation], QuizScore, str]] = [
    (
        [v("phone_in_view", 3), v("phone_in_view", 3), v("looking_away", 95)],
        _quiz(80),
        "Échec : confiance 58,2 < 70, confirmés : téléphone visible 2 fois, regard détourné 95 s",
    ),
    ([], _quiz(30), "Échec : note 30 % < 40 %"),
    ([], _quiz(40), "Réussite : confiance 100 ≥ 70, note 40 % ≥ 40 %"),  # both at the mark
    (
        [v("phone_in_view"), v("phone_in_view")],
        _quiz(70),
        "Réussite : confiance 70 ≥ 70, note 70 % ≥ 40 %",
    ),
    (  # both criteria fail; confirmed and pending flags; a dismissed one is not listed
        [
            v("identity_mismatch", 120),
            v("speech", 4, "pending"),
            v("phone_in_view", 9, "dismissed"),
        ],
        _quiz(20),
        "Échec : confiance 22,3 < 70, confirmés : identité non concordante 1 fois, "
        "en attente : parole 4 s ; note 20 % < 40 %",
    ),
    (  # only pending flags: they cost half and are listed as waiting
        [v("phone_in_view", 3, "pending")] * 5 + [v("looking_away", 95, "pending")],
        _quiz(80),
        "Échec : confiance 55,5 < 70, en attente : téléphone visible 5 fois, regard détourné 95 s",
    ),
    (
        [v("identity_mismatch", 300)] * 2,
        _quiz(100),
        "Échec : confiance 0 < 70, confirmés : identité non concordante 2 fois",
    ),
    ([], _eight(3, 37.5), "Réussite : confiance 100 ≥ 70, note 37,5 % ≥ 37,5 %"),
    ([], _eight(3, 40), "Échec : note 37,5 % < 40 %"),
]


IDS = [
    "fail trust",
    "fail score",
    "pass at both marks",
    "pass at the trust mark",
    "fail both",
    "fail on pending only",
    "fail at zero",
    "pass decimal mark",
    "fail decimal percent",
]


@pytest.mark.usefixtures("french")
@pytest.mark.parametrize(("violations", "quiz", "reason"), CASES, ids=IDS)
def test_french_table(violations: list[ScoredViolation], quiz: QuizScore, reason: str) -> None:
    trust = trust_score(violations, POLICY)
    assert result_reason(trust, quiz, POLICY, reason_words()) == reason
    # The stored reason stays English whatever the request's language.
    assert exam_result(trust, quiz, POLICY).reason.startswith(("Pass: ", "Fail: "))


@pytest.mark.parametrize(("violations", "quiz", "reason"), CASES, ids=IDS)
def test_english_words_of_a_request_give_the_stored_text(
    app: Flask, violations: list[ScoredViolation], quiz: QuizScore, reason: str
) -> None:
    """The console's English words assemble exactly the stored (ENGLISH) text: a released
    result shown in English reads as it was released."""
    trust = trust_score(violations, POLICY)
    stored = exam_result(trust, quiz, POLICY).reason
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert result_reason(trust, quiz, POLICY, reason_words()) == stored
    assert result_reason(trust, quiz, POLICY, reason_words()) == stored  # no request: English


def test_an_unknown_violation_type_shows_its_code_in_words(french: None) -> None:
    trust = trust_score([v("new_kind", 0)] * 40, POLICY)
    assert result_reason(trust, _quiz(80), POLICY, reason_words()).endswith("new kind 40 fois")
