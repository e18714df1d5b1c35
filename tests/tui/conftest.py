"""Fixtures for the TUI tests: one small analysed case, copied for each test.

The analysis (model imports, IsolationForest, SHAP) is the slow part, so it runs once per
session on a template case; each test gets its own copy of the file in ``tmp_path`` and may
write to it (triage) freely.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from tests.engine.eventgen import Events, at

BRUTE = "203.0.113.66"
COMPROMISE = "203.0.113.99"
SPRAY = "198.18.7.7"
WEB = "198.18.0.5"
ADMIN = "198.51.100.7"
CI = "198.51.100.20"
BACKGROUND = [f"192.0.2.{k + 1}" for k in range(60)]

# Attacker-controlled text: Rich markup, an OSC window-title sequence, a hyperlink, C1 and bidi.
MARKUP_USER = "[bold red]x[/]"
OSC_TEXT = "\x1b]0;title\x07"
LINK_PATH = "[link=file:///etc/passwd]x[/link]"
HOSTILE_MESSAGE = f"Failed password for {MARKUP_USER} {OSC_TEXT} \x9b31m \u202eevil"


def scenario() -> Events:
    ev = Events()
    for d in range(5):
        ev.accepted(at(d * 1440 + 60), ADMIN, "alice")
    for k in range(120):
        ev.accepted(at(k * 10), CI, "deploy")
    # Brute force against an account whose name is Rich markup.
    for k in range(200):
        ev.failed_password(at(2000 + k * 0.4), BRUTE, MARKUP_USER if k % 2 else "root")
    ev.add(ts=at(2001), host="bastion", program="sshd", pid=4242, action="auth_password", outcome="failure",
           src_ip=BRUTE, src_port=40000, user=OSC_TEXT, message=HOSTILE_MESSAGE, raw=HOSTILE_MESSAGE)
    # Failures then a password login: critical.
    for k in range(6):
        ev.failed_password(at(3000 + k), COMPROMISE, "deploy")
    ev.accepted(at(3010), COMPROMISE, "deploy", "password")
    # Password spraying.
    for k in range(30):
        ev.failed_password(at(4000 + k * 2), SPRAY, f"staff{k}", invalid=k % 3 == 0)
    # Web attack with a path that is Rich markup.
    for k in range(40):
        path = LINK_PATH if k % 4 == 0 else f"/index.php?id=1%27%20OR%201=1--{k}"
        ev.http(at(5000 + k * 0.2), WEB, path, status=500 if k % 2 else 200, ua="sqlmap/1.7")
    for k in range(30):
        ev.http(at(5100 + k * 3), "198.51.100.50", f"/page/{k}", ua="Mozilla/5.0 (X11; Linux) Firefox/120.0")
    # Background noise.
    for i, ip in enumerate(BACKGROUND):
        ev.failed_password(at(100 + i * 37), ip, "root")
    # An event whose time the log masked.
    ev.add(ts=None, host="bastion", program="sshd", action="sshd_other", message="no timestamp here")
    return ev


@pytest.fixture(scope="session")
def case_template(tmp_path_factory) -> Path:
    from engine.analyze import analyze
    from store.case import Case

    path = tmp_path_factory.mktemp("template") / "case.duckdb"
    with Case.open(path) as case:
        scenario().into(case)
        analyze(case, llm=None)
        case.con.execute("CHECKPOINT")
    return path


@pytest.fixture
def case_path(case_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "case.duckdb"
    shutil.copy(case_template, path)
    return path


@pytest.fixture
def make_app(tmp_path: Path, monkeypatch):
    """make_app(path, backend=None, **kwargs) -> a VedetteApp on that case (closed after the test)."""
    from tui.app import VedetteApp
    from tui.backend import Backend

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    backends = []

    def make(path: Path | None = None, backend=None, **kwargs) -> VedetteApp:
        if backend is None:
            backend = Backend.open(path, llm=None)
        backends.append(backend)
        return VedetteApp(backend, **kwargs)

    yield make
    for b in backends:
        b.close()


async def settle(app, pilot) -> None:
    """Let workers finish and their messages land (a worker replaced by a newer one in its
    group is cancelled: that is an outcome too, not an error)."""
    for _ in range(3):
        await asyncio.gather(*(w.wait() for w in app.workers), return_exceptions=True)
        await pilot.pause()
