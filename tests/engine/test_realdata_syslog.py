"""Real-log conformance of the `syslog` and `journald` formats (skipped where ../shared is absent).

- fail2ban's own sshd test log, against its annotations (EXPECTED_all.jsonl, SOURCES.md section 2);
- loghub's OpenSSH and Linux logs (counts checked against the files themselves);
- a real journalctl -o json export.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.formats import detect_format, get_format, parse_lines
from engine.formats.base import decode_lines

pytestmark = pytest.mark.realdata


def read_lines(path: Path) -> list[str]:
    """The file's lines decoded as the ingest core decodes them."""
    return decode_lines(path.read_bytes(), 1).column("line").to_pylist()


def parse_file(fmt: str, path: Path, **kw: Any) -> list[dict[str, Any]]:
    lines = read_lines(path)
    rows = parse_lines(fmt, lines, path=str(path), **kw)
    assert len(rows) == len(lines)
    assert [r["line_no"] for r in rows] == list(range(1, len(lines) + 1))
    return rows


def head(path: Path, n: int = 40) -> list[str]:
    lines = decode_lines(path.read_bytes()[: 64 << 10], 1).column("line").to_pylist()
    return [ln for ln in lines if ln.strip()][:n]


# --- fail2ban --------------------------------------------------------------------------------

def _normal_mode(rec: dict[str, Any]) -> bool:
    """Checked under fail2ban's default (normal) mode, and not constrained to aggressive mode."""
    opts = rec["filterOptions"]
    if opts is None:
        normal = True
    else:
        dicts = opts if isinstance(opts, list) else [opts]
        normal = any(isinstance(d, dict) and d.get("mode", "normal") == "normal" for d in dicts)
    constraint = str(rec["expected"].get("constraint", ""))
    if re.search(r"mode'\)\s*==\s*'aggressive'", constraint):
        normal = False
    return normal


def test_fail2ban_sshd(realdata: Path) -> None:
    rows = parse_file("syslog", realdata / "fail2ban_samples" / "sshd", mtime_year=2005, mtime_month=8, tz="Europe/Zurich")
    by_no = {r["line_no"]: r for r in rows}
    assert [r for r in rows if r["_reject"]] == []
    for r in rows:
        if r["_skip"]:
            assert r["raw"].startswith("#") or not r["raw"].strip(), r["raw"]
        else:
            assert r["action"] and r["ts"] is not None, r["raw"]

    recs = [json.loads(ln) for ln in (realdata / "fail2ban_samples" / "EXPECTED_all.jsonl").read_text().splitlines()]
    recs = [x for x in recs if x["file"] == "sshd"]
    assert len(recs) == 155
    hosts = outcomes = times = 0
    zurich = ZoneInfo("Europe/Zurich")
    for rec in recs:
        row = by_no[rec["line_no"]]
        assert row["raw"] == rec["line"]
        exp = rec["expected"]
        if not exp.get("match"):
            continue
        if "host" in exp:
            assert row["src_ip"] == exp["host"], (rec["line_no"], rec["line"])
            hosts += 1
        if "time" in exp:
            local = row["ts"].astimezone(zurich).strftime("%Y-%m-%dT%H:%M:%S")
            assert local == exp["time"], (rec["line_no"], rec["line"])
            times += 1
        if _normal_mode(rec):
            if row["message"].startswith("Accepted "):
                # fail2ban counts these "Accepted" lines because other users were tried earlier on
                # the same connection; the line itself is a successful login and stays 'success'
                assert row["outcome"] == "success", rec["line"]
            else:
                assert row["outcome"] == "failure", (rec["line_no"], rec["line"], row["action"])
            outcomes += 1
    assert hosts >= 100 and outcomes >= 60 and times >= 100


def test_fail2ban_sshd_injection_lines(realdata: Path) -> None:
    rows = parse_file("syslog", realdata / "fail2ban_samples" / "sshd", mtime_year=2005, mtime_month=8)
    by_raw = {r["raw"]: r for r in rows}
    r = by_raw["Jul 17 23:04:01 srv sshd[1300]: Connection closed by authenticating user test 127.0.0.1 port 12345 192.0.2.11 port 46039 [preauth]"]
    assert (r["user"], r["src_ip"], r["src_port"]) == ("test 127.0.0.1 port 12345", "192.0.2.11", 46039)
    r = by_raw["Nov 11 08:04:52 redbamboo sshd[2737]: Failed password for invalid user test from 10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2"]
    assert r["src_ip"] == "127.0.0.1"
    r = by_raw["Feb 12 04:09:21 localhost sshd[26713]: Disconnecting: Too many authentication failures [preauth]"]
    assert (r["action"], r["src_ip"]) == ("max_auth_exceeded", "115.249.163.77")


# --- loghub ----------------------------------------------------------------------------------

def _openssh_truth(path: Path) -> dict[str, Any]:
    """The numbers, straight from the file (what `grep` says)."""
    text = path.read_bytes().decode("utf-8")
    lines = text.splitlines()
    failed = [ln for ln in lines if "Failed password" in ln]
    ips = [m.group(1) for ln in failed if (m := re.search(r" from (\S+) port \d+", ln))]
    return {
        "lines": len(lines),
        "failed": len(failed),
        "failed_ips": len(set(ips)),
        "accepted": sum("Accepted " in ln for ln in lines),
        "top": Counter(ips).most_common(1)[0],
    }


@pytest.mark.parametrize("rel", ["loghub/OpenSSH/OpenSSH_2k.log", "loghub-2.0/OpenSSH/OpenSSH_2k.log"])
def test_loghub_openssh(realdata: Path, rel: str) -> None:
    path = realdata / rel
    truth = _openssh_truth(path)
    # what SOURCES.md and grep say about this file
    assert truth == {"lines": 2000, "failed": 520, "failed_ips": 23, "accepted": 1, "top": ("183.62.140.253", 286)}
    if rel.startswith("loghub/"):
        data = path.read_bytes()
        assert b"\r\n" in data and not data.endswith(b"\n")  # CRLF, no trailing newline
    rows = parse_file("syslog", path, mtime_year=2017, mtime_month=1)
    assert [r for r in rows if r["_reject"] or r["_skip"]] == []
    assert len(rows) == 2000
    assert all(r["host"] == "LabSZ" and r["program"] == "sshd" and r["pid"] for r in rows)
    assert all(r["ts"] is not None and r["ts"].year == 2016 and r["ts"].month == 12 for r in rows)
    assert all(not r["raw"].endswith("\r") for r in rows)
    failed = [r for r in rows if r["action"] == "auth_password" and r["outcome"] == "failure"]
    # every "Failed password" line, the two "message repeated N times: [ Failed password ...]" included
    assert len(failed) == truth["failed"] == 520
    assert len({r["src_ip"] for r in failed}) == truth["failed_ips"] == 23
    assert sum(r["src_ip"] == "183.62.140.253" for r in failed) == 286
    assert [r["outcome"] for r in rows].count("success") == 1
    ok = next(r for r in rows if r["outcome"] == "success")
    assert (ok["action"], ok["user"], ok["src_ip"], ok["src_port"]) == ("auth_password", "fztu", "119.137.62.142", 49116)
    actions = Counter(r["action"] for r in rows)
    assert actions["invalid_user"] == sum("nvalid user" in r["raw"] and "Failed" not in r["raw"] for r in rows)
    assert actions["auth_none"] == sum("Failed none" in r["raw"] for r in rows)
    assert actions["break_in_attempt"] == sum("POSSIBLE BREAK-IN ATTEMPT" in r["raw"] for r in rows)
    # a line that names no address takes the connection's
    r = next(r for r in rows if r["message"].startswith("input_userauth_request: invalid user webmaster"))
    assert r["src_ip"] == "173.234.31.186"


def test_loghub_linux(realdata: Path) -> None:
    path = realdata / "loghub" / "Linux" / "Linux_2k.log"
    rows = parse_file("syslog", path, mtime_year=2005, mtime_month=8)
    assert [r for r in rows if r["_reject"] or r["_skip"]] == []
    assert len(rows) == 2000
    assert all(r["host"] == "combo" and r["ts"] is not None and r["ts"].year == 2005 for r in rows)
    raw_sshd = sum(" sshd(pam_unix)[" in r["raw"] for r in rows)
    assert raw_sshd == 677
    assert sum(r["program"] == "sshd" for r in rows) == 677
    failures = [r for r in rows if r["action"] == "pam_auth_failure"]
    assert len(failures) == sum("authentication failure;" in r["raw"] for r in rows) == 490
    assert sum(r["program"] == "sshd" for r in failures) == 489
    assert all(r["outcome"] == "failure" for r in failures)
    assert Counter(r["action"] for r in rows)["session_open"] == sum("session opened for user" in r["raw"] for r in rows)


# --- journald --------------------------------------------------------------------------------

def test_journald_export(realdata: Path) -> None:
    rows = parse_file("journald", realdata / "journald" / "lnav_logfile_journald.json")
    assert [r for r in rows if r["_reject"] or r["_skip"]] == []
    assert len(rows) == 2
    assert all(r["host"] == "imx6ul-medusa" and r["program"] == "python" and r["pid"] == 184 for r in rows)
    assert [r["message"] for r in rows] == ["GPS Reference longitude: 7.358143333", "GPS Reference latitude: 46.908706667"]
    assert rows[0]["ts"].isoformat() == "2018-08-21T14:04:21.221373+00:00"


# --- detection -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "rel, name",
    [
        ("fail2ban_samples/sshd", "syslog"),
        ("loghub/OpenSSH/OpenSSH_2k.log", "syslog"),
        ("loghub-2.0/OpenSSH/OpenSSH_2k.log", "syslog"),
        ("loghub/Linux/Linux_2k.log", "syslog"),
        ("journald/lnav_logfile_journald.json", "journald"),
    ],
)
def test_detected(realdata: Path, rel: str, name: str) -> None:
    sample = head(realdata / rel)
    assert get_format(name).detect(sample) >= 0.5
    fmt, score = detect_format(sample)
    assert fmt is not None and fmt.name == name and score >= 0.5


@pytest.mark.parametrize(
    "rel",
    [
        "weblogs/lnav_logfile_shop_access_log.0",
        "weblogs/elastic_examples_apache_logs.log",
        "zeek/zeek_testing_btest_Files_zeek-cut-logs_conn.log",
        "zeek/trickbot_conn.log",
        "zeek/EvansWJ_conn.json.log",
        "suricata/SuricataLog_eve-2.json",
        "loghub/Apache/Apache_2k.log",
        "cowrie/kareiva_cowrie.json.2018-05-10",
    ],
)
def test_not_claimed(realdata: Path, rel: str) -> None:
    path = realdata / rel
    if not path.exists():
        pytest.skip(f"{rel} not in this copy of realdata")
    sample = head(path)
    assert get_format("syslog").detect(sample) < 0.5
    assert get_format("journald").detect(sample) < 0.5
