"""The timeline chart's geometry and its SVG: bars where the times say, lanes per type, visible
instants, and text that cannot break out of the markup."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from central.reports.timeline import (
    HATCH_ID,
    LABEL_WIDTH,
    MIN_BAR_WIDTH,
    RIGHT_PAD,
    STYLES,
    WIDTH,
    TimelineItem,
    clock,
    layout,
    render_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
PLOT_W = WIDTH - LABEL_WIDTH - RIGHT_PAD
HOUR = 3600.0


def test_a_bar_spans_its_start_to_its_end() -> None:
    lay = layout([TimelineItem("looking_away", 600, 900, "confirmed")], HOUR)
    (bar,) = lay.bars
    assert lay.plot.x == LABEL_WIDTH
    assert bar.box.x == pytest.approx(LABEL_WIDTH + PLOT_W / 6)
    assert bar.box.w == pytest.approx(PLOT_W / 12)
    assert bar.title == "looking away 10:00\N{EN DASH}15:00 (300 s), confirmed"


def test_one_lane_per_type_in_order_of_first_occurrence() -> None:
    items = [
        TimelineItem("speech", 1200, 1210, "pending"),
        TimelineItem("phone_in_view", 60, 63, "confirmed"),
        TimelineItem("speech", 300, 330, "dismissed"),
    ]
    lay = layout(items, HOUR)
    assert [lane.label for lane in lay.lanes] == ["phone in view", "speech"]
    speech = lay.lanes[1].band
    speech_bars = [b for b in lay.bars if b.item.type == "speech"]
    assert len(speech_bars) == 2
    for bar in speech_bars:
        assert speech.y <= bar.box.y
        assert bar.box.y + bar.box.h <= speech.y + speech.h
    phone = next(b for b in lay.bars if b.item.type == "phone_in_view")
    assert phone.box.y < speech.y


def test_an_instant_gets_the_minimum_width_and_stays_in_the_plot() -> None:
    items = [
        TimelineItem("phone_in_view", 60, 60, "pending"),
        TimelineItem("x", HOUR, HOUR, "pending"),
    ]
    lay = layout(items, HOUR)
    first, last = lay.bars
    assert first.box.w == MIN_BAR_WIDTH
    assert first.box.x == pytest.approx(LABEL_WIDTH + PLOT_W / 60)
    assert last.box.w == MIN_BAR_WIDTH
    assert last.box.x + last.box.w == pytest.approx(lay.plot.x + lay.plot.w)


def test_information_bars_are_thinner_than_flags() -> None:
    lay = layout(
        [TimelineItem("raised_hand", 10, 20, "information"), TimelineItem("x", 10, 20, "pending")],
        HOUR,
    )
    info, flag = lay.bars
    assert info.box.h < flag.box.h


def test_ticks_in_mm_ss_and_an_axis_widened_for_late_violations() -> None:
    assert [t.label for t in layout([], HOUR).ticks] == [
        "00:00", "10:00", "20:00", "30:00", "40:00", "50:00", "60:00",
    ]  # fmt: skip
    late = layout([TimelineItem("speech", 3500, 4000, "pending")], HOUR)
    assert late.axis_to_s == 4000
    assert late.bars[0].box.x + late.bars[0].box.w == pytest.approx(late.plot.x + late.plot.w)
    assert clock(75 * 60) == "75:00"
    assert clock(-5) == "-00:05"


def test_svg_is_well_formed_accessible_and_escapes_text() -> None:
    items = [
        TimelineItem('<script>alert("x")</script>&', 0, 10, "confirmed"),
        TimelineItem("speech", 30, 40, "pending"),
        TimelineItem("speech", 50, 60, "dismissed"),
    ]
    svg = render_svg(layout(items, 600), "Timeline for <b>1001</b>")
    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in svg
    root = ET.fromstring(svg)  # parses: nothing broke out of an attribute or element
    assert root.get("role") == "img"
    assert root.findtext(f"{SVG}title") == "Timeline for <b>1001</b>"
    assert "3 violations of 2 types" in (root.findtext(f"{SVG}desc") or "")
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("data-decision")]
    assert [b.get("data-decision") for b in bars] == ["confirmed", "pending", "dismissed"]
    assert bars[1].get("fill") == f"url(#{HATCH_ID})"  # pending: hatched, not just a colour
    assert bars[2].get("stroke-dasharray")
    assert bars[2].get("fill") == "none"
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {style.label for style in STYLES.values()} <= texts  # the legend names each one
    assert "style=" not in svg
    assert "<script" not in svg


def test_no_violations_says_so() -> None:
    svg = render_svg(layout([], HOUR), "Timeline")
    assert ">No violations<" in svg
    assert "No violations during 60:00 of exam time." in svg
