"""Modal dialogs: an event's every field, a note, a suppression, an export, a path."""

from __future__ import annotations

import shlex
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option

from store.schema import EVENT_COLUMN_NAMES
from tui.widgets.cells import plain


class Dialog(ModalScreen):
    """Escape closes without a result."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Close without doing anything")]

    def action_cancel(self) -> None:
        self.dismiss(None)


class EventDialog(Dialog):
    """Every field of one event, and its raw line, shown literally."""

    BINDINGS = [Binding("q", "cancel", "Close", show=False, id="dialog.close")]

    def __init__(self, event: dict) -> None:
        super().__init__()
        self.event = event

    def compose(self) -> ComposeResult:
        t = Text()
        width = max(len(c) for c in EVENT_COLUMN_NAMES)
        for col in EVENT_COLUMN_NAMES:
            value = self.event.get(col)
            if value is None or col == "raw":
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            t.append(col.rjust(width), style="bold")
            t.append("  ")
            t.append(plain(value))
            t.append("\n")
        t.append("\nraw line".rjust(width + 1), style="bold")
        t.append("\n")
        t.append(plain(self.event.get("raw")), style="")
        with Vertical(classes="dialog wide"):
            yield Label("Event", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(t, classes="event-detail")
            yield Label(Text("Escape closes", style="dim"))


class ValueDialog(Dialog):
    """One cell's whole value (a table shows it cut to its column), wrapped, shown literally."""

    BINDINGS = [Binding("q", "cancel", "Close", show=False, id="dialog.close_value")]

    def __init__(self, label: str, value) -> None:
        super().__init__()
        self.label = label
        self.value = value

    def compose(self) -> ComposeResult:
        text = Text(plain(self.value) if self.value is not None else "NULL",
                    style="" if self.value is not None else "dim")
        with Vertical(classes="dialog wide"):
            yield Label(Text(plain(self.label)), classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(text, classes="cell-value")
            yield Label(Text("Escape closes", style="dim"))


class NoteDialog(Dialog):
    """Edit the analyst's note on an incident."""

    def __init__(self, incident_id: str, note: str | None) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.note = note or ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Note on {plain(self.incident_id)}"), classes="dialog-title")
            yield Input(value=self.note, placeholder="what you found, who you asked, what to do next",
                        id="note-input")
            yield Label(Text("Enter saves · Escape cancels · an empty note removes it", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#note-input", Input).focus()

    @on(Input.Submitted, "#note-input")
    def _save(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class SuppressDialog(Dialog):
    """Choose what to suppress from future runs: one of the incident's sources or accounts, its
    sources' /24, or a value typed in (``ip:``, ``user:``, ``cidr:`` prefixes)."""

    def __init__(self, incident_id: str, src_ips: list[str], users: list[str]) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.choices: list[tuple[str, str]] = []
        for ip in src_ips[:20]:
            self.choices.append(("src_ip", ip))
            net = _slash24(ip)
            if net and ("cidr", net) not in self.choices:
                self.choices.append(("cidr", net))
        for u in users[:20]:
            self.choices.append(("user", u))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Suppress in future runs ({plain(self.incident_id)})"), classes="dialog-title")
            yield Label(Text("The next analysis (R) folds sessions matching it into benign.", style="dim"))
            options = [Option(Text.assemble((f"{kind:7}", "bold"), plain(value)), id=str(i))
                       for i, (kind, value) in enumerate(self.choices)]
            yield OptionList(*options, id="suppress-options")
            yield Input(placeholder="or type: ip:203.0.113.7  user:deploy  cidr:198.51.100.0/24", id="suppress-input")
            yield Label(Text("Enter suppresses the highlighted choice or what you typed · Escape cancels",
                             style="dim"))

    def on_mount(self) -> None:
        if self.choices:
            self.query_one(OptionList).focus()
        else:
            self.query_one("#suppress-input", Input).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id or 0)])

    @on(Input.Submitted, "#suppress-input")
    def _typed(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        kind, _, value = text.partition(":")
        kinds = {"ip": "src_ip", "src_ip": "src_ip", "user": "user", "cidr": "cidr", "net": "cidr"}
        if kind.strip().lower() in kinds and value.strip():
            self.dismiss((kinds[kind.strip().lower()], value.strip()))
        elif "/" in text:
            self.dismiss(("cidr", text))
        else:
            self.dismiss(("src_ip", text))


def _slash24(ip: str) -> str | None:
    import ipaddress

    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if addr.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class ExportDialog(Dialog):
    """Where and how to export the current table: CSV, JSON or Parquet."""

    def __init__(self, name: str, default_dir: Path | None = None) -> None:
        super().__init__()
        self.name_ = name
        self.default_dir = default_dir or Path.cwd()

    def compose(self) -> ComposeResult:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        with Vertical(classes="dialog"):
            yield Label(Text(f"Export {plain(self.name_)}"), classes="dialog-title")
            with RadioSet(id="export-format"):
                yield RadioButton("CSV", value=True, id="fmt-csv")
                yield RadioButton("JSON", id="fmt-json")
                yield RadioButton("Parquet", id="fmt-parquet")
            yield Input(value=str(self.default_dir / f"vedette-{self.name_}-{stamp}.csv"), id="export-path")
            yield Label(Text("The extension picks the format (.csv, .json, .parquet). Enter exports, Escape cancels.",
                             style="dim"))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", variant="primary", id="export-go")
                yield Button("Cancel", id="export-cancel")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    def _fmt(self) -> str:
        pressed = self.query_one(RadioSet).pressed_button
        return (pressed.id or "fmt-csv").removeprefix("fmt-") if pressed else "csv"

    @on(RadioSet.Changed)
    def _format_changed(self) -> None:
        inp = self.query_one("#export-path", Input)
        p = Path(inp.value)
        inp.value = str(p.with_suffix("." + self._fmt()))

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export-go")
    def _go(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if path:
            # The file's extension wins over the radio buttons: a .json file holds JSON.
            suffix = Path(path).suffix.lower().lstrip(".")
            fmt = suffix if suffix in ("csv", "json", "parquet") else self._fmt()
            self.dismiss((fmt, str(Path(path).expanduser())))

    @on(Button.Pressed, "#export-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class PathDialog(Dialog):
    """Ask for a path (or several): ingest, PDF report."""

    def __init__(self, title: str, value: str = "", placeholder: str = "", hint: str = "") -> None:
        super().__init__()
        self.title_ = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(plain(self.title_)), classes="dialog-title")
            yield Input(value=self.value, placeholder=self.placeholder, id="path-input")
            if self.hint:
                yield Label(Text(self.hint, style="dim"))

    def on_mount(self) -> None:
        self.query_one("#path-input", Input).focus()

    @on(Input.Submitted, "#path-input")
    def _go(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())


def split_paths(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()
