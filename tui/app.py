"""The Vedette app: four modes (overview, incidents, events, SQL) over one case, jobs in workers.

The app holds the ``Backend`` it was given, the running job's state (shown by every screen's job
bar) and a ``data_version`` that screens watch to reload after an analysis or a triage change.
Everything else lives in the screens; engine calls happen only in thread workers.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.worker import Worker, WorkerState, get_current_worker

from engine import config
from engine.textsafe import visible
from tui.backend import Backend, BackendError, Cancelled
from tui.commands import VedetteCommands
from tui.keys import config_path, load_keymap
from tui.live import LIVE_BINDINGS, LiveFollow
from tui.messages import JobFinished, JobProgress, TriageChanged
from tui.screens.base import ExportSpec, VedetteScreen
from tui.screens.events import EventsScreen
from tui.screens.help import HelpEntry, HelpScreen
from tui.screens.incidents import IncidentsScreen
from tui.screens.overview import OverviewScreen
from tui.screens.sql import SqlScreen
from tui.widgets.jobbar import JobState
from tui.widgets.livebar import LiveState

MODE_NAMES = {"overview": "Overview", "incidents": "Incidents", "events": "Events", "sql": "SQL console"}


class VedetteApp(LiveFollow, App):
    """``VedetteApp(backend)``; ``keymap`` overrides keys by binding id (default: the user's
    keys.toml); ``start`` is the mode shown first; ``follow``: paths to follow live (``tui.live``);
    ``ingest``: paths to ingest (then analyse) once the app is on screen (``vedette PATH``)."""

    CSS_PATH = Path(__file__).with_name("vedette.tcss")  # absolute: subclasses live elsewhere
    TITLE = "Vedette"
    MODES = {"overview": OverviewScreen, "incidents": IncidentsScreen, "events": EventsScreen, "sql": SqlScreen}
    # Vedette's provider also lists Textual's own commands, after its own (see tui.commands).
    COMMANDS = {VedetteCommands}
    BINDINGS = [
        Binding("1", "go('overview')", "Overview", id="app.overview", tooltip="The case at a glance"),
        Binding("2", "go('incidents')", "Incidents", id="app.incidents", tooltip="The incidents table"),
        Binding("3", "go('events')", "Events", id="app.events", tooltip="Browse every event"),
        Binding("4", "go('sql')", "SQL", id="app.sql", tooltip="Read-only SQL console"),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Every key"),
        Binding("E", "export", "Export", id="app.export", tooltip="Export the current table as CSV, JSON or Parquet"),
        Binding("R", "analyze", "Analyse", id="app.analyze", show=False,
                tooltip="Re-run the analysis (applies suppressions); triage labels are kept"),
        Binding("I", "ingest", "Ingest", id="app.ingest", show=False, tooltip="Ingest log files or folders"),
        Binding("ctrl+g", "cancel_job", "Cancel job", id="app.cancel", priority=True, show=False,
                tooltip="Cancel the running ingest, analysis or SQL query"),
        *LIVE_BINDINGS,
    ]

    job: reactive[JobState | None] = reactive(None)
    # Bumped when the case's data changes (ingest, analysis) / when triage changes; screens watch them.
    data_version: reactive[int] = reactive(0)
    triage_version: reactive[int] = reactive(0)
    # While following logs: the LIVE bar's state. live_version is bumped as events arrive, from a
    # follow or from an ingest still running (screens that show events watch it; data_version
    # still marks a finished ingest or a new analysis).
    live: reactive[LiveState | None] = reactive(None)
    live_version: reactive[int] = reactive(0)

    def __init__(self, backend: Backend, *, keymap: dict[str, str] | None = None, start: str = "overview",
                 keymap_problems: list[str] | None = None, follow: list[str] | None = None,
                 bell: bool = False, ingest: list[str] | None = None) -> None:
        super().__init__()
        self._follow_request = (list(follow), bell) if follow else None
        self._ingest_request = list(ingest) if ingest else None
        # What the ingest of ``ingest`` leaves for the terminal once the app has closed (see
        # ``run``): lines for stderr, and whether a named path could not be read (exit code 1).
        self.opening_notes: list[str] = []
        self.opening_failed = False
        self._events_refresh_at = 0.0  # live_version is bumped again from then on
        self._events_timer = None
        self.backend = backend
        if keymap is None:
            keymap, problems = load_keymap()
            keymap_problems = (keymap_problems or []) + problems
        self.user_keymap = dict(keymap)
        self.keymap_problems = list(keymap_problems or [])
        self.start_mode = start if start in self.MODES else "overview"

    def on_mount(self) -> None:
        self.sub_title = visible(Path(self.backend.path).name)
        if self.user_keymap:
            known = {e.binding_id for e in self.help_entries() if e.binding_id}
            unknown = sorted(set(self.user_keymap) - known)
            if unknown:
                self.keymap_problems.append(f"unknown binding id(s) in keys.toml: {', '.join(unknown)}")
            self.set_keymap({k: v for k, v in self.user_keymap.items() if k in known})
        for problem in self.keymap_problems:
            self.notify(problem, title="Keys", severity="warning", markup=False, timeout=10)
        self.switch_mode(self.start_mode)
        self.call_after_refresh(self._warm_up)
        if self._follow_request:
            self.start_follow(*self._follow_request)
        elif self._ingest_request:
            # The screens are up (empty, or the case as it was) and fill as the chunks commit.
            self.start_ingest(self._ingest_request, opening=True)

    @work(thread=True, exit_on_error=False, group="warm-up", description="warm-up")
    def _warm_up(self) -> None:
        """After the first paint: import what the incident detail needs (numpy and the engine's
        feature names), so the first incident opens as fast as the next."""
        import engine.explain  # noqa: F401
        import engine.rules  # noqa: F401

        self.call_from_thread(self._freeze_heap)

    def _freeze_heap(self) -> None:
        """Keep Python's garbage collector off the keys. A full collection walked every object of
        the process (~130k after start-up: modules, classes, the first screens), 45-70 ms at a
        time on a small machine, and landed on a random key as a frame that much later. What
        start-up made is frozen (left out of collections; ``on_unmount`` thaws it so the process
        ends cleanly), and full collections run a tenth as often: Textual's render caches alone
        keep ~70k objects alive, which a full collection still walks (10-35 ms)."""
        gc.collect()
        gc.freeze()
        self._gc_threshold = gc.get_threshold()
        young, middle, old = self._gc_threshold
        gc.set_threshold(young, middle, max(old, 100))

    def on_unmount(self) -> None:
        self.stop_follow()
        self._stop_jobs()
        gc.unfreeze()
        if getattr(self, "_gc_threshold", None):
            gc.set_threshold(*self._gc_threshold)

    # --- navigation ---------------------------------------------------------------------------

    def action_go(self, mode: str) -> None:
        if self.current_mode == mode:
            # Pressing the mode's key again returns to its first screen.
            while len(self.screen_stack) > 1 and not self.screen.is_modal:
                self.pop_screen()
            return
        self.switch_mode(mode)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        note = f"Remap keys by id in {config_path()} (see the ids in brackets)."
        self.push_screen(HelpScreen(self.help_entries(), note))

    def open_events(self, text: str = "", fields: tuple[tuple[str, str, str], ...] = ()) -> None:
        from store.browse import EventFilter, FieldFilter

        self.push_screen(EventsScreen(EventFilter(text, tuple(FieldFilter(*f) for f in fields))))

    # --- help and palette ---------------------------------------------------------------------

    def key_text(self, binding: Binding) -> str:
        keys = self.user_keymap.get(binding.id or "", binding.key) if binding.id else binding.key
        shown = []
        for k in keys.split(","):
            d = self.get_key_display(Binding(k.strip(), ""))
            d = {"⏎": "enter", "esc": "escape"}.get(d, d)
            if d.startswith("^"):
                d = "ctrl+" + d[1:]
            shown.append(d)
        return " / ".join(shown)

    def help_entries(self) -> list[HelpEntry]:
        from tui.screens.dialogs import Dialog
        from tui.screens.incident import IncidentScreen
        from tui.screens.rejects import SuppressionsScreen
        from tui.widgets.events_pane import EventsPane
        from tui.widgets.grid import EventGrid
        from tui.widgets.tables import VTable
        from tui.widgets.timeline import Timeline

        entries: list[HelpEntry] = []

        def add(section: str, bindings, extra: list[tuple[str, str]] = ()) -> None:
            for b in bindings:
                entries.append(HelpEntry(section, self.key_text(b), b.tooltip or b.description, b.id, b.action))
            for keys, what in extra:
                entries.append(HelpEntry(section, keys, what, None, ""))

        add("Everywhere", [*self.BINDINGS, *VedetteScreen.BINDINGS],
            [("ctrl+p", "Command palette: every action by name"), ("ctrl+q", "Quit"),
             ("tab / shift+tab", "Move between panes and tables")])
        add("Overview", OverviewScreen.BINDINGS)
        add("Incidents table", IncidentsScreen.BINDINGS)
        add("Incident detail", IncidentScreen.BINDINGS,
            [("tab / shift+tab", "Also move between panes")])
        add("Events (browser and an incident's raw events)", EventsPane.BINDINGS,
            [("enter", "Show the whole event (every field and the raw line)"),
             ("arrows", "Move between rows and columns"),
             ("n / N", "Only while a text is marked (s, or the filter's words): else n is the screen's (Note)")])
        add("Timelines (an incident's, Tab to it)", Timeline.BINDINGS)
        add("SQL console", SqlScreen.BINDINGS, [("tab", "In the editor: complete a table or column name")])
        add("Suppressions (s on the overview)", SuppressionsScreen.BINDINGS)
        add("Incident and event lists", EventGrid.BINDINGS)
        add("Other tables (overview, sessions, SQL results)", VTable.BINDINGS,
            [("up / down", "Previous / next row"), ("pageup / pagedown", "Scroll a screenful"),
             ("home / end", "First / last column")])
        add("Dialogs", Dialog.BINDINGS, [("enter", "Confirm")])
        return entries

    def global_commands(self) -> list[tuple[str, str, Callable]]:
        def act(action: str) -> Callable:
            return lambda: self.run_action(action)

        return [
            ("Go to overview", "1", act("go('overview')")),
            ("Go to incidents", "2", act("go('incidents')")),
            ("Go to events browser", "3", act("go('events')")),
            ("Go to SQL console", "4", act("go('sql')")),
            ("Help: every key", "?", act("help")),
            ("Analyse the case again", "R", act("analyze")),
            ("Ingest log files or folders", "I", act("ingest")),
            ("Cancel the running job", "ctrl+g", act("cancel_job")),
            ("Pause or resume the live follow", "L", act("toggle_follow")),
            ("Export the current table (CSV, JSON, Parquet)", "E", act("export")),
            ("Rejected lines", "r on the overview", lambda: self.push_screen(_rejects())),
            ("Suppressions", "s on the overview", lambda: self.push_screen(_suppressions())),
        ]

    # --- jobs ---------------------------------------------------------------------------------

    def _job_busy(self) -> bool:
        if self.job is not None:
            self.notify(f"{self.job.name} is running; ctrl+g cancels it.", severity="warning", markup=False)
            return True
        return False

    def action_analyze(self) -> None:
        if self.refit_follow() or self._job_busy():
            return
        self.job = JobState("analysis", "starting", 0.0)
        self._analysis_job()

    def action_ingest(self) -> None:
        if self._job_busy():
            return
        from tui.screens.dialogs import PathDialog, split_paths

        def chosen(text: str | None) -> None:
            if text:
                self.start_ingest(split_paths(text))

        self.push_screen(PathDialog("Ingest logs into this case", placeholder="/var/log/auth.log ~/logs/ 'web/*.gz'",
                                    hint="Files, folders or globs, separated by spaces. Enter ingests, then analyses."),
                         chosen)

    def start_ingest(self, paths: list[str], analyse_after: bool = True, opening: bool = False) -> None:
        """Ingest ``paths`` in a worker, then (``analyse_after``) analyse if it added events.
        ``opening``: the paths named on the command line (``vedette PATH``): the analysis follows
        even when nothing was new, as it did before the app opened, and what went wrong is kept
        for the terminal (``opening_notes``)."""
        if self._job_busy():
            return
        self.job = JobState("ingest", "starting", 0.0)
        self._ingest_job(paths, analyse_after, opening)

    def action_cancel_job(self) -> None:
        screen = self.screen
        if isinstance(screen, SqlScreen) and screen.cancel():
            self.notify("Query cancelled.", markup=False)
            return
        running = [w for w in self.workers if w.group == "jobs" and w.is_running]
        if not running:
            self.notify("No job is running.", markup=False)
            return
        for w in running:
            w.cancel()
        # Analysis: stop the DuckDB query under way too (stages also check between them).
        self.backend.interrupt("analyze")
        if self.job is not None:
            self.job = JobState(self.job.name, "cancelling…", self.job.fraction)

    def _progress(self, job: str) -> Callable[[float, str], None]:
        return lambda fraction, text: self.post_message(JobProgress(job, fraction, text))

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs", description="analysis")
    def _analysis_job(self) -> None:
        worker = get_current_worker()
        try:
            result = self.backend.analyze(progress=self._progress("analysis"), cancelled=lambda: worker.is_cancelled)
        except Cancelled:
            self.post_message(JobFinished("analysis", False, "Analysis cancelled; the previous results are kept."))
            return
        except BackendError as exc:
            self.post_message(JobFinished("analysis", False, str(exc)))
            return
        n = len(result.incidents)
        self.post_message(JobFinished("analysis", True, f"Analysis done: {n} incident(s) in {result.seconds:.1f}s."))

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs", description="ingest")
    def _ingest_job(self, paths: list[str], analyse_after: bool, opening: bool) -> None:
        worker = get_current_worker()
        notes = self.opening_notes if opening else []
        if analyse_after:
            from engine.analyze import preload_models

            preload_models()  # the model libraries import while the ingest runs
        try:
            result = self.backend.ingest(paths, progress=self._progress("ingest"), cancelled=lambda: worker.is_cancelled)
        except BackendError as exc:
            notes.append(str(exc))
            self.opening_failed = self.opening_failed or opening
            self.post_message(JobFinished("ingest", False, str(exc)))
            return
        except Cancelled:  # interrupted in a chunk (quitting): that chunk is rolled back
            notes.append(STOPPED_NOTE)
            self.post_message(JobFinished("ingest", False, "Ingest cancelled; what was committed so far is kept."))
            return
        notes.extend(f"{p.path}: {p.reason}" for p in result.errors)
        self.opening_failed = self.opening_failed or (opening and bool(result.errors))
        problems = "; ".join(f"{p.path}: {p.reason}" for p in result.errors)
        text = (f"Ingested {result.events:,} event(s) from {len(result.files)} file(s), "
                f"{result.rejected:,} rejected." + (f" Problems: {problems}" if problems else ""))
        if result.cancelled:
            notes.append(STOPPED_NOTE)
            self.post_message(JobFinished("ingest", False, "Ingest cancelled; what was read so far is kept. " + text))
            return
        self.post_message(JobFinished("ingest", not problems, text))
        if analyse_after and (result.events or opening):
            self.call_from_thread(self._chain_analysis)

    def _chain_analysis(self) -> None:
        self.job = JobState("analysis", "starting", 0.0)
        self._analysis_job()

    def _stop_jobs(self) -> None:
        """Quitting: the running ingest or analysis stops now rather than at its next chunk or
        stage (the app's end waits for its thread); what was committed stays."""
        running = [w for w in self.workers if w.group == "jobs" and w.is_running]
        for w in running:
            w.cancel()
        if running:
            self.backend.interrupt("ingest")
            self.backend.interrupt("analyze")

    @on(JobProgress)
    def _job_progress(self, msg: JobProgress) -> None:
        if msg.job == "ingest":
            self._events_landed()  # a chunk (or a file) was committed
        if self.job is None or self.job.name != msg.job or self.job.text == "cancelling…":
            return
        self.job = JobState(msg.job, msg.text, msg.fraction)

    def _events_landed(self) -> None:
        """An ingest committed events: what shows events (overview, events browser) refreshes
        through live_version, at once and then at most every ``config.INGEST_TUI_REFRESH_S``
        (the last chunks of a burst once that time is up)."""
        wait = self._events_refresh_at - time.monotonic()
        if wait <= 0:
            self._events_refresh_at = time.monotonic() + config.INGEST_TUI_REFRESH_S
            self.live_version += 1
        elif self._events_timer is None:
            self._events_timer = self.set_timer(wait, self._events_refresh_due)

    def _events_refresh_due(self) -> None:
        self._events_timer = None
        self._events_landed()

    @on(JobFinished)
    def _job_finished(self, msg: JobFinished) -> None:
        if self.job is not None and self.job.name == msg.job:
            self.job = None
        self.notify(msg.text, title=msg.job.capitalize(), severity="information" if msg.ok else "warning",
                    markup=False, timeout=8)
        self.data_version += 1

    @on(TriageChanged)
    def _triage_changed(self, msg: TriageChanged) -> None:
        self.notify(msg.text, markup=False)
        self.triage_version += 1

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Any worker that failed unexpectedly: one line for the analyst, never a traceback."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if event.worker.group == "jobs" and self.job is not None:
            self.job = None
        if isinstance(error, Cancelled):
            return
        text = str(error) if isinstance(error, BackendError) else f"{type(error).__name__}: {error}"
        self.notify(visible(text)[:500], title=f"{event.worker.description or 'task'} failed", severity="error",
                    markup=False, timeout=10)

    # --- export -------------------------------------------------------------------------------

    def action_export(self) -> None:
        screen = self.screen
        spec = screen.export_spec() if isinstance(screen, VedetteScreen) else None
        if spec is None:
            self.notify("Nothing to export here: focus a table first.", markup=False)
            return
        from tui.screens.dialogs import ExportDialog

        def chosen(choice: tuple[str, str] | None) -> None:
            if choice:
                self._export_job(spec, *choice)

        self.push_screen(ExportDialog(spec.name), chosen)

    @work(thread=True, exit_on_error=False, group="export", description="export")
    def _export_job(self, spec: ExportSpec, fmt: str, path: str) -> None:
        try:
            if spec.events_filter is not None:
                n = self.backend.export_events(spec.events_filter, path, fmt)
            else:
                n = self.backend.export_rows(spec.columns, spec.rows or [], path, fmt)
        except BackendError as exc:
            self.notify(str(exc), title="Export", severity="error", markup=False)
            return
        self.notify(f"Exported {n:,} row(s) to {visible(path)}", title="Export", markup=False)

    def start_report(self, incident_id: str, path: str) -> None:
        self._report_job(incident_id, path)

    @work(thread=True, exit_on_error=False, group="report", description="PDF report")
    def _report_job(self, incident_id: str, path: str) -> None:
        try:
            self.backend.write_report(incident_id, path)
        except BackendError as exc:
            self.notify(str(exc), title="Report", severity="warning", markup=False)
            return
        self.notify(f"Report of {incident_id} written to {visible(path)}", title="Report", markup=False)


STOPPED_NOTE = ("the ingest stopped before the end; what it committed is kept, and the same command "
                "reads the rest")


def _rejects():
    from tui.screens.rejects import RejectsScreen

    return RejectsScreen()


def _suppressions():
    from tui.screens.rejects import SuppressionsScreen

    return SuppressionsScreen()


def run(db: str, start: str = "overview", follow: list[str] | None = None, bell: bool = False,
        ingest: list[str] | None = None, tz: str | None = None, geoip: str | None = None) -> int:
    """Open the app on the case ``db`` (used by the command line); ``follow``: paths to follow live;
    ``ingest``: paths the app ingests, then analyses, while it is already on screen (``tz`` for
    their timestamps, ``geoip`` for the analysis). Once the app has closed, what went wrong with
    those paths is printed on stderr; the exit code is 1 when a named path could not be read (or
    the ingest failed), else 0."""
    from tui.printing import err

    backend = Backend.open(db, geoip=geoip, tz=tz)
    try:
        app = VedetteApp(backend, start=start, follow=follow, bell=bell, ingest=ingest)
        app.run()
    finally:
        backend.close()
    for note in app.opening_notes:
        err(note)
    return 1 if app.opening_failed else 0
