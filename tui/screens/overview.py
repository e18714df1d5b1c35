"""The case at a glance: what was ingested, what the latest analysis found, who is busiest."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Sparkline, Static

from engine.enrich import where_text
from store.browse import SEVERITIES, span_text
from store.overview import Activity, CaseTotals
from tui.backend import Cancelled
from tui.messages import OverviewPart
from tui.screens.base import ExportSpec, VedetteScreen
from tui.widgets.cells import SEVERITY_STYLE, TRIAGE_STYLE, TRIAGE_WORDS, cell, count, plain
from tui.widgets.tables import VTable


# The first column of an overview table is cut to fit its box, down to this many cells.
FIRST_MIN = 12


class OverviewScreen(VedetteScreen):
    SCREEN_TITLE = "Overview"
    AUTO_FOCUS = "#top-sources"
    BINDINGS = [
        Binding("r", "rejects", "Rejected lines", id="overview.rejects",
                tooltip="Lines that could not be parsed, with the reason"),
        Binding("h", "toggle_activity", "By host/file", id="overview.activity_by",
                tooltip="Show activity per host or per source file"),
        Binding("s", "suppressions", "Suppressions", id="overview.suppressions",
                tooltip="Patterns the analysis folds into benign"),
        Binding("w", "toggle_web", "Web panels", id="overview.web",
                tooltip="Web logs at a glance (top paths, status codes, user agents) in place of the tables"),
        Binding("enter", "drill", "Events of row", id="overview.drill", show=False,
                tooltip="Events of the highlighted source, account, file, path, status or user agent"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.activity_by = "source_file"
        self._parts: dict[str, object] = {}
        self._web_built = False
        self._drawn_width: int | None = None  # the width the parts were drawn at

    def compose_body(self) -> ComposeResult:
        with Vertical(id="overview"):
            with Horizontal(classes="overview-row"):
                yield Static(Text("loading…", style="dim"), id="case-box", classes="box")
                yield Static(Text("loading…", style="dim"), id="incidents-box", classes="box")
            with Vertical(id="activity-box", classes="box"):
                yield Label(Text("loading activity…", style="dim"), id="activity-empty")
            with Horizontal(classes="overview-row tables", id="entity-row"):
                yield VTable(id="top-sources", classes="box")
                yield VTable(id="top-accounts", classes="box")
                yield VTable(id="files", classes="box")
            # GoAccess-style panels for web logs (w), in place of the row above: built on the first
            # w (three more tables cost the first paint a third more).
            yield Horizontal(classes="overview-row tables -hidden", id="web-row")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#case-box").border_title = "Case"
        self.query_one("#incidents-box").border_title = "Incidents of the latest analysis"
        self.query_one("#incidents-box").border_subtitle = "2: the incidents table"
        self.query_one("#activity-box").border_title = "Events over time"
        self.query_one("#top-sources").border_title = "Busiest sources (Enter: their events)"
        self.query_one("#top-accounts").border_title = "Busiest accounts (Enter: their events)"
        self.query_one("#files").border_title = "Ingested files  (r: rejected lines)"
        self.watch(self.app, "data_version", lambda _: self.reload(), init=False)
        # Live follow: totals, files and sparklines grow as events arrive.
        self.watch(self.app, "live_version", lambda _: self.reload(), init=False)
        self.watch(self.app, "triage_version", lambda _: self.reload(), init=False)
        self.reload()

    def reload(self) -> None:
        self._load(self.activity_by)

    @work(thread=True, exclusive=True, exit_on_error=False, group="overview", description="overview")
    def _load(self, activity_by: str) -> None:
        b = self.backend
        try:
            # Cheap parts first so the screen fills at once on a large case; the scans follow.
            self.post_message(OverviewPart("totals", b.totals()))
            self.post_message(OverviewPart("breakdown", b.incident_breakdown()))
            self.post_message(OverviewPart("files", (b.sources(), b.reject_reasons())))
            self.post_message(OverviewPart("activity", b.activity(activity_by)))
            self.post_message(OverviewPart("sources", b.top_sources(25)))
            self.post_message(OverviewPart("accounts", b.top_accounts(25)))
            self.post_message(OverviewPart("web", b.web_panels(25)))
        except Cancelled:
            return  # a newer reload interrupted these scans; it shows the fresh figures

    @on(OverviewPart)
    def _part(self, msg: OverviewPart) -> None:
        self._parts[msg.name] = msg.data
        getattr(self, f"_show_{msg.name}")(msg.data)

    # --- parts --------------------------------------------------------------------------------

    def _show_totals(self, t: CaseTotals) -> None:
        text = Text()
        text.append("case      ", style="bold")
        text.append(plain(self.backend.path) + "\n")
        text.append("events    ", style="bold")
        text.append(f"{t.events:,} from {t.files:,} file(s)")
        if t.rejected:
            text.append(f" · {t.rejected:,} rejected", style="yellow")
        if t.skipped:
            text.append(f" · {t.skipped:,} skipped by design", style="dim")
        text.append("\n")
        text.append("span      ", style="bold")
        text.append(span_text(t.first_ts, t.last_ts) + "\n")
        text.append("analysis  ", style="bold")
        if t.run_id:
            when = t.run_finished.strftime("%Y-%m-%d %H:%M") if t.run_finished else "?"
            text.append(f"{t.incidents} incident(s), analysed {when} UTC in {t.run_seconds or 0:.1f}s\n")
            text.append("triage    ", style="bold")
            text.append(f"{t.triaged} of {t.incidents} incident(s) triaged · {t.suppressions} suppression(s)")
        elif self.app.job is not None:
            text.append(f"not analysed yet: the {self.app.job.name} is running", style="yellow")
        else:
            text.append("not analysed yet: press R to analyse", style="yellow")
        if t.events == 0 and self.app.job is None:
            text.append("\n\nThis case is empty: press I to ingest log files or folders.", style="yellow")
        self.query_one("#case-box", Static).update(text)

    def _show_breakdown(self, b: dict[str, dict[str, int]]) -> None:
        text = Text()
        sev = b.get("severity", {})
        if not sev:
            text.append("No incidents.", style="dim")
            self.query_one("#incidents-box", Static).update(text)
            return
        text.append("severity  ", style="bold")
        for s in SEVERITIES:
            if s in sev:
                text.append(f" {s} {sev[s]} ", style=SEVERITY_STYLE.get(s, ""))
        text.append("\n")
        cats = b.get("category", {})
        # Bars are shares of all incidents (one incident in each of 8 categories is 8 short bars),
        # as long as the box leaves room for: name, bar, count and share on one line.
        total = sum(cats.values()) or 1
        room = self.query_one("#incidents-box").content_size.width
        bar_w = max(4, min(20, room - 20 - 10)) if room else 20
        for name, n in cats.items():
            bar = "█" * max(1, round(n / total * bar_w))
            text.append(f"{plain(name, limit=19):<20}", style="bold")
            text.append(f"{bar:<{bar_w + 1}}", style="magenta")
            text.append(f"{n:>3}  ")
            text.append(f"{n / total:.0%}\n", style="dim")
        tri = b.get("triage", {})
        text.append("triage    ", style="bold")
        for status, n in tri.items():
            text.append(f"{TRIAGE_WORDS.get(status, status)} {n}", style=TRIAGE_STYLE.get(status, "dim"))
            text.append("  ")
        self.query_one("#incidents-box", Static).update(text)

    def _show_activity(self, a: Activity) -> None:
        box = self.query_one("#activity-box", Vertical)
        box.remove_children()
        by = "host" if self.activity_by == "host" else "log file (rotations together)"
        box.border_title = f"Events over time, per {by}  (h: per {'log file' if by == 'host' else 'host'})"
        if not a.series:
            box.mount(Label(Text("no timestamped events", style="dim")))
            return
        rows = []
        for name, counts in a.series.items():
            # A log is shown as folder/name (two hosts' auth.log differ by folder), rotations folded in.
            label = "/".join(name.split("/")[-2:]) + "*" if self.activity_by == "source_file" else name
            row = Horizontal(
                Label(Text(plain(label, limit=28), no_wrap=True), classes="spark-label"),
                Sparkline(counts, summary_function=max, classes="spark"),
                Label(Text(f"{a.totals.get(name, 0):>12,}"), classes="spark-total"),
                classes="spark-row",
            )
            rows.append(row)
        box.border_subtitle = span_text(a.first, a.last)
        box.mount_all(rows)

    def _show_sources(self, rows: list[dict]) -> None:
        # "fail"/"ok": lines whose outcome is failure / success (a try logged by sshd and PAM is two).
        self._fill("#top-sources", ("source", "where", "events", "fail", "ok"),
                   [(r["src_ip"], where_text({r["src_ip"]: r} if r.get("scope") else {}), r["events"],
                     r["failures"], r["successes"]) for r in rows], drop=("where", "ok", "fail"))

    def _show_accounts(self, rows: list[dict]) -> None:
        self._fill("#top-accounts", ("account", "events", "fail", "ok", "srcs"),
                   [(r["user"], r["events"], r["failures"], r["successes"], r["sources"]) for r in rows])

    def _show_web(self, w) -> None:
        """The web panels (store.web.WebPanels); the sources' title says when there are any."""
        self.query_one("#top-sources").border_subtitle = f"w: web panels ({w.requests:,} requests)" if w.requests else ""
        if not self._web_built:
            return  # shown when w builds the panels
        self.query_one("#web-paths").border_subtitle = (
            Text(f"{w.requests:,} requests · {w.visitors:,} visitors · {w.bytes / 1e6:,.1f} MB") if w.requests
            else Text("no web requests in this case", style="dim"))
        self._fill("#web-paths", ("path", "hits", "visitors"), [(r["path"], r["hits"], r["visitors"]) for r in w.paths])
        total = w.requests or 1
        self._fill("#web-status", ("status", "hits", "share", "visitors"),
                   [(str(r["status"]) if r["status"] is not None else None, r["hits"], f"{r['hits'] / total:.1%}",
                     r["visitors"]) for r in w.statuses])
        self._fill("#web-agents", ("user agent", "hits", "visitors"),
                   [(r["user_agent"], r["hits"], r["visitors"]) for r in w.agents])

    def _build_web(self) -> None:
        tables = [VTable(id="web-paths", classes="box"), VTable(id="web-status", classes="box"),
                  VTable(id="web-agents", classes="box")]
        for table, title in zip(tables, ("Top paths (Enter: their requests)", "Status codes",
                                         "Top user agents  (w: back to sources)")):
            table.border_title = title
        self.query_one("#web-row").mount_all(tables)
        self._web_built = True

    def action_toggle_web(self) -> None:
        web = self.query_one("#web-row")
        showing = web.has_class("-hidden")
        if showing and not self._web_built:
            self._build_web()
        web.set_class(not showing, "-hidden")
        self.query_one("#entity-row").set_class(showing, "-hidden")
        # Filled once laid out, so the columns fit the boxes.
        if showing and self._parts.get("web") is not None:
            self.call_after_refresh(lambda: self._show_web(self._parts["web"]))
        self.call_after_refresh(lambda: (self.query_one("#web-paths") if showing else
                                         self.query_one("#top-sources")).focus())

    def _show_files(self, data) -> None:
        files, reasons = data
        self._fill("#files", ("file", "format", "events", "rejected", "status"),
                   [("/".join(f["path"].split("/")[-2:]), f["format"], f["events"], f["rejected"], f["status"])
                    for f in files])
        if reasons:
            top = ", ".join(f"{plain(r, limit=40)} ({n:,})" for r, n in reasons[:2])
            self.query_one("#files").border_subtitle = Text(f"rejected: {top}")

    def _fill(self, selector: str, columns: tuple[str, ...], rows: list[tuple], drop: tuple[str, ...] = ()) -> None:
        """Fill a table so it fits its box: the first column gives way (cut with "…"; Enter shows
        its events), and in a narrow box columns are left out, those named in ``drop`` first, then
        the last ones (a table wider than its box hid its last column under the edge). Widths are
        set, not measured by the table."""
        table = self.query_one(selector, DataTable)
        table.clear(columns=True)
        shown = [[count(v) if isinstance(v, int) else cell(v, limit=40) for v in r] for r in rows]
        widths = {c: max([len(c)] + [r[i].cell_len for r in shown]) for i, c in enumerate(columns)}
        kept = list(columns)
        avail = table.size.width - 1  # the scrollbar
        if avail > 0:
            def needed() -> int:  # with the first column as narrow as it may be (2: a cell's padding)
                return min(widths[kept[0]], FIRST_MIN) + 2 + sum(widths[c] + 2 for c in kept[1:])

            order = [c for c in drop if c in kept] + [c for c in reversed(kept[1:]) if c not in drop]
            while len(kept) > 2 and needed() > avail:
                kept.remove(order.pop(0))  # the least telling columns go first
            first = kept[0]
            widths[first] = max(FIRST_MIN, min(widths[first], avail - sum(widths[c] + 2 for c in kept[1:]) - 2))
        for c in kept:
            table.add_column(c, key=c, width=widths[c])
        index = [columns.index(c) for c in kept]
        for r, raw in zip(shown, rows):
            r = [r[i] for i in index]
            if isinstance(raw[0], str) and r[0].cell_len > widths[kept[0]]:
                r[0] = cell(raw[0], limit=widths[kept[0]])
            table.add_row(*r)

    # --- actions ------------------------------------------------------------------------------

    def on_resize(self) -> None:
        # The category bars and the tables fit their boxes' widths: draw them again at a new width.
        width, self._drawn_width = self._drawn_width, self.size.width
        if width is None or width == self.size.width:
            return

        def again() -> None:
            for name in ("breakdown", "sources", "accounts", "files", "web"):
                if name in self._parts:
                    getattr(self, f"_show_{name}")(self._parts[name])

        self.call_after_refresh(again)

    def action_toggle_activity(self) -> None:
        self.activity_by = "host" if self.activity_by == "source_file" else "source_file"
        self.reload()

    def action_rejects(self) -> None:
        from tui.screens.rejects import RejectsScreen

        self.app.push_screen(RejectsScreen())

    def action_suppressions(self) -> None:
        from tui.screens.rejects import SuppressionsScreen

        self.app.push_screen(SuppressionsScreen())

    def action_drill(self) -> None:
        focused = self.focused
        if not isinstance(focused, DataTable) or not focused.row_count:
            return
        field = {"top-sources": "src_ip", "top-accounts": "user", "files": None}.get(focused.id or "")
        web = {"web-paths": ("path", "paths"), "web-status": ("status", "statuses"),
               "web-agents": ("user_agent", "agents")}.get(focused.id or "")
        if web is not None:
            panels = self._parts.get("web")
            rows = getattr(panels, web[1], []) if panels is not None else []
            if focused.cursor_row < len(rows):
                value = rows[focused.cursor_row][web[0]]
                self.vapp.open_events(text="", fields=((web[0], "=", "" if value is None else str(value)),
                                                       ("action", "=", "http_request")))
            return
        if focused.id == "files":
            files, _ = self._parts.get("files", ([], []))  # type: ignore[misc]
            value = files[focused.cursor_row]["path"] if focused.cursor_row < len(files) else None
            field = "source_file"
        else:
            key = "sources" if focused.id == "top-sources" else "accounts"
            rows = self._parts.get(key, [])
            value = rows[focused.cursor_row][field] if focused.cursor_row < len(rows) else None  # type: ignore[index]
        if field and value is not None:
            self.vapp.open_events(text="", fields=((field, "=", str(value)),))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_drill()

    def export_spec(self) -> ExportSpec | None:
        focused = self.focused
        web = {"web-paths": "paths", "web-status": "statuses", "web-agents": "agents"}.get(getattr(focused, "id", "") or "")
        panels = self._parts.get("web")
        if web is not None and panels is not None and getattr(panels, web):
            rows = getattr(panels, web)
            return ExportSpec(focused.id, columns=list(rows[0]), rows=[tuple(r.values()) for r in rows])  # type: ignore[union-attr]
        if isinstance(focused, DataTable) and focused.id in ("top-sources", "top-accounts", "files"):
            key = {"top-sources": "sources", "top-accounts": "accounts", "files": "files"}[focused.id]
            data = self._parts.get(key)
            if key == "files" and data:
                data = data[0]  # type: ignore[index]
            if data:
                cols = list(data[0].keys())  # type: ignore[index]
                return ExportSpec(focused.id, columns=cols, rows=[tuple(r.values()) for r in data])  # type: ignore[union-attr]
        return None

