"""The light grid: a page measured and fitted once (off the UI thread), drawn as few segments."""

from __future__ import annotations

from rich.cells import cell_len

from tests.tui.conftest import settle
from tui.widgets.grid import NULL_MARK, GridColumn, GridPage


def test_page_fits_cells_to_their_columns():
    columns = [GridColumn("user", "user", max_width=8), GridColumn("n", "n", right=True),
               GridColumn("outcome", "outcome"), GridColumn("sev", "sev", styles=(("high", "bold red"),))]
    rows = [["root", "7", "failure", "high"], ["a-very-long-account", None, "success", "low"],
            ["日本語ユーザー", "123", None, None]]
    page = GridPage.of(columns, rows)
    assert page.widths == (8, 3, 7, 4)  # capped at max_width; at least the label; wide characters count twice
    for cells in page.cells:
        assert [cell_len(text) for text, _ in cells] == list(page.widths)
    assert page.cells[0] == [("root    ", None), ("  7", None), ("failure", "grid--failure"), ("high", "bold red")]
    assert page.cells[1][0] == ("a-very-…", None) and page.cells[1][1] == (NULL_MARK + "  ", "grid--null")
    assert page.cells[2][0][0].endswith("…") and page.cells[2][2][1] == "grid--null"
    assert page.rows is rows  # kept as given, for the caller's lookups


async def test_rows_draw_as_runs_of_one_style(case_path, make_app):
    app = make_app(case_path, start="events")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        grid = app.screen.pane.table
        for y in range(2, 10):  # rows without the cursor
            segments = list(grid.render_line(y))
            text = "".join(s.text for s in segments)
            assert all(a.style != b.style for a, b in zip(segments, segments[1:]))
            row = grid.rows[grid.scroll_offset.y + y - 1]
            assert all(v is None or v[:5] in text for v in row)
