"""A honeypot incident's detail shows what the attacker ran and fetched, literally."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Static

from tests.tui.conftest import settle
from tests.tui.test_hostile import assert_safe

ATTACKER = "203.0.113.77"
HOSTILE_COMMAND = "echo [bold red]pwn[/] \x1b]0;owned\x07; cd /tmp"
URL = "http://198.51.100.7/bins/[link=file:///etc/passwd]x[/link]"


def cowrie_lines() -> list[str]:
    base = {"session": "c0ffee000001", "src_ip": ATTACKER, "sensor": "hp1"}

    def rec(sec: int, eventid: str, **kw) -> str:
        return json.dumps(base | {"eventid": eventid, "timestamp": f"2026-08-13T00:00:{sec:02d}.000000Z"} | kw)

    return [
        rec(0, "cowrie.session.connect", src_port=40001, dst_ip="172.17.0.3", dst_port=2222, protocol="ssh"),
        *(rec(1 + k, "cowrie.login.failed", username="root", password=f"pw{k}") for k in range(4)),
        rec(6, "cowrie.login.success", username="root", password="admin"),
        rec(7, "cowrie.command.input", input="uname -a"),
        rec(8, "cowrie.command.input", input=HOSTILE_COMMAND),
        rec(9, "cowrie.session.file_download", url=URL, shasum="ab" * 32, outfile="dl/ab"),
        rec(20, "cowrie.session.closed", duration=20.0),
    ]


async def test_incident_detail_shows_commands_and_downloads_escaped(tmp_path: Path, make_app) -> None:
    from engine.analyze import analyze
    from engine.ingest import ingest
    from store.case import Case

    log = tmp_path / "cowrie.json"
    log.write_text("\n".join(cowrie_lines()) + "\n")
    path = tmp_path / "case.duckdb"
    with Case.open(path) as case:
        ingest(case, [log], tz="UTC")
        analyze(case, llm=None)
    app = make_app(path, start="incidents")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(app, pilot)
        (inc,) = [i for i in app.screen.shown if ATTACKER in i["src_ips"]]
        assert inc["category"] == "suspicious_login"
        await pilot.press("enter")
        await settle(app, pilot)
        detail = app.screen
        assert detail.incident_id == inc["id"]
        summary = detail.query_one("#summary-text", Static).content
        assert_safe(summary)
        text = str(summary)
        assert "$ uname -a" in text
        assert "$ echo [bold red]pwn[/] \\x1b]0;owned\\x07; cd /tmp" in text
        assert URL in text and "ab" * 32 in text
