"""An incident's containment plan: commands for the analyst to review, copy or save. Never run."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from tui.backend import BackendError
from tui.messages import PlanLoaded
from tui.screens.dialogs import Dialog, PathDialog

FIREWALLS = ("nft", "iptables", "ufw", "fail2ban")


class RespondScreen(Dialog):
    """The plan as ``vedette respond`` prints it, for one firewall at a time (``f`` cycles)."""

    BINDINGS = [
        Binding("f", "cycle_firewall", "Firewall", id="respond.firewall",
                tooltip="Show the plan for nft, iptables + ipset, ufw or fail2ban"),
        Binding("c", "copy", "Copy", id="respond.copy", tooltip="Copy the plan to the clipboard"),
        Binding("w", "save", "Save", id="respond.save",
                tooltip="Write the plan to a file, to review and run by hand"),
        Binding("q", "cancel", "Close", show=False, id="respond.close"),
    ]

    def __init__(self, incident_id: str, firewall: str = "nft") -> None:
        super().__init__()
        self.incident_id = incident_id
        self.firewall = firewall
        self.text = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(Text(f"Containment plan for {self.incident_id}"), id="plan-title", classes="dialog-title")
            with VerticalScroll(classes="dialog-body", id="plan-scroll"):
                yield Static(Text("building the plan…", style="dim"), id="plan-text", markup=False)
            yield Label(Text("Vedette never runs this plan: review it, then run what you agree with by hand. "
                             "f firewall · c copy · w save · Escape closes", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#plan-scroll").focus()
        self._load(self.incident_id, self.firewall)

    @work(thread=True, exclusive=True, exit_on_error=False, group="respond", description="containment plan")
    def _load(self, incident_id: str, firewall: str) -> None:
        try:
            text = self.app.backend.containment_plan(incident_id, firewall)  # type: ignore[attr-defined]
        except BackendError as exc:
            self.post_message(PlanLoaded(incident_id, firewall, "", str(exc)))
            return
        self.post_message(PlanLoaded(incident_id, firewall, text))

    @on(PlanLoaded)
    def _loaded(self, msg: PlanLoaded) -> None:
        if msg.firewall != self.firewall:
            return  # an answer for the firewall shown before
        self.text = msg.text
        body = Text(msg.error, style="red") if msg.error else Text(msg.text)
        self.query_one("#plan-text", Static).update(body)
        self.query_one("#plan-title", Label).update(
            Text(f"Containment plan for {self.incident_id} · firewall: {self.firewall}"))

    def action_cycle_firewall(self) -> None:
        self.firewall = FIREWALLS[(FIREWALLS.index(self.firewall) + 1) % len(FIREWALLS)]
        self._load(self.incident_id, self.firewall)

    def action_copy(self) -> None:
        if not self.text:
            self.app.bell()
            return
        self.app.copy_to_clipboard(self.text)
        self.app.notify(f"Plan for {self.incident_id} copied ({self.firewall})", markup=False)

    def action_save(self) -> None:
        if not self.text:
            self.app.bell()
            return
        text = self.text

        def chosen(path: str | None) -> None:
            if path:
                self._save(str(Path(path).expanduser()), text)

        self.app.push_screen(PathDialog(
            f"Save the plan for {self.incident_id}", value=str(Path.cwd() / f"{self.incident_id}-containment.sh"),
            hint="Enter writes the file (not executable) · Escape cancels"), chosen)

    @work(thread=True, exit_on_error=False, group="respond-save", description="save plan")
    def _save(self, path: str, text: str) -> None:
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as exc:
            self.app.notify(f"Cannot write {path}: {exc.strerror or exc}", severity="error", markup=False)
            return
        self.app.notify(f"Plan written to {path}", markup=False)
