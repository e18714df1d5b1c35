"""EventGrid: a light, read-only table (pages of events, the incident list), drawn line by line.

Textual's DataTable measures and renders every cell through Rich and re-renders all visible rows
when the cursor moves or the view scrolls; on a small machine a page change cost ~300 ms. This
grid takes a page as a ``GridPage``: rows of already-safe strings (``engine.textsafe.visible``
applied by the caller), measured into column widths and fitted to them once. That is plain data a
worker thread can build, so the UI thread only swaps a page in and draws a line as a handful of
Segments (one per run of cells in the same style: Textual's compositor and colour filter cost
grows with the segments of a line). A page change or a scroll costs a few milliseconds. The grid
offers the small DataTable-like surface the events pane needs: ``set_page``, ``cursor_row`` /
``cursor_column``, ``move_cursor``, ``row_count``, ``get_row_at`` and messages for Enter and for
moving past either edge.

Text reaches the terminal only as Segment text made of visible characters; nothing is parsed as
markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

GAP = 2  # spaces between columns
MAX_COLUMN = 60  # cells; longer values are cut with an ellipsis (Enter shows the whole event)
NULL_MARK = "·"


@dataclass(frozen=True)
class GridColumn:
    """``styles`` maps a cell's text to a Rich style (severity colours and the like)."""

    key: str
    label: str
    max_width: int = MAX_COLUMN
    right: bool = False
    styles: tuple[tuple[str, str], ...] = ()


# A cell ready to draw: its text fitted to the column's width, and how to style it: None (the
# row's style), a component class of the grid ("grid--null"...) or a Rich style from the column.
Cell = tuple[str, str | None]


@dataclass(frozen=True)
class GridPage:
    """Rows of safe strings (None is NULL) under ``columns``, with the width each column takes
    and the cells fitted to it. ``GridPage.of`` builds one; it touches no widget, so a worker
    thread can call it."""

    columns: tuple[GridColumn, ...]
    rows: list[list[str | None]]
    widths: tuple[int, ...]
    cells: list[list[Cell]]

    @classmethod
    def of(cls, columns: Sequence[GridColumn], rows: list[list[str | None]]) -> GridPage:
        widths = []
        for i, col in enumerate(columns):
            widest = max((_cells_wide(v) for r in rows if (v := r[i]) is not None), default=0)
            widths.append(min(max(widest, cell_len(col.label)), col.max_width))
        looks = [dict(col.styles) for col in columns]
        cells = [[_cell(col, look, w, v) for col, look, w, v in zip(columns, looks, widths, r)] for r in rows]
        return cls(tuple(columns), rows, tuple(widths), cells)


EMPTY_PAGE = GridPage((), [], (), [])


def _cells_wide(text: str) -> int:
    """Terminal cells ``text`` takes (ASCII: one per character, the common case, measured fast)."""
    return len(text) if text.isascii() else cell_len(text)


def _cell(col: GridColumn, looks: dict[str, str], width: int, value: str | None) -> Cell:
    if value is None:
        return set_cell_size(NULL_MARK, width), "grid--null"
    if _cells_wide(value) > width:
        value = set_cell_size(value, width - 1) + "…"
    if col.right:
        text = value.rjust(width)
    else:
        text = value.ljust(width) if value.isascii() else set_cell_size(value, width)
    if col.key == "outcome" and value in ("failure", "success"):
        return text, f"grid--{value}"
    return text, looks.get(value)


class EventGrid(ScrollView, can_focus=True):
    """Rows of strings under a fixed header, a cell cursor, vim keys, edge messages."""

    COMPONENT_CLASSES = {"grid--header", "grid--cursor", "grid--cursor-row", "grid--odd", "grid--null",
                         "grid--failure", "grid--success", "grid--match"}
    DEFAULT_CSS = """
    EventGrid { background: $surface; }
    EventGrid > .grid--header { text-style: bold; background: $panel; }
    EventGrid > .grid--cursor { background: $accent; color: $text; }
    EventGrid:blur > .grid--cursor { background: $accent 40%; }
    EventGrid > .grid--cursor-row { background: $accent 15%; }
    EventGrid > .grid--odd { background: $boost; }
    EventGrid > .grid--null { color: $text-muted; }
    EventGrid > .grid--failure { color: $error; }
    EventGrid > .grid--success { color: $success; }
    EventGrid > .grid--match { background: $warning 70%; color: $background; text-style: bold; }
    """
    BINDINGS = [
        Binding("down,j", "cursor_down", "Down", show=False, id="grid.down",
                tooltip="Next row (past the last row of a page: the next page)"),
        Binding("up,k", "cursor_up", "Up", show=False, id="grid.up",
                tooltip="Previous row (past the first row of a page: the previous page)"),
        Binding("left,h", "cursor_left", "Left", show=False, id="grid.left", tooltip="Previous column"),
        Binding("right,l", "cursor_right", "Right", show=False, id="grid.right", tooltip="Next column"),
        Binding("pagedown,ctrl+d", "page_down", "Page down", show=False, id="grid.page_down",
                tooltip="A screenful down"),
        Binding("pageup,ctrl+u", "page_up", "Page up", show=False, id="grid.page_up", tooltip="A screenful up"),
        Binding("g,home", "first_row", "First row", show=False, id="grid.first", tooltip="First row"),
        Binding("G,end", "last_row", "Last row", show=False, id="grid.last", tooltip="Last row"),
        Binding("enter", "select", "Open", show=False, id="grid.select",
                tooltip="Open the incident / show the whole event"),
        Binding("v", "view_cell", "Whole value", show=False, id="grid.view_cell",
                tooltip="Show the whole value of the cell under the cursor (cut cells end in …)"),
    ]

    @dataclass
    class EdgeReached(Message):
        grid: EventGrid
        direction: str  # "down" | "up"

        @property
        def control(self) -> EventGrid:
            return self.grid

    @dataclass
    class Highlighted(Message):
        """The cursor moved to another row."""

        grid: EventGrid
        row: int

        @property
        def control(self) -> EventGrid:
            return self.grid

    @dataclass
    class ViewCell(Message):
        """``v`` on a cell: show its whole value (the screen opens it; a pane may know more)."""

        grid: EventGrid
        row: int
        column: int

        @property
        def control(self) -> EventGrid:
            return self.grid

    @dataclass
    class Selected(Message):
        grid: EventGrid
        row: int
        column: int

        @property
        def control(self) -> EventGrid:
            return self.grid

    def __init__(self, *, paged: bool = True, cell_cursor: bool = True, **kwargs) -> None:
        """``paged``: moving past either edge posts ``EdgeReached``; ``cell_cursor``: the cursor
        marks a cell (else the whole row)."""
        super().__init__(**kwargs)
        self.paged = paged
        self.cell_cursor = cell_cursor
        self._parsed: dict[str, Style] = {}
        self.columns: list[GridColumn] = []
        self.rows: list[list[str | None]] = []
        self.cells: list[list[Cell]] = []
        self.widths: list[int] = []
        self.offsets: list[int] = []
        self.cursor_row = 0
        self.cursor_column = 0
        self._styles: dict[str, Style] | None = None
        self._line_cache: dict[int, Strip] = {}
        self._total_width = 0
        self.highlight = ""  # text marked wherever a cell shows it (any case)
        self.marks: dict[int, list[tuple[int, int, int]]] = {}  # row -> (column, start, end) of each match

    # --- data -----------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def set_page(self, page: GridPage, cursor_row: int = 0, keep_scroll: bool = False) -> None:
        """Show ``page`` (its strings already made safe) with the cursor on ``cursor_row``;
        ``keep_scroll``: the cursor's row stays where it was on screen (a list updated in place)."""
        old_y, old_row = self.scroll_y, self.cursor_row
        self.columns = list(page.columns)
        self.rows = page.rows
        self.cells = page.cells
        self.widths = list(page.widths)
        self.offsets = []
        x = 1
        for w in self.widths:
            self.offsets.append(x)
            x += w + GAP
        self._line_cache.clear()
        self._total_width = x
        self._find_marks()
        self.virtual_size = Size(x, len(self.rows) + 1)
        self.cursor_row = max(0, min(cursor_row, len(self.rows) - 1))
        self.cursor_column = min(self.cursor_column, max(0, len(self.columns) - 1))
        self.scroll_to(y=max(0, old_y + self.cursor_row - old_row) if keep_scroll else 0, animate=False)
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.Highlighted(self, self.cursor_row))

    # --- search highlighting ----------------------------------------------------------------

    def set_highlight(self, text: str) -> None:
        """Mark ``text`` (any case) wherever a cell shows it; "" marks nothing."""
        text = text.lower()
        if text == self.highlight:
            return
        self.highlight = text
        self._find_marks()
        self._line_cache.clear()
        self.refresh()

    def _find_marks(self) -> None:
        self.marks = {}
        needle = self.highlight
        if not needle:
            return
        n = len(needle)
        for r, cells in enumerate(self.cells):
            found = []
            for c, (text, _) in enumerate(cells):
                low = text.lower()
                at = low.find(needle)
                while at >= 0:
                    found.append((c, at, at + n))
                    at = low.find(needle, at + n)
            if found:
                self.marks[r] = found

    def find_match(self, step: int) -> tuple[int, int] | None:
        """The (row, column) of the next (``step`` 1) or previous (-1) marked cell after the
        cursor on this page, or None."""
        here = (self.cursor_row, self.cursor_column if self.cell_cursor else -1 if step > 0 else 10**6)
        cells = sorted({(r, c) for r, found in self.marks.items() for c, _, _ in found})
        later = [rc for rc in cells if (rc > here if step > 0 else rc < here)]
        if not later:
            return None
        return later[0] if step > 0 else later[-1]

    def _mark(self, segs: list[Segment], row: int) -> list[Segment]:
        """``segs`` with the row's matches in the match style (split where a match begins or ends)."""
        spans = sorted((self.offsets[c] + a, self.offsets[c] + b) for c, a, b in self.marks[row]
                       if self.cells[row][c][0].isascii())
        if not spans:
            return segs
        style = self._style("grid--match")
        out: list[Segment] = []
        pos = 0
        for seg in segs:
            text, end = seg.text, pos + len(seg.text)
            cut = pos
            for a, b in spans:
                if b <= cut or a >= end:
                    continue
                a, b = max(a, cut), min(b, end)
                if a > cut:
                    out.append(Segment(text[cut - pos:a - pos], seg.style))
                out.append(Segment(text[a - pos:b - pos], (seg.style or Style()) + style))
                cut = b
            if cut < end:
                out.append(Segment(text[cut - pos:], seg.style))
            pos = end
        return out

    def get_row_at(self, index: int) -> list[Text]:
        return [Text(v if v is not None else "") for v in self.rows[index]]

    # --- cursor ---------------------------------------------------------------------------

    def move_cursor(self, row: int | None = None, column: int | None = None, animate: bool = False) -> None:
        old = self.cursor_row
        if row is not None and self.rows:
            self.cursor_row = max(0, min(row, len(self.rows) - 1))
        if column is not None and self.columns:
            self.cursor_column = max(0, min(column, len(self.columns) - 1))
        if not self._scroll_cursor_into_view():
            self._refresh_row(old)
            self._refresh_row(self.cursor_row)
        if self.cursor_row != old:
            self.post_message(self.Highlighted(self, self.cursor_row))

    def _data_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_cursor_into_view(self) -> bool:
        """Scroll so the cursor is visible; True when the view moved (everything redrawn)."""
        y, x = self.scroll_offset.y, self.scroll_offset.x
        new_y, new_x = y, x
        h = self._data_height()
        if self.cursor_row < y:
            new_y = self.cursor_row
        elif self.cursor_row >= y + h:
            new_y = self.cursor_row - h + 1
        if self.columns:
            left = self.offsets[self.cursor_column] - 1
            right = left + self.widths[self.cursor_column] + GAP
            width = self.scrollable_content_region.width
            if left < x:
                new_x = left
            elif right > x + width:
                new_x = min(left, right - width)
        if (new_y, new_x) != (y, x):
            self.scroll_to(x=new_x, y=new_y, animate=False)
            self.refresh()
            return True
        return False

    def _refresh_row(self, row: int) -> None:
        y = row - self.scroll_offset.y + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def action_cursor_down(self) -> None:
        if self.paged and self.rows and self.cursor_row >= len(self.rows) - 1:
            self.post_message(self.EdgeReached(self, "down"))
            return
        self.move_cursor(row=self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        if self.paged and self.rows and self.cursor_row <= 0:
            self.post_message(self.EdgeReached(self, "up"))
            return
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_left(self) -> None:
        self.move_cursor(column=self.cursor_column - 1)

    def action_cursor_right(self) -> None:
        self.move_cursor(column=self.cursor_column + 1)

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + self._data_height())

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - self._data_height())

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.move_cursor(row=len(self.rows) - 1)

    def action_view_cell(self) -> None:
        if self.rows and self.columns:
            column = self.cursor_column if self.cell_cursor else 0
            self.post_message(self.ViewCell(self, self.cursor_row, column))

    def cell_value(self, row: int, column: int) -> tuple[str, str | None]:
        """(column label, the cell's text before it was fitted to the column)."""
        return self.columns[column].label, self.rows[row][column]

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self, self.cursor_row, self.cursor_column))

    # --- drawing --------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._line_cache.clear()

    def _style(self, name: str) -> Style:
        if self._styles is None:
            self._styles = {c: self.get_component_rich_style(c, partial=True) for c in self.COMPONENT_CLASSES}
            self._styles["base"] = self.rich_style
        return self._styles[name]

    def _cells(self, cells: list[Cell], row_style: Style, cursor: Style | None = None,
               cursor_column: int | None = None) -> list[Segment]:
        """One row as segments, one per run of cells styled alike. ``cursor`` is added to the
        cell ``cursor_column``, or to the whole row when that is None (rows without the cursor
        are cached by the caller)."""
        segs: list[Segment] = []
        run, run_look = " ", None  # the text of the run being built and its cells' look

        def flush() -> None:
            segs.append(Segment(run, row_style if run_look is None else row_style + self._look(run_look)))

        gap = " " * GAP
        for index, (text, look) in enumerate(cells):
            if cursor is not None and index == cursor_column:
                flush()
                segs.append(Segment(text, (row_style if look is None else row_style + self._look(look)) + cursor))
                run, run_look = gap, None
                continue
            if look != run_look:
                flush()
                run, run_look = text, look
            else:
                run += text
            if run_look is None:
                run += gap
            else:
                flush()
                run, run_look = gap, None
        flush()
        if cursor is not None and cursor_column is None:
            segs = [Segment(seg.text, seg.style + cursor) for seg in segs]
        return segs

    def _look(self, look: str) -> Style:
        """A cell's style: one of the grid's component classes, else a Rich style of its column."""
        if look in self.COMPONENT_CLASSES:
            return self._style(look)
        parsed = self._parsed.get(look)
        if parsed is None:
            parsed = self._parsed[look] = Style.parse(look)
        return parsed

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x = self.scroll_offset.x
        base = self._style("base")
        total = self._total_width
        if y == 0:
            header = base + self._style("grid--header")
            labels = "".join((col.label.rjust(w) if col.right else set_cell_size(col.label, w)) + " " * GAP
                             for col, w in zip(self.columns, self.widths))
            return _cut(Strip([Segment(" " + labels, header)], total), scroll_x, width, header)
        row = self.scroll_offset.y + y - 1
        if row >= len(self.rows):
            return Strip.blank(width, base)
        if row == self.cursor_row:
            segs = self._cells(self.cells[row], base + self._style("grid--cursor-row"), self._style("grid--cursor"),
                               self.cursor_column if self.cell_cursor else None)
            strip = Strip(self._mark(segs, row) if row in self.marks else segs, total)
        else:
            strip = self._line_cache.get(row)
            if strip is None:
                row_style = base + self._style("grid--odd") if row % 2 else base
                segs = self._cells(self.cells[row], row_style)
                strip = self._line_cache[row] = Strip(self._mark(segs, row) if row in self.marks else segs, total)
        return _cut(strip, scroll_x, width, base)


def _cut(strip: Strip, x: int, width: int, style: Style) -> Strip:
    """``strip`` seen from column ``x``, ``width`` wide; where the view's edge cuts a value (a
    character on both sides of it), its last column shows "…" so the cut is seen."""
    view = strip.crop_extend(x, x + width, style)
    end = x + width
    if width > 1 and end < strip.cell_length:
        edge = "".join(seg.text for seg in strip.crop(end - 1, end + 1))
        if len(edge) == 2 and " " not in edge:
            kept = list(view.crop(0, width - 1))
            last = list(view.crop(width - 1, width))
            mark_style = last[0].style if last else style
            if kept and kept[-1].style == mark_style:  # one segment per run of one style, as drawn
                kept[-1] = Segment(kept[-1].text + "…", mark_style)
            else:
                kept.append(Segment("…", mark_style))
            return Strip(kept, width)
    return view
