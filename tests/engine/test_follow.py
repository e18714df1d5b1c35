"""Follow: real files appended to, rotated, compressed, truncated and deleted while a follow runs."""

from __future__ import annotations

import gzip
import os
import shutil
import threading
import time
from collections.abc import Callable

import pytest

from engine.analyze import analyze, load_incidents
from engine.follow import FollowEvent, Follower
from store.case import Case
from tests.engine.loglines import access, failed_password, ordinary_auth


class Running:
    """A follower on its own thread, with every event it reported."""

    def __init__(self, case: Case, paths: list, **options) -> None:
        self.events: list[FollowEvent] = []
        self.follower = Follower(case, paths, self.events.append, **options)
        self.thread = threading.Thread(target=self.follower.run, daemon=True)
        self.thread.start()
        self.case = case

    def stop(self) -> None:
        self.follower.stop()
        self.thread.join(30)
        assert not self.thread.is_alive()

    def notices(self) -> list[tuple[str, str]]:
        return [(os.path.basename(e.path or ""), e.message) for e in self.events if e.kind == "notice"]

    def count(self) -> int:
        return self.case.con.cursor().execute("SELECT count(*) FROM events").fetchone()[0]


def wait_for(cond: Callable[[], bool], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def append(path, lines: list[str]) -> None:
    with open(path, "a") as f:
        for line in lines:
            f.write(line + "\n")


def stored_once(case: Case, expected: list[str]) -> None:
    """Every expected line is stored exactly once, and nothing else is."""
    rows = case.con.cursor().execute("SELECT raw, count(*) FROM events GROUP BY raw").fetchall()
    counts = dict(rows)
    doubled = {r: n for r, n in counts.items() if n != 1}
    assert not doubled, f"lines stored more than once: {list(doubled.items())[:3]}"
    assert sorted(counts) == sorted(expected), (len(counts), len(expected))


@pytest.fixture
def case(tmp_path):
    c = Case.open(tmp_path / "case.duckdb")
    yield c
    c.close()


def test_appends_and_both_rotations_store_every_line_once(tmp_path, case) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    live = logs / "auth.log"
    written = [ordinary_auth(i) for i in range(100)]
    append(live, written)
    run = Running(case, [live], analyse=False)
    try:
        wait_for(lambda: run.count() == 100)
        batch = [ordinary_auth(i) for i in range(100, 400)]
        for i in range(0, len(batch), 30):
            append(live, batch[i:i + 30])
            time.sleep(0.05)
        written += batch
        wait_for(lambda: run.count() == len(written))

        # Rename-and-create (logrotate's default): the writer still holds the old file a moment.
        os.rename(live, logs / "auth.log.1")
        late = [ordinary_auth(i) for i in range(400, 420)]
        append(logs / "auth.log.1", late)
        fresh = [ordinary_auth(i) for i in range(420, 450)]
        append(live, fresh)
        written += late + fresh
        wait_for(lambda: run.count() == len(written))

        # The rotated file is compressed later: auth.log.1 -> auth.log.2.gz.
        with open(logs / "auth.log.1", "rb") as src, gzip.open(logs / "auth.log.2.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.remove(logs / "auth.log.1")
        more = [ordinary_auth(i) for i in range(450, 470)]
        append(live, more)
        written += more
        wait_for(lambda: run.count() == len(written))

        # copytruncate: a copy, then the live file emptied in place and written again from byte 0.
        time.sleep(1.5)
        shutil.copy(live, logs / "auth.log.1")
        with open(live, "r+") as f:
            f.truncate(0)
        after = [ordinary_auth(i) for i in range(470, 490)]
        append(live, after)
        written += after
        wait_for(lambda: run.count() == len(written))
        time.sleep(1.5)  # anything read twice would show up by now
    finally:
        run.stop()
    stored_once(case, written)
    said = run.notices()
    assert ("auth.log.1", "deleted; the follow goes on") in said
    assert any(name == "auth.log" and "truncated" in msg and "from the start" in msg for name, msg in said), said


def test_a_torn_last_line_waits_for_its_end(tmp_path, case) -> None:
    live = tmp_path / "auth.log"
    first = ordinary_auth(0)
    append(live, [first])
    run = Running(case, [live], analyse=False)
    try:
        wait_for(lambda: run.count() == 1)
        line = ordinary_auth(1)
        with open(live, "a") as f:
            f.write(line[:30])
            f.flush()
            time.sleep(0.8)  # the follow sees the half line now
            f.write(line[30:] + "\n")
        wait_for(lambda: run.count() == 2)
        time.sleep(1)
    finally:
        run.stop()
    stored_once(case, [first, line])


def test_an_idle_follow_does_not_look_at_its_paths_on_every_wake_up(tmp_path, case, monkeypatch) -> None:
    """Idle CPU: with nothing changed and nothing settling, a wake-up expands no globs or folders;
    a full look comes only every FOLLOW_RESCAN_S, and a change is still read at once."""
    from engine import config, follow as follow_mod

    monkeypatch.setattr(config, "FOLLOW_TICK_MS", 100)
    monkeypatch.setattr(config, "FOLLOW_RESCAN_S", 60.0, raising=False)
    looks = []
    real = follow_mod.expand_paths
    monkeypatch.setattr(follow_mod, "expand_paths", lambda *a, **k: (looks.append(1), real(*a, **k))[1])
    live = tmp_path / "auth.log"
    append(live, [ordinary_auth(0)])
    old = time.time() - 60  # written long ago: nothing settles
    os.utime(live, (old, old))
    run = Running(case, [live], analyse=False)
    try:
        wait_for(lambda: run.count() == 1)
        time.sleep(0.5)  # the first wake-ups make the first full look
        before = len(looks)
        time.sleep(1.5)  # about 15 idle wake-ups
        assert len(looks) == before, "an idle wake-up expanded the paths"
        append(live, [ordinary_auth(1)])
        wait_for(lambda: run.count() == 2)
    finally:
        run.stop()


def test_folders_and_globs_pick_up_files_created_later_and_deletion_is_reported(tmp_path, case) -> None:
    web = tmp_path / "nginx"
    web.mkdir()
    sub = tmp_path / "apps"
    sub.mkdir()
    append(web / "access.log", [access(i) for i in range(5)])
    run = Running(case, [web, str(sub / "*.log")], analyse=False)
    try:
        wait_for(lambda: run.count() == 5)
        append(web / "other.log", [access(i, "198.51.100.9") for i in range(5, 8)])
        append(sub / "app.log", [ordinary_auth(i) for i in range(3)])
        wait_for(lambda: run.count() == 11)
        os.remove(web / "other.log")
        wait_for(lambda: ("other.log", "deleted; the follow goes on") in run.notices())
        append(web / "access.log", [access(9)])  # the follow goes on
        wait_for(lambda: run.count() == 12)
    finally:
        run.stop()
    assert ("app.log", "new file: following it") in run.notices()


def test_a_brute_force_appended_mid_follow_becomes_a_new_incident(tmp_path, case) -> None:
    live = tmp_path / "auth.log"
    append(live, [ordinary_auth(i) for i in range(300)])
    web = tmp_path / "access.log"
    append(web, [access(i, f"198.51.100.{i % 40}") for i in range(200)])  # 40 visitors nobody touches
    run = Running(case, [live, web], interval_s=0.5)
    try:
        wait_for(lambda: any(e.kind == "analysis" for e in run.events), 120)
        assert not [c for e in run.events if e.kind == "analysis" for c in e.update.changes]
        append(live, [failed_password(i, "203.0.113.50") for i in range(150)])
        wait_for(lambda: any(c.change == "new" and "203.0.113.50" in c.incident["src_ips"]
                             for e in run.events if e.kind == "analysis" for c in e.update.changes), 60)
        incremental = [e.update for e in run.events if e.kind == "analysis" and e.update.mode == "incremental"]
        # Only the sessions of the new events' source and account: the attacker's connections, its
        # per-source and per-account windows, none of the 40 visitors' sessions.
        total = case.con.cursor().execute("SELECT count(*) FROM sessions").fetchone()[0]
        assert incremental and incremental[-1].sessions_recomputed <= 150 + 2 <= total - 40
        new = next(c for u in incremental for c in u.changes if c.change == "new")
        assert new.incident["category"] == "brute_force" and new.incident["events"] >= 150
        assert new.as_json()["change"] == "new" and new.incident["id"].startswith("INC-")
        # More of the same attack: the same incident (same id), updated, not a second one.
        append(live, [failed_password(i, "203.0.113.50") for i in range(150, 400)])
        wait_for(lambda: any(c.incident["id"] == new.incident["id"] and c.change in ("updated", "severity_up")
                             for e in run.events if e.kind == "analysis" for c in e.update.changes), 60)
    finally:
        run.stop()
    runs = case.con.cursor().execute("SELECT count(*) FROM runs").fetchone()[0]
    assert runs >= 3
    # The incremental result is the one a full analysis of the same case gives.
    _, live_incidents = load_incidents(case)
    full = analyze(case, llm=None)
    shape = lambda incs: sorted((i["category"], i["severity"], tuple(i["src_ips"]), i["events"]) for i in incs)  # noqa: E731
    assert shape(live_incidents) == shape(load_incidents(case, full.run_id)[1])
    assert any(e.kind == "stopped" for e in run.events)


def test_follow_json_prints_incident_changes_and_stops_cleanly_on_ctrl_c(tmp_path) -> None:
    import json
    import signal
    import subprocess
    import sys

    log = tmp_path / "auth.log"
    append(log, [ordinary_auth(i) for i in range(100)])
    db = tmp_path / "case.duckdb"
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "follow", str(log), "--db", str(db), "--json",
                             "--no-llm", "--stats"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    try:
        line = proc.stderr.readline()
        while line and '"kind": "analysis"' not in line:
            line = proc.stderr.readline()
        assert json.loads(line)["mode"] == "full"
        append(log, [failed_password(i, "203.0.113.77") for i in range(200)])
        printed = json.loads(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGINT)
        out, errors = proc.communicate(timeout=60)
    assert proc.returncode == 0, errors[-500:]
    assert printed["change"] == "new" and printed["category"] == "brute_force"
    assert printed["src_ips"] == ["203.0.113.77"] and printed["id"].startswith("INC-")
    assert {"severity", "risk", "first_seen", "last_seen", "users", "hosts", "sessions", "events", "techniques",
            "summary", "summary_source", "top_features"} <= set(printed)
    assert '"kind": "stopped"' in errors
    with Case.open(db, read_only=True) as case:  # closed consistent: opens, every line there once
        assert case.con.execute("SELECT count(*), count(DISTINCT raw) FROM events").fetchone() == (300, 300)
