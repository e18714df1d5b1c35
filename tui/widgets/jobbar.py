"""The running job (ingest, analysis, export) with its progress and how to cancel it."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from engine.textsafe import visible


@dataclass(frozen=True)
class JobState:
    """What the job bar shows; ``fraction`` None means progress unknown."""

    name: str
    text: str = ""
    fraction: float | None = None


class JobBar(Horizontal):
    """Hidden unless a job runs; follows the app's ``job`` reactive."""

    def compose(self) -> ComposeResult:
        yield Label(id="job-label")
        yield ProgressBar(total=100, show_eta=False, id="job-progress")
        yield Label(Text("ctrl+g cancels", style="dim"), id="job-hint")

    def on_mount(self) -> None:
        self.watch(self.app, "job", self._show, init=True)

    def _show(self, job: JobState | None) -> None:
        self.set_class(job is not None, "-running")
        if job is None:
            return
        label = Text.assemble((job.name, "bold"), " ", visible(job.text))
        self.query_one("#job-label", Label).update(label)
        bar = self.query_one("#job-progress", ProgressBar)
        if job.fraction is None:
            bar.update(total=None)
        else:
            bar.update(total=100, progress=max(0.0, min(1.0, job.fraction)) * 100)
