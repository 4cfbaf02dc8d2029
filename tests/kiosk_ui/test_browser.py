"""The candidate's path in Debian's Chromium, against the real processes: the agent's local
API dev server (`python -m edge_agent.seat`: real seat and outbox files, a still photo of the
enrolled candidate as the camera, real face match) and the kiosk screen (`python -m kiosk_ui`).
Screenshots of each step go to the test's tmp folder (kiosk-shots/)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.edge_agent.seat.test_qr import slip
from tests.kiosk_ui.exams import four_kinds
from tests.kiosk_ui.flow import (
    Shots,
    answer_by_click,
    calibrate,
    check_in,
    choose_language,
    consent,
    to_quiz,
)
from tests.kiosk_ui.servers import KioskScreen, SeatAgent, _json_request
from tests.support.browser import chromium

pytestmark = pytest.mark.slow

SMALL: ViewportSize = {"width": 1024, "height": 600}
LARGE: ViewportSize = {"width": 1920, "height": 1080}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def start(tmp_path: Path, **exam: Any) -> tuple[SeatAgent, KioskScreen]:
    agent = SeatAgent(tmp_path / "agent", four_kinds(**exam))
    agent.start()
    screen = KioskScreen(tmp_path / "screen")
    screen.start(agent.url)
    return agent, screen


@pytest.fixture
def stop_later() -> Iterator[list[SeatAgent | KioskScreen]]:
    started: list[SeatAgent | KioskScreen] = []
    yield started
    for process in reversed(started):
        process.stop()


def test_full_path_with_penalty_and_auto_submit(
    browser: Browser, tmp_path: Path, stop_later: list[SeatAgent | KioskScreen]
) -> None:
    agent, screen = start(
        tmp_path,
        scoring={"negative_marks": 0.5, "time_penalty_s": 10},
        policy={"duration_s": 30},
    )
    stop_later += [agent, screen]
    shots = Shots(tmp_path / "kiosk-shots")
    page = browser.new_page(viewport=SMALL)
    page.goto(screen.url)
    shots.take(page, "language")
    choose_language(page, "en")
    shots.take(page, "checkin")
    check_in(page)
    shots.take(page, "calibration")
    calibrate(page)
    shots.take(page, "readiness")
    page.locator("#continue").click()
    expect(page.locator("#accept")).to_be_visible()
    shots.take(page, "consent")
    page.locator("#accept").check()
    page.locator("#start").click()
    expect(page.locator("#timer")).to_be_visible()
    before = screen.status()["remaining_s"]
    answer_by_click(page, "label[for=o-1]")  # q1: Option 0 is wrong (Option 2 is right)
    after = screen.status()["remaining_s"]
    # 10 s taken off at once (plus the moment the click took)
    assert 9.5 <= before - after <= 13, (before, after)
    shots.take(page, "quiz-wrong-answer")
    page.locator("button[value=next]").click()
    answer_by_click(page, "label[for=o-1]")  # q2 (multiple): q2o0 ...
    answer_by_click(page, "label[for=o-4]")  # ... and q2o3: right
    shots.take(page, "quiz-multiple")
    # Nobody submits: the time runs out and the screen submits by itself.
    expect(page.locator("#score")).to_be_visible(timeout=40_000)
    shots.take(page, "result")
    assert page.locator("#time-penalty").inner_text() == "10 seconds"
    assert page.locator("#negative").inner_text() == "\N{MINUS SIGN}0.5"
    assert page.locator("#total").inner_text() == "1.5 (30%)"  # (2 - 0.5) of 5
    assert "The time is up" in page.content()
    page.set_viewport_size(LARGE)
    shots.take(page, "result-large")
    submitted = wait_until(lambda: agent.of_kind("submitted"))
    assert [(m["reason"], m["answered_count"]) for m in submitted] == [("time_up", 2)]
    answers = agent.of_kind("answer")
    assert [(m["question_id"], m["answer"]) for m in answers] == [
        ("q1", "q1o0"),
        ("q2", ["q2o0"]),
        ("q2", ["q2o0", "q2o3"]),
    ]
    assert answers[0]["subject"]["session_id"] == "dev-session"
    checkin = agent.of_kind("checkin")[0]
    assert checkin["method"] == "face_match"
    assert checkin["match_distance"] < 0.6
    assert agent.of_kind("consent")[0]["accepted"] is True


def test_power_loss_keeps_question_answers_and_time(
    browser: Browser, tmp_path: Path, stop_later: list[SeatAgent | KioskScreen]
) -> None:
    agent, screen = start(tmp_path, policy={"duration_s": 600})
    stop_later += [agent, screen]
    page = browser.new_page(viewport=SMALL)
    to_quiz(page, screen.url)
    answer_by_click(page, "label[for=o-3]")  # q1: q1o2
    page.locator("button[value=next]").click()
    answer_by_click(page, "label[for=o-2]")  # q2: q2o1
    page.locator("button[value=next]").click()
    with page.expect_response(lambda r: r.url.endswith("/api/answer") and r.ok):
        page.fill("#answer-input", "2,5")
        page.locator("#answer-input").press("Enter")
    # The screen writes its clock down on every beat (0.5 s here), so a kill loses at most that.
    remaining_before = screen.status()["remaining_s"]
    # Power cut: the screen and the agent die at once, with no chance to clean up.
    screen.kill()
    agent.kill()
    agent.start()
    screen.start(agent.url)
    page.goto(screen.url)
    expect(page.locator("#question-title")).to_contain_text("Question 3 of 4")
    expect(page.locator("#answer-input")).to_have_value("2.5")
    remaining_after = screen.status()["remaining_s"]
    assert abs(remaining_before - remaining_after) <= 2, (remaining_before, remaining_after)
    page.locator("button[value=prev]").click()
    expect(page.locator("#o-2")).to_be_checked()
    page.locator("button[value=prev]").click()
    expect(page.locator("#o-3")).to_be_checked()
    answers = wait_until(lambda: len(agent.of_kind("answer")) == 3 and agent.of_kind("answer"))
    assert [m["answer"] for m in answers] == ["q1o2", ["q2o1"], "2.5"]


def test_lockdown_signals_reach_the_agent(
    browser: Browser, tmp_path: Path, stop_later: list[SeatAgent | KioskScreen]
) -> None:
    agent, screen = start(tmp_path)
    stop_later += [agent, screen]
    context = browser.new_context(viewport=SMALL)
    page = context.new_page()
    to_quiz(page, screen.url)
    for keys in ("Control+c", "Control+v", "F12", "Control+p", "PrintScreen"):
        page.keyboard.press(keys)
    page.locator("#question-title").click(button="right")
    page.evaluate("document.documentElement.requestFullscreen()")
    page.wait_for_function("document.fullscreenElement !== null")
    page.evaluate("document.exitFullscreen()")
    # Headless Chromium has no window manager, so focus and visibility changes between tabs are
    # not reliable there: these two events are dispatched in the page as the browser would.
    page.evaluate("window.dispatchEvent(new FocusEvent('blur'))")
    page.evaluate(
        "Object.defineProperty(document, 'visibilityState', {value: 'hidden'});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    page.locator("#raise-hand").click()
    expect(page.locator("#help-state")).not_to_be_empty()
    page.goto("about:blank")  # navigating away
    expected = {
        ("blocked_shortcut", "Ctrl+C"),
        ("blocked_shortcut", "Ctrl+V"),
        ("blocked_shortcut", "F12"),
        ("blocked_shortcut", "Ctrl+P"),
        ("blocked_shortcut", "PrintScreen"),
        ("context_menu", "right click"),
        ("fullscreen_exit", "element fullscreen ended"),
        ("navigation_attempt", "page unload"),
        ("focus_lost", "window lost focus"),
        ("visibility_hidden", "page hidden"),
    }

    def breaches() -> set[tuple[str, str]]:
        found = {
            (str(m["details"]["signal"]), str(m["details"]["detail"]))
            for m in agent.of_kind("violation")
            if m["type"] == "lockdown_breach"
        }
        return found if expected <= found else set()

    found = wait_until(breaches)
    assert expected <= found, found
    violations = agent.of_kind("violation")
    assert any(v["type"] == "raised_hand" for v in violations)
    # Each breach is started and ended at once (two messages, one violation id).
    breach_ids = {v["violation_id"] for v in violations if v["type"] == "lockdown_breach"}
    ended = {v["violation_id"] for v in violations if v["state"] == "ended"}
    assert breach_ids <= ended
    context.close()


def test_warnings_pause_explain_and_remote_end(
    browser: Browser, tmp_path: Path, stop_later: list[SeatAgent | KioskScreen]
) -> None:
    agent, screen = start(tmp_path, policy={"duration_s": 600, "warning_limit": 5})
    stop_later += [agent, screen]
    shots = Shots(tmp_path / "kiosk-shots")
    page = browser.new_page(viewport=SMALL)
    to_quiz(page, screen.url, "fr")
    agent.command("warn", text="Regardez votre écran, s'il vous plaît.")
    agent.command("warn", text="Une seule personne doit être visible.")
    expect(page.locator("#warning-count")).to_have_text("Avertissement 2 sur 5:")
    expect(page.locator("#warning-text")).to_have_text("Une seule personne doit être visible.")
    shots.take(page, "warning-fr")
    expect(page.locator("#explain")).to_be_enabled()
    page.locator("#explain").click()
    page.fill("#explain-note", "Mon frère est passé derrière moi.")
    page.locator("#explain-form button[value=send]").click()
    expect(page.locator("#help-state")).to_have_text("Votre explication a été envoyée.")
    page.locator("#warning-ok").click()
    expect(page.locator("#warning")).to_be_hidden()
    agent.command("message", text="Il reste dix minutes.")
    expect(page.locator("#message-text")).to_have_text("Il reste dix minutes.")
    agent.command("pause")
    expect(page.locator("#paused")).to_be_visible()
    shots.take(page, "paused-fr")
    paused_at = screen.status()["remaining_s"]
    time.sleep(1.5)  # a stretch of paused time: the clock must not move during it
    assert screen.status()["remaining_s"] == paused_at
    agent.command("resume")
    expect(page.locator("#paused")).to_be_hidden()
    agent.command("end_exam", reason="invigilator")
    expect(page.locator("h1")).to_have_text("Examen terminé", timeout=10_000)
    shots.take(page, "ended-fr")
    explanation = wait_until(lambda: agent.of_kind("explanation"))[0]
    assert explanation["note"] == "Mon frère est passé derrière moi."
    warnings = agent.of_kind("receipt")  # the warn commands, for their ids
    assert warnings  # the agent answered the commands
    assert wait_until(lambda: agent.of_kind("submitted"))[0]["reason"] == "remote_end"


def page_for(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport=SMALL)
    page.goto(url)
    return page


def test_keyboard_only_path_and_right_to_left_layout(
    browser: Browser, tmp_path: Path, stop_later: list[SeatAgent | KioskScreen]
) -> None:
    agent, screen = start(tmp_path)
    stop_later += [agent, screen]
    shots = Shots(tmp_path / "kiosk-shots")
    page = page_for(browser, screen.url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "en"
    page.keyboard.press("Enter")
    expect(page.locator("#candidate_number")).to_be_visible()
    page.keyboard.press("Tab")  # the first control of the form
    assert page.evaluate("document.activeElement.id") == "candidate_number"
    page.keyboard.type("C-1001")
    page.keyboard.press("Enter")
    expect(page.locator("#calibrate")).to_be_visible()
    calibrate(page)
    consent(page)
    page.locator("#o-1").focus()
    with page.expect_response(lambda r: r.url.endswith("/api/answer") and r.ok):
        page.keyboard.press("ArrowDown")  # radio group: the next option is chosen
    expect(page.locator("#o-2")).to_be_checked()
    focus_ring = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert focus_ring == "solid"  # visible focus
    page.set_viewport_size(LARGE)
    shots.take(page, "quiz-large")
    # The layout uses logical properties only: with dir=rtl it mirrors.
    page.set_viewport_size(SMALL)
    ltr_timer = page.locator("#timer").bounding_box()
    page.evaluate("document.documentElement.dir = 'rtl'")
    rtl_timer = page.locator("#timer").bounding_box()
    radio = page.locator("#o-1").bounding_box()
    label = page.locator("label[for=o-1]").bounding_box()
    assert ltr_timer is not None
    assert rtl_timer is not None
    assert radio is not None
    assert label is not None
    assert ltr_timer["x"] > 800 > rtl_timer["x"]  # the timer moved from the right to the left
    assert radio["x"] > label["x"]  # the radio button sits at the start side: the right
    shots.take(page, "quiz-rtl")


def test_a_qr_code_held_up_to_the_camera_fills_the_candidate_number(
    browser: Browser, tmp_path: Path, stop_later: list[SeatAgent | KioskScreen]
) -> None:
    agent, screen = start(tmp_path)
    stop_later += [agent, screen]
    page = page_for(browser, screen.url)
    choose_language(page, "en")
    expect(page.locator("#candidate_number")).to_have_value("")
    slip_photo = tmp_path / "slip.png"
    cv2.imwrite(str(slip_photo), slip("C-1001"))
    _json_request("PUT", agent.url + "/dev/camera", {"path": str(slip_photo)})
    expect(page.locator("#candidate_number")).to_have_value("C-1001", timeout=10_000)
    expect(page.locator("#qr-found")).to_be_visible()
    page.screenshot(path=str(tmp_path / "qr-checkin.png"))
