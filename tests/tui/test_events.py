"""The events browser: keyset pages in time order, text and field filters, jump from an incident."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store import browse
from store.case import Case
from tests.tui.conftest import BRUTE, SPRAY, settle
from tui.screens.events import EventsScreen
from tui.screens.incident import IncidentScreen
from tui.screens.incidents import IncidentsScreen
from tui.widgets.events_pane import PAGE_SIZE


def _all_keys(case, flt) -> list:
    where, params = browse.filter_sql(case, flt)
    return case.con.execute(
        f"SELECT ts, source_file, line_no FROM events WHERE {where} ORDER BY ts NULLS LAST, source_file, line_no",
        params).fetchall()


def test_keyset_pages_cover_everything_in_order(case_path):
    with Case.open(case_path, read_only=True) as case:
        for flt in (browse.EventFilter(), browse.parse_filter("src_ip=203.0.113.66"),
                    browse.parse_filter("outcome= no timestamp")):
            expected = _all_keys(case, flt)
            # Forward, plain and with a hint of the time a page covers (the query then looks in
            # windows after the key, widened until they hold a page): the real span, and one far
            # too short, which must be widened up to no bound at all.
            for hint in (None, "page", timedelta(0)):
                seen, page = [], browse.events_page(case, flt, limit=37)
                assert page.at_start
                while True:
                    seen += [(r["ts"], r["source_file"], r["line_no"]) for r in page.rows]
                    if page.at_end:
                        break
                    timed = [r["ts"] for r in page.rows if r["ts"] is not None]
                    span = (timed[-1] - timed[0] if timed else None) if hint == "page" else hint
                    page = browse.events_page(case, flt, after=page.last_key, limit=37, span=span)
                assert seen == expected, hint
            assert browse.count_events(case, flt) == len(expected)
            # And backwards from the last page.
            back, page = [], browse.events_page(case, flt, last=True, limit=37)
            while True:
                back = [(r["ts"], r["source_file"], r["line_no"]) for r in page.rows] + back
                if page.at_start:
                    break
                page = browse.events_page(case, flt, before=page.first_key, limit=37)
            assert back == expected


def test_parse_filter():
    f = browse.parse_filter('user=root src_ip~45.155 status>=500 "failed password" a=b 1.2.3.4')
    assert [(x.column, x.op, x.value) for x in f.fields] == [("user", "=", "root"), ("src_ip", "~", "45.155"),
                                                            ("status", ">=", "500")]
    assert f.text == "failed password a=b 1.2.3.4"
    assert browse.parse_filter(f.as_text()) == f
    with pytest.raises(browse.BrowseError):
        f.with_field("nope", "=", "x")


def test_bad_field_value_is_an_error(case_path):
    with Case.open(case_path, read_only=True) as case:
        with pytest.raises(browse.BrowseError, match="status"):
            browse.events_page(case, browse.parse_filter("status>=abc"))
        # Hostile values are parameters, never SQL.
        page = browse.events_page(case, browse.parse_filter("user=x'; DROP TABLE events; --"))
        assert page.rows == []
        assert case.con.execute("SELECT count(*) FROM events").fetchone()[0] > 0


async def test_browser_pages_and_filters(case_path, make_app):
    app = make_app(case_path, start="events")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = app.screen.pane
        total = pane.count
        assert total and total > 400
        # The first page: a screenful and a few rows more (the table is 37 rows high here).
        first_rows = pane.table.row_count
        assert first_rows == pane.first_page_rows() and pane.table.size.height < first_rows < PAGE_SIZE
        assert pane.start == 0
        first_page_last = pane.page.rows[-1]
        await pilot.press("G", "j")  # last row, then down: the next page, a whole one
        await settle(app, pilot)
        assert pane.start == first_rows and pane.table.cursor_row == 0 and pane.table.row_count == PAGE_SIZE
        assert pane.page.rows[0]["ts"] >= first_page_last["ts"]
        await pilot.press("k")  # up from the first row: back
        await settle(app, pilot)
        assert pane.start == 0 and pane.table.cursor_row == first_rows - 1
        await pilot.press("right_curly_bracket")  # last page
        await settle(app, pilot)
        assert pane.page.at_end and pane.start + len(pane.page.rows) == total
        assert pane.page.rows[-1]["ts"] is None  # the event without a time comes last
        await pilot.press("left_curly_bracket")
        await settle(app, pilot)
        assert pane.start == 0

        # Field filter typed in.
        await pilot.press("slash", *f"src_ip={BRUTE}", "enter")
        await settle(app, pilot)
        assert {r["src_ip"] for r in pane.page.rows} == {BRUTE}
        assert pane.count == 201
        # Text filter on top.
        await pilot.press("slash", "end", *" title", "enter")
        await settle(app, pilot)
        assert pane.count == 1
        # Filter on the cell under the cursor: move to the user column.
        await pilot.press("F")
        await settle(app, pilot)
        assert pane.count == total
        col = pane.columns.index("action")
        await pilot.press(*["right"] * col)
        value = pane.page.rows[0]["action"]
        await pilot.press("f")
        await settle(app, pilot)
        assert pane.flt.fields[0].column == "action" and {r["action"] for r in pane.page.rows} == {value}
        # A bad filter keeps what was shown and says why.
        shown = pane.flt
        await pilot.press("slash", "ctrl+u", *"status>=abc", "enter")
        await settle(app, pilot)
        assert pane.flt == shown
        assert any("status" in n.message for n in app._notifications)
        # ... and leaves the box open to fix it.
        assert pane.filter_input.has_focus and pane.filter_input.value == "status>=abc"
        await pilot.press("escape")
        assert pane.table.has_focus and not pane.filter_input.display


async def test_jump_from_incident_to_events_and_back(case_path, make_app):
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        brute = next(i for i, inc in enumerate(app.screen.shown)
                     if inc["category"] == "brute_force" and not inc["compromised"])
        for _ in range(brute):
            await pilot.press("j")
        await pilot.press("e")  # from the table straight to the events
        await settle(app, pilot)
        assert isinstance(app.screen, EventsScreen)
        pane = app.screen.pane
        assert pane.flt.incident_id and {r["src_ip"] for r in pane.page.rows} == {BRUTE}
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, IncidentsScreen)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, EventsScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, IncidentScreen)
        await pilot.press("2")  # the mode key returns to the table
        await pilot.pause()
        assert isinstance(app.screen, IncidentsScreen)


async def test_pages_fetched_ahead_are_the_right_ones(case_path, make_app):
    """The page after the shown one is fetched while the analyst reads; moving past the edge shows
    it without a query, and the page left behind comes back the same way."""
    app = make_app(case_path, start="events")
    asked: list[tuple] = []
    events_page = app.backend.events_page

    def recording(flt, **kwargs):
        asked.append((flt, kwargs.get("after"), kwargs.get("before"), kwargs.get("last", False)))
        return events_page(flt, **kwargs)

    app.backend.events_page = recording
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = app.screen.pane
        first = pane.page
        assert (pane.flt, first.last_key, None, False) in asked  # fetched ahead, before any key
        second = events_page(pane.flt, after=first.last_key, limit=PAGE_SIZE)
        asked.clear()
        await pilot.press("G", "j")
        assert pane.page.rows == second.rows and pane.start == len(first.rows) and pane.table.cursor_row == 0
        assert not [a for a in asked if a[1] == first.last_key]  # not asked again
        await settle(app, pilot)
        assert (pane.flt, second.last_key, None, False) in asked  # and the one after it, ahead
        asked.clear()
        await pilot.press("k")  # back: the page left behind, kept
        assert pane.page.rows == first.rows and pane.start == 0
        assert pane.table.cursor_row == len(first.rows) - 1
        assert not [a for a in asked if a[2] is not None]
        # A new filter drops what was fetched ahead for the old one.
        await pilot.press("slash", *f"src_ip={SPRAY}", "enter")
        await settle(app, pilot)
        assert {r["src_ip"] for r in pane.page.rows} == {SPRAY} and pane.page.at_end
        assert pane.count == len(pane.page.rows)
        await pilot.press("G", "j")  # nothing after the last page
        assert {r["src_ip"] for r in pane.page.rows} == {SPRAY} and pane.start == 0


async def test_incident_screen_shows_each_incident_opened(case_path, make_app):
    """The incident screen is built once and then shows each incident opened, nothing of the one
    before; a late answer about the previous incident is dropped."""
    from tui.messages import IncidentLoaded

    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        table = app.screen
        order = [inc["category"] for inc in table.shown]
        at_brute = next(i for i, inc in enumerate(table.shown) if inc["category"] == "brute_force"
                        and not inc["compromised"])  # the root brute force, not the one that got in
        for _ in range(at_brute):
            await pilot.press("j")
        await pilot.press("enter")
        await settle(app, pilot)
        detail = app.screen
        assert isinstance(detail, IncidentScreen)
        brute = detail.incident
        assert {r["src_ip"] for r in detail.query_one("#incident-events").page.rows} == {BRUTE}
        await pilot.press("J", "J", "J")  # leave the focus in the events
        await pilot.press("escape")
        await pilot.pause()
        step = order.index("password_spraying") - at_brute
        await pilot.press(*["j" if step > 0 else "k"] * abs(step))
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is detail  # the same screen, reused
        assert detail.incident_id == table.current_incident()["id"] != brute["id"]
        assert SPRAY in str(detail.query_one("#summary-text").content)
        shown = detail.query_one("#incident-events").page  # none yet, or the sprayer's: never the brute force's
        assert shown is None or {r["src_ip"] for r in shown.rows} == {SPRAY}
        assert detail.focused.id == "summary-pane"
        await settle(app, pilot)
        pane = detail.query_one("#incident-events")
        assert pane.visible and {r["src_ip"] for r in pane.page.rows} == {SPRAY}
        assert detail.filled and {s["src_ip"] for s in detail.sessions} == {SPRAY}
        detail.post_message(IncidentLoaded(detail._token - 1, brute, [], []))
        await settle(app, pilot)
        assert detail.incident["category"] == "password_spraying" and detail.sessions


async def test_typed_filter_box_stays_until_its_first_page(case_path, make_app):
    """Enter keeps the filter box (dimmed once the query takes a while) until the first page is
    in; then box, status line and rows change together."""
    import time

    app = make_app(case_path, start="events")
    events_page = app.backend.events_page

    def slow(flt, **kwargs):
        if flt.fields:
            time.sleep(0.4)
        return events_page(flt, **kwargs)

    app.backend.events_page = slow
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = app.screen.pane
        await pilot.press("slash", *f"src_ip={SPRAY}", "enter")
        await pilot.pause(0.25)
        box = pane.filter_input
        assert box.display and box.has_focus and box.has_class("-loading") and pane._loading
        assert not pane.flt.fields  # the old rows are still the ones shown
        await settle(app, pilot)
        assert not box.display and pane.table.has_focus and not box.has_class("-loading")
        assert {r["src_ip"] for r in pane.page.rows} == {SPRAY}


def test_narrow_relation_matches_the_events_view(tmp_path):
    """The browser reads a relation with only the columns it needs; across every event table
    (syslog, web, network) it must hold exactly what the ``events`` view holds."""
    from engine.ingest import ingest

    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "auth.log").write_text(
        "Mar  3 10:00:01 web1 sshd[411]: Failed password for root from 203.0.113.5 port 50022 ssh2\n"
        "Mar  3 10:00:09 web1 sshd[411]: Accepted password for deploy from 198.51.100.7 port 50100 ssh2\n")
    (logs / "access.log").write_text(
        '203.0.113.5 - - [03/Mar/2026:10:00:03 +0000] "GET /wp-login.php HTTP/1.1" 404 162 "-" "curl/8.0"\n'
        '198.51.100.7 - alice [03/Mar/2026:10:00:05 +0000] "POST /api/login HTTP/1.1" 200 91 "-" "Mozilla/5.0"\n')
    (logs / "conn.log").write_text(
        "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
        "duration\torig_bytes\tresp_bytes\tconn_state\n"
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\n"
        "1772532004.000000\tC1\t203.0.113.5\t50030\t10.0.0.2\t22\ttcp\tssh\t1.5\t300\t400\tSF\n")
    db = tmp_path / "case.duckdb"
    with Case.open(db) as case:
        result = ingest(case, [logs], tz="UTC")
        assert sum(f.events for f in result.files) == 5
    with Case.open(db, read_only=True) as case:
        for cols in (("ts", "source_file", "line_no"), ("status", "user_agent", "format"),
                     ("raw", "message", "src_bytes", "conn_state"), browse.BROWSE_COLUMNS):
            names = ", ".join(f'"{c}"' for c in cols)
            order = "ORDER BY ALL"
            via_view = case.con.execute(f"SELECT {names} FROM events {order}").fetchall()
            narrow = case.con.execute(f"SELECT {names} FROM {browse.events_relation(set(cols))} {order}").fetchall()
            assert narrow == via_view and len(narrow) == 5
        for text in ("status>=400", "src_ip=203.0.113.5", "format=zeek", "wp-login", "source_file~access"):
            flt = browse.parse_filter(text)
            page = browse.events_page(case, flt, limit=10)
            keys = [(r["ts"], r["source_file"], r["line_no"]) for r in page.rows]
            assert keys == _all_keys(case, flt) and keys, text
            assert browse.count_events(case, flt) == len(keys)


def test_pages_carry_each_rows_own_raw_line_read_after_the_limit(case_path):
    """``raw`` on a page is read for the page's rows after the top-N: every row's line must be its
    own, forward and backward, also when the filter itself reads ``raw``."""
    with Case.open(case_path, read_only=True) as case:
        truth = dict(((f, n), raw) for f, n, raw in case.con.execute(
            "SELECT source_file, line_no, raw FROM events").fetchall())
        cols = ("ts", "raw", "src_ip", "source_file", "line_no")
        for flt in (browse.EventFilter(), browse.parse_filter("src_ip=203.0.113.66"),
                    browse.parse_filter("raw~Failed")):
            first = browse.events_page(case, flt, limit=23, columns=cols)
            later = browse.events_page(case, flt, after=first.last_key, limit=23, columns=cols)
            last = browse.events_page(case, flt, last=True, limit=23, columns=cols)
            rows = first.rows + later.rows + last.rows
            assert rows and all(r["raw"] == truth[(r["source_file"], r["line_no"])] for r in rows), flt
            assert list(first.rows[0]) == list(cols)
            if flt.fields and flt.fields[0].column == "raw":
                assert all("failed" in r["raw"].lower() for r in rows)
