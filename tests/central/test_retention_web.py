"""After a purge, the evidence URL answers 410 Gone with the date, and pages say the file was
deleted under the retention policy instead of linking to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask, render_template

from central.db import create_db_engine, make_sessionmaker
from central.domain_models import ExamSession
from central.services.evidence import EvidenceFiles
from central.services.retention import apply_purge, plan_purge
from central.services.review import EvidenceLink, decide
from central.services.users import UserInfo
from central.web import create_app
from tests.central import exam_day
from tests.central.exam_day import SHA_A, Day
from tests.central.test_review_web import login


@pytest.fixture
def purged_app(migrated_sqlite_url: str, tmp_path: Path) -> tuple[Flask, Day]:
    """The exam day with sess-1's flags confirmed (so released), then purged 31 days later."""
    evidence = tmp_path / "evidence"
    engine = create_db_engine(migrated_sqlite_url)
    with make_sessionmaker(engine)() as session:
        day = exam_day.build(session, evidence)
        rita = UserInfo(id=day.user_ids["rita"], username="rita", role="reviewer")
        for violation in (day.phone, day.looking_away):
            decide(session, rita, violation, "confirmed", "seen on the clip")
        released = session.get(ExamSession, "sess-1")
        assert released is not None
        assert released.released_at is not None
        session.commit()
        plan = plan_purge(session, datetime.now(UTC) + timedelta(days=31))
        assert SHA_A in plan.hashes
        apply_purge(session, EvidenceFiles(evidence, 1 << 20), plan)
    engine.dispose()
    app = create_app(
        {
            "DATABASE_URL": migrated_sqlite_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "EVIDENCE_DIR": str(evidence),
        }
    )
    return app, day


def test_purged_evidence_url_answers_410_with_the_date(purged_app: tuple[Flask, Day]) -> None:
    app, _ = purged_app
    today = datetime.now(UTC).date().isoformat()
    response = login(app, "rita").get(f"/api/v1/evidence/{SHA_A}")
    assert response.status_code == 410
    assert response.json is not None
    assert response.json["error"] == "gone"
    assert response.json["message"] == f"Deleted under the retention policy on {today}."
    assert login(app, "ian").get(f"/api/v1/evidence/{SHA_A}").status_code == 403  # hall B


def test_result_page_says_the_clip_was_deleted(purged_app: tuple[Flask, Day]) -> None:
    app, _ = purged_app
    page = login(app, "rita").get("/results/sessions/sess-1").get_data(as_text=True)
    today = datetime.now(UTC).date().isoformat()
    assert f"clip: deleted under the retention policy on {today}" in page
    assert f'href="/api/v1/evidence/{SHA_A}"' not in page


def test_evidence_snippet_shows_the_deletion_instead_of_a_player(
    purged_app: tuple[Flask, Day],
) -> None:
    app, _ = purged_app
    gone = EvidenceLink(SHA_A, "video/webm", "clip", datetime(2026, 3, 1, 4, 0, tzinfo=UTC))
    kept = EvidenceLink(SHA_A, "video/webm", "clip")
    with app.test_request_context():
        purged = render_template("_evidence.html", link=gone)
        playing = render_template("_evidence.html", link=kept)
    assert "Deleted under the retention policy on 2026-03-01" in purged
    assert "<video" not in purged
    assert f'<video controls preload="none" src="/api/v1/evidence/{SHA_A}"' in playing
