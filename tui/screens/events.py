"""The events browser: every event of the case (or of one incident), paged from DuckDB."""

from __future__ import annotations

from textual.app import ComposeResult

from store.browse import EventFilter
from tui.screens.base import ExportSpec, VedetteScreen
from tui.widgets.events_pane import EventsPane


class EventsScreen(VedetteScreen):
    """Opened as a mode (all events) or pushed from an incident (its events; Escape goes back)."""

    SCREEN_TITLE = "Events"
    AUTO_FOCUS = ".events-table"

    def __init__(self, base: EventFilter | None = None) -> None:
        super().__init__()
        self.base = base or EventFilter()

    def compose_body(self) -> ComposeResult:
        yield EventsPane(self.base, id="events-browser")

    def on_mount(self) -> None:
        super().on_mount()
        if self.base.incident_id:
            self.set_subtitle(f"Events of incident {self.base.incident_id} (Escape: back to it)")
        elif not self.base.empty:
            self.set_subtitle("Events (Escape: back)")
        self.pane.table.focus()

    @property
    def pane(self) -> EventsPane:
        return self.query_one(EventsPane)

    def export_spec(self) -> ExportSpec | None:
        return ExportSpec("events", events_filter=self.pane.flt)

    def palette_commands(self) -> list[tuple[str, str, str]]:
        return [
            ("Events: filter by text and fields", "/", "pane('edit_filter')"),
            ("Events: filter on the value under the cursor", "f", "pane('filter_cell')"),
            ("Events: clear filters", "F", "pane('clear_filter')"),
            ("Events: next page", "]", "pane('next_page')"),
            ("Events: previous page", "[", "pane('prev_page')"),
            ("Events: first page", "{", "pane('first_page')"),
            ("Events: last page", "}", "pane('last_page')"),
            ("Events: search (mark a text, n / N between matches)", "s", "pane('search')"),
            ("Events: next match", "n", "pane('find(1)')"),
            ("Events: previous match", "N", "pane('find(-1)')"),
            ("Events: only a time range (when)", "w", "pane('time_range')"),
        ]

    def action_pane(self, action: str) -> None:
        self.pane.run_action(action)
