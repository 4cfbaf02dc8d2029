"""The admin exam page shows the exam's evidence retention in words and saves it; saving the
rest of the proctoring policy leaves it alone."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from central.db import create_db_engine, make_sessionmaker
from central.domain_models import Exam
from central.scoring.policy import ProctoringPolicy, RetentionPolicy
from central.services.audit import SYSTEM
from central.services.planning import create_exam, proctoring_policy
from tests.central.admin.conftest import csrf_token, login
from tests.central.scoring.exams import exam


def test_admin_exam_page_shows_and_saves_the_retention_policy(admin_app: Flask) -> None:
    engine = create_db_engine(admin_app.config["DATABASE_URL"])
    with make_sessionmaker(engine).begin() as session:
        create_exam(session, SYSTEM, exam(3), ProctoringPolicy())
    client = login(admin_app, "ada")
    page = client.get("/admin/exams/exam-1").get_data(as_text=True)
    assert "evidence deleted 30 day(s) after the result is released" in page
    form = {"clean_days": "7", "flagged_days_after_release": "", "csrf_token": ""}
    form["csrf_token"] = csrf_token(client, "/admin/exams/exam-1")
    assert client.post("/admin/exams/exam-1/retention", data=form).status_code == 303
    page = client.get("/admin/exams/exam-1").get_data(as_text=True)
    assert "evidence deleted 7 day(s) after the result is released" in page
    assert "evidence kept until deleted by hand" in page
    # Saving the rest of the proctoring policy keeps the retention.
    proctoring = {"duration_unit_s": "60", "duration_cap_s": "300", "pending_factor": "0.5",
                  "pass_threshold": "70", "csrf_token": form["csrf_token"]}  # fmt: skip
    assert client.post("/admin/exams/exam-1/proctoring", data=proctoring).status_code == 303
    with make_sessionmaker(engine)() as session:
        stored = session.scalar(select(Exam).where(Exam.exam_id == "exam-1"))
        assert proctoring_policy(stored).retention == RetentionPolicy(
            clean_days=7, flagged_days_after_release=None
        )
    engine.dispose()
    bad = {**form, "clean_days": "-3"}
    assert client.post("/admin/exams/exam-1/retention", data=bad).status_code == 303
    assert "must be between 0 and 3650" in client.get("/admin/exams/exam-1").get_data(as_text=True)
