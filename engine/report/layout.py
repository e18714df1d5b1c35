"""The PDF's layout primitives: colours, the A4 page with its running header and footer, and a
``Document`` that writes headings, paragraphs, label lines and tables for the sections."""

from __future__ import annotations

from datetime import datetime, timezone

from fpdf import FPDF

from engine.report.data import ReportData
from engine.report.fonts import load_fonts, safe

SEVERITY_COLOURS = {
    "critical": (153, 27, 27),
    "high": (220, 38, 38),
    "medium": (217, 119, 6),
    "low": (37, 99, 235),
    "info": (107, 114, 128),
}
INK = (30, 41, 59)          # headings and body text
MUTED = (100, 116, 139)     # labels, captions, footer
RULE = (203, 213, 225)      # hairlines
TINT = (241, 245, 249)      # table headings, panels
FAILURE = (217, 119, 6)
SUCCESS = (220, 38, 38)
OTHER = (148, 163, 184)
BAR = (37, 99, 235)


def _fmt_ts(t: datetime | None, seconds: bool = True) -> str:
    if t is None:
        return "-"
    t = t.astimezone(timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _duration(seconds: float) -> str:
    secs = max(0, round(seconds))
    if secs < 60:
        return f"{secs} s"
    mins, s = divmod(secs, 60)
    if mins < 60:
        return f"{mins} min {s} s" if s else f"{mins} min"
    hours, m = divmod(mins, 60)
    if hours < 48:
        return f"{hours} h {m} min" if m else f"{hours} h"
    return f"{hours // 24} days {hours % 24} h"


def _num(v: object) -> str:
    if v is None:
        return "-"
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return safe(v)
    if f == int(f) and abs(f) < 1e12:
        return f"{int(f):,}"
    return f"{f:,.2f}" if abs(f) >= 1 else f"{f:.3g}"


def _fit_left(pdf, text: str, width: float) -> str:
    """``text`` cut at its start with an ellipsis to fit ``width`` mm (keeps a file name's end)."""
    if pdf.get_string_width(text) <= width:
        return text
    return _fit(pdf, text[::-1], width)[::-1]


def _fit(pdf, text: str, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` mm in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if pdf.get_string_width(text[:mid] + "…") <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


class _IncidentPDF(FPDF):
    """A4 portrait; a running header from page 2 and a footer with page numbers on every page."""

    header_text = ""
    footer_text = ""

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("sans", "", 7.5)
        self.set_text_color(*MUTED)
        self.set_xy(self.l_margin, 8)
        self.cell(self.epw, 4, self.header_text, align="L")
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, 13, self.w - self.r_margin, 13)
        self.set_y(17)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y() - 1.5, self.w - self.r_margin, self.get_y() - 1.5)
        self.set_font("sans", "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(self.epw - 30, 4, self.footer_text, align="L")
        self.cell(30, 4, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*INK)


class Document:
    """One report being laid out: ``pdf`` (fonts loaded), the data ``d`` and its incident ``inc``,
    and the characters the fonts cover (``cover``; ``mono_cover`` for the monospaced font)."""

    def __init__(self, data: ReportData) -> None:
        self.d = data
        self.inc = data.incident
        pdf = _IncidentPDF(orientation="P", unit="mm", format="A4")
        pdf.set_margins(16, 18, 16)
        pdf.set_auto_page_break(True, margin=18)
        self.cover, self.mono_cover = load_fonts(pdf, data.texts())
        self.pdf = pdf

    def safe(self, text: object, limit: int | None = None) -> str:
        return safe(text, limit, self.cover)

    def font(self, size: float, bold: bool = False, mono: bool = False, colour=INK) -> None:
        self.pdf.set_font("mono" if mono else "sans", "B" if bold and not mono else "", size)
        self.pdf.set_text_color(*colour)

    def para(self, text: str, size: float = 9.5, colour=INK, bold: bool = False, h: float | None = None,
             indent: float = 0.0) -> None:
        pdf = self.pdf
        self.font(size, bold=bold, colour=colour)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(pdf.epw - indent, h or size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")

    def section(self, title: str, need: float = 30.0) -> None:
        """A section heading, kept together with at least ``need`` mm of what follows."""
        pdf = self.pdf
        if pdf.will_page_break(need + 10):
            pdf.add_page()
        pdf.ln(4)
        self.font(12.5, bold=True)
        pdf.cell(pdf.epw, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(*INK)
        pdf.set_line_width(0.35)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + 14, pdf.get_y())
        pdf.ln(2.5)

    def label_line(self, label: str, value: str) -> None:
        pdf = self.pdf
        self.font(9, bold=True)
        w = pdf.get_string_width(label + ": ") + 1
        pdf.cell(w, 4.8, label + ":")
        self.font(9)
        pdf.multi_cell(pdf.epw - w, 4.8, value, align="L", new_x="LMARGIN", new_y="NEXT")

    def table(self, headings: tuple[str, ...], rows: list[tuple], widths: tuple[float, ...], total: int,
               noun: str, empty: str) -> None:
        from fpdf.fonts import FontFace

        pdf = self.pdf
        if not rows:
            self.para(empty, colour=MUTED)
            return
        self.font(8)
        pdf.set_fill_color(255, 255, 255)
        align = ["LEFT"] + ["RIGHT" if isinstance(v, int) else "LEFT" for v in rows[0][1:]]
        with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", text_align=align,
                       headings_style=FontFace(emphasis="BOLD", color=INK, fill_color=TINT),
                       borders_layout="HORIZONTAL_LINES", line_height=4.4, padding=(0.8, 1.5),
                       cell_fill_mode="ROWS", cell_fill_color=(248, 250, 252), repeat_headings=1) as table:
            pdf.set_draw_color(*RULE)
            head = table.row()
            for h in headings:
                head.cell(h)
            for r in rows:
                row = table.row()
                for v in r:
                    row.cell(f"{v:,}" if isinstance(v, int) else str(v))
        if total > len(rows):
            pdf.ln(1)
            self.para(f"Showing the {len(rows):,} busiest of {total:,} {noun}; {total - len(rows):,} more "
                      f"are in the case (vedette query).", size=8, colour=MUTED, h=4)
