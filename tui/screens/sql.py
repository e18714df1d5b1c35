"""The SQL console: read-only SQL over the case, results in a table (like lnav's ; or Harlequin)."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static, TextArea

from store.console import QueryResult
from tui.backend import BackendError, Cancelled
from tui.messages import SqlResult, SqlSchema
from tui.screens.base import ExportSpec, VedetteScreen
from tui.widgets.cells import cell, plain
from tui.widgets.sql_editor import SchemaPane, SqlEditor
from tui.widgets.tables import VTable

# Lines with outcome 'failure' are failure lines, not attempts: sshd and PAM both log each try
# (engine.counts defines a failed attempt).
EXAMPLE = ("SELECT src_ip, count(*) AS failure_lines, count(DISTINCT \"user\") AS accounts\n"
           "FROM events WHERE outcome = 'failure'\nGROUP BY src_ip ORDER BY failure_lines DESC LIMIT 50")
HINT = ("Tables: events, sessions, incidents, runs, sources, rejects, triage, suppressions. "
        "Read-only: only SELECT / EXPLAIN / DESCRIBE / SUMMARIZE run, and are rolled back.")


class SqlScreen(VedetteScreen):
    SCREEN_TITLE = "SQL console"
    BINDINGS = [
        Binding("ctrl+r", "run", "Run SQL", id="sql.run", priority=True, tooltip="Run the SQL (read-only)"),
        Binding("ctrl+t", "toggle_focus", "Editor/results", id="sql.toggle_focus",
                tooltip="Move between the editor and the results"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.result: QueryResult | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="sql-top"):
            yield SqlEditor(EXAMPLE, id="sql-editor", show_line_numbers=True, soft_wrap=True)
            with VerticalScroll(id="sql-schema"):
                yield SchemaPane(Text("loading schema…", style="dim"), id="sql-schema-text")
        yield Static(Text(HINT, style="dim"), id="sql-status", classes="banner")
        yield VTable(id="sql-results", cursor_type="cell")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#sql-editor").border_title = ("SQL  (ctrl+r runs · Tab completes names · Escape leaves the "
                                                      "editor · ctrl+t switches)")
        self.query_one("#sql-schema").border_title = "Tables and columns"
        self.query_one("#sql-editor", TextArea).focus()
        self._load_schema()

    @work(thread=True, exclusive=True, exit_on_error=False, group="sql-schema", description="schema")
    def _load_schema(self) -> None:
        self.post_message(SqlSchema(self.backend.schema()))

    @on(SqlSchema)
    def _schema_loaded(self, msg: SqlSchema) -> None:
        self.query_one("#sql-editor", SqlEditor).schema = msg.schema
        self.query_one("#sql-schema-text", SchemaPane).show(msg.schema)

    @on(SqlEditor.Candidates)
    def _candidates(self, msg: SqlEditor.Candidates) -> None:
        if len(msg.names) > 1:
            shown = ", ".join(msg.names[:12]) + (f" and {len(msg.names) - 12} more" if len(msg.names) > 12 else "")
            self.query_one("#sql-status", Static).update(Text(f"{msg.prefix}… : {shown}", style="dim"))

    def action_run(self) -> None:
        sql = self.query_one("#sql-editor", TextArea).text.strip()
        if not sql:
            return
        self.query_one("#sql-status", Static).update(Text("running… (ctrl+g cancels)", style="italic"))
        self._run(sql)

    def action_back(self) -> None:
        # Escape in the editor only leaves the editor (so 1-4 and ? work again); then it goes back.
        editor = self.query_one("#sql-editor", TextArea)
        if editor.has_focus:
            self.query_one("#sql-results").focus()
            return
        super().action_back()

    def action_toggle_focus(self) -> None:
        editor = self.query_one("#sql-editor", TextArea)
        (self.query_one("#sql-results") if editor.has_focus else editor).focus()

    def cancel(self) -> bool:
        """Interrupt a running query (the app's cancel key calls this)."""
        running = [w for w in self.workers if w.group == "sql" and w.is_running]
        if running:
            self.backend.interrupt("sql")
            for w in running:
                w.cancel()
        return bool(running)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sql", description="SQL")
    def _run(self, sql: str) -> None:
        try:
            result = self.backend.run_sql(sql)
        except Cancelled:
            self.post_message(SqlResult("cancelled"))
            return
        except BackendError as exc:
            self.post_message(SqlResult(exc))
            return
        self.post_message(SqlResult(result))

    @on(SqlResult)
    def _result(self, msg: SqlResult) -> None:
        status = self.query_one("#sql-status", Static)
        if msg.result == "cancelled":
            status.update(Text("cancelled", style="yellow"))
            return
        if isinstance(msg.result, Exception):
            status.update(Text("error: " + plain(msg.result), style="red"))
            self.notify(plain(msg.result), title="SQL", severity="error", markup=False)
            return
        res: QueryResult = msg.result
        self.result = res
        table = self.query_one("#sql-results", VTable)
        table.clear(columns=True)
        for i, c in enumerate(res.columns):
            table.add_column(Text(plain(c, limit=40)), key=f"c{i}")
        for r in res.rows:
            table.add_row(*(cell(v, limit=80) for v in r))
        more = f" — only the first {len(res.rows):,} are shown (add a LIMIT or aggregate)" if res.truncated else ""
        status.update(Text(f"{len(res.rows):,} row(s) in {res.seconds * 1000:.0f} ms{more}", style="green"))

    def export_spec(self) -> ExportSpec | None:
        if self.result is None or not self.result.columns:
            return None
        return ExportSpec("query", columns=list(self.result.columns), rows=self.result.rows)

    def palette_commands(self) -> list[tuple[str, str, str]]:
        return [("SQL: run", "ctrl+r", "run"), ("SQL: editor / results", "ctrl+t", "toggle_focus")]
