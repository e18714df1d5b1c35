"""A sparkline of events per time slice whose slices can be picked: left/right move a marked
slice, Enter asks for that slice's events (``Timeline.SliceChosen``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

BARS = " ▁▂▃▄▅▆▇█"


def slice_columns(n: int, width: int) -> list[int]:
    """For each of ``width`` columns, the slice (of ``n``) it draws: slices spread evenly over
    the columns when there are fewer slices than columns, else the columns share them out."""
    return [min(n - 1, col * n // max(1, width)) for col in range(width)]


class Timeline(Widget, can_focus=True):
    """Counts per slice as bars (``height`` lines); the picked slice is drawn reversed while the
    widget has focus, and the line under the bars says what it holds."""

    BINDINGS = [
        Binding("left,h", "move(-1)", "Earlier slice", show=False, id="timeline.left", tooltip="The slice before"),
        Binding("right,l", "move(1)", "Later slice", show=False, id="timeline.right", tooltip="The slice after"),
        Binding("home", "jump(0)", "First slice", show=False, id="timeline.first", tooltip="The first slice"),
        Binding("end", "jump(-1)", "Last slice", show=False, id="timeline.last", tooltip="The last slice"),
        Binding("enter", "choose", "Slice's events", id="timeline.open",
                tooltip="Open the events browser on the picked slice's time span"),
    ]
    DEFAULT_CSS = """
    Timeline { height: 3; }
    Timeline:focus { background: $boost; }
    """

    @dataclass
    class SliceChosen(Message):
        """Enter on a slice: its span [start, end)."""

        timeline: Timeline
        start: datetime
        end: datetime

        @property
        def control(self) -> Timeline:
            return self.timeline

    def __init__(self, *, bar_lines: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bar_lines = bar_lines
        self.slices: list[tuple[datetime, int]] = []
        self.width_s = 0.0
        self.picked = 0

    def set_slices(self, slices: list[tuple[datetime, int]], width_s: float) -> None:
        """``slices``: (start, events) of equal slices ``width_s`` seconds wide."""
        self.slices = list(slices)
        self.width_s = width_s
        counts = [n for _, n in self.slices]
        # Start on the busiest slice: what the analyst most likely wants to see.
        self.picked = counts.index(max(counts)) if counts else 0
        self.refresh()

    def slice_span(self, index: int | None = None) -> tuple[datetime, datetime] | None:
        if not self.slices:
            return None
        start = self.slices[self.picked if index is None else index][0]
        return start, start + timedelta(seconds=self.width_s or 1)

    def render(self) -> Text:
        width = max(1, self.size.width)
        out = Text(no_wrap=True, overflow="crop")
        if not self.slices:
            out.append("no events in span", style="dim")
            return out
        counts = [n for _, n in self.slices]
        top = max(counts) or 1
        cols = slice_columns(len(counts), width)
        levels = self.bar_lines * (len(BARS) - 1)
        bar_style, pick_style = Style(color="magenta"), Style(color="magenta", reverse=True, bold=True)
        for line in range(self.bar_lines - 1, -1, -1):
            for s in cols:
                n = counts[s]
                level = 0 if n == 0 else max(1, round(n / top * levels))
                part = min(len(BARS) - 1, max(0, level - line * (len(BARS) - 1)))
                picked = s == self.picked and self.has_focus
                out.append(BARS[part] if not (picked and part == 0) else "·", pick_style if picked else bar_style)
            out.append("\n")
        out.append(self.caption(), style="dim")
        return out

    def caption(self) -> str:
        counts = [n for _, n in self.slices]
        span = self.slice_span()
        assert span is not None
        when = f"{span[0]:%m-%d %H:%M:%S}–{span[1]:%H:%M:%S}"
        if self.has_focus:
            return (f"slice {self.picked + 1}/{len(counts)} {when}: {counts[self.picked]:,} event(s) · "
                    "←/→ pick, Enter: its events")
        return (f"from {self.slices[0][0]:%m-%d %H:%M} UTC, {len(counts)} slices of {_duration(self.width_s)}, "
                f"peak {max(counts):,} per slice · Tab: pick one")

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_move(self, step: int) -> None:
        if self.slices:
            self.picked = max(0, min(len(self.slices) - 1, self.picked + step))
            self.refresh()

    def action_jump(self, index: int) -> None:
        if self.slices:
            self.picked = index % len(self.slices)
            self.refresh()

    def action_choose(self) -> None:
        span = self.slice_span()
        if span is not None:
            self.post_message(self.SliceChosen(self, *span))


def _duration(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"
