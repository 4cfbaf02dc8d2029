"""The demo's exam day: one centre, one hall whose seats hold the simulated kiosks and the
camera kiosk, the demo exam, the camera kiosk's candidate and session, and an invigilator of
the hall. Idempotent: a second run (the demo restarted on the same data) changes nothing.

    python -m central.demo_seed --kiosks 6 --camera-kiosk kiosk-cam-01 --password PW
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from central.config import CentralConfig
from central.db import create_db_engine, make_sessionmaker
from central.demo_exam import DEMO_EXAM_ID, demo_exam
from central.domain_models import Centre
from central.scoring.policy import ProctoringPolicy
from central.services import UserInfo, authenticate, create_user
from central.services.planning import (
    HallLayout,
    SeatPlace,
    Sitting,
    add_seat,
    assign_invigilator,
    create_candidate,
    create_centre,
    create_exam,
    create_hall,
    schedule_session,
)

DEMO_CENTRE = "demo-centre"
DEMO_HALL = "hall-a"
COLUMNS = 4
INVIGILATOR = "invigilator"
CAMERA_SESSION = "demo-session-cam"
CAMERA_CANDIDATE = "demo-candidate"


def seed(session: Session, admin: UserInfo, kiosks: list[str], camera: str, password: str) -> bool:
    """Create the exam day; False when it exists already."""
    if session.get(Centre, DEMO_CENTRE) is not None:
        return False
    create_centre(session, admin, DEMO_CENTRE, "Demo exam centre")
    devices = [camera, *kiosks]
    rows = max(1, math.ceil(len(devices) / COLUMNS))
    create_hall(session, admin, DEMO_HALL, DEMO_CENTRE, HallLayout(rows, COLUMNS))
    # The simulated kiosk number i reports seat "seat-i" (edge_agent.simulate).
    seat_ids = ["seat-cam-01", *(f"seat-{i:02d}" for i in range(len(kiosks)))]
    for index, (device, seat_id) in enumerate(zip(devices, seat_ids, strict=True)):
        row, column = divmod(index, COLUMNS)
        label = f"{chr(ord('A') + row)}{column + 1}"
        add_seat(session, admin, DEMO_HALL, SeatPlace(seat_id, label, row + 1, column + 1, device))
    create_exam(session, admin, demo_exam(), ProctoringPolicy())
    create_candidate(session, admin, CAMERA_CANDIDATE, "C-1001", "Demo Candidate")
    now = datetime.now(UTC)
    schedule_session(
        session,
        admin,
        Sitting(CAMERA_SESSION, DEMO_EXAM_ID, CAMERA_CANDIDATE, "seat-cam-01", now,
                now + timedelta(hours=2)),
    )  # fmt: skip
    invigilator = authenticate(session, INVIGILATOR, password)
    if invigilator is None:  # the demo creates it first; a bare seed makes its own
        invigilator = create_user(session, INVIGILATOR, password, "invigilator")
    assign_invigilator(session, admin, invigilator.id, DEMO_HALL)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m central.demo_seed", description=__doc__)
    parser.add_argument("--kiosks", type=int, default=6)
    parser.add_argument("--prefix", default="sim-kiosk", help="simulated kiosks' id prefix")
    parser.add_argument("--camera-kiosk", default="kiosk-cam-01")
    parser.add_argument("--admin", default="admin")
    parser.add_argument("--password", required=True, help="the admin's (and invigilator's)")
    args = parser.parse_args(argv)
    engine = create_db_engine(CentralConfig.from_env().database_url)
    try:
        with make_sessionmaker(engine).begin() as session:
            admin = authenticate(session, args.admin, args.password)
            if admin is None:
                print("demo seed: the admin login does not work", file=sys.stderr)
                return 1
            kiosks = [f"{args.prefix}-{i:02d}" for i in range(args.kiosks)]
            created = seed(session, admin, kiosks, args.camera_kiosk, args.password)
    finally:
        engine.dispose()
    print("demo exam day " + ("created" if created else "already there"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
