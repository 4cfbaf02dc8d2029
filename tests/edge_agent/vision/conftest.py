"""Fixtures for the vision tests (the shared media come from ``fixtures_dir``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def faces_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "faces"
