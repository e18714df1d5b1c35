"""What an lnav / GoAccess / Harlequin user reaches for (issue 19): search with n / N, a timeline
slice to its events, a time range, web panels on the overview, the SQL console's schema and
completion."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from store import browse
from tests.tui.conftest import BRUTE, WEB, settle
from tui.screens.dialogs import PathDialog
from tui.screens.events import EventsScreen
from tui.widgets.events_search import parse_time_range
from tui.widgets.sql_editor import completions


async def _type(pilot, text: str) -> None:
    for ch in text:
        await pilot.press({" ": "space", "/": "slash", ".": "full_stop", ":": "colon", "-": "minus"}.get(ch, ch))


async def test_search_marks_matches_and_n_moves_between_them_across_pages(case_path, make_app):
    app = make_app(case_path, start="events")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = app.screen.pane
        grid = pane.table
        assert not any("staff2" in (r.get("message") or "") for r in pane.page.rows)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, PathDialog)
        await _type(pilot, "user staff2")
        await pilot.press("enter")
        await settle(app, pilot)
        # Nothing on the first page: the page around the first match, the cursor on it.
        assert pane.search == "user staff2" and grid.highlight == "user staff2"
        messages = [r.get("message") or "" for r in pane.page.rows]
        first = grid.cursor_row
        assert "user staff2" in messages[first] and pane.columns[grid.cursor_column] == "message"
        assert not any("user staff2" in m for m in messages[:first])
        assert first in grid.marks
        # The match is drawn in the match style.
        line = list(grid.render_line(first - grid.scroll_offset.y + 1))
        match = grid._style("grid--match")
        marked = [s for s in line if s.style and s.style.bold and s.style.color == match.color]
        assert [s.text.lower() for s in marked] == ["user staff2"]
        await pilot.press("n")
        await pilot.pause()
        second = grid.cursor_row
        assert second > first and "user staff2" in messages[second]
        assert not any("user staff2" in m for m in messages[first + 1:second])
        await pilot.press("N")
        await pilot.pause()
        assert grid.cursor_row == first
        await pilot.press("N")  # none earlier: the page stays
        await settle(app, pilot)
        assert grid.cursor_row == first and "user staff2" in (pane.page.rows[first].get("message") or "")
        # Search filters nothing: every event is still in the browser.
        assert pane.flt == browse.EventFilter()
        assert pane.count == app.backend.case.con.execute("SELECT count(*) FROM events").fetchone()[0]


async def test_n_is_the_note_key_until_something_is_marked(case_path, make_app):
    from tui.screens.dialogs import NoteDialog

    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        app.screen.query_one("#incident-events EventGrid").focus()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)


async def test_timeline_slice_opens_its_events(case_path, make_app):
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        brute = next(i for i, inc in enumerate(screen.shown) if BRUTE in inc["src_ips"])
        screen.table.move_cursor(row=brute)
        await pilot.press("enter")
        await settle(app, pilot)
        detail = app.screen
        timeline = detail.query_one("#timeline")
        timeline.focus()
        await pilot.pause()
        busiest = timeline.picked
        assert timeline.slices[busiest][1] == max(n for _, n in timeline.slices)
        await pilot.press("right")
        await pilot.press("left")
        assert timeline.picked == busiest
        assert "←/→ pick" in timeline.caption()
        start, end = timeline.slice_span()
        await pilot.press("enter")
        await settle(app, pilot)
        events = app.screen
        assert isinstance(events, EventsScreen)
        flt = events.pane.flt
        assert flt.incident_id == detail.incident_id
        assert flt.time_range() == (start.isoformat(), end.isoformat())
        case = app.backend.case
        where, params = browse.filter_sql(case, browse.EventFilter(incident_id=detail.incident_id))
        n = case.con.execute(f"SELECT count(*) FROM events WHERE {where} AND ts BETWEEN $a AND $b",
                             {**params, "a": start, "b": end}).fetchone()[0]
        assert events.pane.count == n and n >= timeline.slices[busiest][1]


async def test_time_range_filter_in_the_events_browser(case_path, make_app):
    app = make_app(case_path, start="events")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = app.screen.pane
        con = app.backend.case.con
        lo, hi = con.execute(f"SELECT min(ts), max(ts) FROM events WHERE src_ip = '{WEB}'").fetchone()
        n = con.execute("SELECT count(*) FROM events WHERE ts BETWEEN $a AND $b", {"a": lo, "b": hi}).fetchone()[0]
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, PathDialog)
        await _type(pilot, f"{lo:%Y-%m-%d %H:%M:%S.%f} .. {hi:%H:%M:%S.%f}")
        await pilot.press("enter")
        await settle(app, pilot)
        assert pane.count == n
        assert all(lo <= r["ts"] <= hi for r in pane.page.rows)
        assert "ts>=" in pane.flt.as_text() and "ts<=" in pane.flt.as_text()


def test_parse_time_range():
    utc = timezone.utc
    assert parse_time_range("2026-11-19 02:14 .. 2026-11-19 02:30") == (
        datetime(2026, 11, 19, 2, 14, tzinfo=utc), datetime(2026, 11, 19, 2, 30, tzinfo=utc))
    assert parse_time_range("2026-11-19 02:14 .. 02:30:10")[1] == datetime(2026, 11, 19, 2, 30, 10, tzinfo=utc)
    assert parse_time_range(".. 2026-11-19T03:00+01:00") == (None, datetime(2026, 11, 19, 2, 0, tzinfo=utc))
    assert parse_time_range("") == (None, None)
    for bad in ("yesterday", "2026-11-19 03:00 .. 2026-11-19 02:00", "02:00 .. nonsense"):
        with pytest.raises(ValueError):
            parse_time_range(bad)


async def test_overview_web_panels(case_path, make_app):
    app = make_app(case_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.query_one("#web-row").has_class("-hidden")
        await pilot.press("w")
        await pilot.pause()
        await settle(app, pilot)
        assert not screen.query_one("#web-row").has_class("-hidden")
        assert screen.query_one("#entity-row").has_class("-hidden")
        panels = screen._parts["web"]
        con = app.backend.case.con
        by_status = dict(con.execute(
            "SELECT status, count(*) FROM events WHERE action = 'http_request' GROUP BY 1").fetchall())
        visitors = con.execute("SELECT count(DISTINCT src_ip) FROM events WHERE action = 'http_request'").fetchone()[0]
        assert panels.requests == sum(by_status.values()) == 70 and panels.visitors == visitors
        assert {r["status"]: r["hits"] for r in panels.statuses} == by_status
        assert panels.agents[0] == {"user_agent": "sqlmap/1.7", "hits": 40, "visitors": 1}
        assert screen.query_one("#web-status").row_count == len(by_status)
        # Enter on a status: its requests.
        status = screen.query_one("#web-status")
        status.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        events = app.screen
        assert isinstance(events, EventsScreen)
        first = panels.statuses[0]
        assert events.pane.count == first["hits"]


async def test_sql_console_shows_the_schema_and_completes_names(case_path, make_app):
    from tui.widgets.sql_editor import SqlEditor

    app = make_app(case_path, start="sql")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        schema = str(screen.query_one("#sql-schema-text").content)
        assert schema.startswith("events\n") and "user_agent" in schema and "incidents" in schema
        editor = screen.query_one("#sql-editor", SqlEditor)
        editor.text = "SELECT user_ag"
        editor.move_cursor((0, len(editor.text)))
        await pilot.press("tab")
        assert editor.text == "SELECT user_agent" and editor.has_focus
        editor.text = "SELECT count(*) FROM sessions WHERE sessions.ri"
        editor.move_cursor((0, len(editor.text)))
        await pilot.press("tab")
        assert editor.text.endswith("sessions.risk")
        editor.text = "SELECT src_"
        editor.move_cursor((0, len(editor.text)))
        await pilot.press("tab")
        await pilot.pause()
        assert editor.text == "SELECT src_"
        status = str(screen.query_one("#sql-status").content)
        assert "src_ip" in status and "src_port" in status
        # Nothing to complete: Tab moves on as usual.
        editor.text = "SELECT 1 "
        editor.move_cursor((0, len(editor.text)))
        await pilot.press("tab")
        assert not editor.has_focus


def test_completions():
    schema = {"events": [("ts", "TIMESTAMP"), ("user", "VARCHAR"), ("user_agent", "VARCHAR")],
              "sessions": [("risk", "INTEGER"), ("users", "VARCHAR[]")]}
    assert completions("SELECT us", schema) == ("us", ["user", "user_agent", "users"])
    assert completions("FROM ses", schema) == ("ses", ["sessions"])
    assert completions("WHERE sessions.u", schema) == ("u", ["users"])
    assert completions("SELECT ", schema) == ("", [])
