"""Attacker-written text (Rich markup, terminal escapes, hyperlinks) is shown literally."""

from __future__ import annotations

import html
import re

from textual.widgets import Static

from tests.tui.conftest import LINK_PATH, MARKUP_USER, settle
from tui.screens.dialogs import EventDialog
from tui.widgets.cells import cell, listing_text

ESCAPED_OSC = "\\x1b]0;title\\x07"


def screen_text(app) -> str:
    """What the terminal would show, from the SVG screenshot."""
    svg = app.export_screenshot()
    text = re.sub(r"<[^>]+>", "", svg)
    return html.unescape(text).replace("\xa0", " ")


def all_cells(table) -> list:
    return [c for i in range(table.row_count) for c in table.get_row_at(i)]


def assert_safe(text) -> None:
    plain = text.plain if hasattr(text, "plain") else str(text)
    assert "\x1b" not in plain and "\x07" not in plain and "\x9b" not in plain and "\u202e" not in plain
    for span in getattr(text, "spans", []):
        assert "link" not in str(span.style)


def test_cells_escape_and_never_parse_markup():
    t = cell(MARKUP_USER)
    assert t.plain == MARKUP_USER and not t.spans
    t = cell("\x1b]0;title\x07")
    assert t.plain == ESCAPED_OSC
    assert listing_text([LINK_PATH]) == LINK_PATH


async def test_incidents_table_and_detail_show_hostile_text_literally(case_path, make_app):
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        brute = next(i for i in screen.shown if i["category"] == "brute_force" and not i["compromised"])
        await pilot.press("slash")
        await pilot.press(*"203.0.113.66")
        await pilot.press("enter")
        await settle(app, pilot)
        cells = all_cells(screen.query_one("#incidents-table"))
        for c in cells:
            assert_safe(c)
        assert any(ESCAPED_OSC in c.plain for c in cells)
        await pilot.press("enter")
        await settle(app, pilot)
        detail = app.screen
        assert detail.incident_id == brute["id"]
        summary = detail.query_one("#summary-text", Static).content
        assert_safe(summary)
        assert MARKUP_USER in str(summary) and ESCAPED_OSC in str(summary)
        events = detail.query_one("#incident-events EventGrid")
        cells = all_cells(events)
        for c in cells:
            assert_safe(c)
        assert any(c.plain == MARKUP_USER for c in cells)
        shown = screen_text(app)
        assert MARKUP_USER in shown
        assert ESCAPED_OSC in shown


async def test_events_browser_and_event_dialog_show_hostile_text_literally(case_path, make_app):
    app = make_app(case_path, start="events")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(app, pilot)
        pane = app.screen.pane
        await pilot.press("slash")
        await pilot.press(*"title")
        await pilot.press("enter")
        await settle(app, pilot)
        table = pane.table
        assert table.row_count == 1
        for c in all_cells(table):
            assert_safe(c)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, EventDialog)
        detail = app.screen.query_one(".event-detail", Static).content
        assert_safe(detail)
        assert ESCAPED_OSC in detail.plain and MARKUP_USER in detail.plain and "\\x9b31m" in detail.plain
        assert "\\u202e" in detail.plain
        await pilot.press("escape")
        await pilot.press("F")
        await pilot.press("slash")
        await pilot.press(*"path~link=file")
        await pilot.press("enter")
        await settle(app, pilot)
        cells = all_cells(table)
        assert table.row_count == 10
        assert any(c.plain == LINK_PATH for c in cells)
        for c in cells:
            assert_safe(c)
        assert LINK_PATH in screen_text(app)
