"""The running job (ingest, analysis, export) with its progress and how to cancel it."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from engine.textsafe import visible

BAR_WIDTH = 30  # cells of the progress bar


@dataclass(frozen=True)
class JobState:
    """What the job bar shows; ``fraction`` None means progress unknown."""

    name: str
    text: str = ""
    fraction: float | None = None


def job_line(job: JobState) -> Text:
    """'analysis  features (3/8)  ━━━━━━━━──────  42%   ctrl+g cancels'."""
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(job.name, style="bold")
    t.append(f"  {visible(job.text)}  ")
    if job.fraction is None:
        t.append("working…", style="italic")
    else:
        fraction = max(0.0, min(1.0, job.fraction))
        done = round(fraction * BAR_WIDTH)
        t.append("━" * done, style="bold")
        t.append("─" * (BAR_WIDTH - done), style="dim")
        t.append(f" {fraction:>4.0%}")
    t.append("   ctrl+g cancels", style="dim")
    return t


class JobBar(Static):
    """Hidden unless a job runs; follows the app's ``job`` reactive. One line of text, where a
    label, a progress bar and a hint took six widgets: every screen carries this bar, and each
    widget adds to what every screen switch costs."""

    def on_mount(self) -> None:
        self.watch(self.app, "job", self._show, init=True)

    def _show(self, job: JobState | None) -> None:
        self.set_class(job is not None, "-running")
        if job is not None:
            self.update(job_line(job))
