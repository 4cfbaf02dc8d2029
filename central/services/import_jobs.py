"""Candidate imports running in the background, with a status the admin page polls.

Status lives in this process's memory: one web process (as in a centre) sees all its jobs. With
several web workers, route the status requests to the worker that started the job (or keep the
status in a table): see the report of the work that added this.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from central.services.candidate_imports import (
    CandidateUpload,
    Encoder,
    ImportReport,
    import_candidates,
    server_encoder,
)
from central.services.imports import ImportRejected
from central.services.users import UserInfo

log = logging.getLogger(__name__)
KEEP_JOBS = 50  # finished jobs kept for their status page


@dataclass
class JobStatus:
    job_id: str
    owner: int
    state: str = "running"  # running / finished / failed
    total: int = 0
    done: int = 0
    imported: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "imported": list(self.imported),
            "problems": list(self.problems),
            "error": self.error,
        }


class ImportJobs:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, JobStatus] = {}

    def start(
        self,
        sessions: sessionmaker[Session],
        actor: UserInfo,
        upload: CandidateUpload,
        encoder: Encoder | None = None,
    ) -> str:
        job = JobStatus(job_id=uuid.uuid4().hex, owner=actor.id)
        with self._lock:
            self._forget_old()
            self._jobs[job.job_id] = job
        thread = threading.Thread(
            target=self._run,
            args=(job, sessions, actor, upload, encoder),
            name=f"candidate-import-{job.job_id[:8]}",
            daemon=True,
        )
        thread.start()
        return job.job_id

    def status(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return job.as_dict() if job is not None else None

    def _run(
        self,
        job: JobStatus,
        sessions: sessionmaker[Session],
        actor: UserInfo,
        upload: CandidateUpload,
        encoder: Encoder | None,
    ) -> None:
        try:
            if encoder is None:
                with server_encoder() as default:
                    report = import_candidates(
                        sessions, actor, upload, default, self._progress(job)
                    )
            else:
                report = import_candidates(sessions, actor, upload, encoder, self._progress(job))
        except ImportRejected as exc:
            self._finish(job, "failed", [str(p) for p in exc.problems])
            return
        except Exception as exc:  # a thread must not die silently: say it on the page
            log.exception("candidate import %s failed", job.job_id)
            self._finish(job, "failed", [f"the import stopped: {type(exc).__name__}"])
            return
        self._update(job, report)
        self._finish(job, "finished", [])

    def _progress(self, job: JobStatus) -> Any:
        return lambda report: self._update(job, report)

    def _update(self, job: JobStatus, report: ImportReport) -> None:
        with self._lock:
            job.total, job.done = report.total, report.done
            job.imported = list(report.imported)
            job.problems = [str(p) for p in sorted(report.problems, key=lambda p: p.row)]

    def _finish(self, job: JobStatus, state: str, errors: list[str]) -> None:
        with self._lock:
            job.state = state
            if errors:
                job.error = "; ".join(errors[:5])
                job.problems = errors

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state != "running"]
        for job in finished[: max(0, len(finished) - KEEP_JOBS)]:
            del self._jobs[job.job_id]
