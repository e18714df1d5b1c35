"""The key bar: the keys that work here and now, in one line.

Textual's ``Footer`` builds a widget per key and rebuilds them all whenever focus moves, which on
a small machine costs more than the key press it describes (hundreds of DOM nodes per focus
change). This bar renders the same information, the screen's active bindings, as one Text.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class KeyBar(Static):
    """Follows the screen's bindings (they change with focus, a remapped keymap is included)."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        if not screen.is_current:
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            text.append(f" {key} ", style="bold reverse" if active.enabled else "dim reverse")
            text.append(f" {binding.description}  ", style="" if active.enabled else "dim")
        text.append(" ^p ", style="bold reverse")
        text.append(" palette ")
        self.update(text)
