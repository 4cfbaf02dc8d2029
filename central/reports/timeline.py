"""The timeline chart of a session's violations: one layout, drawn as SVG here and with fpdf2
primitives in central.reports.pdf.

The x axis is exam time from the session's start (mm:ss ticks); there is one lane per violation
type present, and one bar per violation from its start to its end. Decisions are told apart by
fill pattern and bar shape as well as colour (solid, hatched, dashed outline, thin bar), and the
legend names them in words, so the chart also reads in greyscale print or for colour-blind
readers. The SVG carries no script and no style attribute (the CSP forbids inline styles):
only presentation attributes, with every text escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Literal

from central.reports.translation import _, decision, ngettext, pgettext, violation_type

Decision = Literal["confirmed", "pending", "dismissed", "information"]
DECISIONS: tuple[Decision, ...] = ("confirmed", "pending", "dismissed", "information")

WIDTH = 760.0
LABEL_WIDTH = 140.0  # room for the lane labels left of the plot
RIGHT_PAD = 18.0
TOP_PAD = 8.0
LANE_HEIGHT = 26.0
BAR_HEIGHT = 16.0
THIN_BAR_HEIGHT = 7.0  # information bars: thinner, so they differ by shape too
AXIS_HEIGHT = 26.0
LEGEND_HEIGHT = 26.0
MIN_BAR_WIDTH = 3.0  # an instantaneous violation still shows
MAX_TICKS = 8
TICK_STEPS_S = (10, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 14400)
HATCH_ID = "timeline-hatch"
EN_DASH = "\N{EN DASH}"


@dataclass(frozen=True)
class Style:
    label: str  # English; legend_label() gives the words a chart shows
    fill: str | None  # None: hollow
    stroke: str
    hatched: bool = False
    dashed: bool = False
    thin: bool = False


STYLES: dict[Decision, Style] = {
    "confirmed": Style("Confirmed", "#b00020", "#6d0014"),
    "pending": Style("Pending review", "#fff1d0", "#9a5700", hatched=True),
    "dismissed": Style("Dismissed", None, "#555555", dashed=True),
    "information": Style("Information (not a flag)", "#7f9cc0", "#3f5f86", thin=True),
}


@dataclass(frozen=True)
class TimelineItem:
    """One violation on the chart, in seconds from the session's start."""

    type: str
    start_s: float
    end_s: float
    decision: Decision


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Bar:
    box: Box
    item: TimelineItem
    title: str  # "phone in view 01:00-01:03 (3 s), confirmed", with an en dash


@dataclass(frozen=True)
class Lane:
    label: str
    band: Box  # the whole lane across the plot
    text_x: float  # right end of the label, left of the plot
    text_y: float


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class LegendEntry:
    decision: Decision
    label: str  # in the request's language
    swatch: Box
    text_x: float
    text_y: float


@dataclass(frozen=True)
class TimelineLayout:
    width: float
    height: float
    plot: Box
    lanes: tuple[Lane, ...]
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    legend: tuple[LegendEntry, ...]
    axis_from_s: float
    axis_to_s: float
    description: str


def clock(seconds: float) -> str:
    """Seconds from the start as mm:ss (minutes go past 59: "75:00"); negative before it."""
    total = round(abs(seconds))
    sign = "-" if seconds < 0 and total else ""
    return f"{sign}{total // 60:02d}:{total % 60:02d}"


def type_label(code: str) -> str:
    """The violation type in words, in the request's language (English outside one)."""
    return violation_type(code)


def legend_label(kind: Decision) -> str:
    """The legend's name for a decision (STYLES' label, in the request's language)."""
    words = {
        "confirmed": pgettext("timeline legend", "Confirmed"),
        "pending": pgettext("timeline legend", "Pending review"),
        "dismissed": pgettext("timeline legend", "Dismissed"),
        "information": pgettext("timeline legend", "Information (not a flag)"),
    }
    return words[kind]


def no_violations() -> str:
    return _("No violations")


def _tick_step(span_s: float) -> int:
    for step in TICK_STEPS_S:
        if span_s / step <= MAX_TICKS:
            return step
    return math.ceil(span_s / MAX_TICKS / 3600) * 3600


def _ticks(axis_from: float, axis_to: float, to_x: _Scale) -> tuple[Tick, ...]:
    step = _tick_step(axis_to - axis_from)
    first = math.ceil(axis_from / step) * step
    count = int((axis_to - first) // step) + 1
    return tuple(Tick(to_x(first + i * step), clock(first + i * step)) for i in range(count))


@dataclass(frozen=True)
class _Scale:
    axis_from: float
    axis_to: float
    plot: Box

    def __call__(self, seconds: float) -> float:
        share = (seconds - self.axis_from) / (self.axis_to - self.axis_from)
        return self.plot.x + share * self.plot.w


def _lane_order(items: Sequence[TimelineItem]) -> list[str]:
    """Types in the order they first happened (ties by name), so lanes read top-down in time."""
    first: dict[str, float] = {}
    for item in items:
        first[item.type] = min(first.get(item.type, item.start_s), item.start_s)
    return sorted(first, key=lambda t: (first[t], t))


def _bar(item: TimelineItem, lane: Lane, to_x: _Scale) -> Bar:
    plot = to_x.plot
    x = to_x(item.start_s)
    w = max(to_x(max(item.end_s, item.start_s)) - x, MIN_BAR_WIDTH)
    x = min(x, plot.x + plot.w - w)  # a minimum-width bar at the very end stays inside
    h = THIN_BAR_HEIGHT if STYLES[item.decision].thin else BAR_HEIGHT
    y = lane.band.y + (lane.band.h - h) / 2
    duration = max(item.end_s - item.start_s, 0.0)
    title = _(
        "%(type)s %(span)s (%(seconds)s s), %(decision)s",
        type=type_label(item.type),
        span=f"{clock(item.start_s)}{EN_DASH}{clock(item.end_s)}",
        seconds=f"{duration:.0f}",
        decision=decision(item.decision),
    )
    return Bar(Box(x, y, w, h), item, title)


def _legend(top: float) -> tuple[LegendEntry, ...]:
    entries = []
    x = LABEL_WIDTH
    for kind in DECISIONS:
        swatch = Box(x, top + 6, 22, THIN_BAR_HEIGHT if STYLES[kind].thin else 12)
        label = legend_label(kind)
        entries.append(LegendEntry(kind, label, swatch, x + 28, top + 16))
        x += 28 + 6.2 * len(label) + 18
    return tuple(entries)


def _describe(items: Sequence[TimelineItem], axis_to: float) -> str:
    if not items:
        return _("No violations during %(time)s of exam time.", time=clock(axis_to))
    counts = [
        f"{sum(1 for i in items if i.decision == d)} {decision(d)}"
        for d in DECISIONS
        if any(i.decision == d for i in items)
    ]
    types = len({i.type for i in items})
    violations = ngettext("%(num)d violation", "%(num)d violations", len(items))
    kinds = ngettext("%(num)d type", "%(num)d types", types)
    return _(
        "%(violations)s of %(types)s over %(time)s of exam time: %(counts)s.",
        violations=violations,
        types=kinds,
        time=clock(axis_to),
        counts=", ".join(counts),
    )


def layout(items: Sequence[TimelineItem], exam_s: float) -> TimelineLayout:
    """Place every bar. The axis runs from the session's start (0) to its scheduled end
    (`exam_s`), widened to take in any violation outside that window."""
    axis_from = min([0.0, *(i.start_s for i in items)])
    axis_to = max([exam_s, 1.0, *(i.end_s for i in items)])
    order = _lane_order(items)
    plot_h = LANE_HEIGHT * max(len(order), 1)
    plot = Box(LABEL_WIDTH, TOP_PAD, WIDTH - LABEL_WIDTH - RIGHT_PAD, plot_h)
    to_x = _Scale(axis_from, axis_to, plot)
    lanes = {
        kind: Lane(
            type_label(kind),
            Box(plot.x, plot.y + n * LANE_HEIGHT, plot.w, LANE_HEIGHT),
            plot.x - 8,
            plot.y + n * LANE_HEIGHT + LANE_HEIGHT / 2 + 4,
        )
        for n, kind in enumerate(order)
    }
    bars = tuple(_bar(item, lanes[item.type], to_x) for item in items)
    return TimelineLayout(
        width=WIDTH,
        height=plot.y + plot.h + AXIS_HEIGHT + LEGEND_HEIGHT,
        plot=plot,
        lanes=tuple(lanes.values()),
        bars=bars,
        ticks=_ticks(axis_from, axis_to, to_x),
        legend=_legend(plot.y + plot.h + AXIS_HEIGHT),
        axis_from_s=axis_from,
        axis_to_s=axis_to,
        description=_describe(items, axis_to),
    )


# --- SVG ---------------------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _rect(box: Box, decision: Decision) -> str:
    style = STYLES[decision]
    fill = f"url(#{HATCH_ID})" if style.hatched else (style.fill or "none")
    dash = ' stroke-dasharray="4 2"' if style.dashed else ""
    return (
        f'<rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.w)}" '
        f'height="{_num(box.h)}" fill="{fill}" stroke="{style.stroke}" stroke-width="1.2"{dash}'
    )


def _defs() -> str:
    hatch = STYLES["pending"]
    return (
        f'<defs><pattern id="{HATCH_ID}" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{hatch.fill}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{hatch.stroke}" stroke-width="3"/>'
        "</pattern></defs>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="12" '
        f'font-family="sans-serif" fill="#1d1d1f">{escape(text)}</text>'
    )


def _svg_grid(lay: TimelineLayout) -> list[str]:
    plot = lay.plot
    parts = []
    for n, lane in enumerate(lay.lanes):
        shade = "#f4f5f8" if n % 2 == 0 else "#ffffff"
        band = lane.band
        parts.append(
            f'<rect x="{_num(band.x)}" y="{_num(band.y)}" width="{_num(band.w)}" '
            f'height="{_num(band.h)}" fill="{shade}"/>'
        )
        parts.append(_text(lane.text_x, lane.text_y, lane.label, "end"))
    bottom = plot.y + plot.h
    for tick in lay.ticks:
        parts.append(
            f'<line x1="{_num(tick.x)}" y1="{_num(plot.y)}" x2="{_num(tick.x)}" '
            f'y2="{_num(bottom + 4)}" stroke="#c8ccd4" stroke-width="1"/>'
        )
        parts.append(_text(tick.x, bottom + 17, tick.label, "middle"))
    parts.append(
        f'<rect x="{_num(plot.x)}" y="{_num(plot.y)}" width="{_num(plot.w)}" '
        f'height="{_num(plot.h)}" fill="none" stroke="#8a8f99" stroke-width="1"/>'
    )
    if not lay.bars:
        parts.append(_text(plot.x + plot.w / 2, plot.y + plot.h / 2 + 4, no_violations(), "middle"))
    return parts


def render_svg(lay: TimelineLayout, title: str) -> str:
    """The chart as an inline SVG element; `title` is its accessible name."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
        f'viewBox="0 0 {_num(lay.width)} {_num(lay.height)}" width="{_num(lay.width)}" '
        f'height="{_num(lay.height)}" aria-labelledby="timeline-title timeline-desc">',
        f'<title id="timeline-title">{escape(title)}</title>',
        f'<desc id="timeline-desc">{escape(lay.description)}</desc>',
        _defs(),
        *_svg_grid(lay),
    ]
    for bar in lay.bars:
        parts.append(
            f'{_rect(bar.box, bar.item.decision)} data-decision="{bar.item.decision}">'
            f"<title>{escape(bar.title)}</title></rect>"
        )
    for entry in lay.legend:
        parts.append(_rect(entry.swatch, entry.decision) + "/>")
        parts.append(_text(entry.text_x, entry.text_y, entry.label))
    parts.append("</svg>")
    return "\n".join(parts)
