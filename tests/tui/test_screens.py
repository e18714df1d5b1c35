"""Every screen opens and fills from the case."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from tests.tui.conftest import settle
from tui.screens.events import EventsScreen
from tui.screens.help import HelpScreen
from tui.screens.incident import IncidentScreen
from tui.screens.incidents import IncidentsScreen
from tui.screens.overview import OverviewScreen
from tui.screens.rejects import RejectsScreen, SuppressionsScreen
from tui.screens.sql import SqlScreen


async def test_overview_fills(case_path, make_app):
    app = make_app(case_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        case_text = screen.query_one("#case-box", Static).content
        assert "5 incident(s)" in str(case_text)
        incidents_text = str(screen.query_one("#incidents-box", Static).content)
        assert "critical 1" in incidents_text and "brute_force" in incidents_text
        assert screen.query_one("#top-sources", DataTable).row_count > 0
        assert screen.query_one("#top-accounts", DataTable).row_count > 0
        assert screen.query_one("#files", DataTable).row_count == 2  # auth.log and access.log
        assert len(screen.query(".spark-row")) == 2  # one sparkline per source file (auth.log, access.log)


async def test_every_screen_opens(case_path, make_app):
    app = make_app(case_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        for key, cls in (("2", IncidentsScreen), ("3", EventsScreen), ("4", SqlScreen), ("1", OverviewScreen)):
            if key == "1":
                await pilot.press("escape")  # leave the SQL editor, where digits are typed
            await pilot.press(key)
            await settle(app, pilot)
            assert isinstance(app.screen, cls), key
        await pilot.press("2")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, IncidentScreen)
        await pilot.press("1")
        await settle(app, pilot)
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, RejectsScreen)
        await pilot.press("escape")
        await pilot.press("s")
        await settle(app, pilot)
        assert isinstance(app.screen, SuppressionsScreen)


async def test_incident_detail_shows_everything(case_path, make_app):
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#incidents-table")
        first = app.screen.shown[0]
        assert first["severity"] == "critical"  # sorted by risk, riskiest first
        brute = next(i for i, inc in enumerate(app.screen.shown)
                     if inc["category"] == "brute_force" and not inc["compromised"])
        for _ in range(brute):
            await pilot.press("j")
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        assert screen.incident_id == app.screen.incident["id"]
        summary = str(screen.query_one("#summary-text", Static).content)
        assert "offline summariser" in summary
        assert "T1110" in summary and "203.0.113.66" in summary
        assert "grouped" in summary and "203.0.113.66" in summary.split("grouped", 1)[1]  # why one incident
        head = str(screen.query_one("#incident-head", Static).content)
        assert "risk" in head and "high" in head
        bars = str(screen.query_one("#shap", Static).content)
        assert "█" in bars and "_" not in bars.split("\n")[0].split("█")[0]  # plain words, not feature_names
        assert sum(n for _, n in screen.query_one("#timeline").slices) == 201
        assert screen.query_one("#sessions-table").row_count >= 1
        pane = screen.query_one("#incident-events")
        # Its raw events: the first page (a screenful and a few more) of all 201.
        assert pane.table.size.height < pane.table.row_count < 201 and pane.count == 201
        assert table is not None


async def test_detail_panes_move_with_keys(case_path, make_app):
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        order = []
        for _ in range(5):
            order.append(screen.focused.id or type(screen.focused).__name__)
            await pilot.press("J")
        assert order == ["summary-pane", "why-pane", "timeline", "sessions-table", "EventGrid"]
        assert screen.focused.id == "summary-pane"  # wrapped around
        await pilot.press("K")
        assert type(screen.focused).__name__ == "EventGrid"
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentsScreen)


async def test_reopened_screen_follows_a_theme_changed_while_away(case_path, make_app):
    """A screen shown again skips Textual's full restyle unless the app's CSS changed meanwhile:
    a theme picked while the incident screen was away must still reach it."""
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        before = screen.query_one("#summary-pane").styles.border_top[1]
        await pilot.press("escape")
        await settle(app, pilot)
        app.theme = "solarized-light" if app.theme != "solarized-light" else "nord"
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen
        after = screen.query_one("#summary-pane").styles.border_top[1]
        assert after != before
        # Shown again with nothing changed: the styles stay as they are.
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.query_one("#summary-pane").styles.border_top[1] == after


async def test_start_up_objects_are_frozen_while_the_app_runs(case_path, make_app):
    """Full garbage collections walk every object (45-70 ms on a small machine, a late frame
    on whatever key they land): what start-up made is frozen once the first screen is drawn,
    and thawed when the app ends, so the process exits cleanly."""
    import gc

    app = make_app(case_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        for _ in range(100):
            if gc.get_freeze_count():
                break
            await pilot.pause(0.05)
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold()[2] >= 100
    assert gc.get_freeze_count() == 0 and gc.get_threshold()[2] < 100
