"""The app's side of a live follow (``vedette PATH --follow``): the follower in a thread worker,
its reports on the LIVE bar and as notifications (new incidents, severity rises, files that went
away), pause/resume and refit on keys. Screens refresh through the app's version reactives."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from textual import work
from textual.binding import Binding

from engine import config
from engine.textsafe import visible
from tui.messages import Followed
from tui.widgets.livebar import LiveState

LIVE_BINDINGS = [
    Binding("L", "toggle_follow", "Pause live", id="app.follow_pause", show=False,
            tooltip="Pause or resume the live follow of the logs (what arrives meanwhile is read on resume)"),
]


class LiveFollow:
    """Mixed into ``VedetteApp``, which declares the ``live`` and ``live_version`` reactives."""

    follower = None
    follow_paths: list[str] | None = None
    follow_bell = False
    pause_key = "L"
    _live_events = 0
    _live_seen = 0
    _live_announced = False

    def start_follow(self, paths: list[str], bell: bool = False) -> None:
        """Follow ``paths``: the follower ingests and analyses them first, then as they grow."""
        self.follow_paths = list(paths)
        self.follow_bell = bell
        self.live = LiveState(analysing=True, note="first ingest and analysis…")
        self.set_interval(config.FOLLOW_TUI_REFRESH_S, self._live_tick)
        self._follow_worker()

    @work(thread=True, exit_on_error=False, group="follow", description="live follow")
    def _follow_worker(self) -> None:
        follower = self.backend.follower(self.follow_paths or [], lambda e: self.post_message(Followed(e)))
        self.follower = follower
        follower.run()

    def stop_follow(self) -> None:
        if self.follower is not None:
            self.follower.stop()

    def _live_tick(self) -> None:
        """Screens that show events (overview totals and sparklines, a tailing browser) refresh
        at most this often while lines arrive, not on every batch."""
        if self._live_events != self._live_seen:
            self._live_seen = self._live_events
            self.live_version += 1

    # --- keys -------------------------------------------------------------------------------

    def action_toggle_follow(self) -> None:
        if self.follower is None:
            self.notify("Not following any logs (start with: vedette PATH ... --follow).", markup=False)
            return
        if self.follower.paused:
            self.follower.resume()
        else:
            self.follower.pause()

    def refit_follow(self) -> bool:
        """R while following: the follow's next analysis fits the models afresh (a second,
        separate analysis would race the follow's)."""
        if self.follower is None:
            return False
        self.follower.refit()
        self.notify("The models are fitted afresh at the follow's next analysis.", title="Follow", markup=False)
        return True

    # --- reports ----------------------------------------------------------------------------

    def on_followed(self, msg: Followed) -> None:  # by name: @on needs the App's metaclass, not a mixin
        e = msg.event
        state = self.live or LiveState()
        if e.kind == "ingested":
            self._live_events += e.events
            self.live = replace(state, rate=e.rate, lag_s=e.lag_s if e.lag_s is not None else state.lag_s,
                                events=state.events + e.events,
                                analysing=state.analysing or bool(self.follower and self.follower.analysing))
        elif e.kind == "analysis":
            self.live = replace(state, analysing=False, note="", analysed=time.strftime("%H:%M:%S"))
            self._announce(e.update)
            self.data_version += 1
        elif e.kind in ("paused", "resumed"):
            self.live = replace(state, paused=e.kind == "paused")
        elif e.kind == "notice":
            name = Path(e.path).name if e.path else ""
            self.notify(f"{visible(name)}: {visible(e.message)}", title="Follow", severity="warning", markup=False,
                        timeout=8)
        elif e.kind == "error":
            self.live = replace(state, analysing=False, note="analysis failed")
            self.notify(visible(e.message)[:300], title="Follow", severity="error", markup=False, timeout=10)
        elif e.kind == "stopped":
            self.live = replace(state, note="stopped")

    def _announce(self, update) -> None:
        if not self._live_announced:
            # The first analysis: what was already there, said once rather than incident by incident.
            self._live_announced = True
            self.notify(f"Following {len(self.follow_paths or [])} path(s): {update.incidents} incident(s) so far.",
                        title="Live", markup=False)
            return
        loud = False
        for c in update.changes:
            inc = c.incident
            what = f"{inc['id']} {inc['severity']} {inc['category'].replace('_', ' ')}"
            ips = ", ".join(inc.get("src_ips", [])[:3])
            if c.change == "new":
                loud = True
                self.notify(f"{what}" + (f" from {ips}" if ips else ""), title="New incident",
                            severity="error" if inc["severity"] in ("high", "critical") else "warning",
                            markup=False, timeout=12)
            elif c.change == "severity_up":
                loud = True
                self.notify(f"{what}: severity up from {c.previous_severity}", title="Severity up",
                            severity="error", markup=False, timeout=12)
        if loud and self.follow_bell:
            self.bell()
