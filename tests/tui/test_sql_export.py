"""SQL console (read-only), table export (CSV/JSON/Parquet) and the PDF key."""

from __future__ import annotations

import csv
import json
import sys
import types

import pyarrow.parquet as pq
from textual.widgets import DataTable, Input, TextArea

from store import browse, console
from store.case import Case
from tests.tui.conftest import settle
from tui.screens.dialogs import ExportDialog, PathDialog


async def test_sql_console_reads_and_refuses_writes(case_path, make_app):
    app = make_app(case_path, start="sql")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        editor = screen.query_one("#sql-editor", TextArea)
        results = screen.query_one("#sql-results", DataTable)
        await pilot.press("ctrl+r")  # the example query
        await settle(app, pilot)
        assert results.row_count > 0 and "src_ip" in str(results.columns[next(iter(results.columns))].label)
        editor.text = "SELECT count(*) AS n FROM events"
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert results.get_row_at(0)[0].plain.isdigit()
        n = int(results.get_row_at(0)[0].plain)
        for bad in ("DELETE FROM events", "INSERT INTO triage VALUES ('k', 'benign', NULL, NULL)",
                    "COPY events TO 'out.csv'", "ATTACH 'x.db' AS x", "SELECT 1; DROP TABLE events",
                    "SET threads = 1"):
            editor.text = bad
            await pilot.press("ctrl+r")
            await settle(app, pilot)
        errors = [x.message for x in app._notifications if x.severity == "error"]
        assert len(errors) == 6 and all("only reads" in e for e in errors)
        editor.text = "SELECT nope FROM events"
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert "nope" in [x.message for x in app._notifications][-1]
        assert "Traceback" not in "".join(x.message for x in app._notifications)
    app.backend.close()
    with Case.open(case_path, read_only=True) as case:
        assert case.con.execute("SELECT count(*) FROM events").fetchone()[0] == n
        assert case.con.execute("SELECT count(*) FROM triage").fetchone()[0] == 0


def test_read_only_statement_check():
    import duckdb

    con = duckdb.connect()
    assert console.check_read_only(con, "SELECT 1; DESCRIBE SELECT 1; SUMMARIZE SELECT 1")
    for bad in ("UPDATE t SET a = 1", "CREATE TABLE t (a INT)", "PRAGMA enable_profiling", "CALL checkpoint()"):
        try:
            console.check_read_only(con, bad)
        except browse.BrowseError:
            continue
        raise AssertionError(bad)


async def test_export_current_table(case_path, make_app, tmp_path):
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("V", "V", "V")  # high and up: 4 incidents
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        out = tmp_path / "incidents.csv"
        app.screen.query_one("#export-path", Input).value = str(out)
        await pilot.press("enter")
        await settle(app, pilot)
        rows = list(csv.DictReader(out.open()))
        assert len(rows) == 4 and {r["severity"] for r in rows} <= {"high", "critical"}
        # The events browser exports every event of its filter, not just the page.
        await pilot.press("3")
        await settle(app, pilot)
        await pilot.press("slash", *"src_ip=203.0.113.66", "enter")
        await settle(app, pilot)
        await pilot.press("E")
        await pilot.pause()
        out = tmp_path / "events.json"
        app.screen.query_one("#export-path", Input).value = str(out)
        await pilot.press("enter")
        await settle(app, pilot)
        data = json.loads(out.read_text())
        assert len(data) == 201 and {r["src_ip"] for r in data} == {"203.0.113.66"}
    pq_out = tmp_path / "events.parquet"
    assert app.backend.export_events(browse.parse_filter("user=root"), str(pq_out), "parquet") > 0
    assert set(pq.read_table(pq_out).column("user").to_pylist()) == {"root"}


async def test_pdf_key_uses_engine_report_or_says_it_is_missing(case_path, make_app, tmp_path, monkeypatch):
    import engine

    monkeypatch.chdir(tmp_path)  # the dialog proposes a file in the working folder
    monkeypatch.setitem(sys.modules, "engine.report", None)  # as if the module were not there
    monkeypatch.delattr(engine, "report", raising=False)  # ...even after another test imported it
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("P")
        await pilot.pause()
        assert isinstance(app.screen, PathDialog)
        await pilot.press("enter")
        await settle(app, pilot)
        assert "not available" in [n.message for n in app._notifications][-1]

        calls = []
        fake = types.ModuleType("engine.report")

        def write_incident_report(case, incident_id, out_path):
            calls.append((incident_id, str(out_path), case.con.execute("SELECT 1").fetchone()[0]))
            open(out_path, "wb").write(b"%PDF-1.4 fake")

        fake.write_incident_report = write_incident_report
        monkeypatch.setitem(sys.modules, "engine.report", fake)
        import engine

        monkeypatch.setattr(engine, "report", fake, raising=False)
        out = tmp_path / "r.pdf"
        await pilot.press("P")
        await pilot.pause()
        app.screen.query_one("#path-input", Input).value = str(out)
        await pilot.press("enter")
        await settle(app, pilot)
        assert calls == [(app.screen.shown[0]["id"], str(out), 1)]
        assert out.read_bytes().startswith(b"%PDF")
