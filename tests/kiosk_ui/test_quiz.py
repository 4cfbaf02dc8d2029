"""The quiz engine on a real SQLite store with a clock the test moves."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk_ui.quiz import InvalidAnswer, Quiz, QuizClosed, normalise_answer, plan_order
from kiosk_ui.store import QuizStore
from protocol.models import AnswerSaved, ExamSubmitted
from tests.kiosk_ui.conftest import FakeKioskClock
from tests.kiosk_ui.exams import exam, four_kinds, question

SESSION = "sess-1"


def reopen(tmp_path: Path, quiz: Quiz, clock: FakeKioskClock) -> Quiz:
    """What a restarted screen process does: a new store handle, a new engine."""
    quiz.store.close()
    return Quiz(QuizStore(tmp_path / "kiosk.sqlite3"), quiz.exam, SESSION, clock)


def test_shuffle_is_per_candidate_and_stable() -> None:
    many = exam(
        [question(f"q{i}", "single", f"q{i}o0", options=6) for i in range(20)],
        policy={"shuffle_questions": True, "shuffle_options": True},
    )
    first, options = plan_order(many, "alice")
    assert plan_order(many, "alice") == (first, options)
    assert sorted(first) == sorted(q.id for q in many.questions)
    assert first != [q.id for q in many.questions]
    assert plan_order(many, "bob")[0] != first
    assert sorted(options["q3"]) == [f"q3o{i}" for i in range(6)]
    unshuffled = exam([question("a", "single", "ao0"), question("b", "single", "bo0")])
    assert plan_order(unshuffled, "alice") == (
        ["a", "b"],
        {"a": ["ao0", "ao1", "ao2", "ao3"], "b": ["bo0", "bo1", "bo2", "bo3"]},
    )


@pytest.mark.parametrize(
    ("qid", "raw", "stored"),
    [
        ("q1", "q1o1", "q1o1"),
        ("q1", "", None),
        ("q2", ["q2o3", "q2o0", "q2o3"], ["q2o0", "q2o3"]),
        ("q2", "q2o1", ["q2o1"]),
        ("q2", [], None),
        ("q3", " 3,14 ", "3.14"),
        ("q3", 2, "2"),
        ("q4", "  Paris  ", "Paris"),
    ],
)
def test_answers_are_normalised(qid: str, raw: object, stored: object) -> None:
    assert normalise_answer(four_kinds().question(qid), raw) == stored


@pytest.mark.parametrize(
    ("qid", "raw"),
    [
        ("q1", "nope"),
        ("q2", ["q2o0", "x"]),
        ("q3", "three"),
        ("q3", "nan"),
        ("q3", True),
        ("q4", 5),
        ("q4", "x" * 2001),
    ],
)
def test_bad_answers_are_refused(qid: str, raw: object) -> None:
    with pytest.raises(InvalidAnswer):
        normalise_answer(four_kinds().question(qid), raw)


def test_answers_need_a_running_exam(store: QuizStore, clock: FakeKioskClock) -> None:
    quiz = Quiz(store, four_kinds(), SESSION, clock)
    with pytest.raises(QuizClosed):
        quiz.answer("q1", "q1o2")
    quiz.start()
    quiz.pause()
    with pytest.raises(QuizClosed):
        quiz.answer("q1", "q1o2")
    quiz.resume()
    assert quiz.answer("q1", "q1o2")


def test_each_answer_is_queued_for_the_agent_once(store: QuizStore, clock: FakeKioskClock) -> None:
    quiz = Quiz(store, four_kinds(), SESSION, clock)
    quiz.start()
    assert quiz.answer("q2", ["q2o0"])
    assert not quiz.answer("q2", ["q2o0"])  # unchanged: nothing new to send
    assert quiz.toggle_flag("q2") is True
    messages = store.messages("answer")
    assert [(m["answer"], m["flagged_for_review"]) for m in messages] == [
        (["q2o0"], False),
        (["q2o0"], True),
    ]
    # Bodies carry exactly the contract's fields, which fit the wire model once the agent adds
    # its own (subject, clock, seq...).
    assert set(messages[0]) == {"id", "kind", "question_id", "answer", "flagged_for_review"}
    assert set(AnswerSaved.model_fields) >= set(messages[0])
    assert len({m["id"] for m in messages}) == 2


def test_flags_can_be_forbidden(store: QuizStore, clock: FakeKioskClock) -> None:
    quiz = Quiz(store, four_kinds(policy={"allow_review_flags": False}), SESSION, clock)
    quiz.start()
    with pytest.raises(InvalidAnswer):
        quiz.toggle_flag("q1")


def test_navigation_is_clamped_and_kept(tmp_path: Path, clock: FakeKioskClock) -> None:
    quiz = Quiz(QuizStore(tmp_path / "kiosk.sqlite3"), four_kinds(), SESSION, clock)
    quiz.go(2)
    assert quiz.view().question.id == "q3"
    quiz.go(99)
    assert quiz.view().index == 3
    quiz.go(-1)
    assert quiz.current == 0
    quiz.go(1)
    assert reopen(tmp_path, quiz, clock).view().question.id == "q2"


def test_timer_runs_on_the_monotonic_clock(store: QuizStore, clock: FakeKioskClock) -> None:
    quiz = Quiz(store, four_kinds(policy={"duration_s": 100}), SESSION, clock)
    clock.advance(50)
    assert quiz.remaining_s() == 100  # not started
    quiz.start()
    clock.advance(30)
    clock.wall_s += 3600  # time sync steps the wall clock: no effect while running
    assert quiz.remaining_s() == 70
    quiz.pause()
    clock.advance(20)
    assert quiz.remaining_s() == 70
    quiz.resume()
    clock.advance(5)
    assert quiz.remaining_s() == 65


def test_wrong_single_choice_takes_time_off_at_once_and_once(
    store: QuizStore, clock: FakeKioskClock
) -> None:
    quiz = Quiz(
        store,
        four_kinds(policy={"duration_s": 600}, scoring={"time_penalty_s": 60}),
        SESSION,
        clock,
    )
    quiz.start()
    quiz.answer("q1", "q1o2")  # right: no penalty
    assert quiz.remaining_s() == 600
    quiz.answer("q1", "q1o0")  # wrong: a tap is a decision
    assert quiz.remaining_s() == 540
    quiz.answer("q1", "q1o1")  # wrong again, same question: no second penalty
    quiz.answer("q1", "q1o2")  # right now: the time is not given back
    assert quiz.remaining_s() == 540
    assert quiz.score().time_penalty_s == 60
    assert quiz.score().correct == 1


def test_typed_and_ticked_answers_cost_time_when_left_or_confirmed(
    store: QuizStore, clock: FakeKioskClock
) -> None:
    quiz = Quiz(
        store,
        four_kinds(policy={"duration_s": 600}, scoring={"time_penalty_s": 60}),
        SESSION,
        clock,
    )
    quiz.start()
    quiz.go(1)
    quiz.answer("q2", ["q2o0"])  # half of the right set, saved as it is ticked: no cost yet
    quiz.answer("q2", ["q2o0", "q2o3"])
    quiz.go(2)  # leaving q2 with a right answer: nothing taken
    quiz.answer("q3", "3.")
    assert quiz.remaining_s() == 600
    quiz.go(3)  # leaving q3 with a wrong answer
    assert quiz.remaining_s() == 540
    quiz.answer("q4", "Rome", settle=True)  # confirmed with Enter
    assert quiz.remaining_s() == 480
    assert len(store.messages("answer")) == 4  # every change was still saved and queued


def test_penalty_that_ends_the_time_submits(store: QuizStore, clock: FakeKioskClock) -> None:
    quiz = Quiz(
        store,
        four_kinds(policy={"duration_s": 100}, scoring={"time_penalty_s": 300}),
        SESSION,
        clock,
    )
    quiz.start()
    quiz.answer("q1", "q1o0")
    assert quiz.remaining_s() == 0
    assert quiz.submitted_reason == "time_up"
    assert store.messages("answer")[0]["answer"] == "q1o0"  # the answer itself was kept


def test_auto_submit_at_time_end_is_idempotent(store: QuizStore, clock: FakeKioskClock) -> None:
    quiz = Quiz(store, four_kinds(policy={"duration_s": 60}), SESSION, clock)
    quiz.start()
    quiz.answer("q1", "q1o2")
    clock.advance(59.5)
    assert not quiz.tick()
    clock.advance(1)
    assert quiz.tick()
    assert not quiz.tick()
    assert not quiz.submit("candidate")
    submitted = store.messages("submitted")
    assert [(m["reason"], m["answered_count"]) for m in submitted] == [("time_up", 1)]
    assert set(ExamSubmitted.model_fields) >= set(submitted[0])
    with pytest.raises(QuizClosed):
        quiz.answer("q2", ["q2o1"])
    assert quiz.progress_state() == "submitted"


def test_restart_in_the_same_boot_does_not_count_downtime(
    tmp_path: Path, clock: FakeKioskClock
) -> None:
    quiz = Quiz(
        QuizStore(tmp_path / "kiosk.sqlite3"),
        four_kinds(policy={"duration_s": 600}),
        SESSION,
        clock,
    )
    quiz.start()
    quiz.go(2)
    quiz.answer("q3", "3.14")
    clock.advance(100)
    quiz.tick()
    clock.advance(0.5)  # killed half a second after the last tick...
    clock.advance(40)  # ...and started again 40 s later
    again = reopen(tmp_path, quiz, clock)
    assert again.remaining_s() == 500
    assert again.view().question.id == "q3"
    assert again.view().answer == "3.14"
    clock.advance(10)
    assert again.remaining_s() == 490


@pytest.mark.parametrize("count_downtime", [True, False])
def test_power_cut_downtime_follows_the_policy(
    tmp_path: Path, clock: FakeKioskClock, count_downtime: bool
) -> None:
    policy = {"duration_s": 600, "count_downtime": count_downtime}
    quiz = Quiz(QuizStore(tmp_path / "kiosk.sqlite3"), four_kinds(policy=policy), SESSION, clock)
    quiz.start()
    clock.advance(100)
    quiz.tick()
    clock.reboot(off_s=120)  # power back two minutes later: a new boot, monotonic restarts
    again = reopen(tmp_path, quiz, clock)
    assert again.remaining_s() == (380 if count_downtime else 500)
    clock.advance(5)
    assert again.remaining_s() == (375 if count_downtime else 495)


def test_same_boot_downtime_counts_on_the_monotonic_clock(
    tmp_path: Path, clock: FakeKioskClock
) -> None:
    policy = {"duration_s": 600, "count_downtime": True}
    quiz = Quiz(QuizStore(tmp_path / "kiosk.sqlite3"), four_kinds(policy=policy), SESSION, clock)
    quiz.start()
    quiz.tick()
    clock.advance(30)
    clock.wall_s -= 1000  # the wall clock stepped back meanwhile: ignored within a boot
    assert reopen(tmp_path, quiz, clock).remaining_s() == 570


def test_time_runs_out_while_off(tmp_path: Path, clock: FakeKioskClock) -> None:
    policy = {"duration_s": 60, "count_downtime": True}
    quiz = Quiz(QuizStore(tmp_path / "kiosk.sqlite3"), four_kinds(policy=policy), SESSION, clock)
    quiz.start()
    clock.reboot(off_s=300)
    again = reopen(tmp_path, quiz, clock)
    assert again.remaining_s() == 0
    assert again.tick()
    assert again.submitted_reason == "time_up"
