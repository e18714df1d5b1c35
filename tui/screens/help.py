"""Every key, per screen, as currently bound (a user keymap included)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


@dataclass(frozen=True)
class HelpEntry:
    section: str
    keys: str
    description: str
    binding_id: str | None
    action: str


class HelpScreen(ModalScreen):
    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close", tooltip="Close the help"),
        Binding("question_mark", "close", "Close", show=False, id="help.close2"),
        Binding("q", "close", "Close", show=False, id="help.close3"),
        Binding("j", "scroll('down')", "Down", show=False, id="help.down"),
        Binding("k", "scroll('up')", "Up", show=False, id="help.up"),
    ]

    def __init__(self, entries: list[HelpEntry], keymap_note: str = "") -> None:
        super().__init__()
        self.entries = entries
        self.keymap_note = keymap_note

    def compose(self) -> ComposeResult:
        t = Text()
        section = None
        for e in self.entries:
            if e.section != section:
                if section is not None:
                    t.append("\n")
                t.append(e.section + "\n", style="bold underline")
                section = e.section
            t.append(f"  {e.keys:<22}", style="bold cyan")
            t.append(e.description)
            if e.binding_id:
                t.append(f"   [{e.binding_id}]", style="dim")
            t.append("\n")
        with Vertical(classes="dialog wide", id="help"):
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(t, id="help-text")
            yield Label(Text(self.keymap_note, style="dim"))

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        if direction == "down":
            body.scroll_down()
        else:
            body.scroll_up()
