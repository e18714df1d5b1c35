"""The incidents table: sort, filter by severity / category / triage / text, Enter opens."""

from __future__ import annotations

from tests.tui.conftest import settle
from tui.screens.incident import IncidentScreen

SEV = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


async def test_sort_and_filters(case_path, make_app):
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        s = app.screen
        assert len(s.shown) == 5
        risks = [i["risk"] for i in s.shown]
        assert risks == sorted(risks, reverse=True)
        await pilot.press("S")  # severity
        assert s.sort_key == "severity"
        assert [SEV[i["severity"]] for i in s.shown] == sorted((SEV[i["severity"]] for i in s.shown), reverse=True)
        await pilot.press("S")  # time
        times = [i["first_seen"] for i in s.shown]
        assert times == sorted(times, reverse=True)
        await pilot.press("D")
        assert [i["first_seen"] for i in s.shown] == sorted(times)
        await pilot.press("S")  # size
        assert [i["events"] for i in s.shown] == sorted((i["events"] for i in s.shown), reverse=True)

        await pilot.press("V", "V", "V")  # at least high
        assert s.min_severity == "high"
        assert {i["severity"] for i in s.shown} <= {"high", "critical"} and len(s.shown) == 4
        await pilot.press("V")  # critical only
        assert [i["category"] for i in s.shown] == ["brute_force"]  # the brute force that got in
        await pilot.press("ctrl+l")
        assert len(s.shown) == 5

        await pilot.press("C")
        assert s.category is not None and all(i["category"] == s.category for i in s.shown)
        await pilot.press("ctrl+l")

        await pilot.press("T")  # untriaged
        assert s.triage_filter == "untriaged" and len(s.shown) == 5
        await pilot.press("T")  # true positives: none yet
        assert s.triage_filter == "true_positive" and s.shown == []
        await pilot.press("ctrl+l")

        await pilot.press("slash", *"198.18.7", "enter")
        assert s.text == "198.18.7"
        assert [i["category"] for i in s.shown] == ["password_spraying"]
        assert s.query_one("#incidents-table").row_count == 1
        await pilot.press("slash", "ctrl+u", *"staff12", "enter")  # an account name
        assert [i["category"] for i in s.shown] == ["password_spraying"]
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        assert app.screen.incident["category"] == "password_spraying"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is s and s.text == "staff12"  # the filter is kept on the way back


async def test_a_brute_force_that_got_in_leads_with_the_login(case_path, make_app):
    lead = "The brute force succeeded: deploy logged in at 2026-11-12 10:10 UTC from 203.0.113.99."
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        s = app.screen
        await pilot.press("V", "V", "V", "V")  # critical only: the one that got in
        assert [(i["category"], i["compromised"]) for i in s.shown] == [("brute_force", True)]
        preview = s.query_one("#incident-preview").content
        assert preview.plain.startswith(f"{s.shown[0]['id']} {lead} ") and preview.plain.split("\n\n")[0].count("succeeded:") == 1
        assert any(span.style == "bold red" for span in preview.spans)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        text = app.screen.query_one("#summary-text").content
        first, rest = text.plain.split("\n", 1)
        assert first == lead and lead not in rest and rest.startswith("6 failed attempts for deploy")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+l")
        assert all(not i["compromised"] for i in s.shown if i["category"] != "brute_force" or i["severity"] != "critical")


async def test_filter_text_escape_cancels_editing(case_path, make_app):
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        s = app.screen
        await pilot.press("slash", *"web")
        assert len(s.shown) == 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is s  # Escape left the filter box, not the screen
        assert s.focused.id == "incidents-table"


def test_incident_scope_spans_its_events(case_path):
    """An incident's span comes from its sessions, without a scan: it is exactly that of its
    events; the scope is kept per run."""
    from store import browse, queries
    from store.case import Case

    with Case.open(case_path, read_only=True) as case:
        for inc in browse.incident_rows(case):
            scope = queries.incident_scope(case, inc["id"])
            assert queries.incident_scope(case, inc["id"]) is scope
            first, last, n = case.con.execute(
                f"SELECT min(ts), max(ts), count(*) FROM events WHERE {scope.where}", scope.params).fetchone()
            assert (scope.first, scope.last) == (first, last)
            timeline = queries.incident_timeline(case, inc["id"])
            assert timeline[0][0] == first and sum(c for _, c in timeline) == n
