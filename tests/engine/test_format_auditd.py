"""The `auditd` format: audit.log records, literal lines in, events out."""

from __future__ import annotations

from typing import Any

import pytest

from engine.formats import detect_format, get_format, parse_lines
from engine.formats.auditd import REJECT_NOT_AUDIT

FMT = get_format("auditd")


def check(r: dict[str, Any], expect: dict[str, Any]) -> None:
    assert {k: r.get(k) for k in expect} == dict(expect), r["raw"]


@pytest.mark.parametrize("i", range(len(FMT.samples)))
def test_every_sample(i: int) -> None:
    s = FMT.samples[i]
    (r,) = parse_lines(FMT, [s.line])
    check(r, dict(s.expect))


def test_records_of_one_event_are_grouped_by_serial() -> None:
    lines = [
        'type=SYSCALL msg=audit(1700000200.000:501): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 '
        'items=2 ppid=1999 pid=2001 auid=1000 uid=0 tty=pts0 ses=5 comm="curl" exe="/usr/bin/curl" key="exec"',
        'type=EXECVE msg=audit(1700000200.000:501): argc=3 a0="curl" a1="-o" a2=2F746D702F612062',
        'type=CWD msg=audit(1700000200.000:501): cwd="/root"',
        'type=PROCTITLE msg=audit(1700000200.000:501): proctitle=6375726C002D6F002F746D702F612062',
        'type=SYSCALL msg=audit(1700000201.000:502): arch=c000003e syscall=2 success=no exit=-13 pid=2002 '
        'ses=5 comm="cat" exe="/usr/bin/cat"',
    ]
    rows = parse_lines(FMT, lines)
    assert [r["action"] for r in rows] == ["syscall", "execve", "cwd", "proctitle", "syscall"]
    # hex-decoded args, with the space inside the third one kept
    assert rows[1]["command"] == "curl -o /tmp/a b"
    assert {r["command"] for r in rows[:4]} == {"curl -o /tmp/a b"}
    assert {r["program"] for r in rows[:4]} == {"curl"}
    assert {r["pid"] for r in rows[:4]} == {2001}
    assert {r["session"] for r in rows[:4]} == {"5"}
    check(rows[4], {"program": "cat", "command": None, "outcome": "failure", "pid": 2002})


def test_enriched_names_and_node() -> None:
    (r,) = parse_lines(FMT, [
        "node=bastion type=USER_LOGIN msg=audit(1700000005.000:460): pid=1234 uid=0 auid=0 ses=5 "
        "msg='op=login id=0 exe=\"/usr/sbin/sshd\" hostname=? addr=203.0.113.9 terminal=/dev/pts/0 res=success'"
        "\x1dUID=\"root\" AUID=\"root\" ID=\"root\""])
    check(r, {"host": "bastion", "user": "root", "src_ip": "203.0.113.9", "outcome": "success",
              "action": "user_login"})


def test_every_line_is_an_event_or_a_reject() -> None:
    lines = ["type=USER_AUTH msg=audit(1700000000.1:1): pid=1 msg='op=PAM:authentication acct=\"a\" res=failed'",
             "type=BROKEN msg=audit(notatime): x=1", "garbage", "----"]
    rows = parse_lines(FMT, lines)
    assert len(rows) == 4
    assert [r["_reject"] for r in rows] == [None, REJECT_NOT_AUDIT, REJECT_NOT_AUDIT, None]
    assert rows[3]["_skip"] == "ausearch separator"


def test_detection() -> None:
    fmt, score = detect_format([s.line for s in FMT.samples[:8]])
    assert fmt is FMT and score == 1.0
    assert FMT.detect(["Nov 14 03:10:01 bastion sshd[1001]: Failed password for root"]) == 0.0
