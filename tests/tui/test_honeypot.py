"""A honeypot incident's detail shows what the attacker ran and fetched, literally."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tests.engine.test_host_records_analysis import DOWNLOAD_URL as URL
from tests.engine.test_host_records_analysis import HONEYPOT_ATTACKER as ATTACKER
from tests.engine.test_host_records_analysis import cowrie_lines
from tests.tui.conftest import settle
from tests.tui.test_hostile import assert_safe


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
