"""``vedette PATH`` at a terminal opens the console at once: the ingest runs in its job bar, the
overview and the events browser fill as chunks commit, incidents come with the analysis chained
after it; a path it cannot read is kept for the terminal (exit code 1)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
from pathlib import Path
from datetime import datetime, timedelta

import pytest

from engine import config
from store.browse import EventFilter
from tests.tui.conftest import settle
from tui.app import STOPPED_NOTE
from tui.backend import Backend

LINES = 3000
START = datetime(2025, 11, 10, 8, 0, 0)


def brute_force_log(path, lines: int = LINES):
    """``lines`` failed root logins from one address, one per second (~95 bytes a line)."""
    text = "".join(
        f"{(START + timedelta(seconds=k)).strftime('%b %d %H:%M:%S')} bastion sshd[{2000 + k}]: "
        f"Failed password for root from 203.0.113.66 port {40000 + k % 20000} ssh2\n"
        for k in range(lines))
    path.write_text(text)
    return path


class GatedBackend(Backend):
    """The real ingest, held after the progress calls numbered in ``hold`` (each comes once a
    chunk or a file is committed) until the test lets it go on."""

    hold: tuple[int, ...] = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reached = threading.Event()
        self.go_on = threading.Event()
        self.calls = 0

    def ingest(self, paths, progress=None, cancelled=None):
        def held(fraction: float, text: str) -> None:
            progress(fraction, text)
            self.calls += 1
            if self.calls in self.hold:
                self.go_on.clear()
                self.reached.set()
                assert self.go_on.wait(30), "the test never let the ingest go on"

        return super().ingest(paths, progress=held, cancelled=cancelled)

    def release(self) -> None:
        self.reached.clear()
        self.go_on.set()


async def wait_for(pilot, condition, tries: int = 200) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the console never got there")


def shows_events(overview, n: int) -> bool:
    return f"events    {n:,} from 1 file" in str(overview.query_one("#case-box").content)


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(config, "INGEST_CHUNK_BYTES", 32 * 1024)  # the log is ~9 chunks
    monkeypatch.setattr(config, "INGEST_TUI_REFRESH_S", 0.2)


async def test_the_console_fills_while_the_ingest_runs(tmp_path, make_app, small_chunks):
    log = brute_force_log(tmp_path / "auth.log")
    backend = GatedBackend.open(tmp_path / "new.duckdb", llm=None, tz="UTC")
    backend.hold = (1, 3)
    app = make_app(backend=backend, ingest=[str(log)])
    async with app.run_test(size=(160, 40)) as pilot:
        assert await asyncio.to_thread(backend.reached.wait, 30)
        first = backend.count_events(EventFilter())
        assert 0 < first < LINES
        # The overview is up, its job bar says the ingest runs, and it shows the first chunk.
        assert app.job is not None and app.job.name == "ingest"
        assert app.screen.query_one("JobBar").has_class("-running")
        overview = app.screen
        await wait_for(pilot, lambda: shows_events(overview, first))
        case_box = str(overview.query_one("#case-box").content)
        assert "the ingest is running" in case_box and "press R" not in case_box
        await pilot.press("3")
        await pilot.pause()
        pane = app.screen.query_one("#events-browser")
        await wait_for(pilot, lambda: pane.count == first)
        assert pane.page is not None and pane.page.rows
        row = pane.table.cursor_row

        backend.release()  # two chunks more, then held again: the count grows, the page stays
        assert await asyncio.to_thread(backend.reached.wait, 30)
        third = backend.count_events(EventFilter())
        assert first < third < LINES
        await wait_for(pilot, lambda: pane.count == third)
        assert pane.table.cursor_row == row
        assert f"of {third:,}" in str(pane.query_one(".events-status").content)
        await wait_for(pilot, lambda: shows_events(overview, third))
        assert app.job is not None and app.job.name == "ingest"

        backend.release()
        for _ in range(400):  # the rest of the ingest, then the analysis it chains
            await settle(app, pilot)
            if app.job is None:
                break
            await pilot.pause(0.05)
        assert app.job is None
        messages = [n.message for n in app._notifications]
        assert any(f"Ingested {LINES:,} event(s)" in m for m in messages), messages
        assert any("Analysis done" in m for m in messages), messages
        await wait_for(pilot, lambda: pane.count == LINES)
        await pilot.press("2")
        await settle(app, pilot)
        assert [i["category"] for i in app.screen.rows] == ["brute_force"]
        assert not app.opening_failed and app.opening_notes == []


async def test_a_named_path_it_cannot_read_is_kept_for_the_terminal(tmp_path, make_app):
    log = brute_force_log(tmp_path / "auth.log", 150)
    missing = tmp_path / "nothing-here.log"
    app = make_app(tmp_path / "new.duckdb", ingest=[str(missing), str(log)])
    async with app.run_test(size=(160, 40)) as pilot:
        for _ in range(400):
            await settle(app, pilot)
            if app.job is None and any("Analysis" in n.title for n in app._notifications):
                break
            await pilot.pause(0.05)
        ingest = [n for n in app._notifications if n.title == "Ingest"]
        assert ingest and ingest[0].severity == "warning" and "nothing-here.log" in ingest[0].message
        assert any("Analysis done" in n.message for n in app._notifications)
    assert app.opening_failed
    assert app.opening_notes == [f"{missing}: no such file or directory"]


async def test_quitting_stops_the_ingest_and_says_so(tmp_path, make_app, small_chunks):
    log = brute_force_log(tmp_path / "auth.log")
    backend = GatedBackend.open(tmp_path / "new.duckdb", llm=None, tz="UTC")
    backend.hold = (1,)
    app = make_app(backend=backend, ingest=[str(log)])
    async with app.run_test(size=(160, 40)) as pilot:
        assert await asyncio.to_thread(backend.reached.wait, 30)
        app._stop_jobs()  # what leaving the app does (on_unmount)
        backend.release()
        await settle(app, pilot)
        assert app.job is None
    assert app.opening_notes == [STOPPED_NOTE] and not app.opening_failed
    assert 0 < backend.count_events(EventFilter()) < LINES  # what was committed stays


def test_vedette_path_at_a_terminal_opens_the_console_before_ingesting(tmp_path, monkeypatch):
    import engine.casework
    import tui.app
    from tui import cli

    log = brute_force_log(tmp_path / "auth.log", 10)
    db = tmp_path / "c.duckdb"
    opened = []

    def fake_run(db_path, **kwargs):
        opened.append((db_path, kwargs))
        assert not db.exists()  # nothing was ingested before the console opened
        return 0

    def no_ingest_first(*args, **kwargs):
        raise AssertionError("ingested before the console opened")

    monkeypatch.setattr(cli, "_interactive", lambda: True)
    monkeypatch.setattr(tui.app, "run", fake_run)
    monkeypatch.setattr(engine.casework, "open_paths", no_ingest_first)
    monkeypatch.setattr(engine.casework, "ingest_case", no_ingest_first)
    assert cli.main([str(log), "--db", str(db), "--tz", "UTC"]) == 0
    assert opened == [(str(db), {"ingest": [str(log)], "tz": "UTC", "geoip": None})]


def test_vedette_path_naming_no_file_says_so_on_the_terminal(tmp_path, monkeypatch):
    import tui.app
    from tui import cli

    monkeypatch.setattr(cli, "_interactive", lambda: True)
    monkeypatch.setattr(tui.app, "run", lambda *a, **k: pytest.fail("opened an empty console"))
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = cli.main([str(tmp_path / "typo.log"), "--db", str(tmp_path / "c.duckdb")])
    assert code == 1
    assert "typo.log: no such file or directory" in err.getvalue() and "holds no events" in err.getvalue()


def test_vedette_demo_at_a_terminal_opens_the_console_on_a_fresh_case(tmp_path, monkeypatch):
    import engine.casework
    import tui.app
    from tui import cli

    db = tmp_path / "demo.duckdb"
    db.write_bytes(b"an old case")  # the demo starts afresh
    opened = []

    def fake_run(db_path, **kwargs):
        opened.append((db_path, kwargs))
        assert not db.exists()
        return 0

    monkeypatch.setattr(cli, "_interactive", lambda: True)
    monkeypatch.setattr(tui.app, "run", fake_run)
    monkeypatch.setattr(engine.casework, "run_demo", lambda *a, **k: pytest.fail("ingested before the console"))
    assert cli.main(["demo", "--db", str(db)]) == 0
    (path, kwargs), = opened
    folders = kwargs["ingest"]
    assert path == str(db) and kwargs["tz"] == "UTC"
    assert folders and all(Path(f).is_dir() for f in folders)
    assert {Path(f).name for f in folders} >= {"bastion", "web1"} and "gen" not in {Path(f).name for f in folders}
