"""The command palette (ctrl+p): every action of the app and of the current screen, by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class VedetteCommands(Provider):
    """Vedette's commands first (global ones: navigation, jobs, export, help; then the current
    screen's), Textual's own after them under "Textual:" (keys, theme, screenshot, quit). The app
    uses this provider alone, so the order is the same every time (providers answer in no fixed
    order) and a Vedette command outranks a Textual one that matches the query as well."""

    def _commands(self) -> list[tuple[str, str, Callable]]:
        from tui.screens.base import VedetteScreen

        app = self.app
        commands: list[tuple[str, str, Callable]] = list(app.global_commands())  # type: ignore[attr-defined]
        screen = self.screen
        if isinstance(screen, VedetteScreen):
            for name, keys, action in screen.palette_commands():
                commands.append((name, f"key: {keys}", partial(screen.run_action, action)))
        return [(name, help if help.startswith("key: ") else f"key: {help}", cb) for name, help, cb in commands]

    def _textual_commands(self) -> list[tuple[str, str, Callable, bool]]:
        return [(f"Textual: {name}", help_text, callback, discover)
                for name, help_text, callback, discover in self.app.get_system_commands(self.screen)]

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)
        for name, help_text, callback, discover in self._textual_commands():
            if discover:
                yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        # Vedette's matches score in (1, 2], Textual's in (0, 1]: ours come first.
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(1.0 + score, matcher.highlight(name), callback, text=name, help=help_text)
        for name, help_text, callback, _ in self._textual_commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)
