"""Every key, per screen, as currently bound (a user keymap included)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


KEYS_WIDTH = 20  # the keys column (the longest keys, "pageup / pagedown", fit)


@dataclass(frozen=True)
class HelpEntry:
    section: str
    keys: str
    description: str
    binding_id: str | None
    action: str


def help_table(entries: list[HelpEntry]) -> Group:
    """Per section, its heading and a grid of (keys, what they do, binding id): a long description
    wraps inside its column (never back to the left edge) and ids are never cut. Every section's
    grid has the same column widths, so the columns line up down the screen."""
    id_width = max((len(e.binding_id) + 2 for e in entries if e.binding_id), default=0)
    parts: list = []
    table = None
    section = None
    for e in entries:
        if e.section != section:
            if section is not None:
                parts.append(Text(""))
            parts.append(Text(e.section, style="bold underline"))
            table = Table.grid(padding=(0, 1), expand=True)
            table.add_column(width=KEYS_WIDTH, no_wrap=True, overflow="fold")
            table.add_column(ratio=1, overflow="fold")
            table.add_column(width=id_width, no_wrap=True)
            parts.append(table)
            section = e.section
        assert table is not None
        table.add_row(Text("  " + e.keys, style="bold cyan"), Text(e.description),
                      Text(f"[{e.binding_id}]", style="dim") if e.binding_id else "")
    return Group(*parts)


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
        with Vertical(classes="dialog wide", id="help"):
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(help_table(self.entries), id="help-text")
            yield Label(Text(self.keymap_note, style="dim"))

    def text(self, width: int | None = None) -> str:
        """The help as it reads at ``width`` columns (default: its pane's), one line per row."""
        from rich.console import Console

        widget = self.query_one("#help-text", Static)
        width = width or widget.content_size.width or 100
        console = Console(width=width, color_system=None, legacy_windows=False)
        lines = console.render_lines(help_table(self.entries), console.options.update_width(width), pad=False)
        return "\n".join("".join(seg.text for seg in line).rstrip() for line in lines)

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
