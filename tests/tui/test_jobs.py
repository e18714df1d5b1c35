"""Ingest and analysis run in workers with progress; they can be cancelled; failures are
notifications, not tracebacks."""

from __future__ import annotations

import threading
import time

from textual.widgets import DataTable, Input

from tests.tui.conftest import settle
from tui.backend import Backend, Cancelled
from tui.screens.dialogs import PathDialog

AUTH = """\
Nov 10 08:{m:02d}:{s:02d} bastion sshd[{pid}]: Failed password for root from 203.0.113.66 port 4{s:04d} ssh2
"""


async def test_ingest_then_analysis_fill_the_tables(tmp_path, make_app):
    log = tmp_path / "auth.log"
    log.write_text("".join(AUTH.format(m=k // 60, s=k % 60, pid=2000 + k) for k in range(150)))
    app = make_app(tmp_path / "new.duckdb", start="incidents")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        assert app.screen.rows == []
        await pilot.press("I")
        await pilot.pause()
        assert isinstance(app.screen, PathDialog)
        app.screen.query_one("#path-input", Input).value = str(log)
        await pilot.press("enter")
        for _ in range(200):  # ingest, then the analysis it chains
            await settle(app, pilot)
            if app.job is None:
                break
            time.sleep(0.05)
        assert app.job is None
        messages = [n.message for n in app._notifications]
        assert any("Ingest" in m for m in messages), messages
        assert any("Ingested 150 event(s)" in m for m in messages)
        assert any("Analysis done" in m for m in messages)
        screen = app.screen
        assert [i["category"] for i in screen.rows] == ["brute_force"]
        assert screen.query_one("#incidents-table").row_count == 1
        await pilot.press("1")
        await settle(app, pilot)
        assert app.screen.query_one("#files", DataTable).row_count == 1


class SlowBackend(Backend):
    """A fake engine whose analysis runs until cancelled (or fails, when told to)."""

    started = threading.Event()
    fail = False

    def analyze(self, progress=None, cancelled=None):
        self.started.set()
        if self.fail:
            raise RuntimeError("model exploded")
        for i in range(400):
            if cancelled and cancelled():
                raise Cancelled()
            if progress:
                progress(i / 400, f"stage {i}")
            time.sleep(0.01)
        raise AssertionError("never cancelled")


async def test_analysis_can_be_cancelled(case_path, make_app):
    backend = SlowBackend.open(case_path, llm=None)
    app = make_app(backend=backend)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("R")
        assert backend.started.wait(5)
        await pilot.pause(0.1)
        assert app.job is not None and app.job.name == "analysis"
        bar = app.screen.query_one("JobBar")
        assert bar.has_class("-running")
        line = str(bar.content)
        assert line.startswith("analysis  stage") and "%" in line and "ctrl+g cancels" in line
        await pilot.press("ctrl+g")
        await settle(app, pilot)
        assert app.job is None and not bar.has_class("-running")
        assert "cancelled" in [n.message for n in app._notifications][-1]


async def test_job_failure_is_a_notification(case_path, make_app):
    backend = SlowBackend.open(case_path, llm=None)
    backend.fail = True
    app = make_app(backend=backend)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("R")
        await settle(app, pilot)
        assert app.job is None
        last = [n for n in app._notifications][-1]
        assert last.severity == "error" and "model exploded" in last.message
        assert app.is_running  # the app did not exit
        await pilot.press("R")  # and a new job can start
        await settle(app, pilot)
        assert len([n for n in app._notifications if "model exploded" in n.message]) == 2
