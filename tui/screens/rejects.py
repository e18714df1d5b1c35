"""Small list screens: rejected lines (with reasons) and the active suppressions."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from tui.messages import RowsLoaded, TriageChanged
from tui.screens.base import ExportSpec, VedetteScreen
from tui.widgets.cells import cell, plain
from tui.widgets.tables import VTable

REJECTS_SHOWN = 2000


class RejectsScreen(VedetteScreen):
    """Lines ingest could not turn into events, each with why."""

    SCREEN_TITLE = "Rejected lines"

    def compose_body(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), id="rejects-reasons", classes="banner")
        yield VTable(id="rejects-table")

    def on_mount(self) -> None:
        super().on_mount()
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="rejects", description="rejected lines")
    def _load(self) -> None:
        self.post_message(RowsLoaded("reasons", self.backend.reject_reasons()))
        self.post_message(RowsLoaded("rejects", self.backend.rejects(limit=REJECTS_SHOWN)))

    @on(RowsLoaded)
    def _loaded(self, msg: RowsLoaded) -> None:
        if msg.name == "reasons":
            t = Text()
            if not msg.rows:
                t.append("No rejected lines: every line became an event or was skipped by design.", style="green")
            else:
                t.append("Why lines were rejected: ", style="bold")
                t.append("  ".join(f"{plain(r, limit=100)} ({n:,})" for r, n in msg.rows[:6]))
            self.query_one("#rejects-reasons", Static).update(t)
            return
        self.rows = msg.rows
        table = self.query_one("#rejects-table", VTable)
        table.clear(columns=True)
        for c in ("file", "line", "reason", "raw line"):
            table.add_column(c, key=c)
        for r in msg.rows:
            table.add_row(cell(str(r["source_file"] or "").rsplit("/", 1)[-1]), cell(r["line_no"]),
                          cell(r["reason"], limit=80), cell(r["raw"], limit=160))
        if len(msg.rows) >= REJECTS_SHOWN:
            self.notify(f"Showing the first {REJECTS_SHOWN:,} rejected lines; the SQL console (4) has them all "
                        "(SELECT * FROM rejects).", markup=False)

    def export_spec(self) -> ExportSpec | None:
        rows = getattr(self, "rows", None)
        if not rows:
            return None
        return ExportSpec("rejects", columns=list(rows[0]), rows=[tuple(r.values()) for r in rows])


class SuppressionsScreen(VedetteScreen):
    """What the analysis folds into benign; d removes the highlighted one."""

    SCREEN_TITLE = "Suppressions"
    BINDINGS = [
        Binding("d", "remove", "Remove", id="suppressions.remove",
                tooltip="Stop suppressing the highlighted pattern (from the next analysis on)"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(Text("Sessions matching these are folded into benign by the next analysis (R re-analyses). "
                          "Add them from an incident with x.", style="dim"), classes="banner")
        yield VTable(id="suppressions-table")

    def on_mount(self) -> None:
        super().on_mount()
        self.items: list = []
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="suppressions", description="suppressions")
    def _load(self) -> None:
        self.post_message(RowsLoaded("suppressions", self.backend.suppressions()))

    @on(RowsLoaded)
    def _loaded(self, msg: RowsLoaded) -> None:
        self.items = msg.rows
        table = self.query_one("#suppressions-table", VTable)
        table.clear(columns=True)
        for c in ("id", "kind", "value", "note", "since"):
            table.add_column(c, key=c)
        for s in msg.rows:
            table.add_row(cell(s.id), cell(s.kind), cell(s.value), cell(s.note), cell(s.created_at))
        if not msg.rows:
            table.add_row(Text("none", style="dim"), "", "", "", "")

    def action_remove(self) -> None:
        table = self.query_one("#suppressions-table", VTable)
        if not self.items or table.cursor_row >= len(self.items):
            return
        self._remove(self.items[table.cursor_row])

    @work(thread=True, exclusive=True, exit_on_error=False, group="suppressions-write", description="unsuppress")
    def _remove(self, item) -> None:
        self.backend.unsuppress(item.id)
        self.post_message(TriageChanged(None, f"No longer suppressing {item.kind} {item.value}; re-analyse (R) to apply."))
        self._load()

    def export_spec(self) -> ExportSpec | None:
        if not self.items:
            return None
        return ExportSpec("suppressions", columns=["id", "kind", "value", "note", "created_at"],
                          rows=[(s.id, s.kind, s.value, s.note, s.created_at) for s in self.items])
