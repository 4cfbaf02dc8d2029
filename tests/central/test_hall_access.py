"""Invigilators see only their assigned halls: 403 for another hall's seats, events and
evidence; admins and reviewers see every hall. Evidence views are audit-logged."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from central.db import create_db_engine, make_sessionmaker
from central.domain_models import AuditEntry
from central.web import create_app
from tests.central import exam_day
from tests.central.exam_day import SHA_A, SHA_B
from tests.central.test_web import basic


@pytest.fixture
def app(migrated_sqlite_url: str, tmp_path: Path) -> Flask:
    engine = create_db_engine(migrated_sqlite_url)
    with make_sessionmaker(engine).begin() as session:
        exam_day.build(session, tmp_path / "evidence", hall_b_flag=True)
    engine.dispose()
    return create_app(
        {
            "DATABASE_URL": migrated_sqlite_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
        }
    )


HALL_A = [
    "/api/v1/halls/hall-a/seats",
    "/api/v1/seats/A-01/events",
    "/api/v1/events?device=kiosk-1",
    "/api/v1/events?session=sess-1",
    f"/api/v1/evidence/{SHA_A}",
]
HALL_B = [
    "/api/v1/halls/hall-b/seats",
    "/api/v1/seats/B-01/events",
    "/api/v1/events?device=kiosk-2",
    "/api/v1/events?session=sess-2",
    "/api/v1/events?device=kiosk-1&session=sess-2",
    f"/api/v1/evidence/{SHA_B}",
]


@pytest.mark.parametrize("path", HALL_A)
def test_invigilator_sees_own_hall(app: Flask, path: str) -> None:
    response = app.test_client().get(path, headers=basic("ivy"))
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("path", [*HALL_B, "/api/v1/events", "/api/v1/events?device=kiosk-9"])
def test_invigilator_gets_403_for_other_halls(app: Flask, path: str) -> None:
    response = app.test_client().get(path, headers=basic("ivy"))
    assert response.status_code == 403
    assert response.json is not None
    assert response.json["error"] == "forbidden"


@pytest.mark.parametrize("path", HALL_A[:2] + HALL_A[-1:])
def test_the_other_invigilator_is_refused_hall_a(app: Flask, path: str) -> None:
    assert app.test_client().get(path, headers=basic("ian")).status_code == 403


@pytest.mark.parametrize("user", ["ada", "rita"])
def test_admins_and_reviewers_see_every_hall(app: Flask, user: str) -> None:
    client = app.test_client()
    for path in [*HALL_A, *HALL_B, "/api/v1/events"]:
        assert client.get(path, headers=basic(user)).status_code == 200, path


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/halls/nope/seats",
        "/api/v1/seats/nope/events",
        "/api/v1/seats/..%2F..%2Fetc%2Fpasswd/events",
        "/api/v1/halls/../../etc/passwd/seats",
        "/api/v1/evidence/..%2F..%2Fcentral.sqlite3",
    ],
)
def test_unknown_or_traversal_is_404(app: Flask, path: str) -> None:
    assert app.test_client().get(path, headers=basic("ivy")).status_code == 404


def test_floor_plan_and_seat_events(app: Flask) -> None:
    client = app.test_client()
    plan = client.get("/api/v1/halls/hall-a/seats", headers=basic("ivy")).json
    assert plan is not None
    assert (plan["rows"], plan["columns"], plan["gaps"]) == (2, 3, [[1, 2]])
    assert plan["seats"] == [
        {"seat_id": "A-01", "label": "A-01", "row": 1, "column": 1, "device_id": "kiosk-1"}
    ]
    events = client.get("/api/v1/seats/A-01/events", headers=basic("ivy")).json
    assert events is not None
    assert [e["type"] for e in events["items"]] == ["raised_hand", "looking_away", "phone_in_view"]


def test_evidence_views_are_audited_once_per_viewing(app: Flask) -> None:
    client = app.test_client()
    url = f"/api/v1/evidence/{SHA_A}"
    assert client.get(url, headers=basic("ivy")).status_code == 200
    seek = client.get(url, headers={"Range": "bytes=100-199", **basic("ivy")})
    assert seek.status_code == 206  # seeking in the player: no new entry
    assert client.get(f"/api/v1/evidence/{SHA_B}", headers=basic("ivy")).status_code == 403
    engine = create_db_engine(app.config["DATABASE_URL"])
    with make_sessionmaker(engine)() as session:
        rows = session.execute(
            select(AuditEntry.username, AuditEntry.target_id).where(
                AuditEntry.action == "evidence.view"
            )
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("ivy", SHA_A)]
