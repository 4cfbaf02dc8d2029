"""A hall's live console as data: the floor plan with each seat's candidate, exam progress,
connection, open alerts and trust score so far, the hall's alert feed, and the feed cursor the
page's live updates continue from.

Everything is read in one transaction, the cursor first, so the snapshot and the feed after
the cursor fit together with no gap and no double (see central/services/feed.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from central.console_models import AlertAck, AlertResponse
from central.domain_models import (
    Candidate,
    Exam,
    ExamSession,
    Hall,
    InvigilatorAssignment,
    Review,
)
from central.models import Device, User, Violation
from central.scoring.policy import UNKNOWN_TYPE_WEIGHT, ProctoringPolicy
from central.scoring.trust import ScoredViolation, trust_score
from central.services import feed
from central.services.access import hall_of_device, hall_of_session
from central.services.audit import record
from central.services.errors import NotFound
from central.services.live_views import device_summary
from central.services.planning import proctoring_policy
from central.services.seats import floor_plan
from central.services.users import UserInfo
from protocol.models import ViolationType

# Kiosks heartbeat every 10 s: after 25 s without one a tile is "stale", after 60 s "offline".
STALE_AFTER_S = 25.0
OFFLINE_AFTER_S = 60.0
UNSESSIONED_WINDOW = timedelta(hours=12)  # a kiosk's alerts outside any session, this recent
ALERT_FEED_LENGTH = 100


def connection_state(last_status: str | None, last_seen_at: datetime | None, now: datetime) -> str:
    """online / stale / offline, as the page computes it again every second."""
    if last_seen_at is None or last_status == "offline":
        return "offline"
    age = (now - last_seen_at).total_seconds()
    if age > OFFLINE_AFTER_S:
        return "offline"
    return "stale" if age > STALE_AFTER_S else "online"


def policy_for_page(policy: ProctoringPolicy) -> dict[str, Any]:
    """What the page needs to keep the trust score up to date between reloads (the formula of
    central/scoring/trust.py, repeated in console.js)."""
    return {
        "weights": {t.value: policy.weight(t) for t in ViolationType},
        "unknown_weight": UNKNOWN_TYPE_WEIGHT,
        "duration_unit_s": policy.duration_unit_s,
        "duration_cap_s": policy.duration_cap_s,
        "pending_factor": policy.pending_factor,
        "pass_threshold": policy.pass_threshold,
    }


def current_sessions(
    session: Session, seat_ids: list[str], devices: dict[str, Device], now: datetime
) -> dict[str, ExamSession]:
    """Per seat, the sitting the console is about: the one the kiosk reports, else a running
    one, else the one scheduled nearest to now."""
    rows = session.scalars(select(ExamSession).where(ExamSession.seat_id.in_(seat_ids)))
    by_seat: dict[str, list[ExamSession]] = {}
    for row in rows:
        by_seat.setdefault(row.seat_id, []).append(row)
    reported = {str((d.last_heartbeat or {}).get("session_id")) for d in devices.values()} - {
        "None"
    }
    chosen = {}
    for seat_id, sittings in by_seat.items():
        chosen[seat_id] = min(
            sittings,
            key=lambda s: (
                s.session_id not in reported,
                s.state != "running",
                abs((s.scheduled_start - now).total_seconds()),
            ),
        )
    return chosen


@dataclass(frozen=True)
class _Alerts:
    violations: list[Violation]
    reviews: dict[str, str]  # violation id -> decision
    acks: dict[str, str]  # violation id -> who acknowledged
    responses: dict[str, AlertResponse]  # violation id -> dispatch / at seat


def _hall_violations(
    session: Session, session_ids: list[str], device_ids: list[str], now: datetime
) -> _Alerts:
    conditions: list[ColumnElement[bool]] = []
    if session_ids:
        conditions.append(Violation.session_id.in_(session_ids))
    if device_ids:
        conditions.append(
            and_(
                Violation.device_id.in_(device_ids),
                Violation.session_id.is_(None),
                Violation.started_at >= now - UNSESSIONED_WINDOW,
            )
        )
    if not conditions:
        return _Alerts([], {}, {}, {})
    violations = list(
        session.scalars(
            select(Violation).where(or_(*conditions)).order_by(Violation.started_at.desc())
        )
    )
    ids = [v.violation_id for v in violations]
    reviews: dict[str, str] = {}
    acks: dict[str, str] = {}
    responses: dict[str, AlertResponse] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        decided = select(Review.violation_id, Review.decision).where(Review.violation_id.in_(chunk))
        reviews.update({r.violation_id: r.decision for r in session.execute(decided)})
        seen = select(AlertAck.violation_id, AlertAck.username).where(
            AlertAck.violation_id.in_(chunk)
        )
        acks.update({r.violation_id: r.username for r in session.execute(seen)})
        answered = select(AlertResponse).where(AlertResponse.violation_id.in_(chunk))
        responses.update({r.violation_id: r for r in session.scalars(answered)})
    return _Alerts(violations, reviews, acks, responses)


def response_fields(acked_by: str | None, response: AlertResponse | None) -> dict[str, Any]:
    """Who saw an alert, who was sent to the seat and who got there, as consoles show it."""
    return {
        "acked_by": acked_by,
        "dispatched_to": response.dispatched_to if response else None,
        "dispatched_at": response.dispatched_at if response else None,
        "at_seat_by": response.at_seat_by if response else None,
        "at_seat_at": response.at_seat_at if response else None,
    }


def alert_dict(
    violation: Violation,
    seat_id: str | None,
    acked_by: str | None,
    response: AlertResponse | None = None,
) -> dict[str, Any]:
    return {
        "violation_id": violation.violation_id,
        "seat_id": seat_id,
        "session_id": violation.session_id,
        "type": violation.type,
        "severity": violation.severity,
        "state": violation.state,
        "started_at": violation.started_at,
        "ended_at": violation.ended_at,
        "duration_s": violation.duration_s,
        **response_fields(acked_by, response),
    }


def _status(decision: str | None) -> str:
    if decision is None:
        return "pending"
    return "confirmed" if decision == "confirmed" else "dismissed"


def hall_snapshot(session: Session, hall: Hall, now: datetime | None = None) -> dict[str, Any]:
    """The whole console of a hall, JSON-ready (times as datetimes)."""
    now = now or datetime.now(UTC)
    cursor = feed.latest_id(session.connection())  # first: see the module docstring
    plan = floor_plan(session, hall)
    seats = plan["seats"]
    device_ids = [s["device_id"] for s in seats if s["device_id"]]
    devices = {
        d.device_id: d
        for d in session.scalars(select(Device).where(Device.device_id.in_(device_ids)))
    }
    sittings = current_sessions(session, [s["seat_id"] for s in seats], devices, now)
    candidates = _by_key(
        session, Candidate, Candidate.candidate_id, {s.candidate_id for s in sittings.values()}
    )
    exams = _by_key(session, Exam, Exam.exam_id, {s.exam_id for s in sittings.values()})
    policies = {exam_id: proctoring_policy(exam) for exam_id, exam in exams.items()}
    alerts = _hall_violations(session, [s.session_id for s in sittings.values()], device_ids, now)
    seat_of = _seat_lookup(seats, sittings)
    by_seat: dict[str | None, list[Violation]] = {}
    for violation in alerts.violations:
        by_seat.setdefault(seat_of(violation), []).append(violation)
    data = _HallData(devices, candidates, policies, alerts, by_seat, now)
    tiles = [_tile(seat, sittings.get(seat["seat_id"]), data) for seat in seats]
    feed_rows = [
        alert_dict(
            v, seat_of(v), alerts.acks.get(v.violation_id), alerts.responses.get(v.violation_id)
        )
        for v in alerts.violations[:ALERT_FEED_LENGTH]
    ]
    return {
        **{k: plan[k] for k in ("hall_id", "centre_id", "name", "rows", "columns", "gaps")},
        "cursor": cursor,
        "server_time": now,
        "stale_after_s": STALE_AFTER_S,
        "offline_after_s": OFFLINE_AFTER_S,
        "exams": {
            exam_id: {"title": exam.title, "policy": policy_for_page(policies[exam_id])}
            for exam_id, exam in exams.items()
        },
        "seats": tiles,
        "alerts": feed_rows,
        "invigilators": hall_invigilators(session, hall.hall_id),
    }


def hall_invigilators(session: Session, hall_id: str) -> list[dict[str, Any]]:
    """The invigilators assigned to the hall: whom its alerts may be dispatched to."""
    statement = (
        select(User.id, User.username)
        .join(InvigilatorAssignment, InvigilatorAssignment.user_id == User.id)
        .where(InvigilatorAssignment.hall_id == hall_id, User.role == "invigilator")
        .order_by(User.username)
    )
    return [{"user_id": row.id, "username": row.username} for row in session.execute(statement)]


def _by_key(session: Session, model: Any, column: Any, keys: Iterable[str]) -> dict[str, Any]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    return {
        getattr(row, column.key): row
        for row in session.scalars(select(model).where(column.in_(wanted)))
    }


def _seat_lookup(
    seats: list[dict[str, Any]], sittings: dict[str, ExamSession]
) -> Callable[[Violation], str | None]:
    by_device = {s["device_id"]: s["seat_id"] for s in seats if s["device_id"]}
    by_session = {sitting.session_id: seat_id for seat_id, sitting in sittings.items()}

    def seat_of(violation: Violation) -> str | None:
        if violation.session_id is not None and violation.session_id in by_session:
            return by_session[violation.session_id]
        return by_device.get(violation.device_id)

    return seat_of


@dataclass(frozen=True)
class _HallData:
    devices: dict[str, Device]
    candidates: dict[str, Candidate]
    policies: dict[str, ProctoringPolicy]
    alerts: _Alerts
    by_seat: dict[str | None, list[Violation]]  # newest first
    now: datetime


def _tile(seat: dict[str, Any], sitting: ExamSession | None, data: _HallData) -> dict[str, Any]:
    device = data.devices.get(seat["device_id"] or "")
    alerts, now = data.alerts, data.now
    mine = data.by_seat.get(seat["seat_id"], [])
    tile: dict[str, Any] = {
        **seat,
        "candidate": None,
        "session": None,
        "device": device_summary(
            device.last_status if device else None,
            device.last_seen_at if device else None,
            device.last_heartbeat if device else None,
        ),
        "connection": connection_state(
            device.last_status if device else None, device.last_seen_at if device else None, now
        ),
        "open_alerts": [
            alert_dict(v, seat["seat_id"], None) for v in mine if v.violation_id not in alerts.acks
        ],
        "violations": [
            {
                "violation_id": v.violation_id,
                "type": v.type,
                "duration_s": v.duration_s,
                "status": _status(alerts.reviews.get(v.violation_id)),
            }
            for v in mine
        ],
        "trust": None,
    }
    if sitting is not None:
        candidate = data.candidates.get(sitting.candidate_id)
        tile["candidate"] = candidate and {
            "candidate_id": candidate.candidate_id,
            "name": candidate.display_name,
            "number": candidate.candidate_number,
        }
        tile["session"] = {
            "session_id": sitting.session_id,
            "exam_id": sitting.exam_id,
            "state": sitting.state,
            "scheduled_end": sitting.scheduled_end,
        }
        scored = [
            ScoredViolation(v["violation_id"], v["type"], v["duration_s"], v["status"])
            for v in tile["violations"]
        ]
        tile["trust"] = trust_score(scored, data.policies[sitting.exam_id]).score
    return tile


def acknowledge_alert(
    session: Session, actor: UserInfo, violation_id: str, hall_id: str | None
) -> AlertAck:
    """Mark an alert as seen (idempotent: the first acknowledgement stays), audit-logged and
    announced on the feed."""
    violation = session.get(Violation, violation_id)
    if violation is None:
        raise NotFound(f"no violation {violation_id!r}")
    existing = session.get(AlertAck, violation_id)
    if existing is not None:
        return existing
    now = datetime.now(UTC)
    ack = AlertAck(
        violation_id=violation_id, user_id=actor.id, username=actor.username, acked_at=now
    )
    session.add(ack)
    record(session, actor, "alert.acknowledge", ("violation", violation_id))
    session.flush()
    item = feed.FeedItem(
        "ack",
        hall_id,
        None,
        violation.device_id,
        {
            "violation_id": violation_id,
            "acked_at": now,
            **response_fields(actor.username, session.get(AlertResponse, violation_id)),
        },
    )
    feed.append(session.connection(), [item], now)
    return ack


def hall_of_violation(session: Session, violation_id: str) -> str | None:
    """The hall whose console shows this alert: its session's seat, else its kiosk's seat."""
    violation = session.get(Violation, violation_id)
    if violation is None:
        raise NotFound(f"no violation {violation_id!r}")
    if violation.session_id is not None:
        hall = hall_of_session(session, violation.session_id)
        if hall is not None:
            return hall
    return hall_of_device(session, violation.device_id)
