"""Evidence retention: which evidence files the exams' policies let go, and deleting them.

Every clock starts at the release of a session's result (docs/retention.md): a session with a
confirmed violation keeps its evidence `flagged_days_after_release` days (None: for good), any
other released session `clean_days`. Unreleased sessions keep everything. A file shared by
several sessions goes only when every one of them lets it go; a file no scheduled session
refers to goes `orphan_days` after its upload.

A purge first marks the rows (the tombstones) and writes the audit entries in one transaction,
then deletes the files. A crash between the two leaves files whose rows say they are gone; the
next purge deletes them, so running it again is always safe.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.domain_models import Exam, ExamSession, Review
from central.models import Event, Evidence, Violation
from central.scoring.policy import RetentionPolicy
from central.services.audit import SYSTEM, record
from central.services.errors import NotFound
from central.services.evidence import EvidenceFiles
from central.services.planning import proctoring_policy
from central.services.users import UserInfo

log = logging.getLogger(__name__)

Rule = Literal["clean", "flagged", "orphan"]
ACTION = "retention.purge"
ORPHAN_DAYS = RetentionPolicy().clean_days  # evidence of no scheduled session: as clean
_CHUNK = 500  # ids per IN (...) list
_REASON_LEN = 255


@dataclass(frozen=True)
class Verdict:
    """What one session's policy says about its evidence at the plan's time."""

    session_id: str
    exam_id: str
    rule: Rule
    days: int | None  # None: kept until deleted by hand
    released_at: datetime | None  # None: not released, so kept

    def due_at(self) -> datetime | None:
        if self.released_at is None or self.days is None:
            return None
        return self.released_at + timedelta(days=self.days)

    def allows(self, now: datetime) -> bool:
        due = self.due_at()
        return due is not None and now >= due

    def why_kept(self) -> str:
        if self.released_at is None:
            return f"{self.session_id} not released"
        if self.days is None:
            return f"{self.session_id} flagged, kept until deleted by hand"
        return f"{self.session_id} {self.rule} until {_day(self.due_at())}"


@dataclass(frozen=True)
class SessionPurge:
    """The evidence one session lets go now (session_id None: evidence of no session)."""

    session_id: str | None
    exam_id: str | None
    rule: Rule
    days: int
    released_at: datetime | None
    hashes: tuple[str, ...]
    size_bytes: int

    def describe(self) -> str:
        if self.session_id is None:
            return f"no session, {self.days} days after upload"
        return f"{self.rule} session, {self.days} days after release on {_day(self.released_at)}"


@dataclass(frozen=True)
class Held:
    """A file some of its sessions let go but another still keeps."""

    sha256: str
    kept_by: tuple[str, ...]


@dataclass(frozen=True)
class PurgePlan:
    now: datetime
    purges: tuple[SessionPurge, ...]
    held: tuple[Held, ...]
    reasons: dict[str, str] = field(default_factory=dict)  # sha256 -> tombstone text
    sizes: dict[str, int] = field(default_factory=dict)  # sha256 -> bytes, of those let go

    @property
    def hashes(self) -> set[str]:
        return {h for p in self.purges for h in p.hashes}

    @property
    def size_bytes(self) -> int:
        """Each file once, even when several sessions shared it."""
        return sum(self.sizes.get(h, 0) for h in self.hashes)


@dataclass(frozen=True)
class PurgeResult:
    marked: int  # rows newly marked purged
    deleted: int  # files removed from disk now
    already_missing: int  # marked now, but the file was gone already
    leftovers: int  # files of earlier tombstones removed now (an interrupted purge)
    failed: int  # files that could not be removed (left for the next run)


@dataclass
class _Candidate:
    sha256: str
    size_bytes: int
    uploaded_at: datetime
    sessions: set[str] = field(default_factory=set)
    unscheduled: bool = False  # referred to by an event of no scheduled session


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment is not None else "-"


def _chunks(items: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(items)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _candidates(session: Session) -> dict[str, _Candidate]:
    """Evidence not purged yet, with the sessions whose events refer to it."""
    statement = select(Evidence.sha256, Evidence.size_bytes, Evidence.uploaded_at).where(
        Evidence.purged_at.is_(None)
    )
    found = {sha: _Candidate(sha, size, at) for sha, size, at in session.execute(statement)}
    if not found:
        return found
    # Evidence refs live in the events' JSON; every event is read once per purge.
    events = select(Event.session_id, Event.evidence).execution_options(yield_per=1000)
    for session_id, refs in session.execute(events):
        for ref in refs or []:
            candidate = found.get(str(ref.get("sha256")))
            if candidate is not None and session_id is not None:
                candidate.sessions.add(session_id)
            elif candidate is not None:
                candidate.unscheduled = True
    return found


def _verdicts(session: Session, session_ids: set[str]) -> dict[str, Verdict]:
    """Each scheduled session's verdict; ids of no scheduled session are left out."""
    sittings: list[ExamSession] = []
    confirmed: set[str] = set()
    for chunk in _chunks(session_ids):
        sittings += session.scalars(select(ExamSession).where(ExamSession.session_id.in_(chunk)))
        flagged = (
            select(Violation.session_id)
            .join(Review, Review.violation_id == Violation.violation_id)
            .where(Violation.session_id.in_(chunk), Review.decision == "confirmed")
        )
        confirmed.update(sid for sid in session.scalars(flagged) if sid is not None)
    policies = {exam_id: _retention(session, exam_id) for exam_id in {s.exam_id for s in sittings}}
    return {
        s.session_id: _verdict(s, policies[s.exam_id], s.session_id in confirmed) for s in sittings
    }


def _verdict(sitting: ExamSession, policy: RetentionPolicy | None, flagged: bool) -> Verdict:
    days: int | None
    if policy is None:
        days = None  # an unreadable policy keeps everything
    else:
        days = policy.flagged_days_after_release if flagged else policy.clean_days
    rule: Rule = "flagged" if flagged else "clean"
    return Verdict(sitting.session_id, sitting.exam_id, rule, days, sitting.released_at)


def _retention(session: Session, exam_id: str) -> RetentionPolicy | None:
    try:
        return proctoring_policy(session.get(Exam, exam_id)).retention
    except ValidationError:
        log.warning("exam %s has an unreadable proctoring policy; its evidence is kept", exam_id)
        return None


def plan_purge(session: Session, now: datetime, orphan_days: int = ORPHAN_DAYS) -> PurgePlan:
    """What the policies let go at `now`, by session; reads only."""
    if now.tzinfo is None:
        raise ValueError("naive datetime: give `now` with a timezone")
    candidates = _candidates(session)
    verdicts = _verdicts(session, {s for c in candidates.values() for s in c.sessions})
    by_session: dict[str | None, list[_Candidate]] = defaultdict(list)
    held: list[Held] = []
    reasons: dict[str, str] = {}
    for candidate in candidates.values():
        known = [verdicts[s] for s in sorted(candidate.sessions) if s in verdicts]
        keepers = _keepers(candidate, known, now, orphan_days)
        voters = len(known) + int(_unscheduled(candidate, known))
        if keepers:
            if len(keepers) < voters:  # some let it go, another keeps it: worth saying
                held.append(Held(candidate.sha256, tuple(keepers)))
            continue
        if not known:
            by_session[None].append(candidate)
            reasons[candidate.sha256] = f"no session, {orphan_days} days after upload"
            continue
        for verdict in known:
            by_session[verdict.session_id].append(candidate)
        reasons[candidate.sha256] = "; ".join(
            f"{v.session_id}: {v.rule}, {v.days} days after release" for v in known
        )
    purges = [
        _session_purge(sid, items, verdicts, orphan_days) for sid, items in by_session.items()
    ]
    purges.sort(key=lambda p: (p.session_id is None, p.session_id or ""))
    sizes = {sha: candidates[sha].size_bytes for sha in reasons}
    return PurgePlan(now, tuple(purges), tuple(held), reasons, sizes)


def _unscheduled(candidate: _Candidate, known: list[Verdict]) -> bool:
    """Referred to by an event of no scheduled session (or by none at all)."""
    return candidate.unscheduled or len(known) < len(candidate.sessions) or not known


def _keepers(
    candidate: _Candidate, known: list[Verdict], now: datetime, orphan_days: int
) -> list[str]:
    """Why the file stays: one line per session (or unscheduled use) that keeps it."""
    keepers = [v.why_kept() for v in known if not v.allows(now)]
    orphan_due = candidate.uploaded_at + timedelta(days=orphan_days)
    if _unscheduled(candidate, known) and now < orphan_due:
        keepers.append(f"no session, until {_day(orphan_due)}")
    return keepers


def _session_purge(
    session_id: str | None, items: list[_Candidate], verdicts: dict[str, Verdict], orphan_days: int
) -> SessionPurge:
    hashes = tuple(sorted(c.sha256 for c in items))
    size = sum(c.size_bytes for c in items)
    if session_id is None:
        return SessionPurge(None, None, "orphan", orphan_days, None, hashes, size)
    verdict = verdicts[session_id]
    days = verdict.days if verdict.days is not None else 0  # allows() implies days is set
    return SessionPurge(
        session_id, verdict.exam_id, verdict.rule, days, verdict.released_at, hashes, size
    )


def apply_purge(
    session: Session, files: EvidenceFiles, plan: PurgePlan, actor: UserInfo = SYSTEM
) -> PurgeResult:
    """Mark the plan's rows purged and audit it (commits), then delete the files, including
    any an earlier, interrupted purge left behind. Rows purged already are not marked twice."""
    marked = _mark(session, plan, actor)
    session.commit()
    return _delete_files(session, files, marked)


def _mark(session: Session, plan: PurgePlan, actor: UserInfo) -> set[str]:
    wanted = plan.hashes
    rows: list[Evidence] = []
    for chunk in _chunks(wanted):
        rows += session.scalars(
            select(Evidence).where(Evidence.sha256.in_(chunk), Evidence.purged_at.is_(None))
        )
    at = datetime.now(UTC)
    for row in rows:
        row.purged_at = at
        row.purged_reason = plan.reasons.get(row.sha256, "retention policy")[:_REASON_LEN]
    marked = {row.sha256 for row in rows}
    for purge in plan.purges:
        hashes = [h for h in purge.hashes if h in marked]
        for target, detail_hashes in _audit_targets(purge, hashes):
            record(session, actor, ACTION, target, _detail(plan, purge, detail_hashes))
    session.flush()
    return marked


def _audit_targets(
    purge: SessionPurge, hashes: list[str]
) -> list[tuple[tuple[str, str], list[str]]]:
    """One entry per session; evidence of no session gets one entry per file."""
    if not hashes:
        return []
    if purge.session_id is None:
        return [(("evidence", h), [h]) for h in hashes]
    return [(("session", purge.session_id), hashes)]


def _detail(plan: PurgePlan, purge: SessionPurge, hashes: list[str]) -> dict[str, Any]:
    return {
        "rule": purge.rule,
        "days": purge.days,
        "exam_id": purge.exam_id,
        "released_at": purge.released_at.isoformat() if purge.released_at else None,
        "judged_at": plan.now.isoformat(),
        "hashes": hashes,
        "description": purge.describe(),
    }


def _delete_files(session: Session, files: EvidenceFiles, marked: set[str]) -> PurgeResult:
    counts = {"deleted": 0, "already_missing": 0, "leftovers": 0, "failed": 0}
    tombstones = select(Evidence.sha256, Evidence.stored_path).where(
        Evidence.purged_at.is_not(None)
    )
    for sha256, stored_path in session.execute(tombstones).all():
        path = _path(files, sha256, stored_path)
        if path is None:
            continue
        new = sha256 in marked
        if not path.is_file():
            if new:
                log.info("evidence %s was already missing on disk", sha256)
                counts["already_missing"] += 1
            continue
        try:
            _remove_file(path)
        except OSError as exc:
            log.warning("could not delete evidence %s (%s); the next purge retries", sha256, exc)
            counts["failed"] += 1
            continue
        if not new:
            log.warning("deleted evidence %s left behind by an interrupted purge", sha256)
        counts["deleted" if new else "leftovers"] += 1
    return PurgeResult(marked=len(marked), **counts)


def _path(files: EvidenceFiles, sha256: str, stored_path: str) -> Path | None:
    try:
        return files.absolute(stored_path)
    except NotFound:
        log.warning("evidence %s has a stored path outside the directory; left alone", sha256)
        return None


def _remove_file(path: Path) -> None:
    """The one place a file is deleted (tests make it fail to simulate a crash)."""
    path.unlink(missing_ok=True)
