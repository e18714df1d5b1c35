"""The TUI following real log files: LIVE bar, pause, the incident list updated in place, tail."""

from __future__ import annotations

import asyncio
import time

from tests.engine.loglines import failed_password, ordinary_auth


def append(path, lines: list[str]) -> None:
    with open(path, "a") as f:
        for line in lines:
            f.write(line + "\n")


async def until(pilot, cond, timeout: float = 40.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        await pilot.pause(0.2)
    raise AssertionError(f"condition not met in time: live={getattr(pilot.app, 'live', None)} notes={[(n.title, n.message) for n in pilot.app._notifications]}")


async def test_incident_list_updates_in_place_while_following(tmp_path, make_app):
    from tui.widgets.livebar import LiveBar

    log = tmp_path / "auth.log"
    append(log, [ordinary_auth(i) for i in range(200)])
    append(log, [failed_password(i, "203.0.113.10") for i in range(200)])
    append(log, [failed_password(1000 + i, "198.51.100.20", f"user{i % 40}") for i in range(120)])
    app = make_app(tmp_path / "case.duckdb", start="incidents", follow=[str(log)])
    async with app.run_test(size=(160, 40)) as pilot:
        s = app.screen
        await until(pilot, lambda: app.live is not None and app.live.analysed and len(s.rows) >= 2)
        assert app.screen.query_one(LiveBar).has_class("-live")
        await pilot.press("down", "V")  # the second incident, and a filter the update must keep
        before = s.current_incident()
        assert before is not None and s.table.cursor_row == 1 and s.min_severity == "low"

        n = len(s.rows)
        append(log, [failed_password(5000 + i, "192.0.2.30") for i in range(600)])
        await until(pilot, lambda: len(s.rows) > n)
        await pilot.pause()  # (not settle(): the follow worker runs until the app closes)
        assert s.current_incident()["id"] == before["id"]  # the cursor stayed on its incident
        assert app.screen is s and s.min_severity == "low"
        titles = [n.title for n in app._notifications]
        assert "New incident" in titles

        # L pauses: lines written meanwhile wait, and arrive on resume.
        await pilot.press("L")
        await until(pilot, lambda: app.live.paused)
        count = app.live.events
        append(log, [ordinary_auth(9000 + i) for i in range(5)])
        await asyncio.sleep(1.5)
        await pilot.pause()
        assert app.live.events == count
        await pilot.press("L")
        await until(pilot, lambda: not app.live.paused and app.live.events == count + 5)


async def test_events_browser_tails_new_rows(tmp_path, make_app):
    log = tmp_path / "auth.log"
    append(log, [ordinary_auth(i) for i in range(300)])
    app = make_app(tmp_path / "case.duckdb", start="events", follow=[str(log)])
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: app.live is not None and app.live.analysed)
        pane = app.screen.pane
        await pilot.press("T")
        assert pane.tail
        newest = failed_password(777777, "192.0.2.77", "tailcheck")
        append(log, [ordinary_auth(1000 + i) for i in range(20)] + [newest])
        await until(pilot, lambda: pane.page is not None and any(
            "tailcheck" in str(v) for v in pane.table.rows[pane.table.cursor_row] if v))
        assert pane.table.cursor_row == len(pane.table.rows) - 1
