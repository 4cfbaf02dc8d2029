"""The quiz engine: order, navigation, answers, flags, the timer, submission.

The exam's end is authoritative on the kiosk's monotonic clock while the screen runs: elapsed
exam time is `elapsed_s` (stored) plus the monotonic time since `last_mono`. Each tick and each
answer writes both down, so after a restart the stored elapsed time is at most one tick old.
Time the kiosk was off (process killed, power cut) counts against the candidate only when the
exam policy says `count_downtime`; it is measured on the monotonic clock within one boot, on
the wall clock across boots (the only clock that survives a power cut).
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import time
from dataclasses import dataclass
from typing import Literal, Protocol

from edge_agent.clock import read_boot_id
from kiosk_ui.scoring import ScoreBreakdown, score
from kiosk_ui.store import AnswerRow, QuizStore, SessionRow
from protocol.exam import ExamDefinition, Option, Question, QuestionKind, judge
from protocol.ids import uuid7
from protocol.models import AnswerValue

log = logging.getLogger(__name__)

SubmitReason = Literal["candidate", "time_up", "remote_end"]
MAX_TEXT = 2000


class KioskClock(Protocol):
    boot_id: str

    def monotonic(self) -> float: ...

    def wall(self) -> float: ...


class SystemClock:
    def __init__(self, boot_id: str | None = None) -> None:
        self.boot_id = boot_id or read_boot_id()

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


class InvalidAnswer(ValueError):
    """The value does not fit the question (unknown option, not a number, too long)."""


class QuizClosed(RuntimeError):
    """The exam is not running (not started, or submitted) so answers are refused."""


@dataclass(frozen=True)
class QuestionView:
    index: int
    total: int
    question: Question
    options: tuple[Option, ...]  # in this candidate's order
    answer: AnswerValue
    flagged: bool


def plan_order(exam: ExamDefinition, session_id: str) -> tuple[list[str], dict[str, list[str]]]:
    """This candidate's question and option order: shuffled as the policy says, seeded by the
    session id so that the same candidate always gets the same order."""
    questions = [q.id for q in exam.questions]
    if exam.policy.shuffle_questions:
        _rng(session_id, exam.id, "questions").shuffle(questions)
    options: dict[str, list[str]] = {}
    for q in exam.questions:
        ids = [o.id for o in q.options]
        if exam.policy.shuffle_options:
            _rng(session_id, exam.id, q.id).shuffle(ids)
        options[q.id] = ids
    return questions, options


def _rng(*parts: str) -> random.Random:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def normalise_answer(question: Question, raw: object) -> AnswerValue:
    """What the screen sent, as the value to store; None clears the answer."""
    if raw is None or raw in ("", []):
        return None
    option_ids = [o.id for o in question.options]
    if question.kind is QuestionKind.SINGLE:
        if not isinstance(raw, str) or raw not in option_ids:
            raise InvalidAnswer("unknown option")
        return raw
    if question.kind is QuestionKind.MULTIPLE:
        chosen = [raw] if isinstance(raw, str) else raw
        if not isinstance(chosen, list) or not all(c in option_ids for c in chosen):
            raise InvalidAnswer("unknown option")
        return [o for o in option_ids if o in chosen]
    if question.kind is QuestionKind.NUMERIC:
        return _numeric_text(raw)
    if not isinstance(raw, str):
        raise InvalidAnswer("text expected")
    text = raw.strip()
    if len(text) > MAX_TEXT:
        raise InvalidAnswer("text too long")
    return text or None


def _numeric_text(raw: object) -> str:
    """Numbers are kept as typed (a decimal comma becomes a point) once they parse."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise InvalidAnswer("number expected")
    text = str(raw).strip().replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        raise InvalidAnswer("number expected") from None
    if not math.isfinite(number) or len(text) > 40:
        raise InvalidAnswer("number expected")
    return text


class Quiz:
    """One candidate's exam on this kiosk, backed by the store. Not thread-safe by itself:
    the app serialises calls with its lock."""

    def __init__(
        self, store: QuizStore, exam: ExamDefinition, session_id: str, clock: KioskClock
    ) -> None:
        self.store = store
        self.exam = exam
        self.session_id = session_id
        self.clock = clock
        questions, options = plan_order(exam, session_id)
        store.create_session(session_id, exam.model_dump_json(), questions, options)
        self._row = self._load()
        self._resume_after_restart()

    # -- state ------------------------------------------------------------------------------

    def _load(self) -> SessionRow:
        row = self.store.session(self.session_id)
        assert row is not None  # created in __init__
        return row

    def _update(self, **fields: object) -> None:
        self.store.update_session(self.session_id, **fields)
        self._row = self._load()

    @property
    def stage(self) -> str:
        return self._row.stage

    def set_stage(self, stage: str) -> None:
        self._update(stage=stage)

    @property
    def running(self) -> bool:
        return self._row.running and self._row.submitted_reason is None

    @property
    def paused(self) -> bool:
        return self._row.paused

    @property
    def submitted_reason(self) -> str | None:
        return self._row.submitted_reason

    @property
    def current(self) -> int:
        return self._row.current

    @property
    def penalty_s(self) -> float:
        return self._row.penalty_s

    # -- timer ------------------------------------------------------------------------------

    def _resume_after_restart(self) -> None:
        row = self._row
        if not self.running or row.last_mono is None:
            return
        now_mono, now_wall = self.clock.monotonic(), self.clock.wall()
        if row.boot_id == self.clock.boot_id:
            downtime = max(0.0, now_mono - row.last_mono)
        else:
            downtime = max(0.0, now_wall - (row.last_wall or now_wall))
        counted = downtime if self.exam.policy.count_downtime and not row.paused else 0.0
        log.info("quiz resumed after %.1f s off (%.1f s counted)", downtime, counted)
        self._update(
            elapsed_s=row.elapsed_s + counted,
            last_mono=now_mono,
            last_wall=now_wall,
            boot_id=self.clock.boot_id,
        )

    def elapsed_s(self) -> float:
        row = self._row
        if not self.running or row.paused or row.last_mono is None:
            return row.elapsed_s
        return row.elapsed_s + max(0.0, self.clock.monotonic() - row.last_mono)

    @property
    def extra_s(self) -> float:
        return self._row.extra_s

    def set_extra_time(self, seconds: float) -> None:
        """The invigilators' adjustments so far (central's adjust_time command, summed)."""
        if self.running and seconds != self._row.extra_s:
            log.info("time adjusted: %+.0f s in all", seconds)
            self._update(extra_s=seconds)

    def remaining_s(self) -> float:
        duration = self.exam.policy.duration_s + self._row.extra_s
        left = duration - self.elapsed_s() - self._row.penalty_s
        return max(0.0, left)

    def _timing(self) -> dict[str, object]:
        return {
            "elapsed_s": self.elapsed_s(),
            "last_mono": self.clock.monotonic(),
            "last_wall": self.clock.wall(),
        }

    def tick(self) -> bool:
        """Write the clock down; submit when time is up. True if this tick submitted."""
        if not self.running:
            return False
        self._update(**self._timing())
        if self.remaining_s() <= 0:
            return self.submit("time_up")
        return False

    def start(self) -> None:
        if self._row.running or self._row.submitted_reason is not None:
            return
        self._update(running=1, stage="quiz", boot_id=self.clock.boot_id, **self._timing())

    def pause(self) -> None:
        if self.running and not self._row.paused:
            self._update(paused=1, **self._timing())

    def resume(self) -> None:
        if self._row.paused:
            self._update(paused=0, last_mono=self.clock.monotonic(), last_wall=self.clock.wall())

    # -- questions and answers --------------------------------------------------------------

    @property
    def total(self) -> int:
        return len(self._row.question_order)

    @property
    def question_ids(self) -> tuple[str, ...]:
        """In this candidate's order."""
        return self._row.question_order

    def view(self, index: int | None = None) -> QuestionView:
        index = self._row.current if index is None else index
        index = min(max(index, 0), self.total - 1)
        question = self.exam.question(self._row.question_order[index])
        by_id = {o.id: o for o in question.options}
        options = tuple(by_id[o] for o in self._row.option_order.get(question.id, []))
        saved = self.store.answers(self.session_id).get(question.id)
        return QuestionView(
            index=index,
            total=self.total,
            question=question,
            options=options,
            answer=None if saved is None else saved.value,
            flagged=bool(saved and saved.flagged),
        )

    def go(self, index: int) -> None:
        """Move to another question; leaving one settles its time penalty."""
        if self.running and not self._row.paused:
            self.settle(self._row.question_order[self._row.current])
        self._update(current=min(max(index, 0), self.total - 1))

    def answers(self) -> dict[str, AnswerRow]:
        return self.store.answers(self.session_id)

    def answered_count(self) -> int:
        return sum(1 for a in self.answers().values() if a.value is not None)

    def flagged_count(self) -> int:
        return sum(1 for a in self.answers().values() if a.flagged)

    def answer(
        self,
        question_id: str,
        raw: object,
        flagged: bool | None = None,
        settle: bool | None = None,
    ) -> bool:
        """Save an answer (and its flag) and queue it for the agent; False when nothing
        changed. `settle` applies the time penalty now if the answer is wrong: by default for a
        single choice (a tap is a decision); other kinds are settled when the candidate leaves
        the question or confirms, so that half-typed numbers and half-ticked lists, which are
        saved as they change, do not cost time."""
        self._require_open()
        question = self.exam.question(question_id)
        value = normalise_answer(question, raw)
        previous = self.answers().get(question_id)
        flag = (previous.flagged if previous else False) if flagged is None else flagged
        if flag and not self.exam.policy.allow_review_flags:
            raise InvalidAnswer("review flags are not allowed in this exam")
        changed = previous is None or previous.value != value or previous.flagged != flag
        if previous is None and value is None and not flag:
            changed = False
        if changed:
            verdict = judge(self.exam, question, value)
            penalised = previous.time_penalised if previous else False
            row = AnswerRow(question_id, value, flag, verdict, penalised)
            message = {
                "id": str(uuid7()),
                "kind": "answer",
                "question_id": question_id,
                "answer": value,
                "flagged_for_review": flag,
            }
            self.store.save_answer(self.session_id, row, message)
        if question.kind is QuestionKind.SINGLE if settle is None else settle:
            self.settle(question_id)
        self._row = self._load()
        if self.remaining_s() <= 0:
            self.submit("time_up")
        return changed

    def settle(self, question_id: str) -> bool:
        """Take the policy's time penalty off the clock if this question's saved answer is
        wrong and has not cost time yet (once per question, never given back). True if taken."""
        saved = self.answers().get(question_id)
        penalty = self.exam.scoring.time_penalty_s
        if saved is None or saved.verdict != "wrong" or saved.time_penalised or penalty <= 0:
            return False
        self.store.penalise(self.session_id, question_id, penalty)
        self._row = self._load()
        return True

    def toggle_flag(self, question_id: str) -> bool:
        previous = self.answers().get(question_id)
        flagged = not (previous.flagged if previous else False)
        self.answer(question_id, previous.value if previous else None, flagged=flagged)
        return flagged

    def _require_open(self) -> None:
        if not self.running:
            raise QuizClosed("the exam is not running")
        if self._row.paused:
            raise QuizClosed("the exam is paused")
        if self.remaining_s() <= 0:
            self.submit("time_up")
            raise QuizClosed("time is up")

    # -- the end ----------------------------------------------------------------------------

    def submit(self, reason: SubmitReason) -> bool:
        """Submit once; later calls (any reason) change nothing. True if this call submitted."""
        message = {
            "id": str(uuid7()),
            "kind": "submitted",
            "reason": reason,
            "answered_count": self.answered_count(),
        }
        done = self.store.submit_once(self.session_id, reason, self._timing(), message)
        self._row = self._load()
        if done:
            log.info("exam submitted (%s)", reason)
        return done

    def score(self) -> ScoreBreakdown:
        values = {qid: a.value for qid, a in self.answers().items()}
        return score(self.exam, values, time_penalty_s=self._row.penalty_s)

    def progress_state(self) -> str:
        if self._row.submitted_reason is not None:
            return "submitted"
        if self.running:
            return "paused" if self._row.paused else "running"
        return "ready" if self._row.stage in ("consent", "quiz") else "checkin"
