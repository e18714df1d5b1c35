"""What every main screen has: a header, its body, the job bar and the footer with its keys."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header

from tui.widgets.events_pane import EventsPane
from tui.widgets.grid import EventGrid
from tui.widgets.jobbar import JobBar
from tui.widgets.livebar import LiveBar
from tui.widgets.keybar import KeyBar

if TYPE_CHECKING:
    from tui.app import VedetteApp
    from tui.backend import Backend


class ExportSpec:
    """What 'export the current table' means on a screen: rows in hand, or a query of events."""

    def __init__(self, name: str, *, columns: Iterable[str] = (), rows: list[Any] | None = None,
                 events_filter: Any = None) -> None:
        self.name = name
        self.columns = list(columns)
        self.rows = rows
        self.events_filter = events_filter


class VedetteScreen(Screen):
    """Base of the main screens. Subclasses implement ``compose_body`` and may override
    ``export_spec`` (the table E exports) and ``palette_commands``."""

    BINDINGS = [
        Binding("escape", "back", "Back", show=False, id="screen.back", tooltip="Back to the previous screen"),
    ]
    # Shown in the header next to the case name.
    SCREEN_TITLE = ""
    # What the screen's styles were last computed from (see ``_on_screen_resume``).
    _styled_with: tuple | None = None

    @property
    def vapp(self) -> VedetteApp:
        return self.app  # type: ignore[return-value]

    @property
    def backend(self) -> Backend:
        return self.vapp.backend

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_body()
        with Vertical(id="bottom"):
            yield LiveBar()
            yield JobBar()
            yield KeyBar()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def _style_inputs(self) -> tuple:
        """What, outside the screen's own widgets, decides their styles: the app's CSS (a new
        theme or stylesheet bumps Textual's update count and replaces the parsed rules)."""
        app = self.app
        return (getattr(app, "_css_update_count", None), id(app.stylesheet.rules), app.theme, app.ansi_color)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Textual's own handler (subclass first). Textual restyles a screen's whole
        # tree every time it comes back (13 ms for the incident screen, 8 ms for the incident
        # list on a small machine: a third of the key's budget). Class and focus changes made
        # while the screen was away were styled when they happened, so the restyle only matters
        # when the app's CSS changed meanwhile.
        inputs = self._style_inputs()
        if event.refresh_styles and inputs == self._styled_with:
            event.refresh_styles = False
        self._styled_with = inputs

    def on_mount(self) -> None:
        self.title = "Vedette"
        self.set_subtitle(self.SCREEN_TITLE)

    def set_subtitle(self, text: str) -> None:
        """'<what this screen shows> · <case file>' in the header."""
        from pathlib import Path

        from engine.textsafe import visible

        self.sub_title = f"{text} · {visible(Path(self.backend.path).name)}"

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        elif self.app.current_mode != "overview":
            self.app.switch_mode("overview")

    def export_spec(self) -> ExportSpec | None:
        return None

    def palette_commands(self) -> list[tuple[str, str, str]]:
        """(name, help, action) commands this screen adds to the command palette."""
        return []

    @on(EventGrid.ViewCell)
    def _view_cell(self, msg: EventGrid.ViewCell) -> None:
        from tui.screens.dialogs import ValueDialog

        self.app.push_screen(ValueDialog(*msg.grid.cell_value(msg.row, msg.column)))

    @on(EventsPane.OpenEvent)
    def _open_event(self, msg: EventsPane.OpenEvent) -> None:
        from tui.screens.dialogs import EventDialog

        self.app.push_screen(EventDialog(msg.event))
