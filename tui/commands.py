"""The command palette (ctrl+p): every action of the app and of the current screen, by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class VedetteCommands(Provider):
    """Global commands (navigation, jobs, export, help) plus the current screen's own."""

    def _commands(self) -> list[tuple[str, str, Callable]]:
        from tui.screens.base import VedetteScreen

        app = self.app
        commands: list[tuple[str, str, Callable]] = list(app.global_commands())  # type: ignore[attr-defined]
        screen = self.screen
        if isinstance(screen, VedetteScreen):
            for name, keys, action in screen.palette_commands():
                commands.append((name, keys, partial(screen.run_action, action)))
        return commands

    async def discover(self) -> Hits:
        for name, keys, callback in self._commands():
            yield DiscoveryHit(name, callback, help=f"key: {keys}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, keys, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=f"key: {keys}")
