"""Candidate imports running in the background, with a status the admin page polls.

The thread doing an import keeps its progress in the `import_jobs` table, so whichever web
worker a status request reaches (gunicorn runs several) reads the same answer. Progress reaches
the table from a small writer thread: at most every FLUSH_EVERY seconds while something
changed, and every HEARTBEAT_EVERY seconds while nothing did (a slow photo), so a running job's
row never goes quiet for long. A row still `running` whose last change is older than
STALE_AFTER belongs to a process that died (restart, crash): it is reported `interrupted`.
Candidates are committed one by one, so the ones imported before that are kept, and running
the same import again lists them as already registered.

Rows not updated for KEEP_FOR are deleted when a new import starts.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from central.domain_models import ImportJob
from central.services.candidate_imports import (
    CandidateProblem,
    CandidateUpload,
    Encoder,
    ImportReport,
    import_candidates,
    server_encoder,
)
from central.services.imports import ImportRejected
from central.services.users import UserInfo

log = logging.getLogger(__name__)

KIND_CANDIDATES = "candidates"
RUNNING, FINISHED, FAILED, INTERRUPTED = "running", "finished", "failed", "interrupted"
FLUSH_EVERY = 0.5  # seconds between progress writes while the import moves
HEARTBEAT_EVERY = 15.0  # seconds between writes while it does not (one slow photo)
STALE_AFTER = timedelta(seconds=60)  # a running row this quiet has lost its process
KEEP_FOR = timedelta(days=7)
MAX_PROBLEMS = 500  # sentences stored per job; a roster with more says how many were left out
INTERRUPTED_ERROR = (
    "The import was interrupted (the server stopped or restarted). The candidates imported "
    "before that are kept: run the same import again; they will be listed as already registered."
)


def start_import(
    sessions: sessionmaker[Session],
    actor: UserInfo,
    upload: CandidateUpload,
    encoder: Encoder | None = None,
) -> str:
    """Record a new job in its own transaction and start it; its id."""
    with sessions.begin() as session:
        job_id = create_import(session, actor)
    run_import(sessions, job_id, actor, upload, encoder)
    return job_id


def create_import(session: Session, actor: UserInfo) -> str:
    """Add a running job's row to the caller's transaction (forgetting old jobs); its id.
    Start it with `run_import` once committed: its thread writes to that row. (A web request
    on SQLite holds the write lock until it ends, so the row goes in the request's own
    transaction rather than in a second one that would wait for it.)"""
    now = datetime.now(UTC)
    job_id = uuid.uuid4().hex
    session.execute(delete(ImportJob).where(ImportJob.updated_at < now - KEEP_FOR))
    session.add(
        ImportJob(
            job_id=job_id,
            owner_id=actor.id,
            kind=KIND_CANDIDATES,
            state=RUNNING,
            total=0,
            done=0,
            imported=[],
            problems=[],
            error=None,
            started_at=now,
            updated_at=now,
            finished_at=None,
        )
    )
    session.flush()
    return job_id


def run_import(
    sessions: sessionmaker[Session],
    job_id: str,
    actor: UserInfo,
    upload: CandidateUpload,
    encoder: Encoder | None = None,
) -> None:
    """Import in a background thread, writing progress to the job's (committed) row."""
    thread = threading.Thread(
        target=_run,
        args=(_JobWriter(sessions, job_id), actor, upload, encoder),
        name=f"candidate-import-{job_id[:8]}",
        daemon=True,
    )
    thread.start()


def import_status(
    session: Session, job_id: str, now: datetime | None = None
) -> dict[str, Any] | None:
    """The job as the status page shows it; None for an unknown (or forgotten) job. Any admin
    may read any job: the owner is recorded, not enforced (as before the table existed)."""
    job = session.get(ImportJob, job_id, populate_existing=True)
    if job is None:
        return None
    state, error = job.state, job.error
    if state == RUNNING and job.updated_at < (now or datetime.now(UTC)) - STALE_AFTER:
        state, error = INTERRUPTED, INTERRUPTED_ERROR
    return {
        "job_id": job.job_id,
        "kind": job.kind,
        "owner_id": job.owner_id,
        "state": state,
        "total": job.total,
        "done": job.done,
        "imported": list(job.imported),
        "problems": list(job.problems),
        "error": error,
        "started_at": job.started_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def _run(
    writer: _JobWriter, actor: UserInfo, upload: CandidateUpload, encoder: Encoder | None
) -> None:
    writer.start()
    try:
        if encoder is None:
            with server_encoder() as default:
                report = import_candidates(writer.sessions, actor, upload, default, writer.update)
        else:
            report = import_candidates(writer.sessions, actor, upload, encoder, writer.update)
    except ImportRejected as exc:
        writer.finish(FAILED, [str(p) for p in exc.problems])
        return
    except Exception as exc:  # a thread must not die silently: say it on the page
        log.exception("candidate import %s failed", writer.job_id)
        writer.finish(FAILED, [f"the import stopped: {type(exc).__name__}"])
        return
    writer.update(report)
    writer.finish(FINISHED, [])


@dataclass
class _Snapshot:
    """The import's report as of its last progress call (copies: the import goes on)."""

    total: int = 0
    done: int = 0
    imported: list[str] = field(default_factory=list)
    problems: list[CandidateProblem] = field(default_factory=list)

    def problem_lines(self) -> list[str]:
        # Sorted and put into words here, at most twice a second, not at every candidate.
        return _bounded([str(p) for p in sorted(self.problems, key=lambda p: p.row)])


class _JobWriter:
    """Takes the import's progress calls (cheap: memory only) and writes them to the job's row
    from its own thread, so a thousand photos do not make a thousand extra commits."""

    def __init__(self, sessions: sessionmaker[Session], job_id: str) -> None:
        self.sessions, self.job_id = sessions, job_id
        self._lock = threading.Lock()
        self._latest = _Snapshot()
        self._changed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._write_until_stopped, name=f"import-status-{job_id[:8]}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def update(self, report: ImportReport) -> None:
        snapshot = _Snapshot(
            report.total, report.done, list(report.imported), list(report.problems)
        )
        with self._lock:
            self._latest, self._changed = snapshot, True

    def finish(self, state: str, errors: list[str]) -> None:
        """The last write, after the writer thread has stopped (so nothing overwrites it).
        `errors`: why a failed import stopped; they replace its problems on the page."""
        self._stop.set()
        self._thread.join()
        with self._lock:
            latest = self._latest
        problems = _bounded(errors) if errors else latest.problem_lines()
        try:
            self._write(latest, problems, state, "; ".join(errors[:5]) or None)
        except Exception:  # the row stays running, and is reported interrupted in a minute
            log.exception("candidate import %s: its final state was not stored", self.job_id)

    def _write_until_stopped(self) -> None:
        last_write = time.monotonic()
        while not self._stop.wait(FLUSH_EVERY):
            with self._lock:
                latest, changed = self._latest, self._changed
                self._changed = False
            if not changed and time.monotonic() - last_write < HEARTBEAT_EVERY:
                continue
            try:
                self._write(latest, latest.problem_lines(), RUNNING, None)
                last_write = time.monotonic()
            except Exception:  # a busy database must not stop the import: try again next time
                log.exception("candidate import %s: progress not stored", self.job_id)
                with self._lock:
                    self._changed = True

    def _write(self, latest: _Snapshot, problems: list[str], state: str, error: str | None) -> None:
        now = datetime.now(UTC)
        with self.sessions.begin() as session:
            job = session.get(ImportJob, self.job_id)
            if job is None:  # deleted meanwhile: nobody can ask about it any more
                return
            job.total, job.done = latest.total, latest.done
            job.imported, job.problems = list(latest.imported), problems
            job.state, job.error, job.updated_at = state, error, now
            if state != RUNNING:
                job.finished_at = now


def _bounded(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    left_out = len(problems) - MAX_PROBLEMS + 1
    return [*problems[: MAX_PROBLEMS - 1], f"... and {left_out} more problems not listed"]
