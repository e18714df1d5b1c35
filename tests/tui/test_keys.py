"""Keys: the help lists every binding; keys do what it says; users remap them by id in TOML;
the command palette reaches every action."""

from __future__ import annotations

from textual.binding import Binding

from tests.tui.conftest import settle
from tui.app import VedetteApp
from tui.screens.events import EventsScreen
from tui.screens.help import HelpScreen
from tui.screens.incident import IncidentScreen
from tui.screens.incidents import IncidentsScreen
from tui.screens.overview import OverviewScreen
from tui.screens.sql import SqlScreen
from tui.widgets.events_pane import EventsPane


def _ids(classes) -> set[str]:
    return {b.id for c in classes for b in c.BINDINGS if isinstance(b, Binding) and b.id}


async def test_help_lists_every_binding_and_the_global_keys_work(case_path, make_app):
    app = make_app(case_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        listed = {e.binding_id for e in help_screen.entries if e.binding_id}
        every = _ids([VedetteApp, OverviewScreen, IncidentsScreen, IncidentScreen, EventsPane, SqlScreen])
        assert every <= listed
        text = help_screen.text()
        assert "ctrl+p" in text and "ctrl+q" in text and "j" in text
        await pilot.press("escape")
        await pilot.pause()
        # Every global key does what the help says.
        expected = {"go('overview')": OverviewScreen, "go('incidents')": IncidentsScreen,
                    "go('events')": EventsScreen, "go('sql')": SqlScreen}
        for entry in help_screen.entries:
            if entry.section != "Everywhere" or entry.action not in expected:
                continue
            await pilot.press(entry.keys)
            await settle(app, pilot)
            assert isinstance(app.screen, expected[entry.action]), entry
            if isinstance(app.screen, SqlScreen):
                await pilot.press("escape")  # out of the editor
        # The incidents section: j/k move, Enter opens, e jumps to the events.
        await pilot.press("2")
        await settle(app, pilot)
        table = app.screen.query_one("#incidents-table")
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("g")
        assert table.cursor_row == 0


async def test_keymap_from_xdg_config(case_path, make_app, tmp_path):
    config = tmp_path / "config" / "vedette"
    config.mkdir(parents=True)
    (config / "keys.toml").write_text(
        '[keys]\n"app.incidents" = "i"\n"incidents.open" = ["o", "enter"]\n"no.such.binding" = "z"\n')
    app = make_app(case_path, keymap=None)  # read the user's keys.toml
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        assert any("no.such.binding" in n.message for n in app._notifications)
        await pilot.press("2")  # no longer bound
        await settle(app, pilot)
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("i")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentsScreen)
        await pilot.press("o")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        entry = next(e for e in app.screen.entries if e.binding_id == "app.incidents")
        assert entry.keys == "i"
        assert next(e for e in app.screen.entries if e.binding_id == "incidents.open").keys == "o / enter"


async def test_command_palette_runs_actions(case_path, make_app):
    app = make_app(case_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"sql console")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SqlScreen)
        await pilot.press("escape", "2")
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"mark true positive")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.shown[0]["triage_status"] == "true_positive"
