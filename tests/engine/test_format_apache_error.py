"""The `apache_error` format: Apache 2.2 and 2.4 error logs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.formats import get_format, parse_lines
from engine.formats.apache_error import REJECT_SHAPE, REJECT_TS

FMT = get_format("apache_error")


def one(line: str, **kw: Any) -> dict[str, Any]:
    rows = parse_lines("apache_error", [line], **kw)
    assert len(rows) == 1
    return rows[0]


def check(row: dict[str, Any], expect: dict[str, Any]) -> None:
    assert {k: row.get(k) for k in expect} == dict(expect), row["raw"]


@pytest.mark.parametrize("i", range(len(FMT.samples)))
def test_every_sample(i: int) -> None:
    s = FMT.samples[i]
    check(one(s.line, mtime_year=s.mtime_year, mtime_month=s.mtime_month), dict(s.expect))


def test_apache_22_notice() -> None:
    r = one("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties")
    check(r, {"action": "http_error", "ts": datetime(2005, 12, 4, 4, 47, 44, tzinfo=UTC), "pid": None,
              "src_ip": None, "src_port": None, "outcome": None, "format": "apache_error",
              "message": "[notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties", "_reject": None})


def test_apache_22_client() -> None:
    r = one("[Sat Jun 24 09:06:22 2006] [error] [client 216.65.221.202] File does not exist: /var/www/robots.txt")
    check(r, {"src_ip": "216.65.221.202", "src_port": None,
              "message": "[error] File does not exist: /var/www/robots.txt"})


def test_apache_24_full() -> None:
    r = one("[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:4022] "
            "AH00124: Request exceeded the limit of 10 internal redirects, referer: http://x/")
    check(r, {"ts": datetime(2000, 10, 11, 14, 32, 52, 123456, tzinfo=UTC), "pid": 35708, "src_ip": "72.15.99.187",
              "src_port": 4022,
              "message": "[core:error] AH00124: Request exceeded the limit of 10 internal redirects, referer: http://x/"})


def test_apache_24_php_and_ipv6() -> None:
    r = one("[Tue Mar 05 08:00:01.000001 2024] [:error] [pid 99] [client 2001:db8::7:51234] PHP Warning: x")
    check(r, {"pid": 99, "src_ip": "2001:db8::7", "src_port": 51234, "message": "[:error] PHP Warning: x"})
    # 2.2 has no port: an IPv6 address there keeps all its colons
    r = one("[Sun Dec 04 04:47:44 2005] [error] [client 2001:db8::7] x")
    check(r, {"src_ip": "2001:db8::7", "src_port": None})


def test_local_time_is_read_in_the_file_zone() -> None:
    r = one("[Sun Dec 04 04:47:44 2005] [notice] x", tz="America/New_York")
    assert r["ts"] == datetime(2005, 12, 4, 9, 47, 44, tzinfo=UTC)


def test_hostile_message_kept() -> None:
    msg = "[bold]x[/bold] \x1b[31m'; DROP TABLE events; --"
    r = one(f"[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] {msg}")
    assert r["message"] == f"[error] {msg}"


@pytest.mark.parametrize(
    "line,reason",
    [
        ("PHP Stack trace:", REJECT_SHAPE),
        ("PHP   1. {main}() /var/www/index.php:0", REJECT_SHAPE),
        ("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user x from 1.2.3.4", REJECT_SHAPE),
        ('1.2.3.4 - - [05/Mar/2024:08:00:09 +0000] "GET / HTTP/1.1" 200 1 "-" "-"', REJECT_SHAPE),
        ("[Sun Foo 04 04:47:44 2005] [notice] x", REJECT_TS),
        ("[Sun Feb 31 04:47:44 2005] [notice] x", REJECT_TS),
    ],
)
def test_rejects(line: str, reason: str) -> None:
    assert one(line)["_reject"] == reason


def test_detect() -> None:
    assert FMT.detect(["[Sun Dec 04 04:47:44 2005] [notice] x", "[Wed Oct 11 14:32:52.1 2000] [core:error] y"]) == 1.0
    assert FMT.detect(["Dec 10 06:55:46 LabSZ sshd[24200]: x"]) == 0.0
    assert FMT.detect(['{"__REALTIME_TIMESTAMP": "1", "MESSAGE": "x"}']) == 0.0
    assert FMT.detect(['1.2.3.4 - - [05/Mar/2024:08:00:09 +0000] "GET / HTTP/1.1" 200 1']) == 0.0
