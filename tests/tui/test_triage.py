"""Triage: verdicts, notes and suppressions are stored in the case and survive a restart."""

from __future__ import annotations

import pytest

from store import triage
from store.case import Case
from tests.tui.conftest import settle
from tui.screens.dialogs import NoteDialog, SuppressDialog


def test_store_triage_round_trip(case_path):
    with Case.open(case_path) as case:
        key = case.con.execute("SELECT key FROM incidents LIMIT 1").fetchone()[0]
        assert triage.get(case, key) is None
        triage.set_status(case, key, "benign")
        triage.set_note(case, key, "  the CI key  ")
        t = triage.get(case, key)
        assert (t.status, t.note) == ("benign", "the CI key")
        triage.set_status(case, key, "true_positive")
        assert triage.get(case, key).note == "the CI key"  # a new verdict keeps the note
        with pytest.raises(triage.TriageError):
            triage.set_status(case, key, "maybe")
        triage.clear(case, key)
        assert triage.labels(case) == {}
        # A note alone means someone looked and has not decided.
        assert triage.set_note(case, key, "asked the owner").status == "needs_review"

        s = triage.add_suppression(case, "cidr", "198.51.100.7/24", "office")
        assert s.value == "198.51.100.0/24"
        assert triage.add_suppression(case, "cidr", "198.51.100.0/24").id == s.id  # no duplicates
        with pytest.raises(triage.TriageError):
            triage.add_suppression(case, "cidr", "not-a-net")
        with pytest.raises(triage.TriageError):
            triage.add_suppression(case, "host", "x")
        u = triage.add_suppression(case, "user", "deploy")
        assert [x.kind for x in triage.suppressions(case)] == ["cidr", "user"]
        assert triage.remove_suppression(case, u.id) and not triage.remove_suppression(case, u.id)


async def test_triage_keys_persist_across_restart(case_path, make_app):
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        s = app.screen
        first = s.shown[0]
        await pilot.press("t")
        await settle(app, pilot)
        assert s.shown[0]["triage_status"] == "true_positive"
        assert "true positive" in s.query_one("#incidents-table").get_row_at(0)[4].plain
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)
        await pilot.press(*"sold on a forum", "enter")
        await settle(app, pilot)
        assert s.shown[0]["triage_note"] == "sold on a forum"
        await pilot.press("j", "b")  # second row benign
        await settle(app, pilot)
        second = s.shown[1]
        assert second["triage_status"] == "benign"
        await pilot.press("j", "u")
        await settle(app, pilot)
        third = s.shown[2]
        assert third["triage_status"] == "needs_review"
        await pilot.press("minus")  # and cleared again
        await settle(app, pilot)
        assert s.shown[2]["triage_status"] is None
        # From the detail too.
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("b")
        await settle(app, pilot)
        assert app.screen.incident["triage_status"] == "benign"
        assert "benign" in str(app.screen.query_one("#incident-head").content)
    app.backend.close()

    app2 = make_app(case_path, start="incidents")
    async with app2.run_test(size=(160, 40)) as pilot:
        await settle(app2, pilot)
        rows = {i["id"]: i for i in app2.screen.rows}
        assert rows[first["id"]]["triage_status"] == "true_positive"
        assert rows[first["id"]]["triage_note"] == "sold on a forum"
        assert rows[second["id"]]["triage_status"] == "benign"
        assert rows[third["id"]]["triage_status"] == "benign"  # marked from the detail
        await pilot.press("T", "T")  # only true positives
        assert [i["id"] for i in app2.screen.shown] == [first["id"]]


async def test_suppress_from_the_table(case_path, make_app):
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        s = app.screen
        spray = next(i for i, inc in enumerate(s.shown) if inc["category"] == "password_spraying")
        for _ in range(spray):
            await pilot.press("j")
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SuppressDialog)
        assert dialog.choices[0] == ("src_ip", "198.18.7.7")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is s
        assert [(x.kind, x.value) for x in app.backend.suppressions()] == [("src_ip", "198.18.7.7")]
        # Typed in, with a prefix.
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("tab", *"user:deploy", "enter")
        await settle(app, pilot)
        assert ("user", "deploy") in [(x.kind, x.value) for x in app.backend.suppressions()]
        assert any("Suppressing" in n.message for n in app._notifications)


async def test_reanalysis_keeps_labels_and_applies_suppressions(case_path, make_app):
    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        s = app.screen
        brute = next(i for i, inc in enumerate(s.shown) if inc["category"] == "brute_force" and not inc["compromised"])
        for _ in range(brute):
            await pilot.press("j")
        await pilot.press("enter")
        await settle(app, pilot)
        detail = app.screen
        key = detail.incident["key"]
        await pilot.press("t")
        await settle(app, pilot)
        app.backend.suppress("src_ip", "198.18.7.7")  # the sprayer
        await pilot.press("R")
        for _ in range(100):
            await settle(app, pilot)
            if app.job is None:
                break
        assert any("Analysis done" in n.message for n in app._notifications)
        assert app.screen is detail and detail.incident["key"] == key  # followed across runs
        assert detail.incident["triage_status"] == "true_positive"
        await pilot.press("escape")
        await settle(app, pilot)
        categories = {i["category"] for i in app.screen.rows}
        assert "password_spraying" not in categories and "brute_force" in categories
