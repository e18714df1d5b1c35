"""Text that fits (issue 19): help lines inside the screen, cut cells that say so, the overview's
figures and columns, the incidents screen's glance and the palette's order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from store.browse import span_text
from tests.tui.conftest import BRUTE, settle


@pytest.mark.parametrize("size", [(160, 45), (100, 30)])
async def test_help_lines_fit_and_wrap_in_their_column(case_path, make_app, size):
    from tui.screens.help import KEYS_WIDTH, HelpScreen

    app = make_app(case_path)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        widget = screen.query_one("#help-text")
        width = widget.content_size.width
        assert 0 < width < size[0]
        text = screen.text()
        sections = {e.section for e in screen.entries}
        for line in text.splitlines():
            assert len(line) <= width, line
            # A section heading, a gap, or a row whose text starts in its column: never a
            # description wrapped back to the left edge.
            assert not line or line in sections or line.startswith("  ") or line[:KEYS_WIDTH].strip() == "", line
        for e in screen.entries:
            if e.binding_id:
                assert f"[{e.binding_id}]" in text  # whole: "[detail.next_pane]", not "detail.next_"
        assert "[incidents.filter_triage]" in text and "[events.filter]" in text


async def test_cut_cells_end_in_an_ellipsis_and_v_shows_the_whole_value(case_path, make_app):
    from tui.screens.dialogs import ValueDialog

    app = make_app(case_path, start="events")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        pane = app.screen.pane
        grid = pane.table
        # Rows whose message runs past the view's right edge end in "…" at the edge.
        lines = ["".join(s.text for s in grid.render_line(y)) for y in range(1, grid.size.height)]
        cut = [line for line in lines if len(line) == grid.size.width and line.rstrip()[-1:] == "…"]
        assert cut, lines[:3]
        column = pane.columns.index("message")
        grid.move_cursor(row=0, column=column)
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, ValueDialog)
        assert app.screen.value == pane.page.rows[0]["message"]
        await pilot.press("escape")
        await pilot.pause()


def test_span_counts_whole_days():
    first = datetime(2026, 11, 13, 8, 0, tzinfo=timezone.utc)
    assert span_text(first, first + timedelta(days=7, minutes=-1)).endswith("(7 days)")
    assert span_text(first, first + timedelta(days=6)).endswith("(6 days)")
    assert span_text(first, first + timedelta(days=2, hours=12)).endswith("(2.5 days)")
    assert span_text(first, first + timedelta(hours=3)).endswith("(3.0 h)")


@pytest.mark.parametrize("size", [(160, 45), (100, 30)])
async def test_overview_bars_are_shares_and_tables_fit_their_boxes(case_path, make_app, size):
    app = make_app(case_path)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        screen = app.screen
        breakdown = screen._parts["breakdown"]["category"]
        total = sum(breakdown.values())
        box = screen.query_one("#incidents-box")
        text = str(box.content)
        bar_w = max(4, min(20, box.content_size.width - 30))
        for name, n in breakdown.items():
            line = next(ln for ln in text.splitlines() if ln.startswith(name))
            assert line.count("█") == max(1, round(n / total * bar_w))
            assert len(line) <= box.content_size.width
            assert f"{n / total:.0%}" in line
        for selector in ("#top-sources", "#top-accounts", "#files"):
            table = screen.query_one(selector)
            # Every column inside the box: nothing hidden past its right edge.
            assert table.virtual_size.width <= table.scrollable_content_region.width, selector


async def test_incidents_screen_shows_the_highlighted_incident_beside_its_summary(case_path, make_app):
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        await pilot.pause(0.3)
        await settle(app, pilot)
        screen = app.screen
        first = screen.current_incident()
        bars = str(screen.query_one("#glance-shap").content)
        assert "█" in bars or not first["top_features"]
        timeline = screen.query_one("#glance-timeline")
        assert timeline.slices and screen._glance_for == first["id"]
        preview = str(screen.query_one("#incident-preview").content)
        assert first["id"] in preview and "sources" in preview
        # The table is as tall as its rows, the glance takes the rest of the screen.
        table = screen.query_one("#incidents-table")
        assert table.size.height == len(screen.shown) + 1
        assert screen.query_one("#incident-glance").size.height > 20
        brute = next(i for i, inc in enumerate(screen.shown) if BRUTE in inc["src_ips"])
        table.move_cursor(row=brute)
        await pilot.pause(0.3)
        await settle(app, pilot)
        assert screen._glance_for == screen.shown[brute]["id"]
        assert sum(n for _, n in timeline.slices) == 201


async def test_palette_lists_vedette_first_and_textual_after(case_path, make_app):
    from tui.commands import VedetteCommands

    app = make_app(case_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        provider = VedetteCommands(app.screen)
        shown = [hit.text async for hit in provider.discover()]
        textual = [i for i, name in enumerate(shown) if name.startswith("Textual: ")]
        assert textual and shown[0] == "Go to overview"
        assert textual == list(range(textual[0], len(shown)))  # all of Textual's after all of ours
        assert any("Theme" in shown[i] for i in textual)
        hits = [hit async for hit in provider.search("e")]
        ours = [h.score for h in hits if not h.text.startswith("Textual: ")]
        theirs = [h.score for h in hits if h.text.startswith("Textual: ")]
        assert ours and theirs and min(ours) > max(theirs)
