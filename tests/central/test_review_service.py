"""Review queue, decisions, release and audit through the service layer, on SQLite and MariaDB."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.domain_models import AuditEntry, ExamSession
from central.scoring.policy import ProctoringPolicy
from central.services import get_user, store_batch
from central.services.audit import entries_for
from central.services.errors import Conflict, InvalidParameter, NotFound
from central.services.planning import create_candidate, schedule_session, set_session_state
from central.services.results import release, release_ready_sessions, session_result
from central.services.review import decide, review_queue
from central.services.users import UserInfo
from protocol import Severity, ViolationType
from tests.central import exam_day
from tests.central.exam_day import EXPLANATION, SHA_A, Day


def _reviewer(session: Session, day: Day) -> UserInfo:
    user = get_user(session, day.user_ids["rita"])
    assert user is not None
    return user


def test_queue_orders_flags_and_carries_evidence_and_explanations(
    any_sessions: sessionmaker[Session],
) -> None:
    with any_sessions.begin() as session:
        day = exam_day.build(session, hall_b_flag=True)
    with any_sessions() as session:
        queue = review_queue(session, "exam-1")
    # high before medium before low; the raised hand (weight 0) is not a flag
    assert [f.violation.violation_id for f in queue] == [
        day.phone,
        day.looking_away,
        day.hall_b_flag,
    ]
    phone = queue[0]
    assert [e.sha256 for e in phone.evidence] == [SHA_A]
    assert phone.explanations == (EXPLANATION,)
    assert phone.exam_session.session_id == "sess-1"
    assert queue[1].evidence == ()
    assert queue[1].explanations == ()


def test_same_severity_oldest_first(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        day = exam_day.build(session)
        later = exam_day._ended("sess-1", 30, ViolationType.EYES_AWAY, Severity.MEDIUM, 5.0)
        earlier = exam_day._ended("sess-1", 0, ViolationType.SPEECH, Severity.MEDIUM, 5.0)
        store_batch(session, [later, earlier])  # stored newest first on purpose
    with sessions() as session:
        queue = [f.violation.violation_id for f in review_queue(session, "exam-1")]
    assert queue == [
        day.phone,
        str(earlier.violation_id),
        day.looking_away,
        str(later.violation_id),
    ]


def test_decisions_release_the_result_when_the_last_flag_is_decided(
    any_sessions: sessionmaker[Session],
) -> None:
    with any_sessions.begin() as session:
        day = exam_day.build(session)
    with any_sessions.begin() as session:
        rita = _reviewer(session, day)
        assert decide(session, rita, day.phone, "confirmed", " phone on the desk ") is False
        provisional = session_result(session, "sess-1")
        assert not provisional.released
        assert provisional.result.trust.pending == 1
    with any_sessions.begin() as session:
        assert decide(session, rita, day.looking_away, "dismissed", "reading the clock") is True
    with any_sessions() as session:
        row = session.get(ExamSession, "sess-1")
        assert row is not None
        assert row.released_at is not None
        assert row.passed is True
        assert row.trust_score == 84.2  # 100 - 15 x 1.05
        assert row.quiz_percent == 75.0  # 4 right, 1 wrong at 0.25: 3.75 of 5
        assert row.result_reason == "Pass: trust 84.2 ≥ 70, score 75 % ≥ 40 %"
        assert row.result_detail is not None
        assert row.result_detail["quiz"]["penalty"] == 0.25
        assert review_queue(session, "exam-1") == []
        assert len(review_queue(session, "exam-1", decided=True)) == 2
        audit = entries_for(session, "violation", day.phone)
        assert [(a.action, a.username) for a in audit] == [("review.confirmed", "rita")]
        assert audit[0].detail == {
            "note": "phone on the desk",
            "previous": None,
            "session_id": "sess-1",
        }
        released = entries_for(session, "session", "sess-1")
        assert released[-1].action == "result.release"


def test_released_result_refuses_new_decisions(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        day = exam_day.build(session)
        rita = _reviewer(session, day)
        decide(session, rita, day.phone, "confirmed", "")
        decide(session, rita, day.looking_away, "confirmed", "")
    with sessions.begin() as session, pytest.raises(Conflict):
        decide(session, rita, day.phone, "dismissed", "changed my mind")


def test_a_decision_can_change_before_release(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        day = exam_day.build(session)
        rita = _reviewer(session, day)
        decide(session, rita, day.phone, "confirmed", "")
        decide(session, rita, day.phone, "dismissed", "it was a calculator")
    with sessions() as session:
        audit = entries_for(session, "violation", day.phone)
        assert [a.detail["previous"] for a in audit if a.detail] == [None, "confirmed"]
        # only the pending look-away counts now, at half: 100 - 4 x (1 + 95/60) / 2
        assert session_result(session, "sess-1").result.trust.score == 94.8


@pytest.mark.parametrize(
    ("decision", "note", "error"),
    [("maybe", "", InvalidParameter), ("confirmed", "x" * 2001, InvalidParameter)],
)
def test_bad_decisions_are_refused(
    sessions: sessionmaker[Session], decision: str, note: str, error: type[Exception]
) -> None:
    with sessions.begin() as session:
        day = exam_day.build(session)
        with pytest.raises(error):
            decide(session, _reviewer(session, day), day.phone, decision, note)


def test_information_and_unknown_violations_are_not_reviewable(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        day = exam_day.build(session)
        rita = _reviewer(session, day)
        with pytest.raises(InvalidParameter):
            decide(session, rita, day.raised_hand, "confirmed", "")
        with pytest.raises(NotFound):
            decide(session, rita, "0190d2f2-0000-7000-8000-000000000000", "confirmed", "")


def test_clean_sessions_auto_release_per_policy(any_sessions: sessionmaker[Session]) -> None:
    with any_sessions.begin() as session:
        day = exam_day.build(session)
        released = release_ready_sessions(session, "exam-1", _reviewer(session, day))
    assert released == ["sess-2"]  # sess-1 still has flags to review
    with any_sessions() as session:
        row = session.get(ExamSession, "sess-2")
        assert row is not None
        assert row.passed is False
        assert row.result_reason == "Fail: score 20 % < 40 %"  # q1: "b" then "a": the last counts


def test_without_auto_release_a_clean_session_waits_for_a_reviewer(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        day = exam_day.build(session, policy=ProctoringPolicy(auto_release_clean=False))
        rita = _reviewer(session, day)
        assert release_ready_sessions(session, "exam-1", rita) == []
        with pytest.raises(Conflict, match="not reviewed"):
            release(session, "sess-1", rita)
        release(session, "sess-2", rita)
        with pytest.raises(Conflict, match="already"):
            release(session, "sess-2", rita)


def test_unfinished_session_is_not_released(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        day = exam_day.build(session)
        rita = _reviewer(session, day)
        schedule = exam_day._sitting("sess-3", "cand-3", "A-01")
        create_candidate(session, rita, "cand-3", "1003", "Cy")
        schedule_session(session, rita, schedule)
        assert release_ready_sessions(session, "exam-1", rita) == ["sess-2"]
        with pytest.raises(Conflict, match="not finished"):
            release(session, "sess-3", rita)
        set_session_state(session, rita, "sess-3", "ended")  # staff ended it: now finished
        assert release_ready_sessions(session, "exam-1", rita) == ["sess-3"]
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == "sess-3"))
        assert list(actions) == ["session.schedule", "session.state", "result.release"]
