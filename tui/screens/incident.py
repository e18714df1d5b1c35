"""One incident: what happened (and who said so), how bad, why the model flagged it, when, the
sessions it is made of and its raw events."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, Static

from engine.compromise import lead_of, strip_lead
from store.browse import EventFilter, FieldFilter, span_text
from tui.messages import IncidentCounts, IncidentLoaded
from tui.screens.base import ExportSpec, VedetteScreen
from tui.screens.triage import TriageActions
from tui.widgets.bars import ContributionBars
from tui.widgets.cells import SEVERITY_STYLE, TRIAGE_STYLE, TRIAGE_WORDS, listing_text, plain
from tui.widgets.events_pane import EventsPane
from tui.widgets.facts import facts_text
from tui.widgets.grid import EventGrid, GridColumn, GridPage
from tui.widgets.timeline import Timeline

PANES = ("#summary-pane", "#why-pane", "#timeline", "#sessions-table", "#incident-events EventGrid")
# Panes the first frame of another incident leaves out (see ``IncidentScreen.show``).
LATER_PANES = ("#sessions-table", "#incident-events")
SESSION_COLUMNS = (
    GridColumn("session", "session"), GridColumn("kind", "kind"), GridColumn("source", "source", 30),
    GridColumn("accounts", "accounts", 40), GridColumn("first", "first (UTC)"), GridColumn("last", "last (UTC)"),
    GridColumn("events", "events", right=True), GridColumn("risk", "risk", right=True),
    GridColumn("severity", "severity", styles=tuple(SEVERITY_STYLE.items())), GridColumn("category", "category"),
    GridColumn("rules", "rules", 80),
)


def _commands_text(t: Text, commands: list[dict], shown: int = 40) -> None:
    """What the attackers ran and fetched, as logged: attacker text, escaped, never interpreted."""
    t.append("\nCommands and files (attacker input, shown as logged)\n", style="bold")
    for c in commands[:shown]:
        t.append(f"{plain(c['ts'])}  {plain(c['src_ip']):<15} ", style="dim")
        if c.get("command") is not None:
            t.append("$ " + plain(c["command"], limit=200) + "\n")
        else:
            t.append("fetched " + plain(c.get("url"), limit=160))
            if c.get("file_hash"):
                t.append(f"  sha256 {plain(c['file_hash'], limit=64)}", style="dim")
            t.append("\n")
    if len(commands) > shown:
        t.append(f"… and {len(commands) - shown} more (events pane)\n", style="dim")


def auth_text(auth) -> Text:
    """The incident's logins: failed attempts (tries) and the log lines behind them (see
    ``engine.counts``); empty for an incident without logins."""
    from engine.counts import ATTEMPTS_WORD, FAILURE_LINES_WORD, WHY_LINES

    t = Text()
    if auth is None or not (auth.attempts or auth.failure_lines or auth.successes):
        return t
    t.append("\nLogins  ", style="bold")
    t.append(f"{auth.attempts:,} {ATTEMPTS_WORD}, {auth.successes:,} successful login(s)\n")
    t.append(f"{auth.attempt_lines:,} log lines record the {auth.attempts:,} attempts ({WHY_LINES}); "
             f"{auth.failure_lines:,} {FAILURE_LINES_WORD} in all (outcome = 'failure').", style="dim")
    return t


class IncidentScreen(TriageActions, VedetteScreen):
    """One incident. The incidents table builds this screen on the first Enter and hands it each
    incident it opens after (``show``): building it costs more than a key may (Textual composes
    and styles each of its widgets, over 100 ms on a small machine), showing another incident only
    updates it. What the table knows (head, summary, SHAP) is drawn at once; the incident's own
    row, sessions, timeline and raw events load in workers once that frame is on screen."""

    SCREEN_TITLE = "Incident"
    AUTO_FOCUS = "#summary-pane"
    BINDINGS = [
        Binding("J", "next_pane", "Next pane", id="detail.next_pane",
                tooltip="Move to the next pane: summary → why → sessions → events (also Tab)"),
        Binding("K", "prev_pane", "Prev pane", id="detail.prev_pane",
                tooltip="Move to the previous pane (also shift+Tab)"),
        Binding("c", "respond", "Contain", id="incident.respond",
                tooltip="Containment plan: block, lock, end sessions; commands to review (Vedette never runs them)"),
        *TriageActions.TRIAGE_BINDINGS,
    ]

    def __init__(self, incident_id: str, known: dict | None = None) -> None:
        """``known``: the incident's row as the incidents table has it, shown at once while the
        screen loads the rest."""
        super().__init__()
        self.incident_id = incident_id
        self.known = known
        self.incident: dict | None = None
        self.sessions: list[dict] = []
        self.auth = None  # engine.counts.AuthCounts of its events, once loaded
        self.filled = False  # sessions and timeline shown
        self._token = 0  # the load whose answer the screen shows
        self._reload_events = False
        self._stale: bool | None = None  # changed while out of sight: None no, False the incident, True its events too
        self._load_when_shown = False  # ``show`` was called: load once the screen is drawn

    def compose_body(self) -> ComposeResult:
        yield Static(Text(f"{self.incident_id}  loading…", style="dim"), id="incident-head", classes="banner")
        with Horizontal(id="incident-top"):
            with VerticalScroll(id="summary-pane", classes="pane"):
                yield Static(id="summary-text")
            with VerticalScroll(id="why-pane", classes="pane"):
                yield ContributionBars(id="shap")
                yield Label(Text("\nEvents over the incident's span", style="bold"))
                yield Timeline(id="timeline")
                yield Static(id="auth-counts")
        yield EventGrid(id="sessions-table", classes="pane", paged=False, cell_cursor=False)
        yield EventsPane(EventFilter(incident_id=self.incident_id), id="incident-events", classes="pane")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#summary-pane").border_title = "Summary"
        self.query_one("#why-pane").border_title = "Why it stands out (SHAP: share of the anomaly)"
        self.query_one("#sessions-table").border_title = "Sessions (Enter: their events)"
        self.query_one("#incident-events").border_title = "Raw events (e: full browser)"
        self._show_sessions([])
        self.watch(self.app, "data_version", lambda _: self._changed(events=True), init=False)
        self.watch(self.app, "triage_version", lambda _: self._changed(events=False), init=False)
        self._show_known()
        # The queries wait for the first frame: what is known is drawn without competing with
        # them (the events pane waits likewise).
        self.call_after_refresh(self.reload)

    def show(self, incident_id: str, known: dict | None = None) -> None:
        """Show another incident (before the screen is pushed again): what the previous one
        filled in goes, what the table knows comes; the rest loads once the screen is drawn."""
        self.incident_id = incident_id
        self.known = known
        self.incident = None
        self.sessions = []
        self.filled = False
        self._stale = None
        self._token += 1  # what is still coming about the previous incident is dropped
        self.query_one("#timeline", Timeline).set_slices([], 0.0)
        self.auth = None
        self.query_one("#auth-counts", Static).update("")
        self.query_one("#summary-pane", VerticalScroll).scroll_home(animate=False)
        self.query_one("#why-pane", VerticalScroll).scroll_home(animate=False)
        self.set_focus(self.query_one("#summary-pane"))
        self._show_known()
        # The first frame draws what is known (head, summary, SHAP). The sessions and raw-events
        # panes, empty until their queries answer, come with the frame after (emptied then):
        # drawing them too made the first frame half as long again. Hidden with the style
        # property, not a class: a class change restyles every widget of the panes (~6 ms).
        for selector in LATER_PANES:
            self.query_one(selector).visible = False
        self._load_when_shown = True

    def _show_known(self) -> None:
        """What is known before any query: the incident's row from the incidents table."""
        self.set_subtitle(f"Incident {self.incident_id}")
        if self.known is not None:
            self._show_incident(self.known)
        else:
            self.query_one("#incident-head", Static).update(Text(f"{self.incident_id}  loading…", style="dim"))

    def _changed(self, events: bool) -> None:
        """The case changed (a new analysis: ``events``; a verdict): reload now if in sight, else
        when the screen is next shown."""
        if self.is_current:
            self.reload(events=events)
        else:
            self._stale = events or bool(self._stale)

    def on_screen_resume(self) -> None:
        if self._load_when_shown:
            # Scheduled from here, where this screen is the one drawn next: the queries start
            # after its first frame.
            self._load_when_shown = False
            self.call_after_refresh(self._load_shown)
        elif self._stale is not None:
            events, self._stale = self._stale, None
            self.reload(events=events)

    def _load_shown(self) -> None:
        """The incident ``show`` put on screen is drawn: the other panes, and what fills them (its
        row, sessions and timeline, its events)."""
        self._show_sessions([])
        pane = self.query_one("#incident-events", EventsPane)
        pane.reset(EventFilter(incident_id=self.incident_id))
        for selector in LATER_PANES:
            self.query_one(selector).visible = True
        self.reload()
        pane.reload()

    def reload(self, events: bool = False) -> None:
        """Reload the incident; ``events``: its raw events too (a new analysis may have changed them)."""
        self._reload_events = events
        self._token += 1
        self._load(self._token, self.incident_id, self.incident.get("key") if self.incident else None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="incident", description="incident")
    def _load(self, token: int, incident_id: str, key: str | None) -> None:
        b = self.backend
        if key:
            # After a re-analysis the same incident may carry another id: follow its stable key.
            incident_id = b.incident_id_for_key(key) or incident_id
        inc = b.incident(incident_id)
        if inc is None or (key and inc.get("key") != key):
            self.post_message(IncidentLoaded(token, None, [], []))
            return
        # The summary first (one row), then what needs scans of the events.
        self.post_message(IncidentLoaded(token, inc, None, None))
        self.post_message(IncidentLoaded(token, inc, b.incident_sessions(incident_id),
                                         b.incident_timeline(incident_id), b.incident_commands(incident_id)))
        # Its logins last: another scan of its events, for a line of the why pane.
        self.post_message(IncidentCounts(token, b.incident_auth_counts(incident_id)))

    @on(IncidentLoaded)
    def _loaded(self, msg: IncidentLoaded) -> None:
        if msg.token != self._token:
            return  # an answer for the incident shown before, or for an older load
        pane = self.query_one("#incident-events", EventsPane)
        if msg.incident is not None and msg.incident["id"] != self.incident_id:
            self.incident_id = msg.incident["id"]
            self.set_subtitle(f"Incident {self.incident_id}")
            pane.base = EventFilter(incident_id=self.incident_id)
            pane.reload(pane.base)
        elif self._reload_events and self.incident is not None and msg.incident is not None:
            pane.reload()
        self._reload_events = False
        if msg.incident is None:
            self.query_one("#incident-head", Static).update(
                Text(f"{self.incident_id} is not in the latest analysis (re-analysed since?). Escape goes back.",
                     style="yellow"))
            return
        self.incident = inc = msg.incident
        if msg.sessions is None:
            self._show_incident(inc)
            return
        self.sessions = msg.sessions
        if msg.commands:
            self._show_summary(inc, msg.commands)
        self._show_why(inc)
        self._show_timeline(msg.timeline or [], inc)
        self._show_sessions(msg.sessions)
        self.filled = True

    @on(IncidentCounts)
    def _counts_loaded(self, msg: IncidentCounts) -> None:
        if msg.token != self._token or self.incident is None:
            return
        self.auth = msg.counts
        self._put("#auth-counts", auth_text(self.auth))

    def _show_incident(self, inc: dict) -> None:
        self.incident = inc
        self._show_head(inc)
        self._show_summary(inc)
        self._show_why(inc)

    def _show_why(self, inc: dict) -> None:
        # An incident's values are means over its explained sessions: say so when there are several.
        explained = sum(1 for s in self.sessions if s.get("top_features")) if self.sessions else None
        self.query_one("#shap", ContributionBars).set_features(inc.get("top_features") or [],
                                                              sessions=explained or inc.get("sessions") or 1)
        self._put("#auth-counts", auth_text(self.auth))

    def _put(self, selector: str, text: Text) -> None:
        """Show ``text`` unless it is already shown: the incident's own row usually says what the
        table's row said, and drawing the same again would cost a frame while the events load."""
        widget = self.query_one(selector, Static)
        if widget.content != text:
            widget.update(text)

    def _show_head(self, inc: dict) -> None:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f"{inc['id']}  ", style="bold")
        t.append(f" {inc['severity']} ", style=SEVERITY_STYLE.get(inc["severity"], ""))
        t.append(f"  risk {inc['risk']}/100  ", style="bold")
        t.append(plain(inc["category"]).replace("_", " "), style="bold magenta")
        t.append("   triage: ")
        status = inc.get("triage_status")
        t.append(TRIAGE_WORDS.get(status or "", "untriaged"), style=TRIAGE_STYLE.get(status or "", "dim"))
        t.append("   " + span_text(inc.get("first_seen"), inc.get("last_seen")), style="dim")
        self._put("#incident-head", t)

    def _show_summary(self, inc: dict, commands: list[dict] | None = None) -> None:
        t = Text()
        lead = lead_of(inc)
        if lead:  # the analyst's first question: did it work?
            t.append(plain(lead) + "\n", style="bold red")
        t.append(plain(strip_lead(inc.get("summary") or "", lead) or "No summary."))
        t.append("\n")
        source = inc.get("summary_source") or "unknown"
        t.append("summary by ", style="dim")
        t.append("Vedette's offline summariser (no LLM configured)" if source == "offline" else
                 f"LLM {plain(source)} — machine-written, check it against the events", style="dim italic")
        t.append("\n\n")
        t.append_text(facts_text(inc))
        if commands:
            _commands_text(t, commands)
        self._put("#summary-text", t)

    def _show_timeline(self, timeline: list, inc: dict) -> None:
        # Equal slices: the width is the step between two starts (one slice: the span is a moment).
        width = (timeline[1][0] - timeline[0][0]).total_seconds() if len(timeline) > 1 else 1.0
        self.query_one("#timeline", Timeline).set_slices(timeline, width)

    @on(Timeline.SliceChosen, "#timeline")
    def _slice_chosen(self, msg: Timeline.SliceChosen) -> None:
        """The incident's events in the picked slice, in the events browser."""
        msg.stop()
        from tui.screens.events import EventsScreen

        flt = EventFilter(incident_id=self.incident_id).with_range(msg.start, msg.end)
        self.app.push_screen(EventsScreen(flt))

    def _show_sessions(self, sessions: list[dict]) -> None:
        rows = [[plain(s["session_id"]), plain(s["kind"]), plain(s["src_ip"]) or None, listing_text(s.get("users"), 3),
                 plain(s["first_ts"]), plain(s["last_ts"]), f"{s['events'] or 0:,}", plain(s["risk"]),
                 plain(s["severity"]) or None, plain(s["category"]) or None, listing_text(s.get("rules"), 2, limit=80)]
                for s in sessions]
        self.query_one("#sessions-table", EventGrid).set_page(GridPage.of(SESSION_COLUMNS, rows))

    # --- actions ------------------------------------------------------------------------------

    def current_incident(self) -> dict | None:
        return self.incident

    def _focus_pane(self, step: int) -> None:
        panes = [self.query_one(sel) for sel in PANES]
        focused = self.focused
        # The pane that is (or holds) the focus; the innermost wins (the timeline is in the why pane).
        holding = [i for i, p in enumerate(panes) if focused is not None and p in focused.ancestors_with_self]
        index = holding[-1] if holding else (-1 if step > 0 else 0)
        panes[(index + step) % len(panes)].focus()

    def action_next_pane(self) -> None:
        self._focus_pane(1)

    def action_prev_pane(self) -> None:
        self._focus_pane(-1)

    @on(EventGrid.Selected, "#sessions-table")
    def _session_selected(self, event: EventGrid.Selected) -> None:
        event.stop()
        if event.row >= len(self.sessions):
            return
        s = self.sessions[event.row]
        fields = []
        if s.get("src_ip"):
            fields.append(FieldFilter("src_ip", "=", str(s["src_ip"])))
        if s.get("first_ts"):
            fields.append(FieldFilter("ts", ">=", s["first_ts"].isoformat()))
        if s.get("last_ts"):
            fields.append(FieldFilter("ts", "<=", s["last_ts"].isoformat()))
        from tui.screens.events import EventsScreen

        self.app.push_screen(EventsScreen(EventFilter(fields=tuple(fields))))

    def export_spec(self) -> ExportSpec | None:
        focused = self.focused
        if focused is self.query_one("#sessions-table") and self.sessions:
            cols = [c for c in self.sessions[0] if c not in ("features", "top_features")]
            return ExportSpec(f"{self.incident_id}-sessions", columns=cols,
                              rows=[tuple(s.get(c) for c in cols) for s in self.sessions])
        pane = self.query_one("#incident-events", EventsPane)
        return ExportSpec(f"{self.incident_id}-events", events_filter=pane.flt)

    def action_respond(self) -> None:
        from tui.screens.respond import RespondScreen

        self.app.push_screen(RespondScreen(self.incident_id))

    def palette_commands(self) -> list[tuple[str, str, str]]:
        return [("Incident: next pane", "J", "next_pane"), ("Incident: previous pane", "K", "prev_pane"),
                ("Incident: containment plan", "c", "respond"),
                *self.triage_palette_commands()]
