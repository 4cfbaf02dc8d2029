"""The live console in Debian's Chromium, end to end over a real Mosquitto: an event published
by a simulated kiosk shows on its seat tile within 2 s, and a warning sent from the console
reaches the kiosk and its delivery ack (the kiosk's `done` receipt) shows in the console."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from central.command_publisher import CommandPublisher, PublisherOptions
from central.db import create_db_engine, make_sessionmaker
from central.web import create_app
from protocol import ExamProgress, Severity, ViolationType, encode, topic_for
from protocol.broker_url import BrokerUrl
from tests.central import exam_day
from tests.central import factories as f
from tests.central.console.command_kiosk import CommandKiosk
from tests.central.exam_day import PASSWORD
from tests.central.mqtt_helpers import start_worker, stop_worker
from tests.support.browser import chromium
from tests.support.services import free_port

pytestmark = pytest.mark.mosquitto
TILE_DEADLINE_S = 2.0


@dataclass(frozen=True)
class Site:
    base: str
    kiosk: CommandKiosk


@pytest.fixture
def site(mosquitto: BrokerUrl, migrated_sqlite_url: str, tmp_path: Path) -> Iterator[Site]:
    engine = create_db_engine(migrated_sqlite_url)
    with make_sessionmaker(engine).begin() as session:
        exam_day.build(session, tmp_path / "evidence")
    engine.dispose()
    worker = start_worker(mosquitto, migrated_sqlite_url)
    publisher = CommandPublisher(PublisherOptions(mosquitto, migrated_sqlite_url, "test-commands"))
    publisher.start()
    kiosk = CommandKiosk(mosquitto)
    app = create_app(
        {
            "DATABASE_URL": migrated_sqlite_url,
            "SECRET_KEY": "test",
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
            "LIVE_STREAM_MAX_S": 20.0,
        }
    )
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}", kiosk)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        kiosk.close()
        publisher.stop()
        publisher.join(10)
        stop_worker(worker)


def _publish(kiosk: CommandKiosk, message: object) -> None:
    kiosk.client.publish(topic_for(message), encode(message), qos=1).wait_for_publish(5)  # type: ignore[arg-type]


def _open_console(page: Page, base: str) -> None:
    page.goto(f"{base}/halls/hall-a/console")
    page.get_by_label("Username").fill("ivy")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#live-state")).to_have_text("live")


def test_event_shows_on_its_tile_and_a_warning_shows_its_ack(site: Site, tmp_path: Path) -> None:
    beat = f.heartbeat().model_copy(
        update={
            "session_id": "sess-1",
            "exam": ExamProgress(state="running", answered=2, total=5, remaining_s=1500.0),
            "disabled_stages": {"objects": "no model file configured"},
        }
    )
    _publish(site.kiosk, f.status())
    _publish(site.kiosk, beat)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        failures: list[str] = []  # failed requests and script errors, the favicon aside
        page.on(
            "response",
            lambda r: (
                failures.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico")
                else None
            ),
        )
        page.on("pageerror", lambda exc: failures.append(str(exc)))
        _open_console(page, site.base)
        tile = page.locator('.tile[data-seat="A-01"]')
        expect(tile).to_contain_text("Ada Candidate")
        expect(tile).to_contain_text("running · 2/5")
        expect(tile).to_contain_text("off: objects")
        expect(tile.locator(".alert-chip.hand")).to_have_text("Raised hand")  # hands are alerts

        event = f.event(
            seq=70,
            started_at=datetime.now(UTC),
            subject=f.subject("sess-1", "A-01"),
            type=ViolationType.SECOND_SCREEN,
            severity=Severity.HIGH,
        )
        started = time.monotonic()
        _publish(site.kiosk, event)
        expect(tile.locator(".alert-chip.sev-high", has_text="Second screen")).to_be_visible(
            timeout=TILE_DEADLINE_S * 1000
        )
        elapsed = time.monotonic() - started
        print(f"event to tile: {elapsed * 1000:.0f} ms")
        assert elapsed < TILE_DEADLINE_S
        expect(page.locator("#alert-feed li").first).to_contain_text("Second screen")
        expect(tile.locator(".dot.conn-online")).to_have_count(1)
        page.screenshot(path=str(tmp_path / "console-alert.png"), full_page=True)

        tile.click()
        expect(page.locator("#detail-title")).to_have_text("Seat A-01")
        page.get_by_label("Warning").fill("Please look at your own screen")
        page.get_by_role("button", name="Send warning").click()
        command = page.locator("#command-list li").first
        expect(command).to_contain_text("Please look at your own screen")
        expect(command).to_contain_text("done: warning 1 issued", timeout=15_000)
        (received,) = site.kiosk.wait_for_commands(1)
        assert received.args == {"text": "Please look at your own screen"}

        page.locator("#alert-feed li", has_text="Second screen").get_by_role(
            "button", name="Acknowledge"
        ).click()
        expect(page.locator("#alert-feed li", has_text="Second screen")).to_contain_text(
            "seen by ivy"
        )
        expect(tile.locator(".alert-chip", has_text="Second screen")).to_have_count(0)
        page.screenshot(path=str(tmp_path / "console-warned.png"), full_page=True)
        assert failures == []


def _log_in(page: Page, base: str, user: str) -> None:
    page.goto(f"{base}/halls/hall-a/console")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#live-state")).to_have_text("live")


def test_a_raised_hand_dispatched_then_answered_at_the_seat_and_extra_time(
    site: Site, tmp_path: Path
) -> None:
    """The admin sends ivy to a raised hand; ivy's console marks it as hers, the candidate's
    kiosk is told someone is coming, ivy says she is at the seat and every console shows it;
    then ivy gives ten more minutes and sees the kiosk's ack."""
    with chromium() as browser:
        admin = browser.new_page(viewport={"width": 1400, "height": 900})
        ivy = browser.new_page(viewport={"width": 1400, "height": 900})
        _log_in(admin, site.base, "ada")
        _log_in(ivy, site.base, "ivy")
        hand = admin.locator("#alert-feed li", has_text="Raised hand")
        hand.get_by_label("Invigilator to send to the seat").select_option(label="ivy")
        hand.get_by_role("button", name="Send", exact=True).click()
        expect(hand).to_contain_text("ivy is on the way")
        ivys_hand = ivy.locator("#alert-feed li", has_text="Raised hand")
        expect(ivys_hand).to_contain_text("you are on the way")  # through the live feed
        expect(ivys_hand).to_have_class(re.compile(r"\bmine\b"))
        (message,) = site.kiosk.wait_for_commands(1)
        assert message.args == {"text": "An invigilator is on the way."}
        ivy.screenshot(path=str(tmp_path / "console-dispatched.png"), full_page=True)

        ivys_hand.get_by_role("button", name="At seat").click()
        expect(ivys_hand).to_contain_text("ivy at the seat")
        expect(hand).to_contain_text("ivy at the seat")
        expect(hand.get_by_role("button")).to_have_count(0)

        ivy.locator('.tile[data-seat="A-01"]').click()
        ivy.get_by_label("Extra time (minutes; negative takes time off)").fill("10")
        ivy.get_by_role("button", name="Adjust time").click()
        command = ivy.locator("#command-list li", has_text="Time +10 min")
        expect(command).to_contain_text("done", timeout=15_000)
        received = site.kiosk.wait_for_commands(2)[1]
        assert (received.type.value, received.args) == ("adjust_time", {"seconds": 600})
        ivy.screenshot(path=str(tmp_path / "console-at-seat.png"), full_page=True)
