"""The `syslog` format and the sshd vocabulary: literal lines in, fields out."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest

from engine.formats import get_format, parse_lines
from engine.formats import sshd as vocab
from engine.formats.base import FileContext, decode_lines, run_format
from engine.formats.syslog import REJECT_BAD_TS, REJECT_NO_HEADER

FMT = get_format("syslog")
HDR = "Mar  3 10:00:01 bastion sshd[4242]: "


def parse(lines: list[str], **kw: Any) -> list[dict[str, Any]]:
    rows = parse_lines("syslog", lines, **kw)
    assert [r["line_no"] for r in rows] == list(range(1, len(lines) + 1))
    return rows


def one(line: str, **kw: Any) -> dict[str, Any]:
    return parse([line], **kw)[0]


def check(row: dict[str, Any], expect: dict[str, Any]) -> None:
    got = {k: row.get(k) for k in expect}
    assert got == dict(expect), row["raw"]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- samples -----------------------------------------------------------------------------------

@pytest.mark.parametrize("i", range(len(FMT.samples)))
def test_every_sample(i: int) -> None:
    s = FMT.samples[i]
    check(one(s.line, mtime_year=s.mtime_year, mtime_month=s.mtime_month), dict(s.expect))


def test_samples_cover_the_header_variants_and_skip_and_reject() -> None:
    lines = [s.line for s in FMT.samples]
    assert any(ln.startswith("<38>1 ") for ln in lines)
    assert any(ln.startswith("20") and "T" in ln[:11] for ln in lines)
    assert any(s.expect.get("_skip") for s in FMT.samples)
    assert any(s.expect.get("_reject") for s in FMT.samples)
    assert len(FMT.samples) >= 20


# --- headers -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "line, expect",
    [
        ("Mar  3 10:00:01 host sshd[123]: hello there",
         {"ts": utc(2026, 3, 3, 10, 0, 1), "host": "host", "program": "sshd", "pid": 123, "message": "hello there"}),
        ("Feb 7 16:01:07 linux-m899 sshd[5106]: x",
         {"ts": utc(2026, 2, 7, 16, 1, 7), "host": "linux-m899", "pid": 5106, "message": "x"}),
        ("Jul 05 18:22:44 mercury sshd[4669]: x",
         {"ts": utc(2026, 7, 5, 18, 22, 44), "host": "mercury", "pid": 4669}),
        ("Nov 23 21:50:19 sshd[8148]: Disconnecting: x",
         {"ts": utc(2026, 11, 23, 21, 50, 19), "host": None, "program": "sshd", "pid": 8148,
          "message": "Disconnecting: x"}),
        ("Mar  3 00:17:22 [sshd]: User root from 1.2.3.4 not allowed because listed in DenyUsers",
         {"host": None, "program": "sshd", "pid": None, "src_ip": "1.2.3.4"}),
        ("Jun 25 23:53:34 [sshd] User root from 1.2.3.4 not allowed because listed in DenyUsers",
         {"host": None, "program": "sshd", "pid": None, "user": "root",
          "message": "User root from 1.2.3.4 not allowed because listed in DenyUsers"}),
        ("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown",
         {"host": "combo", "program": "sshd", "pid": 19939, "message": "check pass; user unknown"}),
        ("Jul  3 14:59:17 host sshd-session[1571]: x", {"program": "sshd-session", "pid": 1571}),
        ("Mar 29 05:59:23 dusky sshd[20878]: [ID 800047 auth.info] Failed keyboard-interactive for james from 1.2.3.4 port 1 ssh2",
         {"host": "dusky", "message": "Failed keyboard-interactive for james from 1.2.3.4 port 1 ssh2",
          "action": "auth_keyboard_interactive", "src_ip": "1.2.3.4"}),
        ("2015-04-16T18:02:50.321974+00:00 host sshd[2716]: x",
         {"ts": utc(2015, 4, 16, 18, 2, 50, 321974), "host": "host", "pid": 2716, "message": "x"}),
        ("2015-04-16T18:02:50.321974+02:00 host sshd[2716]: x", {"ts": utc(2015, 4, 16, 16, 2, 50, 321974)}),
        ("2015-04-16T18:02:50Z host sshd[2716]: x", {"ts": utc(2015, 4, 16, 18, 2, 50)}),
        ("2015-04-16T18:02:50 host sshd[2716]: x", {"ts": utc(2015, 4, 16, 18, 2, 50)}),
        ("<38>1 2019-07-08T17:40:16.954167-04:00 hostname.example.com sshd 57915 - - Failed unknown for invalid user redmond from 192.0.2.1 port 59197 ssh2",
         {"ts": utc(2019, 7, 8, 21, 40, 16, 954167), "host": "hostname.example.com", "program": "sshd",
          "pid": 57915, "action": "auth_other", "user": "redmond", "src_ip": "192.0.2.1"}),
        ('<38>1 2019-07-08T17:40:17.954167-04:00 h sshd 55555 - [timeQuality tzKnown="1" isSynced="0"][xxx@123 test="[brackets]"] Failed unknown for invalid user redmond from 192.0.2.2 port 55555 ssh2',
         {"host": "h", "pid": 55555, "src_ip": "192.0.2.2", "src_port": 55555,
          "message": "Failed unknown for invalid user redmond from 192.0.2.2 port 55555 ssh2"}),
        ("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] An application event",
         {"ts": utc(2003, 10, 11, 22, 14, 15, 3000), "host": "mymachine.example.com", "program": "evntslog",
          "pid": None, "message": "An application event", "action": "syslog"}),
        ("<34>1 - - - - - -", {"ts": None, "host": None, "program": None, "_reject": None}),
        ("<13>Mar  3 10:00:01 host sshd[1]: pri in front", {"host": "host", "pid": 1, "message": "pri in front"}),
        ("Jun 19 04:09:11 combo syslogd 1.4.1: restart.",
         {"host": "combo", "program": None, "message": "syslogd 1.4.1: restart.", "action": "syslog"}),
        ("Jul  7 08:06:15 combo  -- root[2421]: ROOT LOGIN ON tty2",
         {"host": "combo", "program": None, "_reject": None}),
        ("Mar  3 10:00:01 host kernel: [  970.699396] eth0: link up",
         {"program": "kernel", "pid": None, "action": "kernel", "message": "[  970.699396] eth0: link up"}),
        ("Mar  3 10:00:01.250 host sshd[7]: fractional", {"ts": utc(2026, 3, 3, 10, 0, 1, 250000)}),
        ("Mar  3 10:00:01 host sshd[7]:", {"message": "", "action": "sshd_other"}),
        ("Mar  3 10:00:01 ::1 sshd[7]: ipv6 host", {"host": "::1", "program": "sshd", "message": "ipv6 host"}),
    ],
)
def test_header_variants(line: str, expect: dict[str, Any]) -> None:
    r = one(line, mtime_year=2026, mtime_month=12)
    assert r["_reject"] is None and r["_skip"] is None
    check(r, expect)


def test_year_from_mtime() -> None:
    # a December line in a file written in January is from the year before
    assert one(HDR.replace("Mar  3", "Dec 31") + "x", mtime_year=2027, mtime_month=1)["ts"] == utc(2026, 12, 31, 10, 0, 1)
    # a March line in a file written in December is from that year
    assert one(HDR + "x", mtime_year=2026, mtime_month=12)["ts"] == utc(2026, 3, 3, 10, 0, 1)
    # same month: same year
    assert one(HDR + "x", mtime_year=2026, mtime_month=3)["ts"] == utc(2026, 3, 3, 10, 0, 1)
    # Feb 29 exists in the inferred year only if it is a leap year
    assert one("Feb 29 10:00:00 h sshd[1]: x", mtime_year=2024, mtime_month=3)["ts"] == utc(2024, 2, 29, 10, 0, 0)


def test_naive_timestamps_are_local_time_in_tz() -> None:
    r = one(HDR + "x", mtime_year=2026, mtime_month=12, tz="Europe/Paris")
    assert r["ts"] == utc(2026, 3, 3, 9, 0, 1)
    r = one("Jul 20 14:42:11 h sshd[1]: x", mtime_year=2005, mtime_month=8, tz="Europe/Zurich")
    assert r["ts"] == utc(2005, 7, 20, 12, 42, 11)
    assert one("2015-04-16T18:02:50 host sshd[1]: x", tz="America/New_York")["ts"] == utc(2015, 4, 16, 22, 2, 50)
    # an explicit offset wins over tz
    assert one("2015-04-16T18:02:50+00:00 host sshd[1]: x", tz="America/New_York")["ts"] == utc(2015, 4, 16, 18, 2, 50)


def test_crlf_is_stripped() -> None:
    data = (HDR + "Failed password for root from 10.0.0.1 port 22 ssh2\r\n" + HDR + "x\r\n").encode()
    lines = decode_lines(data, 1).column("line").to_pylist()
    assert lines == [HDR + "Failed password for root from 10.0.0.1 port 22 ssh2", HDR + "x"]
    rows = parse(lines)
    assert rows[0]["raw"].endswith("ssh2") and rows[0]["src_port"] == 22
    assert rows[1]["message"] == "x"
    # a CR left inside parse_lines' input is stripped the same way
    assert one(HDR + "x\r")["message"] == "x"


def test_comment_skip_garbage_reject_and_bad_date() -> None:
    rows = parse([
        "# comment line",
        "#",
        "not a syslog line",
        "Feb 30 10:00:00 host sshd[1]: no such day",
        "Foo  3 10:00:00 host sshd[1]: no such month",
        HDR + "ok",
    ])
    assert [r["_skip"] for r in rows] == ["comment line", "comment line", None, None, None, None]
    assert [r["_reject"] for r in rows] == [None, None, REJECT_NO_HEADER, REJECT_BAD_TS, REJECT_BAD_TS, None]
    assert rows[2]["raw"] == "not a syslog line"
    assert rows[5]["action"] == "sshd_other"


def test_every_line_comes_out_once() -> None:
    lines = [HDR + "x", "", "garbage", "# c", "   ", HDR + "y"]
    rows = parse(lines)
    assert len(rows) == len(lines)
    assert [bool(r["_skip"]) for r in rows] == [False, True, False, True, True, False]


# --- the sshd vocabulary -------------------------------------------------------------------------

FAMILIES: list[tuple[str, dict[str, Any]]] = [
    # failed / accepted authentication
    ("Failed password for root from 203.0.113.7 port 52211 ssh2",
     {"action": "auth_password", "outcome": "failure", "user": "root", "src_ip": "203.0.113.7", "src_port": 52211, "auth_method": "password"}),
    ("Failed password for invalid user ROOT from 194.117.26.69 port 50273 ssh2",
     {"action": "auth_password", "outcome": "failure", "user": "ROOT", "src_ip": "194.117.26.69", "src_port": 50273}),
    ("Failed password for invalid user ROOT from aaaa:bbbb:cccc:1234::1:1",
     {"action": "auth_password", "user": "ROOT", "src_ip": "aaaa:bbbb:cccc:1234::1:1", "src_port": None}),
    ("Failed password for illegal user x from 10.0.0.1 port 1 ssh2", {"action": "auth_password", "user": "x"}),
    ("Failed publickey for git from 192.0.2.1 port 57904 ssh2: ECDSA 0e:ff:xx",
     {"action": "auth_publickey", "outcome": "failure", "user": "git", "src_ip": "192.0.2.1", "auth_method": "publickey"}),
    ("Failed publickey for invalid user graysky from 127.0.0.1 port 37954 ssh2: RSA SHA256:v3dpapGleDaUKf$4V1v",
     {"action": "auth_publickey", "user": "graysky", "src_ip": "127.0.0.1", "src_port": 37954}),
    ("Failed keyboard-interactive/pam for invalid user jamedds from 205.186.180.77 port 33723 ssh2",
     {"action": "auth_keyboard_interactive", "user": "jamedds", "auth_method": "keyboard-interactive/pam"}),
    ("Failed keyboard-interactive for <invalid username> from 205.186.180.55 port 42742 ssh2",
     {"action": "auth_keyboard_interactive", "user": "<invalid username>", "src_ip": "205.186.180.55"}),
    ("Failed hostbased for dan from 127.0.0.1 port 45785 ssh2: RSA 8c:e3, client user \"dan\", client host \"localhost\"",
     {"action": "auth_hostbased", "outcome": "failure", "user": "dan", "src_ip": "127.0.0.1", "src_port": 45785}),
    ("Failed none for invalid user admin from 103.99.0.122 port 52626 ssh2",
     {"action": "auth_none", "outcome": "failure", "user": "admin", "auth_method": "none"}),
    ("Failed unknown for invalid user redmond from 192.0.2.1 port 59197 ssh2",
     {"action": "auth_other", "outcome": "failure", "user": "redmond", "auth_method": "unknown"}),
    ("Failed gssapi-with-mic for bob from 10.1.1.1 port 22 ssh2", {"action": "auth_other", "auth_method": "gssapi-with-mic"}),
    ("Failed password for dan from 127.0.0.1 port 45416 ssh1", {"action": "auth_password", "src_port": 45416}),
    ("Failed password for root from 10.0.0.1 port 22 ssh2 [preauth]", {"action": "auth_password", "src_ip": "10.0.0.1"}),
    ("Failed password for root from ::ffff:10.0.0.9 port 22 ssh2", {"src_ip": "10.0.0.9"}),
    ("Failed password for root from 10.0.0.1 port 22 on 10.0.0.254 port 2222 ssh2", {"src_ip": "10.0.0.1", "src_port": 22}),
    ("Accepted password for fztu from 119.137.62.142 port 49116 ssh2",
     {"action": "auth_password", "outcome": "success", "user": "fztu", "src_ip": "119.137.62.142", "src_port": 49116}),
    ("Accepted publickey for deploy from 2001:db8::7 port 50100 ssh2: ED25519 SHA256:abc",
     {"action": "auth_publickey", "outcome": "success", "user": "deploy", "src_ip": "2001:db8::7", "auth_method": "publickey"}),
    ("Accepted keyboard-interactive/pam for alice from 10.2.3.4 port 1000 ssh2",
     {"action": "auth_keyboard_interactive", "outcome": "success", "user": "alice"}),
    ("Postponed publickey for git from 192.0.2.1 port 57904 ssh2 [preauth]",
     {"action": "auth_postponed", "outcome": None, "user": "git", "src_ip": "192.0.2.1", "src_port": 57904}),
    # invalid users
    ("Invalid user ftp from 192.0.2.1", {"action": "invalid_user", "outcome": "failure", "user": "ftp", "src_ip": "192.0.2.1", "src_port": None}),
    ("Invalid user webmaster from 173.234.31.186 port 38926",
     {"action": "invalid_user", "outcome": "failure", "user": "webmaster", "src_ip": "173.234.31.186", "src_port": 38926}),
    ("Illegal user test from 10.0.0.2", {"action": "invalid_user", "user": "test", "src_ip": "10.0.0.2"}),
    ("Invalid user  from 192.0.2.68 port 34916", {"action": "invalid_user", "user": None, "src_ip": "192.0.2.68"}),
    ("input_userauth_request: invalid user webmaster [preauth]",
     {"action": "invalid_user", "outcome": "failure", "user": "webmaster", "src_ip": None}),
    # PAM
    ("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=173.234.31.186",
     {"action": "pam_auth_failure", "outcome": "failure", "src_ip": "173.234.31.186", "user": None}),
    ("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.112  user=root",
     {"action": "pam_auth_failure", "outcome": "failure", "src_ip": "192.0.2.112", "user": "root"}),
    ("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser=sudoer rhost=192.0.2.114",
     {"action": "pam_auth_failure", "user": "sudoer", "src_ip": "192.0.2.114"}),
    ("PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=183.62.140.253  user=root",
     {"action": "pam_auth_failure", "outcome": "failure", "user": "root", "src_ip": "183.62.140.253"}),
    ("pam_sss(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.9.9.9 user=bob",
     {"action": "pam_auth_failure", "user": "bob", "src_ip": "10.9.9.9"}),
    ("error: PAM: Authentication failure for myhlj1374 from 192.030.0.6",
     {"action": "pam_auth_failure", "outcome": "failure", "user": "myhlj1374", "src_ip": "192.030.0.6"}),
    ("error: PAM: authentication error for james from example.com via 192.168.1.201",
     {"action": "pam_auth_failure", "user": "james", "src_ip": "example.com"}),
    ("error: PAM: User not known to the underlying authentication module for illegal user kernelitshell from 10.215.4.227 ",
     {"action": "pam_auth_failure", "outcome": "failure", "user": "kernelitshell", "src_ip": "10.215.4.227"}),
    ("pam_unix(sshd:auth): check pass; user unknown", {"action": "sshd_other", "outcome": None}),
    ("PAM service(sshd) ignoring max retries; 6 > 3", {"action": "sshd_other", "outcome": None}),
    # too many attempts
    ("error: maximum authentication attempts exceeded for root from 61.0.0.1 port 49940 ssh2 [preauth]",
     {"action": "max_auth_exceeded", "outcome": "failure", "user": "root", "src_ip": "61.0.0.1", "src_port": 49940}),
    ("error: maximum authentication attempts exceeded for invalid user xxx from 192.0.2.7 port 49941 ssh2 [preauth]",
     {"action": "max_auth_exceeded", "user": "xxx", "src_ip": "192.0.2.7"}),
    ("Disconnecting: Too many authentication failures for root [preauth]",
     {"action": "max_auth_exceeded", "outcome": "failure", "user": "root", "src_ip": None}),
    ("Disconnecting: Too many authentication failures [preauth]", {"action": "max_auth_exceeded", "outcome": "failure", "user": None}),
    ("Disconnecting invalid user xxx 192.0.2.7 port 49941: Too many authentication failures [preauth]",
     {"action": "max_auth_exceeded", "user": "xxx", "src_ip": "192.0.2.7", "src_port": 49941}),
    # refused / not allowed
    ("ROOT LOGIN REFUSED FROM 1.2.3.4", {"action": "root_login_refused", "outcome": "failure", "user": "root", "src_ip": "1.2.3.4"}),
    ("ROOT LOGIN REFUSED FROM ::ffff:1.2.3.4", {"action": "root_login_refused", "src_ip": "1.2.3.4"}),
    ("ROOT LOGIN REFUSED FROM 1.2.3.4 port 12345 [preauth]", {"src_ip": "1.2.3.4", "src_port": 12345}),
    ("User root from 46.45.128.3 not allowed because listed in DenyUsers",
     {"action": "user_not_allowed", "outcome": "failure", "user": "root", "src_ip": "46.45.128.3"}),
    ("User root from example.com not allowed because not listed in AllowUsers", {"action": "user_not_allowed", "src_ip": "example.com"}),
    ("User allena from example.com not allowed because not in any group", {"action": "user_not_allowed", "user": "allena"}),
    ("User root from 192.51.100.54 not allowed because a group is listed in DenyGroups", {"src_ip": "192.51.100.54"}),
    ("User root from 10.0.0.40 not allowed because none of user's groups are listed in AllowGroups", {"src_ip": "10.0.0.40"}),
    ("User root not allowed because account is locked", {"action": "user_not_allowed", "outcome": "failure", "user": "root", "src_ip": None}),
    ("User bob from 10.0.0.41 not allowed because shell /bin/nope does not exist", {"user": "bob", "src_ip": "10.0.0.41"}),
    ("refused connect from _U2FsdGVkX19P3BCJmFBHhjLza8BcMH06WCUVwttMHpE=_@::ffff:218.249.210.161 (::ffff:218.249.210.161)",
     {"action": "connection_refused", "outcome": "failure", "src_ip": "218.249.210.161"}),
    ("refused connect from evil.example (203.0.113.99)", {"action": "connection_refused", "src_ip": "203.0.113.99"}),
    # pre-authentication noise
    ("Did not receive identification string from 69.61.56.114", {"action": "no_ident", "outcome": "failure", "src_ip": "69.61.56.114"}),
    ("Did not receive identification string from 192.0.2.5 port 35836", {"action": "no_ident", "src_ip": "192.0.2.5", "src_port": 35836}),
    ("Bad protocol version identification 'dummy string' from 69.61.56.115 port 31778",
     {"action": "bad_protocol", "outcome": "failure", "src_ip": "69.61.56.115", "src_port": 31778}),
    ("error: kex_exchange_identification: Connection closed by remote host", {"action": "kex_error", "outcome": "failure", "src_ip": None}),
    ("error: kex_exchange_identification: client sent invalid protocol identifier \"\"", {"action": "kex_error"}),
    ("error: kex_exchange_identification: banner line too long", {"action": "kex_error"}),
    ("banner exchange: Connection from 192.0.2.12 port 44105: invalid format",
     {"action": "kex_error", "outcome": "failure", "src_ip": "192.0.2.12", "src_port": 44105}),
    ("ssh_dispatch_run_fatal: Connection from 192.0.2.13 port 33738: message authentication code incorrect [preauth]",
     {"action": "kex_error", "outcome": "failure", "src_ip": "192.0.2.13", "src_port": 33738}),
    ("ssh_dispatch_run_fatal: Connection from authenticating user root 192.0.2.14 port 40000: Broken pipe [preauth]",
     {"action": "kex_error", "user": "root", "src_ip": "192.0.2.14"}),
    ("ssh_dispatch_run_fatal: Connection from user deploy 192.0.2.15 port 40001: Broken pipe",
     {"action": "kex_error", "outcome": None, "user": "deploy", "src_ip": "192.0.2.15"}),
    ("Unable to negotiate with 192.0.2.1 port 55419: no matching cipher found. Their offer: aes256-cbc [preauth]",
     {"action": "negotiation_failed", "outcome": "failure", "src_ip": "192.0.2.1", "src_port": 55419}),
    ("fatal: Unable to negotiate with 2001:db8::9 port 55420: no matching key exchange method found. Their offer: x",
     {"action": "negotiation_failed", "src_ip": "2001:db8::9", "src_port": 55420}),
    ("fatal: Unable to negotiate a key exchange method [preauth]", {"action": "negotiation_failed", "outcome": "failure", "src_ip": None}),
    ("fatal: no matching mac found: client hmac-xxx server hmac-yyy [preauth]", {"action": "negotiation_failed"}),
    ("fatal: Timeout before authentication for 192.0.2.14 port 55555",
     {"action": "preauth_timeout", "outcome": "failure", "src_ip": "192.0.2.14", "src_port": 55555}),
    ("Timeout before authentication for connection from 192.0.2.17 to 127.0.0.1, pid = 29098",
     {"action": "preauth_timeout", "src_ip": "192.0.2.17", "dst_ip": "127.0.0.1"}),
    ("fatal: Read from socket failed: Connection reset by peer [preauth]",
     {"action": "preauth_close", "outcome": "failure", "src_ip": None}),
    ("fatal: Write failed: Connection reset by peer [preauth]", {"action": "preauth_close", "outcome": "failure"}),
    ("Connection reset by peer", {"action": "disconnect", "outcome": None, "src_ip": None}),
    # closes and disconnects
    ("Connection closed by 61.0.0.1 [preauth]", {"action": "preauth_close", "outcome": "failure", "src_ip": "61.0.0.1", "src_port": None}),
    ("Connection closed by 192.0.2.5", {"action": "disconnect", "outcome": None, "src_ip": "192.0.2.5"}),
    ("Connection closed by 192.0.2.15 port 35352", {"action": "disconnect", "outcome": None, "src_port": 35352}),
    ("Connection reset by 192.0.2.39 port 14282 [preauth]", {"action": "preauth_close", "outcome": "failure", "src_ip": "192.0.2.39"}),
    ("Connection closed by authenticating user root 192.0.2.10 port 46038 [preauth]",
     {"action": "preauth_close", "outcome": "failure", "user": "root", "src_ip": "192.0.2.10", "src_port": 46038}),
    ("Connection reset by authenticating user root 192.0.2.20 port 1558 [preauth]",
     {"action": "preauth_close", "user": "root", "src_ip": "192.0.2.20", "src_port": 1558}),
    ("Connection closed by invalid user  192.0.2.68 port 34916 [preauth]",
     {"action": "preauth_close", "user": None, "src_ip": "192.0.2.68", "src_port": 34916}),
    ("Connection closed by invalid user admin 2001:db8::1 port 5 [preauth]", {"user": "admin", "src_ip": "2001:db8::1"}),
    ("Received disconnect from 198.51.100.76 port 58846:11: Bye Bye [preauth]",
     {"action": "preauth_close", "outcome": "failure", "src_ip": "198.51.100.76", "src_port": 58846}),
    ("error: Received disconnect from 198.51.100.34: 11: Bye Bye [preauth]", {"action": "preauth_close", "src_ip": "198.51.100.34", "src_port": None}),
    ("Received disconnect from 89.24.13.192: 3: com.jcraft.jsch.JSchException: Auth fail",
     {"action": "disconnect", "outcome": "failure", "src_ip": "89.24.13.192"}),
    ("Received disconnect from 10.0.0.5 port 50000:11: disconnected by user",
     {"action": "disconnect", "outcome": None, "src_ip": "10.0.0.5", "src_port": 50000}),
    ("Received disconnect from 2001:db8::5: 11: bye", {"action": "disconnect", "src_ip": "2001:db8::5"}),
    ("Disconnected from 192.0.2.4 port 36985 [preauth]", {"action": "preauth_close", "outcome": "failure", "src_ip": "192.0.2.4"}),
    ("Disconnected from user deploy 10.0.0.8 port 50123", {"action": "disconnect", "outcome": None, "user": "deploy", "src_ip": "10.0.0.8"}),
    ("Disconnected from authenticating user root 192.0.2.6 port 33553 [preauth]",
     {"action": "preauth_close", "outcome": "failure", "user": "root", "src_ip": "192.0.2.6", "src_port": 33553}),
    ("Disconnected from invalid user admin 192.0.2.7 port 33554 [preauth]", {"action": "preauth_close", "user": "admin"}),
    ("Disconnecting invalid user admin 192.0.2.117 port 44004: Change of username or service not allowed: (admin,ssh-connection) -> (user,ssh-connection) [preauth]",
     {"action": "preauth_close", "outcome": "failure", "user": "admin", "src_ip": "192.0.2.117", "src_port": 44004}),
    ("Disconnecting user deploy 10.0.0.8 port 50123: oops", {"action": "disconnect", "outcome": None, "user": "deploy"}),
    # connections, sessions
    ("Connection from 192.0.2.10 port 62004 on 192.0.2.11 port 22",
     {"action": "connect", "outcome": None, "src_ip": "192.0.2.10", "src_port": 62004, "dst_ip": "192.0.2.11", "dst_port": 22, "user": None}),
    ("Connection from 192.0.2.16 port 51280 on 192.0.2.16 port 22 rdomain \"\"", {"action": "connect", "dst_port": 22}),
    ("Connection from 115.249.163.77 port 51353", {"action": "connect", "src_port": 51353, "dst_ip": None}),
    ("pam_unix(sshd:session): session opened for user rda by (uid=0)", {"action": "session_open", "outcome": None, "user": "rda"}),
    ("pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)", {"action": "session_open", "user": "deploy"}),
    ("pam_unix(sshd:session): session closed for user fztu", {"action": "session_close", "user": "fztu"}),
    ("session opened for user test by (uid=508)", {"action": "session_open", "user": "test"}),
    # break-in attempts
    ("reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
     {"action": "break_in_attempt", "outcome": None, "src_ip": "173.234.31.186"}),
    ("Address 1.2.3.4 maps to 1234.bbbbbb.com, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!",
     {"action": "break_in_attempt", "src_ip": "1.2.3.4"}),
    # audit lines, repeats, the rest
    ("SSH: Server;Ltype: Version;Remote: 127.0.0.1-1780;Protocol: 2.0;Client: libssh2_1.4.3",
     {"action": "sshd_other", "src_ip": "127.0.0.1", "src_port": 1780}),
    ("message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]",
     {"action": "auth_password", "outcome": "failure", "user": "root", "src_ip": "5.36.59.76", "src_port": 42393,
      "message": "message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]"}),
    ("Server listening on 0.0.0.0 port 22.", {"action": "sshd_other", "outcome": None, "src_ip": None}),
    ("Received signal 15; terminating.", {"action": "sshd_other"}),
]


@pytest.mark.parametrize("message, expect", FAMILIES, ids=[m[:60] for m, _ in FAMILIES])
def test_sshd_families(message: str, expect: dict[str, Any]) -> None:
    r = one(HDR + message)
    check(r, {"program": "sshd", "pid": 4242, "host": "bastion", "ts": utc(2026, 3, 3, 10, 0, 1), "_reject": None})
    check(r, expect)


@pytest.mark.parametrize(
    "message, user, ip, port",
    [
        # user names and auth info that hold "from ADDR port N" must not move the address
        ("Failed password for invalid user test from 10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2",
         "test from 10.10.1.2 port 55555 ssh2", "127.0.0.1", 58946),
        ("Failed password for invalid user test from 127.0.0.1 port 58946 ssh2: from 10.10.1.2 port 55555 ssh2",
         "test", "127.0.0.1", 58946),
        ("Failed password for invalid user from 10.10.1.1 from 127.0.0.1 port 58946 ssh2", "from 10.10.1.1", "127.0.0.1", 58946),
        ("Failed password for user from 127.0.0.1 port 20000 ssh1: ruser XXXX from 1.2.3.4", "user", "127.0.0.1", 20000),
        ("Bad protocol version identification 'dummy string' from 192.0.2.1' from 69.61.56.115 port 31778",
         None, "69.61.56.115", 31778),
        ("Connection closed by authenticating user test 127.0.0.1 port 12345 192.0.2.11 port 46039 [preauth]",
         "test 127.0.0.1 port 12345", "192.0.2.11", 46039),
        ("Connection closed by authenticating user test 127.0.0.1 192.0.2.11 port 46039 [preauth]",
         "test 127.0.0.1", "192.0.2.11", 46039),
        ("Invalid user a from 9.9.9.9 from 10.0.0.3 port 22", "a from 9.9.9.9", "10.0.0.3", 22),
        ("User a from 9.9.9.9 not allowed because b from 10.0.0.4 not allowed because listed in DenyUsers",
         "a from 9.9.9.9 not allowed because b", "10.0.0.4", None),
        ("Accepted password for x from 6.6.6.6 port 1 ssh2 from 10.0.0.5 port 2 ssh2", "x from 6.6.6.6 port 1 ssh2", "10.0.0.5", 2),
        ("Disconnected from user x 6.6.6.6 port 1 10.0.0.6 port 2", "x 6.6.6.6 port 1", "10.0.0.6", 2),
        ("error: PAM: Authentication failure for a from 6.6.6.6 from 10.0.0.7", "a from 6.6.6.6", "10.0.0.7", None),
    ],
)
def test_username_injection(message: str, user: str | None, ip: str, port: int | None) -> None:
    r = one(HDR + message)
    check(r, {"user": user, "src_ip": ip, "src_port": port})


def test_hostile_text_is_data() -> None:
    nasty = "Failed password for invalid user x'); DROP TABLE events; -- [bold]\x1b[31m from 10.0.0.1 port 22 ssh2"
    r = one(HDR + nasty)
    check(r, {"action": "auth_password", "user": "x'); DROP TABLE events; -- [bold]\x1b[31m", "src_ip": "10.0.0.1"})
    # invalid UTF-8 and NUL bytes arrive escaped (decode_lines) and stay as logged
    data = (HDR + "Invalid user \xff\x00bob from 10.0.0.2\n").encode("latin-1")
    lines = decode_lines(data, 1).column("line").to_pylist()
    r = parse(lines)[0]
    check(r, {"action": "invalid_user", "user": "\\xff\\x00bob", "src_ip": "10.0.0.2"})
    long_user = "u" * 5000
    check(one(HDR + f"Invalid user {long_user} from 10.0.0.3 port 1"), {"user": long_user, "src_ip": "10.0.0.3"})


def test_address_comes_from_the_earlier_line_of_the_same_connection() -> None:
    rows = parse([
        "Feb 12 04:09:17 h sshd[26713]: Disconnecting: Too many authentication failures [preauth]",  # nothing earlier
        "Feb 12 04:09:18 h sshd[26713]: Connection from 115.249.163.77 port 51353 on 127.0.0.1 port 22",
        "Feb 12 04:09:19 h sshd[26714]: Disconnecting: Too many authentication failures [preauth]",  # other pid
        "Feb 12 04:09:20 other sshd[26713]: Disconnecting: Too many authentication failures [preauth]",  # other host
        "Feb 12 04:09:21 h sshd[26713]: Disconnecting: Too many authentication failures [preauth]",
        "Feb 12 04:09:22 h CRON[26713]: (root) CMD (true)",  # other program: never filled
        "Feb 12 04:09:23 h sshd[26713]: pam_unix(sshd:session): session closed for user root",
    ])
    assert [(r["src_ip"], r["src_port"]) for r in rows] == [
        (None, None), ("115.249.163.77", 51353), (None, None), (None, None),
        ("115.249.163.77", 51353), (None, None), ("115.249.163.77", 51353),
    ]
    assert rows[4]["action"] == "max_auth_exceeded" and rows[4]["outcome"] == "failure"


def test_fill_takes_the_latest_address_when_a_pid_is_reused() -> None:
    rows = parse([
        "Mar  3 10:00:01 h sshd[7]: Connection from 1.1.1.1 port 11 on 9.9.9.9 port 22",
        "Mar  3 10:00:02 h sshd[7]: input_userauth_request: invalid user bob [preauth]",
        "Mar  3 10:01:00 h sshd[7]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=2.2.2.2  user=root",
        "Mar  3 10:01:01 h sshd[7]: Disconnecting: Too many authentication failures [preauth]",
        "Mar  3 10:01:02 h sshd[7]: Received disconnect from 2.2.2.2 port 22:11: Bye [preauth]",
        "Mar  3 10:01:03 h sshd[7]: fatal: Read from socket failed: Connection reset by peer [preauth]",
        "Nov 23 21:50:19 sshd[8148]: Connection from 3.3.3.3 port 33 on 9.9.9.9 port 22",  # no host
        "Nov 23 21:50:20 sshd[8148]: error: kex_exchange_identification: Connection closed by remote host",
    ], mtime_year=2026, mtime_month=12)
    assert [(r["src_ip"], r["src_port"]) for r in rows] == [
        ("1.1.1.1", 11), ("1.1.1.1", 11), ("2.2.2.2", None), ("2.2.2.2", None), ("2.2.2.2", 22), ("2.2.2.2", 22),
        ("3.3.3.3", 33), ("3.3.3.3", 33),
    ]


# --- other programs ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "line, expect",
    [
        ("Mar  3 10:05:01 b CRON[4242]: (root) CMD (cd / && run-parts --report /etc/cron.hourly)",
         {"program": "CRON", "action": "cron", "user": "root", "outcome": None}),
        ("Mar  3 10:05:01 b CRON[4242]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
         {"program": "CRON", "action": "session_open", "user": "root"}),
        ("Mar  3 10:05:02 b cron[99]: (CRON) INFO (pidfile fd = 3)", {"action": "cron", "user": "CRON"}),
        ("Mar  3 10:06:00 b sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash",
         {"program": "sudo", "action": "sudo", "user": "alice", "outcome": None}),
        ("Mar  3 10:06:01 b sudo:      bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/sh",
         {"action": "sudo", "user": "bob", "outcome": "failure"}),
        ("Mar  3 10:06:02 b sudo:      eve : user NOT in sudoers ; TTY=pts/2 ; PWD=/ ; USER=root ; COMMAND=/bin/sh",
         {"action": "sudo", "user": "eve", "outcome": "failure"}),
        ("Mar  3 10:06:03 b sudo: pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 euid=0 tty=/dev/pts/1 ruser=bob rhost=  user=bob",
         {"action": "pam_auth_failure", "outcome": "failure", "user": "bob", "src_ip": None}),
        ("Mar  3 10:06:04 b sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
         {"action": "session_open", "user": "root"}),
        ("Mar  3 10:07:00 b su[5000]: (to root) alice on pts/0", {"program": "su", "action": "su", "outcome": None}),
        ("Mar  3 10:07:01 b su[5001]: FAILED SU (to root) mallory on pts/3", {"action": "su", "outcome": "failure"}),
        ("Jun 15 04:06:18 combo su(pam_unix)[21416]: session closed for user cyrus",
         {"program": "su", "action": "session_close", "user": "cyrus"}),
        ("Mar  3 10:08:00 b systemd-logind[812]: New session 42 of user alice.",
         {"program": "systemd-logind", "action": "logind", "user": "alice"}),
        ("Mar  3 10:08:01 b systemd-logind[812]: Removed session 42.", {"action": "logind", "user": None}),
        ("Jul 27 14:41:57 combo kernel: Linux version 2.6.5-1.358", {"program": "kernel", "action": "kernel"}),
        ("Jun 14 15:16:02 combo gdm(pam_unix)[2803]: authentication failure; logname= uid=0 euid=0 tty=:0 ruser= rhost= ",
         {"program": "gdm", "action": "pam_auth_failure", "src_ip": None}),
        ("Jun 17 07:07:00 combo ftpd[29504]: connection from 24.54.76.216 (x.adelphia.net) at Fri Jun 17 07:07:00 2005 ",
         {"program": "ftpd", "action": "syslog", "outcome": None, "src_ip": None}),
        ("Mar  3 10:09:00 b nginx: something", {"program": "nginx", "pid": None, "action": "syslog"}),
    ],
)
def test_other_programs(line: str, expect: dict[str, Any]) -> None:
    r = one(line)
    assert r["_reject"] is None
    check(r, expect)


# --- the vocabulary as data --------------------------------------------------------------------

def _corpus() -> list[str]:
    msgs = [m for m, _ in FAMILIES]
    msgs += [
        "Failed password for root from 10.0.0.1 port 22 ssh2",
        "Failed password for invalid user a b from 10.0.0.1 port 22 ssh2",
        "Accepted publickey for x from 10.0.0.1 port 22 ssh2: RSA SHA256:a:b:c",
        "Invalid user  from 10.0.0.1 port 22",
        "Connection closed by invalid user x y 10.0.0.1 port 22 [preauth]",
        "Received disconnect from 10.0.0.1 port 2:11: a: b: c [preauth]",
        "Disconnecting: Too many authentication failures for a b [preauth]",
        "input_userauth_request: invalid user a b [preauth]",
    ]
    return [m.removeprefix("error: ").removeprefix("fatal: ").rstrip() for m in msgs]


def test_fast_regexes_agree_with_the_full_ones() -> None:
    """Where a rule's one-pass regex matches, it must capture what the full regex captures."""
    con = duckdb.connect()
    con.execute("CREATE TABLE m AS SELECT unnest($m) AS m", {"m": _corpus()})
    checked = 0
    for rule in vocab.RULES:
        if rule.fast is None:
            continue
        rows = con.execute(
            f"SELECT m, {vocab._extract('m', rule, rule.fast)} = {vocab._extract('m', rule, rule.regex)} "
            f"FROM m WHERE regexp_matches(m, {vocab.sql_str(rule.fast)})"
        ).fetchall()
        assert rows, f"no corpus message exercises the fast regex of {rule.name}"
        for m, same in rows:
            assert same, (rule.name, m)
        checked += len(rows)
    assert checked > 20


def test_rules_are_well_formed() -> None:
    names = [r.name for r in vocab.RULES]
    assert len(names) == len(set(names))
    actions = {r.action for r in vocab.RULES}
    for a in ("invalid_user", "pam_auth_failure", "max_auth_exceeded", "root_login_refused", "user_not_allowed",
              "connection_refused", "no_ident", "bad_protocol", "kex_error", "negotiation_failed",
              "preauth_timeout", "disconnect", "connect", "session_open", "session_close", "break_in_attempt",
              "cron", "sudo", "su", "logind", "kernel"):
        assert a in actions, a
    for r in vocab.RULES:
        if r.regex is not None:
            assert r.regex.startswith("^") or r.name in ("sudo", "sudo_failure", "su_failure", "su_success", "logind_user")


# --- detection ---------------------------------------------------------------------------------

def test_detect() -> None:
    assert FMT.detect([HDR + "Failed password for root from 10.0.0.1 port 22 ssh2"] * 5) == 1.0
    assert FMT.detect(["# comment", HDR + "x", "Nov 23 21:50:19 sshd[8148]: y"]) == 1.0
    assert FMT.detect(["<38>1 2019-07-08T17:40:16.954167-04:00 h sshd 57915 - - m"]) == 1.0
    assert FMT.detect(["2015-04-16T18:02:50.321974+00:00 host sshd[2716]: m"]) == 1.0
    not_syslog = [
        '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 203 "-" "Mozilla/5.0"',
        "1320279566.452687\tCjhGID4nQcgTWjvg4c\t10.0.0.2\t48649\t208.78.71.136\t53\tudp\tdns",
        "#separator \\x09",
        '{"ts":1320279566.452687,"uid":"C1","id.orig_h":"10.0.0.2","id.orig_p":48649,"proto":"udp"}',
        '{"timestamp":"2023-09-10T10:00:00.000000+0000","event_type":"alert","src_ip":"1.2.3.4","alert":{"signature":"x"}}',
        '{"__REALTIME_TIMESTAMP":"1534860261221373","_HOSTNAME":"h","MESSAGE":"m"}',
        "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
        "2024/01/01 10:00:00 [error] 123#0: *1 open() failed",
    ]
    assert FMT.detect(not_syslog) == 0.0
    assert FMT.detect([]) == 0.0


# --- speed -------------------------------------------------------------------------------------

def test_parse_speed_on_generated_auth_log() -> None:
    """200k auth.log lines go through run_format with the right counts; the time bound is loose
    (shared CI machines): it catches a pathological plan, not a few percent."""
    n = 200_000
    con = duckdb.connect()
    chunk = con.sql(
        f"""SELECT i AS line_no, printf('Mar %2d %02d:%02d:%02d bastion %s', 1 + i % 28, i % 24, i % 60, i % 60,
          CASE i % 8
            WHEN 0 THEN printf('sshd[%d]: Failed password for root from 10.0.%d.%d port %d ssh2', i // 8, i % 250, i % 200, 1024 + i % 60000)
            WHEN 1 THEN printf('sshd[%d]: Invalid user u%d from 10.1.%d.%d port %d', i // 8, i % 999, i % 250, i % 200, 1024 + i % 60000)
            WHEN 2 THEN printf('sshd[%d]: Failed password for invalid user u%d from 10.1.%d.%d port %d ssh2', i // 8, i % 999, i % 250, i % 200, 1024 + i % 60000)
            WHEN 3 THEN printf('sshd[%d]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.2.%d.%d  user=root', i // 8, i % 250, i % 200)
            WHEN 4 THEN printf('sshd[%d]: Connection closed by 10.3.%d.%d port %d [preauth]', i // 8, i % 250, i % 200, 1024 + i % 60000)
            WHEN 5 THEN printf('sshd[%d]: Received disconnect from 10.4.%d.%d port %d:11: Bye Bye [preauth]', i // 8, i % 250, i % 200, 1024 + i % 60000)
            WHEN 6 THEN printf('sshd[%d]: Accepted publickey for deploy from 10.5.%d.%d port %d ssh2: RSA SHA256:abc', i // 8, i % 250, i % 200, 1024 + i % 60000)
            ELSE printf('CRON[%d]: (root) CMD (run-parts /etc/cron.hourly)', i)
          END) AS line FROM range(1, {n} + 1) t(i)"""
    ).to_arrow_table()
    ctx = FileContext(path="/var/log/auth.log", mtime_year=2026, mtime_month=3)
    t0 = time.perf_counter()
    run_format(con, FMT, ctx, chunk, 1 << 20)
    elapsed = time.perf_counter() - t0
    counts = dict(con.execute("SELECT action, count(*) FROM _parsed GROUP BY action").fetchall())
    assert counts == {
        "auth_password": n // 4, "invalid_user": n // 8, "pam_auth_failure": n // 8, "preauth_close": n // 4,
        "auth_publickey": n // 8, "cron": n // 8,
    }
    assert con.execute("SELECT count(*) FROM _parsed WHERE _reject IS NOT NULL OR ts IS NULL").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM _parsed WHERE action <> 'cron' AND src_ip IS NULL").fetchone() == (0,)
    assert elapsed < 30, f"{n} lines took {elapsed:.1f}s"
