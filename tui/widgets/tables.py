"""Small data tables (overview, sessions, SQL results) with vim keys. Long lists use ``EventGrid``."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable


class VTable(DataTable):
    """A row-cursor DataTable with j/k alongside the arrows and g/G for first/last row."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down", tooltip="Next row"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up", tooltip="Previous row"),
        Binding("g", "first_row", "First row", show=False, id="table.first", tooltip="First row"),
        Binding("G", "last_row", "Last row", show=False, id="table.last", tooltip="Last row"),
    ]

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)

    def action_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)
