"""What the screens do, in one place: the views and the background loop both call this.

It keeps the last good `/v1/state` of the agent (the screen keeps working from the store when
the agent is briefly away), opens the candidate's quiz, and turns the agent's control (pause,
end, warnings) into quiz actions.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from kiosk_ui.agent_client import AgentClient, AgentUnavailable
from kiosk_ui.forwarder import forward_pending
from kiosk_ui.i18n import LANGUAGES
from kiosk_ui.quiz import KioskClock, Quiz
from kiosk_ui.store import LAST_VIOLATION, QuizStore
from protocol.exam import ExamDefinition
from protocol.ids import uuid7

log = logging.getLogger(__name__)

STAGES = ("language", "checkin", "calibration", "consent", "quiz", "result")
RULES_VERSION = "2026-12-r1"
LANGUAGE_KEY = "language"


@dataclass(frozen=True)
class KioskSettings:
    max_face_attempts: int = 3
    calibration_s: float = 3.0
    min_face_found_ratio: float = 0.95
    retention_days: int = 30  # shown on the rules screen; matches the centre's evidence policy
    default_language: str = "en"


class KioskService:
    def __init__(
        self,
        store: QuizStore,
        agent: AgentClient,
        clock: KioskClock,
        settings: KioskSettings | None = None,
    ) -> None:
        self.store = store
        self.agent = agent
        self.clock = clock
        self.settings = settings or KioskSettings()
        self.lock = threading.RLock()
        self._state: dict[str, Any] | None = None
        self.agent_online = False
        self._quiz: Quiz | None = None
        self.forward_now = threading.Event()

    # -- the agent's state ------------------------------------------------------------------

    def refresh(self) -> dict[str, Any] | None:
        """Ask the agent for its state; on failure keep the last good one."""
        try:
            state = self.agent.state()
        except AgentUnavailable as error:
            log.debug("no agent state: %s", error)
            self.agent_online = False
            return self._state
        with self.lock:
            self._state = state
            self.agent_online = True
        return state

    def state(self) -> dict[str, Any] | None:
        return self._state if self._state is not None else self.refresh()

    def enrolment(self) -> dict[str, Any] | None:
        state = self.state()
        enrolment = state.get("enrolment") if state else None
        return enrolment if isinstance(enrolment, dict) else None

    def control(self) -> dict[str, Any]:
        state = self.state() or {}
        control = state.get("control")
        return control if isinstance(control, dict) else {}

    # -- the candidate's quiz ---------------------------------------------------------------

    def quiz(self) -> Quiz | None:
        """The quiz of the enrolled session; from the store alone when the agent is away."""
        with self.lock:
            session_id, exam = self._session_and_exam()
            if session_id is None or exam is None:
                return None
            if self._quiz is None or self._quiz.session_id != session_id:
                if self.store.session(session_id) is None:
                    self._new_candidate()
                self._quiz = Quiz(self.store, exam, session_id, self.clock)
            return self._quiz

    def _new_candidate(self) -> None:
        """No flags yet, and the screens start in the language central enrolled them with."""
        self.store.put(LAST_VIOLATION, "")
        language = str((self.enrolment() or {}).get("language", ""))
        self.set_language(language if language in LANGUAGES else self.settings.default_language)

    def _session_and_exam(self) -> tuple[str | None, ExamDefinition | None]:
        enrolment = self.enrolment()
        state = self.state() or {}
        if enrolment is not None:
            session_id = str(enrolment["session_id"])
            row = self.store.session(session_id)
            if row is not None:  # the exam as it was when the candidate started
                return session_id, ExamDefinition.model_validate_json(row.exam_json)
            exam = state.get("exam")
            if isinstance(exam, dict) and exam.get("id") == enrolment.get("exam_id"):
                return session_id, _exam_from_json(exam)
            return session_id, None
        if self.agent_online:
            return None, None  # the agent says nobody is enrolled at this seat
        latest = self.store.latest_session_id()  # agent away: carry on with what we have
        row = self.store.session(latest) if latest else None
        if row is None:
            return None, None
        return row.session_id, ExamDefinition.model_validate_json(row.exam_json)

    # -- language ---------------------------------------------------------------------------

    def language(self) -> str:
        return self.store.get(LANGUAGE_KEY) or self.settings.default_language

    def set_language(self, language: str) -> None:
        self.store.put(LANGUAGE_KEY, language)

    # -- messages and signals for the agent -------------------------------------------------

    def send(self, body: dict[str, Any]) -> str:
        """Queue a session message (committed first) and wake the forwarder."""
        body = {"id": str(uuid7()), **body}
        message_id = self.store.queue(body, "/v1/messages")
        self.forward_now.set()
        return message_id

    def signal(self, body: dict[str, Any]) -> None:
        self.store.queue(body, "/v1/signals")
        self.forward_now.set()

    def forward(self) -> int:
        return forward_pending(self.store, self.agent)

    def last_flag(self) -> str | None:
        """The most recent flag the candidate may explain: a warning or a lockdown violation."""
        candidates = [self.store.get(LAST_VIOLATION) or ""]
        candidates += [str(w.get("id", "")) for w in self.control().get("warnings", [])]
        best: uuid.UUID | None = None
        for text in candidates:
            try:
                value = uuid.UUID(text)
            except ValueError:
                continue
            if value.version == 7 and (best is None or value.int > best.int):
                best = value
        return None if best is None else str(best)

    # -- the loop ---------------------------------------------------------------------------

    def beat(self) -> None:
        """One heartbeat: refresh the agent's state, apply its control, tick the clock, report
        progress, forward what waits."""
        self.refresh()
        with self.lock:
            quiz = self.quiz()
            if quiz is not None:
                self.apply_control(quiz)
                quiz.tick()
                progress = self.progress(quiz)
        if quiz is not None:
            # The heartbeat is a live view: a lost one is replaced by the next beat's.
            with contextlib.suppress(AgentUnavailable):
                self.agent.request("PUT", "/v1/progress", progress)
        self.forward()

    def apply_control(self, quiz: Quiz) -> None:
        control = self.control()
        if not control or quiz.submitted_reason is not None:
            return
        if control.get("ended"):
            quiz.submit("remote_end")
            return
        limit = quiz.exam.policy.warning_limit
        count = int(control.get("warning_count", 0))
        if quiz.exam.policy.end_at_warning_limit and limit and count >= limit and quiz.running:
            quiz.submit("remote_end")
            return
        extra = control.get("extra_time_s", 0.0)
        if isinstance(extra, int | float) and not isinstance(extra, bool):
            quiz.set_extra_time(float(extra))
        if control.get("paused"):
            quiz.pause()
        else:
            quiz.resume()

    def progress(self, quiz: Quiz) -> dict[str, Any]:
        return {
            "state": quiz.progress_state(),
            "answered": quiz.answered_count(),
            "total": quiz.total,
            "remaining_s": round(quiz.remaining_s(), 1),
            "warnings": int(self.control().get("warning_count", 0)),
        }


def _exam_from_json(body: dict[str, Any]) -> ExamDefinition | None:
    try:
        return ExamDefinition.model_validate_json(json.dumps(body))
    except ValidationError as error:
        log.error("the agent's exam does not validate: %s", error)
        return None
