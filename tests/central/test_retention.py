"""Evidence retention: which files each policy lets go (boundaries, flags, sharing, orphans),
and the purge itself on SQLite and MariaDB: files gone from a real directory, tombstones,
audit entries, safe reruns, a crash between commit and deletion, and the CLI."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from central import retention_cli
from central.__main__ import main as central_main
from central.domain_models import AuditEntry, ExamSession, Review
from central.models import Evidence
from central.scoring.policy import ProctoringPolicy, RetentionPolicy
from central.services import create_user, retention, store_batch
from central.services.audit import SYSTEM
from central.services.evidence import EvidenceFiles, EvidenceUpload, store_evidence
from central.services.planning import (
    HallLayout,
    SeatPlace,
    Sitting,
    add_seat,
    create_candidate,
    create_centre,
    create_exam,
    create_hall,
    schedule_session,
)
from central.services.retention import apply_purge, plan_purge
from central.services.users import UserInfo
from protocol import EventState, EvidenceRef, SessionRef
from tests.central import factories as f
from tests.central.scoring.exams import exam

RELEASED = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
UPLOADED = RELEASED - timedelta(hours=3)
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
SHORT = RetentionPolicy(clean_days=30, flagged_days_after_release=60)
FOREVER = RetentionPolicy(clean_days=30, flagged_days_after_release=None)
AT_ONCE = RetentionPolicy(clean_days=0, flagged_days_after_release=0)


def clip(name: str) -> bytes:
    return b"\x1a\x45\xdf\xa3" + name.encode() * 40


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass
class World:
    """One centre, one hall, an exam per retention policy; sittings added by the tests."""

    session: Session
    files: EvidenceFiles
    reviewer: int
    seats: int = 0
    seq: int = 0
    exams: dict[RetentionPolicy, str] = field(default_factory=dict)

    def exam_for(self, policy: RetentionPolicy) -> str:
        if policy not in self.exams:
            exam_id = f"exam-{len(self.exams) + 1}"
            create_exam(
                self.session, SYSTEM, exam(3, exam_id=exam_id), ProctoringPolicy(retention=policy)
            )
            self.exams[policy] = exam_id
        return self.exams[policy]

    def upload(self, body: bytes, uploaded_at: datetime = UPLOADED) -> str:
        upload = EvidenceUpload(sha(body), "video/webm", "kiosk-1", io.BytesIO(body), len(body))
        store_evidence(self.session, self.files, upload)
        row = self.session.get(Evidence, sha(body))
        assert row is not None
        row.uploaded_at = uploaded_at  # the clocks below are measured from it
        self.session.flush()
        return sha(body)

    def event(self, subject: SessionRef, body: bytes, confirmed: bool = False) -> None:
        self.seq += 1
        ref = EvidenceRef(
            sha256=sha(body), size_bytes=len(body), media_type="video/webm", role="clip"
        )
        event = f.event(
            "kiosk-1", seq=self.seq, subject=subject, state=EventState.ENDED, evidence=[ref]
        )
        store_batch(self.session, [event])
        if confirmed:
            self.session.add(
                Review(
                    violation_id=str(event.violation_id),
                    decision="confirmed",
                    note="",
                    reviewer_id=self.reviewer,
                    decided_at=RELEASED - MINUTE,
                )
            )

    def sitting(
        self,
        session_id: str,
        *clips: bytes,
        released: datetime | None = RELEASED,
        flagged: bool = False,
        policy: RetentionPolicy = SHORT,
    ) -> None:
        self.seats += 1
        seat, candidate = f"A-{self.seats:02d}", f"cand-{session_id}"
        exam_id = self.exam_for(policy)
        add_seat(self.session, SYSTEM, "hall-a", SeatPlace(seat, seat, 1, self.seats, None))
        create_candidate(self.session, SYSTEM, candidate, session_id, "Candidate")
        schedule_session(
            self.session,
            SYSTEM,
            Sitting(session_id, exam_id, candidate, seat, f.T0, f.T0 + timedelta(hours=1)),
        )
        subject = SessionRef(
            seat_id=seat, session_id=session_id, candidate_id=candidate, exam_id=exam_id
        )
        for body in clips:
            self.event(subject, body, confirmed=flagged)
        row = self.session.get(ExamSession, session_id)
        assert row is not None
        row.state, row.released_at = ("ended", released) if released else ("submitted", None)
        self.session.flush()


def make_world(session: Session, evidence_dir: Path) -> World:
    reviewer = create_user(session, "rita", "correct horse battery", "reviewer")
    create_centre(session, SYSTEM, f.CENTRE, "Centre")
    create_hall(session, SYSTEM, "hall-a", f.CENTRE, HallLayout(1, 40))
    return World(session, EvidenceFiles(evidence_dir, 1 << 20), reviewer.id)


@pytest.fixture
def world(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    with sessions() as session:
        yield make_world(session, tmp_path / "evidence")


def purged_by(world: World, now: datetime) -> dict[str | None, set[str]]:
    plan = plan_purge(world.session, now)
    return {p.session_id: set(p.hashes) for p in plan.purges}


# --- what the policies let go -------------------------------------------------------------


@pytest.mark.parametrize(
    ("after_release", "gone"),
    [(29 * DAY, False), (30 * DAY - MINUTE, False), (30 * DAY, True), (31 * DAY, True)],
)
def test_clean_session_goes_30_days_after_release(
    world: World, after_release: timedelta, gone: bool
) -> None:
    a = world.upload(clip("a"))
    world.sitting("s-clean", clip("a"))
    expected = {"s-clean": {a}} if gone else {}
    assert purged_by(world, RELEASED + after_release) == expected


@pytest.mark.parametrize("flagged", [False, True])
def test_unreleased_sessions_keep_everything(world: World, flagged: bool) -> None:
    world.upload(clip("a"))
    world.sitting("s-open", clip("a"), released=None, flagged=flagged, policy=AT_ONCE)
    assert purged_by(world, RELEASED + 3650 * DAY) == {}


@pytest.mark.parametrize(
    ("policy", "after_release", "gone"),
    [
        (SHORT, 30 * DAY, False),  # the clean rule does not apply to a flagged session
        (SHORT, 60 * DAY - MINUTE, False),
        (SHORT, 60 * DAY, True),
        (FOREVER, 3650 * DAY, False),  # None: kept until deleted by hand
        (AT_ONCE, timedelta(0), True),  # 0: at the first purge after release
    ],
)
def test_flagged_session_keeps_its_evidence_for_the_appeal_window(
    world: World, policy: RetentionPolicy, after_release: timedelta, gone: bool
) -> None:
    a = world.upload(clip("a"))
    world.sitting("s-flag", clip("a"), flagged=True, policy=policy)
    expected = {"s-flag": {a}} if gone else {}
    assert purged_by(world, RELEASED + after_release) == expected


def test_dismissed_flags_count_as_clean(world: World) -> None:
    a = world.upload(clip("a"))
    world.sitting("s-dismissed", clip("a"), flagged=True)
    for review in world.session.scalars(select(Review)):
        review.decision = "dismissed"
    world.session.flush()
    assert purged_by(world, RELEASED + 30 * DAY) == {"s-dismissed": {a}}


def test_shared_file_goes_only_when_every_session_lets_it_go(world: World) -> None:
    shared, own = world.upload(clip("shared")), world.upload(clip("own"))
    world.sitting("s-clean", clip("shared"), clip("own"))
    world.sitting("s-flag", clip("shared"), flagged=True)
    plan = plan_purge(world.session, RELEASED + 30 * DAY)
    assert {p.session_id: set(p.hashes) for p in plan.purges} == {"s-clean": {own}}
    assert [(h.sha256, h.kept_by) for h in plan.held] == [
        (shared, ("s-flag flagged until 2026-03-11",))
    ]
    later = RELEASED + 60 * DAY
    assert purged_by(world, later) == {"s-clean": {shared, own}, "s-flag": {shared}}
    assert plan_purge(world.session, later).size_bytes == len(clip("shared")) + len(clip("own"))


def test_file_shared_with_an_unreleased_session_is_kept(world: World) -> None:
    world.upload(clip("shared"))
    world.sitting("s-done", clip("shared"), policy=AT_ONCE)
    world.sitting("s-open", clip("shared"), released=None, policy=AT_ONCE)
    plan = plan_purge(world.session, RELEASED + 3650 * DAY)
    assert plan.purges == ()
    assert [h.kept_by for h in plan.held] == [("s-open not released",)]


@pytest.mark.parametrize(("after_upload", "gone"), [(30 * DAY - MINUTE, False), (30 * DAY, True)])
def test_evidence_of_no_session_goes_30_days_after_upload(
    world: World, after_upload: timedelta, gone: bool
) -> None:
    lone = world.upload(clip("no event"))
    unscheduled = world.upload(clip("unscheduled"))
    stray = SessionRef(seat_id="Z-99", session_id="not-scheduled", candidate_id="c", exam_id="e")
    world.event(stray, clip("unscheduled"))
    expected = {None: {lone, unscheduled}} if gone else {}
    assert purged_by(world, UPLOADED + after_upload) == expected


def test_file_of_a_session_and_of_no_session_waits_for_both(world: World) -> None:
    a = world.upload(clip("a"), uploaded_at=RELEASED + 10 * DAY)  # arrived late
    world.sitting("s-clean", clip("a"), policy=AT_ONCE)
    stray = SessionRef(seat_id="Z-99", session_id="not-scheduled", candidate_id="c", exam_id="e")
    world.event(stray, clip("a"))
    plan = plan_purge(world.session, RELEASED + 39 * DAY)
    assert plan.purges == ()
    assert [h.kept_by for h in plan.held] == [("no session, until 2026-02-19",)]
    assert purged_by(world, RELEASED + 40 * DAY) == {"s-clean": {a}}


def test_old_policies_without_retention_load_with_the_defaults() -> None:
    stored = ProctoringPolicy().model_dump(mode="json")
    del stored["retention"]
    policy = ProctoringPolicy.model_validate(stored)
    assert policy.retention == RetentionPolicy(clean_days=30, flagged_days_after_release=30)
    with pytest.raises(ValueError, match="extra"):
        RetentionPolicy.model_validate({"clean_days": 1, "keep": True})
    with pytest.raises(ValueError, match="greater than or equal"):
        RetentionPolicy(clean_days=-1)


# --- the purge, on both databases --------------------------------------------------------


@pytest.fixture
def any_world(any_sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    with any_sessions() as session:
        world = make_world(session, tmp_path / "evidence")
        world.upload(clip("a"))
        world.upload(clip("b"))
        world.upload(clip("shared"))
        world.upload(clip("kept"))
        world.sitting("s-clean", clip("a"), clip("shared"))
        world.sitting("s-flag", clip("b"), clip("shared"), flagged=True, policy=AT_ONCE)
        world.sitting("s-open", clip("kept"), released=None)
        session.commit()
        yield world


LATER = RELEASED + 30 * DAY
GONE = {sha(clip("a")), sha(clip("b")), sha(clip("shared"))}


def on_disk(world: World) -> set[str]:
    return {p.stem for p in world.files.root.glob("*/*.webm")}


def audit(world: World) -> list[AuditEntry]:
    statement = select(AuditEntry).where(AuditEntry.action == "retention.purge")
    return list(world.session.scalars(statement.order_by(AuditEntry.id)))


def test_purge_deletes_files_marks_tombstones_and_audits(any_world: World) -> None:
    world = any_world
    admin = UserInfo(id=world.reviewer, username="rita", role="reviewer")
    result = apply_purge(world.session, world.files, plan_purge(world.session, LATER), admin)
    assert (result.marked, result.deleted, result.already_missing) == (3, 3, 0)
    assert on_disk(world) == {sha(clip("kept"))}
    rows = {r.sha256: r for r in world.session.scalars(select(Evidence))}
    assert {h for h, r in rows.items() if r.purged_at is not None} == GONE
    assert rows[sha(clip("a"))].purged_reason == "s-clean: clean, 30 days after release"
    assert rows[sha(clip("shared"))].purged_reason == (
        "s-clean: clean, 30 days after release; s-flag: flagged, 0 days after release"
    )
    entries = audit(world)
    assert [(e.target_type, e.target_id, e.username) for e in entries] == [
        ("session", "s-clean", "rita"),
        ("session", "s-flag", "rita"),
    ]
    detail = entries[0].detail or {}
    assert detail["rule"] == "clean"
    assert detail["days"] == 30
    assert sorted(detail["hashes"]) == sorted([sha(clip("a")), sha(clip("shared"))])


def test_rerun_changes_nothing(any_world: World) -> None:
    world = any_world
    apply_purge(world.session, world.files, plan_purge(world.session, LATER))
    again = plan_purge(world.session, LATER)
    assert again.purges == ()
    result = apply_purge(world.session, world.files, again)
    assert (result.marked, result.deleted, result.leftovers, result.failed) == (0, 0, 0, 0)
    # The same plan applied twice marks and audits once.
    assert len(audit(world)) == 2
    assert on_disk(world) == {sha(clip("kept"))}


def test_a_crash_after_the_commit_leaves_files_the_next_run_deletes(
    any_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = any_world

    def killed(path: Path) -> None:
        raise RuntimeError("killed while deleting files")

    monkeypatch.setattr(retention, "_remove_file", killed)
    with pytest.raises(RuntimeError):
        apply_purge(world.session, world.files, plan_purge(world.session, LATER))
    assert on_disk(world) >= GONE  # files still there, but the rows say they are gone
    world.session.rollback()
    purged = select(func.count()).select_from(Evidence).where(Evidence.purged_at.is_not(None))
    assert world.session.scalar(purged) == 3
    assert len(audit(world)) == 2
    monkeypatch.undo()
    result = apply_purge(world.session, world.files, plan_purge(world.session, LATER))
    assert (result.marked, result.deleted, result.leftovers) == (0, 0, 3)
    assert on_disk(world) == {sha(clip("kept"))}
    assert len(audit(world)) == 2


def test_a_file_that_cannot_be_deleted_is_retried(
    any_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = any_world

    def refuse(path: Path) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(retention, "_remove_file", refuse)
    result = apply_purge(world.session, world.files, plan_purge(world.session, LATER))
    assert (result.marked, result.failed) == (3, 3)
    monkeypatch.undo()
    again = apply_purge(world.session, world.files, plan_purge(world.session, LATER))
    assert again.leftovers == 3
    assert on_disk(world) == {sha(clip("kept"))}


def test_a_file_already_missing_is_fine(any_world: World) -> None:
    world = any_world
    row = world.session.get(Evidence, sha(clip("a")))
    assert row is not None
    world.files.absolute(row.stored_path).unlink()
    result = apply_purge(world.session, world.files, plan_purge(world.session, LATER))
    assert (result.marked, result.deleted, result.already_missing) == (3, 2, 1)


def test_a_late_reupload_does_not_bring_a_purged_file_back(any_world: World) -> None:
    world = any_world
    apply_purge(world.session, world.files, plan_purge(world.session, LATER))
    body = clip("a")
    upload = EvidenceUpload(sha(body), "video/webm", "kiosk-1", io.BytesIO(body), len(body))
    info, created = store_evidence(world.session, world.files, upload)
    assert (created, info.purged_at is not None) == (False, True)
    assert sha(body) not in on_disk(world)


# --- the command -------------------------------------------------------------------------


def test_cli_dry_run_changes_nothing_then_the_real_run_purges(
    any_world: World,
    any_db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = any_world
    monkeypatch.setenv("PROCTOR_EVIDENCE_DIR", str(world.files.root))
    base = ["--database-url", any_db_url, "purge-evidence", "--now", LATER.isoformat()]
    before = on_disk(world)
    assert central_main([*base, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "s-clean (exam exam-1): would delete 2 file(s)" in out
    assert "s-flag (exam exam-2): would delete 2 file(s)" in out
    assert "total: 3 file(s)" in out
    assert on_disk(world) == before
    world.session.expire_all()
    assert audit(world) == []
    assert all(r.purged_at is None for r in world.session.scalars(select(Evidence)))
    world.session.rollback()  # SQLite: the command needs the database to itself

    assert central_main(base) == 0
    out = capsys.readouterr().out
    assert "s-clean (exam exam-1): deleting 2 file(s)" in out
    assert "done: 3 marked deleted, 3 file(s) removed" in out
    assert on_disk(world) == {sha(clip("kept"))}
    world.session.expire_all()
    assert [e.username for e in audit(world)] == ["system", "system"]
    world.session.rollback()
    assert central_main(base) == 0  # again: nothing left to do, still a success
    assert "total: 0 file(s)" in capsys.readouterr().out


def test_cli_reads_times_without_a_zone_as_utc() -> None:
    assert retention_cli.moment("2026-02-09T12:00") == datetime(2026, 2, 9, 12, tzinfo=UTC)
    with pytest.raises(Exception, match="ISO 8601"):
        retention_cli.moment("next tuesday")
