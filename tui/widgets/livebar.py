"""The LIVE line of a follow: events/s, lag, the last analysis, paused or not, and the key for it."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from engine.textsafe import visible


@dataclass(frozen=True)
class LiveState:
    """What the live bar shows. ``lag_s``: a line's write to its event stored (the latest batch);
    ``analysed``: when the incidents were last brought up to date (local time text)."""

    paused: bool = False
    rate: float = 0.0
    lag_s: float | None = None
    events: int = 0
    analysed: str | None = None
    analysing: bool = False
    note: str = ""


def live_line(state: LiveState, pause_key: str = "P") -> Text:
    """'● LIVE  42 ev/s  lag 0.4 s  1,204 new events  incidents 12:03:07   P pauses'."""
    t = Text(no_wrap=True, overflow="ellipsis")
    if state.paused:
        t.append(" ❚❚ PAUSED ", style="bold reverse yellow")
    else:
        t.append(" ● LIVE ", style="bold reverse green")
    t.append(f"  {state.rate:,.0f} ev/s")
    t.append("  lag ")
    t.append("—" if state.lag_s is None else f"{state.lag_s:.1f} s",
             style="bold red" if (state.lag_s or 0) > 3 else "")
    t.append(f"  {state.events:,} new events")
    t.append("  incidents ")
    t.append("analysing…" if state.analysing else (state.analysed or "not yet analysed"), style="italic")
    if state.note:
        t.append(f"  {visible(state.note)}", style="yellow")
    t.append(f"   {pause_key} {'resumes' if state.paused else 'pauses'}", style="dim")
    return t


class LiveBar(Static):
    """Hidden unless the app follows its logs; follows the app's ``live`` reactive."""

    def on_mount(self) -> None:
        self.watch(self.app, "live", self._show, init=True)

    def _show(self, state: LiveState | None) -> None:
        self.set_class(state is not None, "-live")
        if state is not None:
            self.update(live_line(state, getattr(self.app, "pause_key", "P")))
