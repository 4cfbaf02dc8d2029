"""The candidate report as a PDF (fpdf2): header, result, scores, the timeline chart drawn from
the same layout as the SVG, the violation log and the evidence integrity line.

Fonts: names and notes can be in any script. fpdf2's core fonts (Helvetica) cover Latin-1
only and raise on anything else, so DejaVu Sans from the system (Debian's fonts-dejavu-core) is
embedded when it is there: it covers Latin, Greek, Cyrillic and the symbols used here (≥, the
minus sign). Characters a font lacks (e.g. CJK, which DejaVu does not cover) are replaced with
"?" before drawing, so a report always renders; with no DejaVu at all, Helvetica is used and
text is reduced to Latin-1 the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from central.reports.data import CandidateReport, LogRow
from central.reports.timeline import (
    EN_DASH,
    STYLES,
    Box,
    Decision,
    TimelineLayout,
    clock,
    no_violations,
    type_label,
)
from central.reports.translation import (
    _,
    decision,
    integrity_summary,
    ngettext,
    pgettext,
    result_reason,
)
from central.scoring.result import number

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
FAMILY = "DejaVu"
PAGE_WIDTH_MM = 180.0  # A4 (210 mm) less 15 mm margins
LOG_WIDTHS = (13, 16, 27, 28, 44, 52)  # time, duration, type, decision, note, evidence
MINUS = "\N{MINUS SIGN}"
ASCII_STAND_INS = {"≥": ">=", "≤": "<=", MINUS: "-", EN_DASH: "-", "\N{MULTIPLICATION SIGN}": "x"}
GREY, INK = (102, 102, 102), (29, 29, 31)
VERDICT_COLOURS = {"pass": (231, 243, 231), "fail": (253, 231, 234), "provisional": (255, 246, 224)}


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


class ReportPDF(FPDF):
    """A4 portrait with a footer, and text cleaned to what the chosen font can draw."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=15)
        self.family = self._load_fonts()
        font = self.fonts.get(FAMILY.lower())
        self.covered = frozenset(font.cmap) if isinstance(font, TTFFont) else frozenset()

    def _load_fonts(self) -> str:
        regular, bold = DEJAVU_DIR / "DejaVuSans.ttf", DEJAVU_DIR / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            self.add_font(FAMILY, "", str(regular))
            self.add_font(FAMILY, "B", str(bold))
            return FAMILY
        return "Helvetica"

    def clean(self, text: str) -> str:
        """The text with every character the current font lacks replaced."""
        if self.covered:
            return "".join(c if ord(c) in self.covered or c in "\n\t" else "?" for c in text)
        text = "".join(ASCII_STAND_INS.get(c, c) for c in text)
        return text.encode("latin-1", "replace").decode("latin-1")

    def style(self, size: float, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)

    def line_of(self, text: str, size: float = 10, bold: bool = False, height: float = 5.5) -> None:
        self.style(size, bold)
        self.multi_cell(0, height, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str) -> None:
        self.ln(2.5)
        self.line_of(text, 12.5, bold=True, height=7)

    def footer(self) -> None:
        self.set_y(-11)
        self.style(8)
        self.set_text_color(*GREY)
        page = _("page %(page)s/%(pages)s", page=self.page_no(), pages="{nb}")
        text = f"{self.footer_text} · {page}"
        self.cell(0, 5, self.clean(text), align="C")
        self.set_text_color(*INK)


# --- sections --------------------------------------------------------------------------


def _header(pdf: ReportPDF, report: CandidateReport) -> None:
    sitting = report.current.exam_session
    exam = report.current.exam
    pdf.line_of(_("Candidate report"), 17, bold=True, height=9)
    lines = (
        (_("Centre"), f"{report.centre.name} ({report.centre.centre_id})"),
        (
            _("Exam"),
            _(
                "%(title)s (%(exam)s, version %(version)s)",
                title=exam.title,
                exam=exam.exam_id,
                version=exam.version,
            ),
        ),
        (_("Candidate"), f"{report.candidate.display_name} ({report.candidate.candidate_number})"),
        (_("Seat"), f"{report.seat.label}, {report.hall.name}"),
        (
            _("Session"),
            f"{sitting.session_id}, {sitting.scheduled_start:%Y-%m-%d %H:%M}{EN_DASH}"
            f"{sitting.scheduled_end:%H:%M} UTC, " + pgettext("session state", sitting.state),
        ),
    )
    for label, value in lines:
        pdf.style(10, bold=True)
        pdf.cell(24, 5.5, pdf.clean(label))
        pdf.style(10)
        pdf.multi_cell(0, 5.5, pdf.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _verdict(pdf: ReportPDF, report: CandidateReport) -> None:
    pdf.ln(3)
    if report.released:
        kind = "pass" if report.passed else "fail"
        text = result_reason(report.current)
    else:
        kind = "provisional"
        pdf.line_of(_("Provisional: not yet released"), 10, bold=True)
        text = _("As it stands: %(reason)s", reason=result_reason(report.current))
    pdf.set_fill_color(*VERDICT_COLOURS[kind])
    pdf.style(12, bold=True)
    pdf.multi_cell(0, 7, pdf.clean(text), fill=True, padding=2, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    released_at = report.current.exam_session.released_at
    if released_at is not None:
        moment = f"{released_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"
        pdf.line_of(_("Released %(moment)s UTC.", moment=moment), 9)


def _scores(pdf: ReportPDF, report: CandidateReport) -> None:
    policy, quiz = report.current.policy, report.quiz
    pdf.heading(
        _(
            "Trust score: %(score)s (pass at %(threshold)s)",
            score=number(report.trust_score),
            threshold=number(policy.pass_threshold),
        )
    )
    lost = report.current.result.trust.total_points
    pdf.line_of(
        _(
            "Violations cost %(points)s points now (dismissed ones cost nothing).",
            points=number(lost),
        )
    )
    pdf.heading(
        _(
            "Quiz score: %(score)s of %(max)s (%(percent)s %%, pass at %(pass_percent)s %%)",
            score=f"{quiz.score:g}",
            max=f"{quiz.max_marks:g}",
            percent=f"{quiz.percent:g}",
            pass_percent=f"{quiz.pass_percent:g}",
        )
    )
    correct, wrong = quiz.count("correct"), quiz.count("wrong")
    pdf.line_of(
        ngettext(
            "Correct: %(num)d answer, +%(marks)s marks",
            "Correct: %(num)d answers, +%(marks)s marks",
            correct,
            marks=f"{quiz.earned:g}",
        )
    )
    pdf.line_of(
        ngettext(
            "Wrong: %(num)d answer, %(marks)s marks (negative marking)",
            "Wrong: %(num)d answers, %(marks)s marks (negative marking)",
            wrong,
            marks=f"{MINUS}{quiz.penalty:g}",
        )
    )
    pdf.line_of(_("Unanswered: %(count)s", count=quiz.count("unanswered")))
    if quiz.count("unmarked"):
        pdf.line_of(_("Not marked automatically: %(count)s", count=quiz.count("unmarked")))
    if quiz.floored:
        pdf.line_of(_("Floor: the total was below zero and counts as zero"))


# --- the chart ---------------------------------------------------------------------------


@contextmanager
def _dashed(pdf: ReportPDF, on: bool) -> Iterator[None]:
    if on:
        pdf.set_dash_pattern(dash=0.9, gap=0.5)
    try:
        yield
    finally:
        if on:
            pdf.set_dash_pattern()


def _box(pdf: ReportPDF, box: Box, decision: Decision, at: tuple[float, float, float]) -> None:
    """One bar or legend swatch, styled as in the SVG (at = x, y and scale of the chart)."""
    style = STYLES[decision]
    ox, oy, k = at
    x, y, w, h = ox + box.x * k, oy + box.y * k, box.w * k, box.h * k
    pdf.set_line_width(0.25)
    pdf.set_draw_color(*_rgb(style.stroke))
    if style.fill:
        pdf.set_fill_color(*_rgb(style.fill))
    if style.hatched:
        with pdf.rect_clip(x, y, w, h):
            pdf.rect(x, y, w, h, style="F")
            step = 1.2
            offset = -h
            while offset < w:
                pdf.line(x + offset, y + h, x + offset + h, y)
                offset += step
    with _dashed(pdf, style.dashed):
        pdf.rect(x, y, w, h, style="DF" if style.fill and not style.hatched else "D")


def _chart_text(pdf: ReportPDF, x: float, y: float, text: str, align: str) -> None:
    clean = pdf.clean(text)
    width = pdf.get_string_width(clean)
    shift = {"start": 0.0, "middle": width / 2, "end": width}[align]
    pdf.text(x - shift, y, clean)


def _chart(pdf: ReportPDF, lay: TimelineLayout) -> None:
    k = PAGE_WIDTH_MM / lay.width
    if pdf.will_page_break(lay.height * k + 2):
        pdf.add_page()
    ox, oy = pdf.l_margin, pdf.get_y() + 1
    at = (ox, oy, k)
    pdf.style(12 * k * 72 / 25.4)  # the SVG's 12-unit text, in points
    plot = lay.plot
    for n, lane in enumerate(lay.lanes):
        band = lane.band
        pdf.set_fill_color(*((244, 245, 248) if n % 2 == 0 else (255, 255, 255)))
        pdf.rect(ox + band.x * k, oy + band.y * k, band.w * k, band.h * k, style="F")
        _chart_text(pdf, ox + lane.text_x * k, oy + lane.text_y * k, lane.label, "end")
    bottom = oy + (plot.y + plot.h) * k
    pdf.set_draw_color(200, 204, 212)
    pdf.set_line_width(0.2)
    for tick in lay.ticks:
        pdf.line(ox + tick.x * k, oy + plot.y * k, ox + tick.x * k, bottom + 1)
        _chart_text(pdf, ox + tick.x * k, bottom + 4.2, tick.label, "middle")
    pdf.set_draw_color(138, 143, 153)
    pdf.rect(ox + plot.x * k, oy + plot.y * k, plot.w * k, plot.h * k, style="D")
    if not lay.bars:
        middle = (ox + (plot.x + plot.w / 2) * k, oy + (plot.y + plot.h / 2 + 4) * k)
        _chart_text(pdf, *middle, no_violations(), "middle")
    for bar in lay.bars:
        _box(pdf, bar.box, bar.item.decision, at)
    for entry in lay.legend:
        _box(pdf, entry.swatch, entry.decision, at)
        _chart_text(pdf, ox + entry.text_x * k, oy + entry.text_y * k, entry.label, "start")
    pdf.set_y(oy + lay.height * k + 1)


# --- the log -----------------------------------------------------------------------------


def _log_cells(row: LogRow) -> list[str]:
    standing = decision(row.decision)
    if row.cost:
        standing += f" ({MINUS}{row.cost:.1f})"
    return [
        clock(row.offset_s),
        f"{row.duration_s:.0f} s",
        type_label(row.type),
        standing,
        row.note + (f" ({row.reviewer})" if row.reviewer else ""),
        "\n".join(row.evidence_paths) or pgettext("evidence", "none"),
    ]


def _log(pdf: ReportPDF, report: CandidateReport) -> None:
    pdf.heading(_("Violation log"))
    if not report.rows:
        pdf.line_of(_("No violations."))
        return
    pdf.line_of(
        _("Time is from the session's scheduled start; evidence is the path on this server."),
        8.5,
    )
    widths = list(LOG_WIDTHS)
    columns = [_("Time"), _("Duration"), _("Type"), _("Decision"), _("Note"), _("Evidence")]
    pdf.style(8)
    pdf.set_fill_color(255, 255, 255)  # the chart's last colours must not leak into the table
    pdf.set_draw_color(180, 185, 195)
    pdf.set_line_width(0.2)
    with pdf.table(
        col_widths=widths,
        width=PAGE_WIDTH_MM,
        text_align="LEFT",
        cell_fill_color=(246, 247, 250),
        cell_fill_mode="ROWS",
        line_height=4,
        padding=1,
        headings_style=FontFace(emphasis="BOLD", fill_color=(232, 235, 241)),
    ) as table:
        table.row([pdf.clean(name) for name in columns])
        for row in report.rows:
            table.row([pdf.clean(cell) for cell in _log_cells(row)])


def _integrity(pdf: ReportPDF, report: CandidateReport) -> None:
    pdf.heading(_("Evidence integrity"))
    if not report.integrity:
        pdf.line_of(_("No kiosk messages for this session."))
    for item in report.integrity:
        pdf.line_of(f"{item.device_id}: {integrity_summary(item)}")


def report_pdf(report: CandidateReport, generated_at: datetime | None = None) -> bytes:
    """The whole report as PDF bytes."""
    moment = (generated_at or datetime.now(UTC)).astimezone(UTC)
    sitting = report.current.exam_session
    footer = _(
        "Session %(session)s · generated %(moment)s UTC",
        session=sitting.session_id,
        moment=f"{moment:%Y-%m-%d %H:%M}",
    )
    pdf = ReportPDF(footer)
    number_ = report.candidate.candidate_number
    pdf.set_title(pdf.clean(_("Candidate report %(number)s", number=number_)))
    pdf.set_creator("Proctor central")
    pdf.set_text_color(*INK)
    pdf.add_page()
    _header(pdf, report)
    _verdict(pdf, report)
    _scores(pdf, report)
    pdf.heading(_("Timeline of violations"))
    _chart(pdf, report.timeline())
    _log(pdf, report)
    _integrity(pdf, report)
    return bytes(pdf.output())
