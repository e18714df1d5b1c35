"""Triage keys shared by the incidents table and the incident detail.

A screen mixing this in provides ``current_incident()`` (a dict with at least ``id``, ``key``,
``src_ips``, ``users``, ``triage_note``). Verdicts and notes are stored by ``store.triage``
through the backend, in a worker; a ``TriageChanged`` message then tells the app, which reloads
every view showing incidents.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.binding import Binding

from store.browse import EventFilter
from tui.backend import BackendError
from tui.messages import TriageChanged
from tui.widgets.cells import TRIAGE_WORDS


class TriageActions:
    TRIAGE_BINDINGS = [
        Binding("t", "mark('true_positive')", "True positive", id="triage.true_positive",
                tooltip="Mark the incident a true positive (a real attack)"),
        Binding("b", "mark('benign')", "Benign", id="triage.benign",
                tooltip="Mark the incident benign (expected activity)"),
        Binding("u", "mark('needs_review')", "Needs review", id="triage.needs_review",
                tooltip="Mark the incident as needing review (unsure)"),
        Binding("minus", "unmark", "Clear verdict", show=False, id="triage.clear",
                tooltip="Forget the verdict and note on the incident"),
        Binding("n", "note", "Note", id="triage.note", tooltip="Add or edit a note on the incident"),
        Binding("x", "suppress", "Suppress", id="triage.suppress",
                tooltip="Suppress one of its sources / accounts / networks in future runs"),
        Binding("e", "events", "Its events", id="incident.events",
                tooltip="Browse this incident's raw events (Escape comes back)"),
        Binding("P", "report", "PDF", id="incident.report", tooltip="Write this incident's PDF report"),
    ]

    def current_incident(self) -> dict | None:  # pragma: no cover - each screen overrides it
        """The incident the triage keys act on (the table's cursor row, or the detail's incident)."""
        return None

    def triage_palette_commands(self) -> list[tuple[str, str, str]]:
        return [
            ("Triage: mark true positive", "t", "mark('true_positive')"),
            ("Triage: mark benign", "b", "mark('benign')"),
            ("Triage: mark needs review", "u", "mark('needs_review')"),
            ("Triage: clear verdict", "-", "unmark"),
            ("Triage: add or edit note", "n", "note"),
            ("Triage: suppress a source, account or network", "x", "suppress"),
            ("Incident: browse its events", "e", "events"),
            ("Incident: write PDF report", "P", "report"),
        ]

    def _incident_or_bell(self) -> dict | None:
        inc = self.current_incident()
        if inc is None:
            self.app.bell()  # type: ignore[attr-defined]
        return inc

    def action_mark(self, status: str) -> None:
        inc = self._incident_or_bell()
        if inc is not None:
            self._store_triage(inc, "status", status)

    def action_unmark(self) -> None:
        inc = self._incident_or_bell()
        if inc is not None:
            self._store_triage(inc, "clear", "")

    def action_note(self) -> None:
        inc = self._incident_or_bell()
        if inc is None:
            return
        from tui.screens.dialogs import NoteDialog

        def saved(note: str | None) -> None:
            if note is not None:
                self._store_triage(inc, "note", note)

        self.app.push_screen(NoteDialog(inc["id"], inc.get("triage_note")), saved)  # type: ignore[attr-defined]

    def action_suppress(self) -> None:
        inc = self._incident_or_bell()
        if inc is None:
            return
        from tui.screens.dialogs import SuppressDialog

        def chosen(choice: tuple[str, str] | None) -> None:
            if choice is not None:
                self._store_suppression(inc, *choice)

        self.app.push_screen(  # type: ignore[attr-defined]
            SuppressDialog(inc["id"], list(inc.get("src_ips") or []), list(inc.get("users") or [])), chosen)

    def action_events(self) -> None:
        inc = self._incident_or_bell()
        if inc is None:
            return
        from tui.screens.events import EventsScreen

        self.app.push_screen(EventsScreen(EventFilter(incident_id=inc["id"])))  # type: ignore[attr-defined]

    def action_report(self) -> None:
        inc = self._incident_or_bell()
        if inc is None:
            return
        from tui.screens.dialogs import PathDialog

        def chosen(path: str | None) -> None:
            if path:
                self.app.start_report(inc["id"], str(Path(path).expanduser()))  # type: ignore[attr-defined]

        self.app.push_screen(PathDialog(  # type: ignore[attr-defined]
            f"PDF report of {inc['id']}", value=str(Path.cwd() / f"{inc['id']}.pdf"),
            hint="Enter writes the report · Escape cancels"), chosen)

    @work(thread=True, exit_on_error=False, group="triage", description="store triage")
    def _store_triage(self, inc: dict, what: str, value: str) -> None:
        backend = self.app.backend  # type: ignore[attr-defined]
        try:
            if what == "status":
                backend.set_triage(inc["key"], value)
                text = f"{inc['id']} marked {TRIAGE_WORDS[value]}"
            elif what == "note":
                backend.set_note(inc["key"], value)
                text = f"Note saved on {inc['id']}" if value.strip() else f"Note removed from {inc['id']}"
            else:
                backend.clear_triage(inc["key"])
                text = f"Verdict and note cleared on {inc['id']}"
        except BackendError as exc:
            self.app.notify(str(exc), severity="error", markup=False)  # type: ignore[attr-defined]
            return
        self.post_message(TriageChanged(inc["key"], text))  # type: ignore[attr-defined]

    @work(thread=True, exit_on_error=False, group="triage", description="store suppression")
    def _store_suppression(self, inc: dict, kind: str, value: str) -> None:
        backend = self.app.backend  # type: ignore[attr-defined]
        try:
            s = backend.suppress(kind, value, f"from {inc['id']}")
        except BackendError as exc:
            self.app.notify(str(exc), severity="error", markup=False)  # type: ignore[attr-defined]
            return
        self.post_message(TriageChanged(  # type: ignore[attr-defined]
            inc["key"], f"Suppressing {s.kind} {s.value} from the next analysis on (R re-analyses now)"))
