"""The `journald` format (journalctl -o json): literal lines in, fields out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.formats import get_format, parse_lines
from engine.formats.journald import REJECT_NOT_JOURNAL, REJECT_NOT_JSON, REJECT_NOT_OBJECT

FMT = get_format("journald")


def rec(message: Any = "hello", **fields: Any) -> str:
    obj = {
        "__CURSOR": "s=abc;i=1",
        "__REALTIME_TIMESTAMP": "1760000000123456",
        "__MONOTONIC_TIMESTAMP": "38708007",
        "_HOSTNAME": "bastion",
        "SYSLOG_IDENTIFIER": "sshd",
        "_PID": "4242",
        "_COMM": "sshd",
        "PRIORITY": "6",
        "MESSAGE": message,
    }
    for k, v in fields.items():
        if v is None:
            obj.pop(k, None)
        else:
            obj[k] = v
    return json.dumps(obj)


def parse(lines: list[str], **kw: Any) -> list[dict[str, Any]]:
    rows = parse_lines("journald", lines, **kw)
    assert [r["line_no"] for r in rows] == list(range(1, len(lines) + 1))
    return rows


def one(line: str, **kw: Any) -> dict[str, Any]:
    return parse([line], **kw)[0]


def check(row: dict[str, Any], expect: dict[str, Any]) -> None:
    got = {k: row.get(k) for k in expect}
    assert got == dict(expect), row["raw"]


@pytest.mark.parametrize("i", range(len(FMT.samples)))
def test_every_sample(i: int) -> None:
    s = FMT.samples[i]
    check(one(s.line, mtime_year=s.mtime_year, mtime_month=s.mtime_month), dict(s.expect))


def test_fields() -> None:
    r = one(rec("Failed password for invalid user admin from 203.0.113.9 port 40022 ssh2"))
    check(r, {
        "ts": datetime(2025, 10, 9, 8, 53, 20, 123456, tzinfo=UTC), "host": "bastion", "program": "sshd",
        "pid": 4242, "action": "auth_password", "outcome": "failure", "user": "admin",
        "src_ip": "203.0.113.9", "src_port": 40022, "auth_method": "password", "_reject": None, "_skip": None,
        "message": "Failed password for invalid user admin from 203.0.113.9 port 40022 ssh2",
    })
    assert r["raw"].startswith('{"__CURSOR"')


def test_timestamp_is_utc_whatever_tz() -> None:
    assert one(rec(), tz="America/New_York")["ts"] == datetime(2025, 10, 9, 8, 53, 20, 123456, tzinfo=UTC)


def test_fallback_fields() -> None:
    r = one(rec("x", SYSLOG_IDENTIFIER=None, _PID=None, SYSLOG_PID="77", _COMM="sshd-session",
                __REALTIME_TIMESTAMP=None, _SOURCE_REALTIME_TIMESTAMP="1760000000000000"))
    check(r, {"program": "sshd-session", "pid": 77, "ts": datetime(2025, 10, 9, 8, 53, 20, tzinfo=UTC)})
    r = one(rec("no time", __REALTIME_TIMESTAMP=None))
    check(r, {"ts": None, "_reject": None, "message": "no time"})
    r = one(rec(None, MESSAGE=None))
    check(r, {"message": None, "_reject": None, "action": "sshd_other"})


@pytest.mark.parametrize(
    "message, expect",
    [
        ("Accepted publickey for deploy from 10.0.0.9 port 50100 ssh2: ED25519 SHA256:abc",
         {"action": "auth_publickey", "outcome": "success", "user": "deploy", "src_ip": "10.0.0.9"}),
        ("Invalid user oracle from 198.51.100.3 port 1234", {"action": "invalid_user", "user": "oracle", "src_port": 1234}),
        ("Connection closed by authenticating user root 198.51.100.4 port 61000 [preauth]",
         {"action": "preauth_close", "outcome": "failure", "user": "root"}),
        ("Received disconnect from 198.51.100.5 port 61001:11: Bye Bye [preauth]", {"action": "preauth_close"}),
        ("error: kex_exchange_identification: Connection closed by remote host", {"action": "kex_error", "src_ip": None}),
        ("User root from 192.0.2.1 not allowed because listed in DenyUsers", {"action": "user_not_allowed"}),
        ("pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)", {"action": "session_open", "user": "deploy"}),
    ],
)
def test_sshd_vocabulary(message: str, expect: dict[str, Any]) -> None:
    check(one(rec(message)), expect)


def test_other_identifiers() -> None:
    check(one(rec("(root) CMD (true)", SYSLOG_IDENTIFIER="CRON", _COMM="cron")), {"program": "CRON", "action": "cron", "user": "root"})
    check(one(rec("alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh", SYSLOG_IDENTIFIER="sudo")), {"action": "sudo", "user": "alice"})
    check(one(rec("New session 3 of user alice.", SYSLOG_IDENTIFIER="systemd-logind")), {"action": "logind", "user": "alice"})
    # sshd words from another program are not sshd events
    check(one(rec("Failed password for root from 1.2.3.4 port 22 ssh2", SYSLOG_IDENTIFIER="python")),
          {"action": "syslog", "src_ip": None})


def test_fill_from_the_earlier_record_of_the_same_pid() -> None:
    rows = parse([
        rec("Connection from 192.0.2.3 port 39678 on 192.168.1.9 port 22", _PID="22440"),
        rec("fatal: Unable to negotiate a key exchange method [preauth]", _PID="22440"),
        rec("fatal: Unable to negotiate a key exchange method [preauth]", _PID="22441"),
    ])
    assert [(r["action"], r["src_ip"], r["src_port"]) for r in rows] == [
        ("connect", "192.0.2.3", 39678), ("negotiation_failed", "192.0.2.3", 39678), ("negotiation_failed", None, None),
    ]
    assert rows[0]["dst_ip"] == "192.168.1.9" and rows[0]["dst_port"] == 22


def test_binary_messages() -> None:
    utf8 = list("Invalid user é from 1.2.3.4".encode())
    check(one(rec(utf8)), {"message": "Invalid user é from 1.2.3.4", "action": "invalid_user", "user": "é", "src_ip": "1.2.3.4"})
    # not UTF-8: the bytes are kept as \xNN escapes (DuckDB's BLOB text); NUL never reaches the text
    check(one(rec([104, 105, 255, 0, 10])), {"message": "hi\\xFF\\x00\\x0A", "_reject": None})
    # UTF-8 with a NUL: decoded, the NUL shown as \x00
    check(one(rec([104, 0, 105])), {"message": "h\\x00i"})
    check(one(rec([])), {"_reject": None})
    # not bytes at all: no crash, no message
    for weird in ([300, 1], ["a", "b"], [[1], [2]], {"a": 1}, 12, True):
        r = one(rec(weird))
        assert r["_reject"] is None and r["action"] == "sshd_other", weird


def test_rejects() -> None:
    rows = parse([
        '{"__REALTIME_TIMESTAMP": "1760000000000000", "_HOSTNAME": "h"',
        "not json at all",
        '["an", "array"]',
        '"a string"',
        "42",
        '{"foo": "bar"}',
        rec("fine"),
    ])
    assert [r["_reject"] for r in rows] == [
        REJECT_NOT_JSON, REJECT_NOT_JSON, REJECT_NOT_OBJECT, REJECT_NOT_OBJECT, REJECT_NOT_OBJECT, REJECT_NOT_JOURNAL, None,
    ]
    assert rows[1]["raw"] == "not json at all"
    assert all(r["_skip"] is None for r in rows)


def test_hostile_values_are_data() -> None:
    r = one(rec("Invalid user x'); DROP TABLE events; -- from 10.0.0.1", _HOSTNAME="h'; --", SYSLOG_IDENTIFIER="sshd"))
    check(r, {"host": "h'; --", "user": "x'); DROP TABLE events; --", "src_ip": "10.0.0.1"})
    r = one(rec("m", _PID="not a pid"))
    check(r, {"pid": None, "_reject": None})


def test_detect() -> None:
    assert FMT.detect([rec("a"), rec("b")]) == 1.0
    assert FMT.detect(['{"MESSAGE": "m", "_HOSTNAME": "h"}']) == 1.0
    assert FMT.detect(["Mar  3 10:00:01 bastion sshd[4242]: x"]) == 0.0
    not_journal = [
        '{"ts":1320279566.452687,"uid":"C1","id.orig_h":"10.0.0.2","id.orig_p":48649,"proto":"udp"}',
        '{"timestamp":"2023-09-10T10:00:00.000000+0000","flow_id":1,"event_type":"alert","src_ip":"1.2.3.4"}',
        '{"eventid":"cowrie.login.failed","username":"root","message":"login attempt"}',
        '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 203 "-" "Mozilla/5.0"',
        "{not json",
    ]
    assert FMT.detect(not_journal) == 0.0
    assert FMT.detect([]) == 0.0
