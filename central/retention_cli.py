"""`python -m central purge-evidence [--dry-run] [--now ISO8601]`: run the retention policy once
and print, per session, what was (or would be) deleted, then the totals. Run daily by
`proctor-evidence-purge.timer`; safe to run again at any time (docs/retention.md)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from central.config import CentralConfig
from central.db import create_db_engine, make_sessionmaker
from central.services.evidence import EvidenceFiles
from central.services.retention import PurgePlan, PurgeResult, apply_purge, plan_purge


def moment(value: str) -> datetime:
    """An ISO 8601 time; one without a zone is read as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _size(size_bytes: int) -> str:
    return f"{size_bytes / 1_000_000:.1f} MB" if size_bytes >= 100_000 else f"{size_bytes} B"


def describe_plan(plan: PurgePlan, dry_run: bool) -> list[str]:
    verb = "would delete" if dry_run else "deleting"
    lines = [f"retention judged at {plan.now.isoformat()}"]
    for purge in plan.purges:
        who = purge.session_id or "evidence of no session"
        exam = f" (exam {purge.exam_id})" if purge.exam_id else ""
        lines.append(
            f"{who}{exam}: {verb} {len(purge.hashes)} file(s), {_size(purge.size_bytes)}"
            f" [{purge.describe()}]"
        )
        lines += [f"  {sha}" for sha in purge.hashes]
    for held in plan.held:
        lines.append(f"kept {held.sha256[:12]}: shared, still kept by {'; '.join(held.kept_by)}")
    sessions = sum(1 for p in plan.purges if p.session_id is not None)
    lines.append(
        f"total: {len(plan.hashes)} file(s), {_size(plan.size_bytes)}, from {sessions} session(s)"
    )
    return lines


def describe_result(result: PurgeResult) -> str:
    return (
        f"done: {result.marked} marked deleted, {result.deleted} file(s) removed, "
        f"{result.already_missing} already missing, {result.leftovers} left over from an "
        f"earlier run removed, {result.failed} could not be removed"
    )


def cmd_purge_evidence(config: CentralConfig, *, dry_run: bool, now: datetime | None) -> int:
    files = EvidenceFiles(config.evidence_dir, config.evidence_max_bytes)
    engine = create_db_engine(config.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            plan = plan_purge(session, now or datetime.now(UTC))
            print("\n".join(describe_plan(plan, dry_run)))
            if dry_run:
                session.rollback()
                return 0
            print(describe_result(apply_purge(session, files, plan)))
    finally:
        engine.dispose()
    return 0
