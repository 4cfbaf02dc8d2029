"""One job at a time on a daemon thread, off the frame path.

The frame loop must never wait for a slow model (a 128-d face encoding takes about 100 ms, an
object detector run about 25 ms). It hands a job over with :meth:`OffPathWorker.submit`, which
refuses while a job is in flight or its outcome has not been taken, and picks the outcome up
on a later frame with :meth:`OffPathWorker.take`. Work that falls due meanwhile waits for a
later frame: nothing queues up behind a slow run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from edge_agent.threads import lower_thread_priority

log = logging.getLogger(__name__)

# Measured with benchmarks.edge_pipeline --objects --audio on one core: at the frame loop's
# priority the detector's runs pushed the frame path's p99 from about 15-21 ms to 31 ms.
BACKGROUND_NICE = 10

J = TypeVar("J")
R = TypeVar("R")


@dataclass(frozen=True, eq=False)
class Outcome(Generic[J, R]):
    job: J
    result: R | None  # None when the work raised
    error: Exception | None
    elapsed_ms: float  # wall time of the work in the worker


class OffPathWorker(Generic[J, R]):
    """Runs ``work(job)`` on one daemon thread named ``name``. The thread starts with the
    first job; ``stop()`` then ``join()`` end it (a job in progress finishes first)."""

    def __init__(
        self, work: Callable[[J], R], name: str, *, niceness: int = BACKGROUND_NICE
    ) -> None:
        """`niceness`: how much lower than the frame loop the thread runs (Linux nice), so on
        a busy core the frame path keeps its latency and the work takes what is left."""
        self._work = work
        self.name = name
        self.niceness = niceness
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._job: J | None = None
        self._outcome: Outcome[J, R] | None = None
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._job is not None or self._outcome is not None

    def start(self) -> None:
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def submit(self, job: J) -> bool:
        with self._cond:
            if self._stop.is_set() or self._job is not None or self._outcome is not None:
                return False
            self._job = job
            self.start()
            self._cond.notify_all()
            return True

    def take(self) -> Outcome[J, R] | None:
        with self._cond:
            outcome, self._outcome = self._outcome, None
            return outcome

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no job is running (its outcome may be waiting to be taken)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._job is None, timeout_s)

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout_s: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("%s still running after %s s", self.name, timeout_s)

    def _run(self) -> None:
        lower_thread_priority(self.niceness)
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._job is not None or self._stop.is_set())
                if self._stop.is_set():
                    return
                job = self._job
            assert job is not None
            outcome = self._timed(job)
            with self._cond:
                self._job, self._outcome = None, outcome
                self._cond.notify_all()

    def _timed(self, job: J) -> Outcome[J, R]:
        started = time.perf_counter()
        result: R | None = None
        error: Exception | None = None
        try:
            result = self._work(job)
        except Exception as exc:  # a plugin boundary: the owner reports it as a fault
            error = exc
        return Outcome(job, result, error, (time.perf_counter() - started) * 1000.0)
