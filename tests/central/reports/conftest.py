"""The exam day (tests/central/exam_day.py) behind an app, for the report and export tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from central.db import create_db_engine, make_sessionmaker
from central.web import create_app
from tests.central import exam_day
from tests.central.exam_day import Day


@pytest.fixture
def day_app(migrated_sqlite_url: str, tmp_path: Path) -> tuple[Flask, Day]:
    engine = create_db_engine(migrated_sqlite_url)
    with make_sessionmaker(engine).begin() as session:
        day = exam_day.build(session, tmp_path / "evidence", hall_b_flag=True)
    engine.dispose()
    app = create_app(
        {
            "DATABASE_URL": migrated_sqlite_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
        }
    )
    return app, day
