"""SHAP contributions as horizontal bars, with feature names in plain words."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.widgets.cells import plain

BAR_WIDTH = 16


def render_contributions(features: list[dict], width: int = BAR_WIDTH, sessions: int = 1,
                         room: int | None = None) -> Text:
    """One line per feature: plain name, a bar proportional to its share of the anomaly, the
    share and the observed value (of an incident of several ``sessions``: the mean per session,
    which the last line says). ``room``: the columns there are; names and bars shrink to fit."""
    from engine.explain import plain as plain_name  # the engine's words for its own features

    if not features:
        return Text("No explanation: the model did not single out this incident's sessions "
                    "(rules alone flagged them, or too few sessions to fit a model).", style="dim")
    names = [plain(plain_name(str(f.get("name", "?")))) for f in features]
    name_w = min(36, max(len(n) for n in names))
    if room:
        value_w = max(len(plain(f.get("value"))) for f in features) + 4
        spare = room - (name_w + 1 + width + 5 + value_w)
        if spare < 0:
            width = max(6, width + spare // 2)
            name_w = max(10, room - (1 + width + 5 + value_w))
    top = max((abs(float(f.get("contribution") or 0)) for f in features), default=1.0) or 1.0
    out = Text(no_wrap=True, overflow="ellipsis")
    for i, (f, name) in enumerate(zip(features, names)):
        c = float(f.get("contribution") or 0)
        n = max(1, round(abs(c) / top * width)) if c else 0
        if i:
            out.append("\n")
        shown = name if len(name) <= name_w else name[: name_w - 1] + "…"
        out.append(shown.ljust(name_w) + " ")
        out.append("█" * n, style="bold red" if c > 0 else "green")
        out.append("░" * (width - n), style="dim")
        out.append(f" {c:>4.0%}", style="bold")
        value = f.get("value")
        if value is not None:
            out.append(f"  ({plain(value)})", style="dim")
    if sessions > 1:
        out.append(f"\n(values) are means per session over {sessions:,} sessions", style="dim italic")
    return out


class ContributionBars(Static):
    """Why the model finds the incident unusual (SHAP), as bars."""

    def set_features(self, features: list[dict], sessions: int = 1) -> None:
        self._features = (features, sessions)
        text = render_contributions(features, sessions=sessions, room=self.content_size.width or None)
        if self.content != text:  # the same bars again would only cost a redraw
            self.update(text)

    def on_resize(self) -> None:
        features = getattr(self, "_features", None)
        if features is not None:
            self.set_features(*features)
