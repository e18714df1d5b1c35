"""The incident screen's containment plan: c shows it, f switches firewall, c copies, w saves."""

from __future__ import annotations

from tests.tui.conftest import COMPROMISE, settle
from tui.screens.incident import IncidentScreen
from tui.screens.respond import RespondScreen


async def test_plan_is_shown_copied_and_saved(case_path, make_app, tmp_path, monkeypatch):
    monkeypatch.delenv("SSH_CLIENT", raising=False)
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        s = app.screen
        inc = next(i for i in s.shown if COMPROMISE in i["src_ips"])
        assert inc["geo"][COMPROMISE]["scope"] == "documentation"   # the list's "where" column reads it
        await pilot.press("slash", *COMPROMISE, "enter", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen) and app.screen.incident["category"] == "brute_force"  # it got in
        await pilot.press("c")
        await settle(app, pilot)
        plan = app.screen
        assert isinstance(plan, RespondScreen)
        text = str(plan.query_one("#plan-text").content)
        assert "firewall: nft" in text and "passwd -l deploy" in text
        # The attacker's address is a documentation one: excluded, and the plan says so.
        assert f"{COMPROMISE}: documentation address" in text
        await pilot.press("f")
        await settle(app, pilot)
        assert plan.firewall == "iptables" and "firewall: iptables" in plan.text
        await pilot.press("c")
        assert app.clipboard == plan.text
        out = tmp_path / "plan.sh"
        await pilot.press("w")
        await pilot.pause()
        await pilot.press("ctrl+u", *str(out), "enter")
        await settle(app, pilot)
        assert out.read_text() == plan.text and not out.stat().st_mode & 0o111
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, IncidentScreen)
        assert s is not app.screen
