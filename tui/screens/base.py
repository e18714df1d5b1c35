"""What every main screen has: a header, its body, the job bar and the footer with its keys."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header

from tui.widgets.events_pane import EventsPane
from tui.widgets.jobbar import JobBar
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
            yield JobBar()
            yield KeyBar()

    def compose_body(self) -> ComposeResult:
        yield from ()

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

    @on(EventsPane.OpenEvent)
    def _open_event(self, msg: EventsPane.OpenEvent) -> None:
        from tui.screens.dialogs import EventDialog

        self.app.push_screen(EventDialog(msg.event))
