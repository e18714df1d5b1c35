"""The report's charts, drawn with fpdf2 primitives (no plotting library): events over time split by
outcome, and the anomaly model's explanation as bars."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from engine.explain import plain
from engine.report.layout import BAR, FAILURE, MUTED, OTHER, RULE, SUCCESS, TINT, Document, _duration, _fit, _num


def _nice_step(v: float) -> int:
    """The smallest whole 1, 2 or 5 times a power of ten at or above ``v`` (an axis step for counts)."""
    if v <= 1:
        return 1
    exp = math.floor(math.log10(v))
    for m in (1, 2, 5, 10):
        if m * 10 ** exp >= v:
            return int(m * 10 ** exp)
    return int(10 ** (exp + 1))


def timeline_chart(doc: Document, timeline: list[tuple[datetime, int, int, int]], bucket_seconds: float) -> None:
    """Stacked bars of ``timeline`` (bucket start, failures, successes, other), with axes, caption and legend."""
    pdf = doc.pdf
    x0, w, h = pdf.l_margin + 14, pdf.epw - 16, 42.0
    y0 = pdf.get_y() + 2
    totals = [f + s + o for _, f, s, o in timeline]
    # The y axis: 3 to 6 whole, round steps, whichever reaches the peak with least headroom.
    y_ticks, step = min(((n, _nice_step(max(totals) / n)) for n in range(3, 7)), key=lambda t: (t[0] * t[1], t[0]))
    top = step * y_ticks
    # Grid and y axis labels.
    doc.font(7, colour=MUTED)
    pdf.set_line_width(0.15)
    for k in range(y_ticks + 1):
        yy = y0 + h - h * k / y_ticks
        pdf.set_draw_color(*(RULE if k else MUTED))
        pdf.line(x0, yy, x0 + w, yy)
        label = f"{step * k:,}"
        pdf.set_xy(pdf.l_margin, yy - 2)
        pdf.cell(12, 4, label, align="R")
    # Bars: failures at the bottom, successes above, everything else on top.
    n = len(timeline)
    slot = w / n
    bar = slot * (0.8 if n > 1 else 0.3)
    for i, (_, f, s, o) in enumerate(timeline):
        bx = x0 + i * slot + (slot - bar) / 2
        base = y0 + h
        for count, colour in ((f, FAILURE), (s, SUCCESS), (o, OTHER)):
            if not count:
                continue
            bh = h * count / top
            pdf.set_fill_color(*colour)
            pdf.rect(bx, base - bh, bar, bh, style="F")
            base -= bh
    # X axis: start, quarters, end.
    first = timeline[0][0]
    end = first + timedelta(seconds=bucket_seconds * n)
    same_day = first.date() == end.date()
    fmt = "%H:%M" if same_day and (end - first) >= timedelta(minutes=10) else (
        "%H:%M:%S" if same_day else "%m-%d %H:%M")
    doc.font(7, colour=MUTED)
    ticks = 5 if n > 1 else 1
    for k in range(ticks):
        frac = k / (ticks - 1) if ticks > 1 else 0.5
        tx = x0 + w * frac
        pdf.set_draw_color(*MUTED)
        pdf.line(tx, y0 + h, tx, y0 + h + 1.2)
        t = first + (end - first) * frac if ticks > 1 else first
        label = t.astimezone(timezone.utc).strftime(fmt)
        lw = pdf.get_string_width(label) + 1
        lx = min(max(tx - lw / 2, x0 - 2), x0 + w - lw + 2)
        pdf.set_xy(lx, y0 + h + 1.5)
        pdf.cell(lw, 3.5, label, align="C")
    # Caption and legend.
    pdf.set_xy(pdf.l_margin, y0 + h + 6)
    per = _duration(bucket_seconds) if bucket_seconds else "the whole span"
    day = first.astimezone(timezone.utc).strftime("%Y-%m-%d") + " " if same_day else ""
    # The TUI's words for the same slices (its sparkline reads "peak N per slice").
    caption = f"{n} slices of {per}, {day}UTC. Peak {max(totals):,} per slice; {sum(totals):,} in all."
    pdf.cell(pdf.epw - 70, 4, caption)
    lx = pdf.l_margin + pdf.epw - 66
    for name, colour in (("failure", FAILURE), ("success", SUCCESS), ("other", OTHER)):
        pdf.set_fill_color(*colour)
        pdf.rect(lx, y0 + h + 6.8, 2.6, 2.6, style="F")
        pdf.set_xy(lx + 3.5, y0 + h + 6)
        pdf.cell(18, 4, name)
        lx += 22
    pdf.set_y(y0 + h + 12)


def contribution_bars(doc: Document, feats: list[dict]) -> None:
    """One bar per feature (at most 8): its share of the explanation, and the typical session's value."""
    pdf = doc.pdf
    label_w, value_w = 82.0, 32.0
    bar_w = pdf.epw - label_w - value_w - 4
    top = max(f["contribution"] for f in feats)
    for f in feats[:8]:
        y = pdf.get_y()
        doc.font(8.5)
        pdf.cell(label_w, 5.5, _fit(pdf, plain(f["name"]), label_w - 2))
        bx = pdf.l_margin + label_w
        pdf.set_fill_color(*TINT)
        pdf.rect(bx, y + 1.1, bar_w, 3.3, style="F")
        pdf.set_fill_color(*BAR)
        pdf.rect(bx, y + 1.1, max(0.4, bar_w * f["contribution"] / top), 3.3, style="F")
        pdf.set_xy(bx + bar_w + 2, y)
        doc.font(8.5, bold=True)
        pct = f"{100 * f['contribution']:.0f}%"
        pdf.cell(11, 5.5, pct, align="R")
        doc.font(7.5, colour=MUTED)
        pdf.cell(value_w - 11, 5.5, f" value {_num(f.get('value'))}", new_x="LMARGIN", new_y="NEXT")
