"""The README's configuration reference is what the code accepts, generated from the models."""

from __future__ import annotations

from tests.support.config_docs import README, render


def test_configuration_tables_match_the_code() -> None:
    current = README.read_text()
    assert render(current) == current, (
        "README.md's configuration tables are stale: run "
        "`python -m tests.support.config_docs --write`"
    )
