"""Real honeypot and audit logs (../shared/realdata: three days of a public Cowrie honeypot, fail2ban samples).

The expected counts are computed here from the JSON with Python's json module, the way a reader
would check them with jq, and compared with what ingest stored.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.ingest import ingest
from store.case import Case

DAYS = [f"cowrie/kareiva_cowrie.json.2018-05-1{d}" for d in (0, 1, 2)]


def records(paths: list[Path]) -> list[dict]:
    out = []
    for p in paths:
        for line in p.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
    return out


def test_three_days_ingest_with_zero_rejects_and_jq_checkable_counts(realdata: Path, tmp_path: Path) -> None:
    paths = [realdata / d for d in DAYS]
    recs = records(paths)
    logins = [r for r in recs if r["eventid"] in ("cowrie.login.failed", "cowrie.login.success")]
    expected = {
        "events": len(recs),
        "attempts": len(logins),
        "sources": len({r["src_ip"] for r in logins}),
        "successes": sum(r["eventid"] == "cowrie.login.success" for r in logins),
        "commands": sum(r["eventid"] == "cowrie.command.input" for r in recs),
        "sessions": len({r["session"] for r in recs}),
        "passwords": len({r["password"] for r in logins}),
    }
    with Case.open(tmp_path / "case.duckdb") as case:
        result = ingest(case, paths, tz="UTC")
        assert not result.problems
        assert [f.format for f in result.files] == ["cowrie"] * 3
        assert result.rejected == 0 and result.skipped == 0
        got = dict(zip(expected, case.con.execute("""
            SELECT count(*),
                   count(*) FILTER (action = 'auth_password'),
                   count(DISTINCT src_ip) FILTER (action = 'auth_password'),
                   count(*) FILTER (action = 'auth_password' AND outcome = 'success'),
                   count(*) FILTER (action = 'command_input'),
                   count(DISTINCT session),
                   count(DISTINCT password) FILTER (action = 'auth_password')
            FROM events""").fetchone()))
        assert got == expected
        # 185.222.209.151 is the busiest source of failures (SOURCES.md: 380 of them).
        busiest = case.con.execute(
            "SELECT src_ip, count(*) FROM events WHERE action = 'auth_password' AND outcome = 'failure' "
            "GROUP BY 1 ORDER BY 2 DESC LIMIT 1").fetchone()
        assert busiest == ("185.222.209.151", sum(
            r["eventid"] == "cowrie.login.failed" and r["src_ip"] == "185.222.209.151" for r in recs))
        # every login has its source port, from the session's connect event
        assert case.con.execute(
            "SELECT count(*) FROM events WHERE action = 'auth_password' AND src_port IS NULL").fetchone()[0] == 0


def test_fail2ban_cowrie_samples(realdata: Path, tmp_path: Path) -> None:
    path = realdata / "fail2ban_samples/cowrie"
    lines = path.read_text().splitlines()
    recs = records([path])
    with Case.open(tmp_path / "case.duckdb") as case:
        (f,) = ingest(case, [path], tz="UTC").files
        assert f.format == "cowrie"
        assert f.events == len(recs)
        # the file's one deliberately malformed line is the one reject; comments are skipped
        rejected = case.con.execute("SELECT raw FROM rejects").fetchall()
        assert rejected == [("not a json line at all",)]
        assert f.skipped == sum(1 for ln in lines if ln.startswith("#")) + sum(1 for ln in lines if not ln.strip())
        assert case.con.execute("SELECT count(*) FROM events WHERE action = 'client_kex' AND hassh = "
                                "'16443846184eafde36765c9bab2f4397'").fetchone()[0] == 1


def test_fail2ban_selinux_ssh_audit_records(realdata: Path, tmp_path: Path) -> None:
    """Real audit records (fail2ban's selinux-ssh samples): every one an event, with the source
    and time its failJSON annotation gives, and the hex-encoded accounts decoded."""
    path = realdata / "fail2ban_samples/selinux-ssh"
    lines = path.read_text().splitlines()
    expected = []
    for i, line in enumerate(lines):
        if line.startswith("type="):
            note = json.loads(lines[i - 1].split("failJSON:", 1)[1])
            expected.append((i + 1, note["host"]))
    with Case.open(tmp_path / "case.duckdb") as case:
        (f,) = ingest(case, [path], tz="UTC").files
        assert f.format == "auditd" and f.rejected == 0 and f.events == len(expected)
        got = case.con.execute("SELECT line_no, src_ip FROM events ORDER BY line_no").fetchall()
        assert got == expected
        users = {r[0] for r in case.con.execute("SELECT \"user\" FROM events").fetchall()}
        assert {"(unknown user)", "(invalid user)", "root", "dan"} <= users
        assert case.con.execute("SELECT count(*) FROM events WHERE action = 'auth_password' AND "
                                "outcome = 'failure' AND \"user\" = 'dan'").fetchone()[0] == 1
