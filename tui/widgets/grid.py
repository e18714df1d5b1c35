"""EventGrid: a light, read-only table (pages of events, the incident list), drawn line by line.

Textual's DataTable measures and renders every cell through Rich and re-renders all visible rows
when the cursor moves or the view scrolls; on a small machine a page change cost ~300 ms. This
grid keeps each row as a list of already-safe strings (``engine.textsafe.visible`` applied by the
caller), sizes columns once per page, and draws a line as a handful of Segments, so a page change
or a scroll costs a few milliseconds. It offers the small DataTable-like surface the events pane
needs: ``set_page``, ``cursor_row`` / ``cursor_column``, ``move_cursor``, ``row_count``,
``get_row_at`` and messages for Enter and for moving past either edge.

Text reaches the terminal only as Segment text made of visible characters; nothing is parsed as
markup.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class GridColumn:
    """``styles`` maps a cell's text to a Rich style (severity colours and the like)."""

    key: str
    label: str
    max_width: int = MAX_COLUMN
    right: bool = False
    styles: tuple[tuple[str, str], ...] = ()


class EventGrid(ScrollView, can_focus=True):
    """Rows of strings under a fixed header, a cell cursor, vim keys, edge messages."""

    COMPONENT_CLASSES = {"grid--header", "grid--cursor", "grid--cursor-row", "grid--odd", "grid--null",
                         "grid--failure", "grid--success"}
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
        self.widths: list[int] = []
        self.offsets: list[int] = []
        self.cursor_row = 0
        self.cursor_column = 0
        self._styles: dict[str, Style] | None = None
        self._line_cache: dict[int, Strip] = {}
        self._total_width = 0

    # --- data -----------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def set_page(self, columns: list[GridColumn], rows: list[list[str | None]], cursor_row: int = 0) -> None:
        """Show ``rows`` (strings already made safe; None is NULL) under ``columns``."""
        self.columns = list(columns)
        self.rows = rows
        widths = []
        for i, col in enumerate(self.columns):
            w = cell_len(col.label)
            for r in rows:
                v = r[i]
                if v is not None:
                    w = max(w, min(col.max_width, cell_len(v)))
            widths.append(min(w, col.max_width))
        self.widths = widths
        self.offsets = []
        x = 1
        for w in widths:
            self.offsets.append(x)
            x += w + GAP
        self._line_cache.clear()
        self._total_width = x
        self.virtual_size = Size(x, len(rows) + 1)
        self.cursor_row = max(0, min(cursor_row, len(rows) - 1))
        self.cursor_column = min(self.cursor_column, max(0, len(columns) - 1))
        self.scroll_to(y=0, animate=False)
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.Highlighted(self, self.cursor_row))

    def get_row_at(self, index: int) -> list[Text]:
        return [Text(v if v is not None else "") for v in self.rows[index]]

    def clear(self) -> None:
        self.set_page(self.columns, [])

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

    def _cells(self, values: list[str | None], row_style: Style) -> list[Segment]:
        """One row as segments (cached per row without the cursor)."""
        segs: list[Segment] = [Segment(" ", row_style)]
        null, gap = self._style("grid--null"), " " * GAP
        for col, w, v in zip(self.columns, self.widths, values):
            if v is None:
                segs.append(Segment(set_cell_size("·", w), row_style + null))
            else:
                text = v if cell_len(v) <= w else set_cell_size(v, w - 1) + "…"
                text = text.rjust(w) if col.right else set_cell_size(text, w)
                style = row_style
                if col.key == "outcome" and v in ("failure", "success"):
                    style = row_style + self._style(f"grid--{v}")
                elif col.styles:
                    extra = dict(col.styles).get(v)
                    if extra:
                        parsed = self._parsed.get(extra)
                        if parsed is None:
                            parsed = self._parsed[extra] = Style.parse(extra)
                        style = row_style + parsed
                segs.append(Segment(text, style))
            segs.append(Segment(gap, row_style))
        return segs

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x = self.scroll_offset.x
        base = self._style("base")
        total = self._total_width
        if y == 0:
            header = base + self._style("grid--header")
            segs = [Segment(" ", header)]
            for col, w in zip(self.columns, self.widths):
                segs.append(Segment(col.label.rjust(w) if col.right else set_cell_size(col.label, w), header))
                segs.append(Segment(" " * GAP, header))
            return Strip(segs, total).crop_extend(scroll_x, scroll_x + width, header)
        row = self.scroll_offset.y + y - 1
        if row >= len(self.rows):
            return Strip.blank(width, base)
        if row == self.cursor_row:
            segs = self._cells(self.rows[row], base + self._style("grid--cursor-row"))
            cursor = self._style("grid--cursor")
            if not self.cell_cursor:
                segs = [Segment(seg.text, (seg.style or Style()) + cursor) for seg in segs]
            else:
                i = 1 + 2 * self.cursor_column
                if i < len(segs):
                    segs[i] = Segment(segs[i].text, (segs[i].style or Style()) + cursor)
            strip = Strip(segs, total)
        else:
            strip = self._line_cache.get(row)
            if strip is None:
                row_style = base + self._style("grid--odd") if row % 2 else base
                strip = self._line_cache[row] = Strip(self._cells(self.rows[row], row_style), total)
        return strip.crop_extend(scroll_x, scroll_x + width, base)
