"""Analysis over honeypot and host records: Cowrie on real logs, audit/auth.log logins as one fact."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.analyze import analyze, load_incidents
from engine.ingest import ingest
from store import queries
from store.case import Case

DAYS = [f"cowrie/kareiva_cowrie.json.2018-05-1{d}" for d in (0, 1, 2)]


def test_real_cowrie_days_give_brute_force_led_by_the_busiest_source_and_show_commands(
        realdata: Path, tmp_path: Path) -> None:
    paths = [realdata / d for d in DAYS]
    recs = [json.loads(ln) for p in paths for ln in p.read_text().splitlines() if ln.strip()]
    failures: dict[str, int] = {}
    for r in recs:
        if r["eventid"] == "cowrie.login.failed":
            failures[r["src_ip"]] = failures.get(r["src_ip"], 0) + 1
    busiest = max(failures, key=failures.__getitem__)
    commands = {(r["src_ip"], r["input"]) for r in recs if r["eventid"] == "cowrie.command.input"}
    with Case.open(tmp_path / "case.duckdb") as case:
        ingest(case, paths, tz="UTC")
        analyze(case)
        _, incidents = load_incidents(case)
        brute = [i for i in incidents if i["category"] == "brute_force"]
        assert brute and brute[0]["src_ips"][0] == busiest
        assert brute[0]["severity"] in ("high", "critical")
        # the brute-force incidents come before the other brute forcers' in risk order
        assert incidents.index(brute[0]) <= 1
        # a successful attacker's incident shows the commands it ran, as logged
        for ip, command in commands:
            (inc,) = [i for i in incidents if ip in i["src_ips"] and i["category"] == "suspicious_login"]
            assert "T1059" in inc["techniques"] and inc["severity"] == "high"
            ran = queries.incident_commands(case, inc["id"])
            assert command in [c["command"] for c in ran]


SSHD = [
    "Nov 14 03:10:01 bastion sshd[1001]: Failed password for root from 203.0.113.9 port 50100 ssh2",
    "Nov 14 03:10:04 bastion sshd[1001]: Failed password for root from 203.0.113.9 port 50100 ssh2",
    "Nov 14 03:10:07 bastion sshd[1001]: Failed password for root from 203.0.113.9 port 50100 ssh2",
    "Nov 14 03:10:10 bastion sshd[1001]: Accepted password for root from 203.0.113.9 port 50100 ssh2",
]


def _epoch(h: int, m: int, s: int) -> float:
    return datetime(2026, 11, 14, h, m, s, tzinfo=UTC).timestamp()


def _audit(t: float, serial: int, res: str) -> str:
    return (f"node=bastion type=USER_AUTH msg=audit({t:.3f}:{serial}): pid=1001 uid=0 auid=4294967295 "
            f"ses=4294967295 msg='op=PAM:authentication grantors=? acct=\"root\" exe=\"/usr/sbin/sshd\" "
            f"hostname=203.0.113.9 addr=203.0.113.9 terminal=ssh res={res}'")


def _features(case: Case, ip: str) -> dict:
    (raw,) = case.con.execute(
        "SELECT features FROM sessions WHERE kind = 'ssh_source' AND src_ip = $ip", {"ip": ip}).fetchone()
    return json.loads(raw)


def test_an_audit_login_and_the_same_login_on_auth_log_are_one_fact(tmp_path: Path) -> None:
    auth = tmp_path / "auth.log"
    auth.write_text("\n".join(SSHD) + "\n")
    mtime = datetime(2026, 11, 20, tzinfo=UTC).timestamp()
    os.utime(auth, (mtime, mtime))
    audit = tmp_path / "audit.log"
    audit.write_text("\n".join([
        _audit(_epoch(3, 10, 1) + 0.2, 10, "failed"), _audit(_epoch(3, 10, 4) + 0.1, 11, "failed"),
        _audit(_epoch(3, 10, 7) + 0.3, 12, "failed"), _audit(_epoch(3, 10, 10) + 0.1, 13, "success"),
        # a failure only the audit log saw (its auth.log line was lost): it counts
        _audit(_epoch(3, 30, 0), 14, "failed"),
    ]) + "\n")
    with Case.open(tmp_path / "audit-only.duckdb") as case:
        ingest(case, [audit], tz="UTC")
        analyze(case)
        alone = _features(case, "203.0.113.9")
    with Case.open(tmp_path / "both.duckdb") as case:
        result = ingest(case, [auth, audit], tz="UTC")
        assert result.rejected == 0 and {f.format for f in result.files} == {"syslog", "auditd"}
        analyze(case)
        both = _features(case, "203.0.113.9")
    assert (alone["failed_attempts"], alone["successes"]) == (4, 1)
    assert (both["failed_attempts"], both["successes"]) == (4, 1)


HONEYPOT_ATTACKER = "203.0.113.77"
HOSTILE_COMMAND = "echo [bold red]pwn[/] \x1b]0;owned\x07; cd /tmp"
DOWNLOAD_URL = "http://198.51.100.7/bins/[link=file:///etc/passwd]x[/link]"


def cowrie_lines() -> list[str]:
    """A honeypot session: failures, a login, commands (one hostile), a download."""
    base = {"session": "c0ffee000001", "src_ip": HONEYPOT_ATTACKER, "sensor": "hp1"}

    def rec(sec: int, eventid: str, **kw) -> str:
        return json.dumps(base | {"eventid": eventid, "timestamp": f"2026-08-13T00:00:{sec:02d}.000000Z"} | kw)

    return [
        rec(0, "cowrie.session.connect", src_port=40001, dst_ip="172.17.0.3", dst_port=2222, protocol="ssh"),
        *(rec(1 + k, "cowrie.login.failed", username="root", password=f"pw{k}") for k in range(4)),
        rec(6, "cowrie.login.success", username="root", password="admin"),
        rec(7, "cowrie.command.input", input="uname -a"),
        rec(8, "cowrie.command.input", input=HOSTILE_COMMAND),
        rec(9, "cowrie.session.file_download", url=DOWNLOAD_URL, shasum="ab" * 32, outfile="dl/ab"),
        rec(20, "cowrie.session.closed", duration=20.0),
    ]


@pytest.fixture
def honeypot_case(tmp_path: Path) -> tuple[Path, dict]:
    log = tmp_path / "cowrie.json"
    log.write_text("\n".join(cowrie_lines()) + "\n")
    path = tmp_path / "case.duckdb"
    with Case.open(path) as case:
        ingest(case, [log], tz="UTC")
        analyze(case, llm=None)
        (inc,) = [i for i in load_incidents(case)[1] if HONEYPOT_ATTACKER in i["src_ips"]]
    return path, inc


def test_honeypot_summary_prompt_and_offline_text(honeypot_case) -> None:
    from engine.summaries.excerpts import attacker_commands
    from engine.summaries.facts import stored_facts
    from engine.summaries.prompt import build_prompt

    path, inc = honeypot_case
    assert inc["category"] == "suspicious_login" and inc["severity"] in ("high", "critical")
    assert "honeypot" in inc["summary"] and "ran 2 commands" in inc["summary"]
    assert "fetched or uploaded 1 file" in inc["summary"]
    with Case.open(path, read_only=True) as case:
        facts = stored_facts(case.con, inc["id"])
        commands = attacker_commands(case.con, facts.spans)
        user = build_prompt(facts, [], token="T0K", commands=commands)[1]["content"]
    # inside the fence, escaped: the escape sequence never reaches the model raw
    inside = user.split("<<<INCIDENT DATA T0K BEGIN>>>")[1].split("<<<INCIDENT DATA T0K END>>>")[0]
    assert f"| {HONEYPOT_ATTACKER}: $ uname -a" in inside
    assert "\\x1b]0;owned\\x07" in inside and "\x1b" not in user
    assert f"fetched {DOWNLOAD_URL} sha256 {'ab' * 32}" in inside


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
def test_honeypot_report_lists_commands_and_files(honeypot_case, tmp_path: Path) -> None:
    from engine.report import write_incident_report

    path, inc = honeypot_case
    with Case.open(path, read_only=True) as case:
        info = write_incident_report(case, inc["id"], tmp_path / "r.pdf")
    text = " ".join(subprocess.run(["pdftotext", "-enc", "UTF-8", info.path, "-"], check=True,
                                   capture_output=True, text=True).stdout.split())
    assert "Commands and files" in text
    assert "$ uname -a" in text
    assert "\\x1b]0;owned\\x07" in text and "\x1b" not in text
    assert "ab" * 32 in text.replace(" ", "")
