"""The incidents of the latest analysis: sort, filter, triage, open."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from engine.compromise import lead_of, strip_lead
from engine.enrich import where_text
from store.browse import SEVERITY_RANK
from tui.messages import IncidentGlance, IncidentsLoaded
from tui.screens.base import ExportSpec, VedetteScreen
from tui.screens.triage import TriageActions
from tui.widgets.cells import SEVERITY_STYLE, TRIAGE_STYLE, TRIAGE_WORDS, listing_text, plain
from tui.widgets.bars import ContributionBars
from tui.widgets.facts import facts_text
from tui.widgets.grid import EventGrid, GridColumn, GridPage
from tui.widgets.timeline import Timeline

if TYPE_CHECKING:
    from tui.screens.incident import IncidentScreen

# (key, label, function giving the sort value)
SORTS: tuple[tuple[str, str], ...] = (
    ("risk", "risk"), ("severity", "severity"), ("time", "first seen"), ("size", "events"),
)
TRIAGE_FILTERS: tuple[str | None, ...] = (None, "untriaged", "true_positive", "benign", "needs_review")
SEVERITY_FILTERS: tuple[str | None, ...] = (None, "low", "medium", "high", "critical")
# Seconds the cursor rests on an incident before its timeline is queried (moving on costs none).
GLANCE_DELAY = 0.12
# The name the incident screen is installed under (see ``IncidentsScreen.action_open``).
DETAIL_SCREEN = "incident-detail"
_TRIAGE_STYLES = tuple((TRIAGE_WORDS[k] + mark, v) for k, v in TRIAGE_STYLE.items() for mark in ("", " ✎"))
COLUMNS = (
    GridColumn("id", "id"), GridColumn("severity", "severity", styles=tuple(SEVERITY_STYLE.items())),
    GridColumn("risk", "risk", right=True), GridColumn("category", "category"),
    GridColumn("triage", "triage", styles=_TRIAGE_STYLES), GridColumn("sources", "sources", 34),
    GridColumn("where", "where", 26), GridColumn("accounts", "accounts", 32), GridColumn("first_seen", "first seen (UTC)"),
    GridColumn("sessions", "sessions", right=True), GridColumn("events", "events", right=True),
)


def _sort_value(key: str, inc: dict):
    if key == "risk":
        return (inc["risk"] or 0, SEVERITY_RANK.get(inc["severity"], 0))
    if key == "severity":
        return (SEVERITY_RANK.get(inc["severity"], 0), inc["risk"] or 0)
    if key == "time":
        return (inc["first_seen"].timestamp() if inc["first_seen"] else 0,)
    return (inc["events"] or 0, inc["sessions"] or 0)


def matches_text(inc: dict, needle: str) -> bool:
    """The / filter: any shown field contains the text (any case)."""
    if not needle:
        return True
    needle = needle.lower()
    fields = [inc["id"], inc["category"], inc["severity"], str(inc["risk"]), inc.get("triage_status") or "",
              TRIAGE_WORDS.get(inc.get("triage_status") or "", ""), inc.get("triage_note") or "",
              inc.get("summary") or "", *inc["src_ips"], *inc["users"], *inc["hosts"], *inc["techniques"],
              *(v for g in (inc.get("geo") or {}).values() for v in (g.get("country"), g.get("org")) if v)]
    return any(needle in str(f).lower() for f in fields)


class IncidentsScreen(TriageActions, VedetteScreen):
    SCREEN_TITLE = "Incidents"
    AUTO_FOCUS = "#incidents-table"
    BINDINGS = [
        Binding("enter", "open", "Open", id="incidents.open", tooltip="Open the highlighted incident"),
        Binding("slash", "edit_filter", "Filter", id="incidents.filter",
                tooltip="Filter by any shown text: an IP, an account, a technique..."),
        Binding("S", "cycle_sort", "Sort", show=False, id="incidents.sort", tooltip="Sort by risk, severity, time or size"),
        Binding("D", "flip_sort", "Order", show=False, id="incidents.sort_order",
                tooltip="Flip the sort order (descending / ascending)"),
        Binding("V", "cycle_severity", "Severity≥", show=False, id="incidents.filter_severity",
                tooltip="Show only incidents at least this severe"),
        Binding("C", "cycle_category", "Category", show=False, id="incidents.filter_category",
                tooltip="Show only one category"),
        Binding("T", "cycle_triage", "Triage filter", show=False, id="incidents.filter_triage",
                tooltip="Show only untriaged, true positive, benign or needs-review incidents"),
        Binding("ctrl+l", "clear_filters", "Clear filters", show=False, id="incidents.clear_filters",
                tooltip="Remove every filter"),
        *TriageActions.TRIAGE_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self.shown: list[dict] = []
        self.sort_key = "risk"
        self.descending = True
        self.min_severity: str | None = None
        self.category: str | None = None
        self.triage_filter: str | None = None
        self.text = ""
        self.loaded = False
        self.detail: IncidentScreen | None = None  # built on the first Enter, then shows each incident opened
        self._glance_timer = None
        self._glance_for: str | None = None  # the incident whose timeline the glance shows

    def compose_body(self) -> ComposeResult:
        yield Static(id="incidents-filters", classes="banner")
        yield Input(placeholder="text to look for: 45.155, root, T1110, brute…", id="incidents-filter",
                    classes="-hidden")
        yield EventGrid(id="incidents-table", paged=False, cell_cursor=False)
        # The highlighted incident at a glance: its summary beside why it stands out and when.
        with Horizontal(id="incident-glance"):
            yield Static(id="incident-preview", classes="preview")
            with Vertical(id="glance-why"):
                yield ContributionBars(id="glance-shap")
                yield Label(Text("Events over its span", style="bold"))
                yield Timeline(id="glance-timeline", bar_lines=2)

    def on_mount(self) -> None:
        super().on_mount()
        self._show_filters()
        self.watch(self.app, "data_version", lambda _: self.reload(), init=False)
        self.watch(self.app, "triage_version", lambda _: self.reload(), init=False)
        self.reload()

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="incidents", description="incidents")
    def _load(self) -> None:
        self.post_message(IncidentsLoaded(self.backend.incidents()))

    @on(IncidentsLoaded)
    def _loaded(self, msg: IncidentsLoaded) -> None:
        again = self.loaded
        self.rows = msg.rows
        self.loaded = True
        self.refresh_table(in_place=again)

    # --- the view -----------------------------------------------------------------------------

    def visible_rows(self) -> list[dict]:
        out = []
        for inc in self.rows:
            if self.min_severity and SEVERITY_RANK.get(inc["severity"], 0) < SEVERITY_RANK[self.min_severity]:
                continue
            if self.category and inc["category"] != self.category:
                continue
            if self.triage_filter:
                status = inc.get("triage_status") or "untriaged"
                if status != self.triage_filter:
                    continue
            if not matches_text(inc, self.text):
                continue
            out.append(inc)
        out.sort(key=lambda i: (_sort_value(self.sort_key, i), i["id"]), reverse=self.descending)
        return out

    def refresh_table(self, in_place: bool = False) -> None:
        """Show the rows through the filters, the cursor kept on its incident (by id, which a live
        follow keeps across runs); ``in_place``: a reload, so the scroll position stays too."""
        table = self.table
        current = self.current_incident()
        keep = current["id"] if current else None
        self.shown = self.visible_rows()
        rows = [[
            inc["id"], inc["severity"], str(inc["risk"]),
            plain(inc["category"]) + (" · got in" if inc.get("compromised") else ""),
            (TRIAGE_WORDS.get(inc["triage_status"], plain(inc["triage_status"])) +
             (" ✎" if inc.get("triage_note") else "")) if inc.get("triage_status") else None,
            listing_text(inc["src_ips"], limit=32), plain(where_text(inc.get("geo") or {}), limit=26),
            listing_text(inc["users"], 3, limit=30),
            plain(inc["first_seen"]), f"{inc['sessions'] or 0:,}", f"{inc['events'] or 0:,}",
        ] for inc in self.shown]
        row = next((i for i, inc in enumerate(self.shown) if inc["id"] == keep), 0)
        table.set_page(GridPage.of(COLUMNS, rows), cursor_row=row, keep_scroll=in_place)
        self._show_filters()
        self._show_preview()

    @property
    def table(self) -> EventGrid:
        return self.query_one("#incidents-table", EventGrid)

    def _show_filters(self) -> None:
        t = Text(no_wrap=True, overflow="ellipsis")

        def part(label: str, value: str, active: bool, key: str) -> None:
            t.append(f"{label} ", style="bold")
            t.append(value, style="reverse" if active else "dim")
            t.append(f" ({key})  ", style="dim")

        arrow = "↓" if self.descending else "↑"
        part("sort", f"{dict(SORTS)[self.sort_key]} {arrow}", False, "S/D")
        part("severity", f"≥ {self.min_severity}" if self.min_severity else "any", bool(self.min_severity), "V")
        part("category", self.category or "all", bool(self.category), "C")
        tf = self.triage_filter
        part("triage", TRIAGE_WORDS.get(tf or "", tf or "all"), bool(tf), "T")
        part("text", repr(self.text) if self.text else "—", bool(self.text), "/")
        if self.loaded:
            t.append(f"{len(self.shown)} of {len(self.rows)} incident(s)", style="bold")
        else:
            t.append("loading…", style="dim")
        self.query_one("#incidents-filters", Static).update(t)

    def _show_preview(self) -> None:
        inc = self.current_incident()
        preview = self.query_one("#incident-preview", Static)
        self._show_glance(inc)
        if inc is None:
            if self.loaded and not self.rows:
                preview.update(Text("No incidents in the latest analysis (or the case was never analysed: R "
                                    "analyses it).", style="dim"))
            elif self.loaded:
                preview.update(Text("No incident matches these filters (ctrl+l clears them).", style="dim"))
            else:
                preview.update("")
            return
        t = Text()
        t.append(f"{inc['id']} ", style="bold")
        lead = lead_of(inc)
        if lead:
            t.append(plain(lead) + " ", style="bold red")
        t.append(plain(strip_lead(inc.get("summary") or "", lead) or "no summary"))
        t.append("\n\n")
        t.append_text(facts_text(inc))
        preview.update(t)

    def _show_glance(self, inc: dict | None) -> None:
        """SHAP bars at once (the row has them); the timeline once the cursor rests (a query)."""
        self.query_one("#glance-shap", ContributionBars).set_features(
            (inc.get("top_features") or []) if inc else [], sessions=(inc.get("sessions") or 1) if inc else 1)
        self.query_one("#glance-why").display = inc is not None
        if self._glance_timer is not None:
            self._glance_timer.stop()
        self._glance_timer = None
        if inc is not None and self._glance_for != inc["id"]:
            self._glance_timer = self.set_timer(GLANCE_DELAY, lambda: self._load_glance(inc["id"]))

    @work(thread=True, exclusive=True, exit_on_error=False, group="incident-glance", description="incident timeline")
    def _load_glance(self, incident_id: str) -> None:
        self.post_message(IncidentGlance(incident_id, self.backend.incident_timeline(incident_id)))

    @on(IncidentGlance)
    def _glance_loaded(self, msg: IncidentGlance) -> None:
        inc = self.current_incident()
        if inc is None or inc["id"] != msg.incident_id:
            return
        self._glance_for = msg.incident_id
        timeline = msg.timeline
        width = (timeline[1][0] - timeline[0][0]).total_seconds() if len(timeline) > 1 else 1.0
        self.query_one("#glance-timeline", Timeline).set_slices(timeline, width)

    @on(Timeline.SliceChosen, "#glance-timeline")
    def _slice_chosen(self, msg: Timeline.SliceChosen) -> None:
        msg.stop()
        inc = self.current_incident()
        if inc is not None:
            from store.browse import EventFilter
            from tui.screens.events import EventsScreen

            self.app.push_screen(EventsScreen(EventFilter(incident_id=inc["id"]).with_range(msg.start, msg.end)))

    @on(EventGrid.Highlighted, "#incidents-table")
    def _highlighted(self) -> None:
        self._show_preview()

    def current_incident(self) -> dict | None:
        table = self.table
        if not self.shown or table.cursor_row < 0 or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    # --- actions ------------------------------------------------------------------------------

    def action_open(self) -> None:
        inc = self.current_incident()
        if inc is None:
            return
        if self.detail is None:
            from tui.screens.incident import IncidentScreen

            # Installed: leaving it keeps it (built) for the next incident.
            self.detail = IncidentScreen(inc["id"], known=inc)
            self.app.install_screen(self.detail, DETAIL_SCREEN)
        else:
            self.detail.show(inc["id"], known=inc)
        self.app.push_screen(self.detail)

    @on(EventGrid.Selected, "#incidents-table")
    def _selected(self, event: EventGrid.Selected) -> None:
        event.stop()
        self.action_open()

    def action_cycle_sort(self) -> None:
        keys = [k for k, _ in SORTS]
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        self.descending = True
        self.refresh_table()

    def action_flip_sort(self) -> None:
        self.descending = not self.descending
        self.refresh_table()

    def action_cycle_severity(self) -> None:
        self.min_severity = _next(SEVERITY_FILTERS, self.min_severity)
        self.refresh_table()

    def action_cycle_category(self) -> None:
        cats: tuple[str | None, ...] = (None, *sorted({i["category"] for i in self.rows}))
        self.category = _next(cats, self.category)
        self.refresh_table()

    def action_cycle_triage(self) -> None:
        self.triage_filter = _next(TRIAGE_FILTERS, self.triage_filter)
        self.refresh_table()

    def action_clear_filters(self) -> None:
        self.min_severity = self.category = self.triage_filter = None
        self.text = ""
        self.refresh_table()

    def _editing(self, on: bool) -> None:
        # The one-line filter box replaces the filter banner: the table keeps its size.
        self.query_one("#incidents-filters").set_class(on, "-hidden")
        inp = self.query_one("#incidents-filter", Input)
        inp.set_class(not on, "-hidden")
        (inp if on else self.table).focus()

    def action_edit_filter(self) -> None:
        self.query_one("#incidents-filter", Input).value = self.text
        self._editing(True)

    @on(Input.Changed, "#incidents-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        # Incidents are few: filter as the analyst types.
        self.text = event.value.strip()
        self.refresh_table()

    @on(Input.Submitted, "#incidents-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self._editing(False)

    def on_key(self, event) -> None:
        if event.key == "escape" and self.query_one("#incidents-filter", Input).has_focus:
            event.stop()
            event.prevent_default()
            self._editing(False)

    def export_spec(self) -> ExportSpec | None:
        cols = ["id", "severity", "risk", "category", "triage_status", "triage_note", "first_seen", "last_seen",
                "src_ips", "users", "hosts", "sessions", "events", "techniques", "rules", "summary", "summary_source",
                "grouped_by"]
        return ExportSpec("incidents", columns=cols, rows=[tuple(i.get(c) for c in cols) for i in self.shown])

    def palette_commands(self) -> list[tuple[str, str, str]]:
        return [
            ("Incidents: open the highlighted incident", "Enter", "open"),
            ("Incidents: sort by next column", "S", "cycle_sort"),
            ("Incidents: flip sort order", "D", "flip_sort"),
            ("Incidents: filter by severity", "V", "cycle_severity"),
            ("Incidents: filter by category", "C", "cycle_category"),
            ("Incidents: filter by triage status", "T", "cycle_triage"),
            ("Incidents: clear filters", "ctrl+l", "clear_filters"),
            *self.triage_palette_commands(),
        ]


def _next(options: tuple, current):
    try:
        return options[(options.index(current) + 1) % len(options)]
    except ValueError:
        return options[0]
