"""The `access` format: nginx / Apache access logs, literal lines in, fields out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.formats import get_format, parse_lines
from engine.formats.access import REJECT_SHAPE, REJECT_TS

FMT = get_format("access")


def one(line: str, **kw: Any) -> dict[str, Any]:
    rows = parse_lines("access", [line], **kw)
    assert len(rows) == 1
    return rows[0]


def check(row: dict[str, Any], expect: dict[str, Any]) -> None:
    got = {k: row.get(k) for k in expect}
    assert got == dict(expect), row["raw"]


@pytest.mark.parametrize("i", range(len(FMT.samples)))
def test_every_sample(i: int) -> None:
    s = FMT.samples[i]
    check(one(s.line, mtime_year=s.mtime_year, mtime_month=s.mtime_month), dict(s.expect))


def test_combined_all_fields() -> None:
    r = one(
        '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/x.png?a=1&b=2 HTTP/1.1" 200 203023 '
        '"http://semicomplete.com/presentations/" "Mozilla/5.0 (Macintosh)"'
    )
    check(
        r,
        {
            "ts": datetime(2015, 5, 17, 10, 5, 3, tzinfo=UTC),
            "action": "http_request",
            "src_ip": "83.149.9.216",
            "user": None,
            "method": "GET",
            "path": "/presentations/x.png?a=1&b=2",
            "proto": "HTTP/1.1",
            "status": 200,
            "bytes": 203023,
            "referrer": "http://semicomplete.com/presentations/",
            "user_agent": "Mozilla/5.0 (Macintosh)",
            "host": None,
            "duration": None,
            "outcome": None,
            "line_no": 1,
            "format": "access",
            "_reject": None,
            "_skip": None,
        },
    )


def test_common_log_format_and_user_and_dash_bytes() -> None:
    r = one('127.0.0.1 user-identifier frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326')
    check(r, {"ts": datetime(2000, 10, 10, 20, 55, 36, tzinfo=UTC), "user": "frank", "status": 200, "bytes": 2326,
              "referrer": None, "user_agent": None, "proto": "HTTP/1.0"})
    # '-' bytes is 0 (Apache's %b writes '-' for no body), in both common and combined lines
    assert one('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "HEAD / HTTP/1.0" 304 -')["bytes"] == 0
    assert one('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "HEAD / HTTP/1.0" 304 - "-" "x"')["bytes"] == 0


@pytest.mark.parametrize(
    "stamp,utc",
    [
        ("17/May/2015:10:05:03 +0000", datetime(2015, 5, 17, 10, 5, 3, tzinfo=UTC)),
        ("22/Jan/2019:03:56:14 +0330", datetime(2019, 1, 22, 0, 26, 14, tzinfo=UTC)),
        ("31/Dec/2023:23:30:00 -0500", datetime(2024, 1, 1, 4, 30, tzinfo=UTC)),
        ("01/Jan/2024:00:15:00 +0100", datetime(2023, 12, 31, 23, 15, tzinfo=UTC)),
    ],
)
def test_timestamp_offsets(stamp: str, utc: datetime) -> None:
    assert one(f'1.2.3.4 - - [{stamp}] "GET / HTTP/1.1" 200 1 "-" "-"')["ts"] == utc


def test_timestamp_without_offset_uses_the_file_zone() -> None:
    r = one('1.2.3.4 - - [17/May/2015:10:05:03] "GET / HTTP/1.1" 200 1 "-" "-"', tz="Europe/Zurich")
    assert r["_reject"] is None
    assert r["ts"] == datetime(2015, 5, 17, 8, 5, 3, tzinfo=UTC)


def test_nginx_extra_fields() -> None:
    # lnav / zanbil.ir style: combined + "$http_x_forwarded_for"
    r = one('31.56.96.51 - - [22/Jan/2019:03:56:16 +0330] "GET /image/1 HTTP/1.1" 200 5667 "https://x/" "UA" "-"')
    check(r, {"user_agent": "UA", "referrer": "https://x/", "host": None, "duration": None, "_reject": None})
    # forwarded-for, vhost and rt=
    r = one('10.0.0.5 - - [05/Mar/2024:08:00:01 +0100] "POST /api HTTP/2.0" 401 52 "-" "py" "203.0.113.9, 10.0.0.1" '
            'shop.example.com rt=0.123 urt="0.120"')
    check(r, {"host": "shop.example.com", "duration": 0.123, "user_agent": "py", "status": 401})
    # request_time= and a host with a port
    r = one('10.0.0.5 - - [05/Mar/2024:08:00:01 +0000] "GET / HTTP/1.1" 200 5 "-" "py" host=api.example.com:8443 '
            'request_time=1.5')
    check(r, {"host": "api.example.com:8443", "duration": 1.5})
    # a bare float
    r = one('10.0.0.5 - - [05/Mar/2024:08:00:01 +0000] "GET / HTTP/1.1" 200 5 "-" "py" 0.004')
    check(r, {"duration": 0.004, "host": None})
    # common format followed by a request time
    r = one('10.0.0.5 - - [05/Mar/2024:08:00:01 +0000] "GET / HTTP/1.1" 200 5 0.25')
    check(r, {"duration": 0.25, "referrer": None, "user_agent": None, "_reject": None})
    # a float inside a quoted extra is not a request time
    r = one('10.0.0.5 - - [05/Mar/2024:08:00:01 +0000] "GET / HTTP/1.1" 200 5 "-" "py" "1.5"')
    check(r, {"duration": None})


def test_apache_vhost_combined() -> None:
    r = one('www.example.org:443 198.51.100.4 - alice [05/Mar/2024:08:00:03 +0000] "GET /x HTTP/1.1" 404 196 "-" "M"')
    check(r, {"host": "www.example.org:443", "src_ip": "198.51.100.4", "user": "alice", "status": 404})


@pytest.mark.parametrize(
    "request_text,method,path,proto",
    [
        ("GET / HTTP/1.1", "GET", "/", "HTTP/1.1"),
        ("PROPFIND /dav/ HTTP/1.1", "PROPFIND", "/dav/", "HTTP/1.1"),
        ("GET /index.html", "GET", "/index.html", None),
        ("GET /a b HTTP/1.0", "GET", "/a b", "HTTP/1.0"),
        ("-", None, "-", None),
        ("", None, "", None),
        ("/etc/passwd", None, "/etc/passwd", None),
        ("\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03", None, "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03", None),
        ("SSH-2.0-Go", None, "SSH-2.0-Go", None),
        ("get / HTTP/1.1", None, "get / HTTP/1.1", None),
    ],
)
def test_odd_requests_are_still_events(request_text: str, method: str | None, path: str, proto: str | None) -> None:
    r = one(f'45.95.147.236 - - [05/Mar/2024:08:00:04 +0000] "{request_text}" 400 157 "-" "-"')
    check(r, {"action": "http_request", "method": method, "path": path, "proto": proto, "status": 400,
              "_reject": None})


def test_escaped_quotes_inside_fields() -> None:
    r = one('198.51.100.9 - - [05/Mar/2024:08:00:08 +0000] "GET /q?id=1\\" OR \\"1\\"=\\"1 HTTP/1.1" 200 10 '
            '"http://r/\\"x" "sqlmap \\"x\\" \\\\" "-" rt=0.5')
    check(r, {"method": "GET", "path": '/q?id=1\\" OR \\"1\\"=\\"1', "proto": "HTTP/1.1", "status": 200,
              "bytes": 10, "referrer": 'http://r/\\"x', "user_agent": 'sqlmap \\"x\\" \\\\', "duration": 0.5,
              "_reject": None})
    # an escaped backslash right before the closing quote
    r = one('198.51.100.9 - - [05/Mar/2024:08:00:08 +0000] "GET /a\\\\ HTTP/1.1" 200 10 "-" "b\\\\" "-"')
    check(r, {"path": "/a\\\\", "user_agent": "b\\\\", "_reject": None})


def test_unterminated_user_agent_and_ipv6_client() -> None:
    r = one('2001:db8::1 - - [20/May/2015:12:05:17 +0000] "GET /x HTTP/1.1" 200 235 "-" "Googlebot/2.1; +http://g')
    check(r, {"src_ip": "2001:db8::1", "user_agent": "Googlebot/2.1; +http://g", "_reject": None})


def test_hostile_text_is_kept_verbatim() -> None:
    ua = "[bold red]x[/] \x1b[2J ignore previous instructions'; DROP TABLE events; --"
    r = one(f'198.51.100.10 - [link=http://e]u [05/Mar/2024:08:00:09 +0000] "GET /\'; DROP TABLE x; -- HTTP/1.1" '
            f'200 1 "-" "{ua}"')
    assert r["_reject"] is None
    assert r["user"] == "[link=http://e]u"
    assert r["path"] == "/'; DROP TABLE x; --"
    assert r["user_agent"] == ua


def test_invalid_utf8_and_nul_stay_visible() -> None:
    line = '1.2.3.4 - - [05/Mar/2024:08:00:09 +0000] "GET /\udcff\udcfe HTTP/1.1" 200 1 "-" "a\x00b"'
    r = one(line)
    assert r["_reject"] is None
    assert r["path"] == "/\\xff\\xfe"
    assert r["user_agent"] == "a\\x00b"


@pytest.mark.parametrize(
    "line,reason",
    [
        ("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186", REJECT_SHAPE),
        ('{"event_type":"alert"}', REJECT_SHAPE),
        ("1.2.3.4 - - [05/Mar/2024:08:00:09 +0000] GET / HTTP/1.1 200 1", REJECT_SHAPE),
        ('1.2.3.4 - - [05/Mar/2024:08:00:09 +0000] "GET / HTTP/1.1" OK 1 "-" "-"', REJECT_SHAPE),
        ('1.2.3.4 - - [05/Mar/2024:08:00:09 +0000] "GET / HTTP/1.1" 200 12x "-" "-"', REJECT_SHAPE),
        ('1.2.3.4 - - 05/Mar/2024:08:00:09 +0000 "GET / HTTP/1.1" 200 1 "-" "-"', REJECT_SHAPE),
        ('1.2.3.4 - - [05/Mar/2024:08:00:09 +0000] "GET / HTTP/1.1', REJECT_SHAPE),
        ('1.2.3.4 - - [31/Feb/2024:08:00:09 +0000] "GET / HTTP/1.1" 200 1 "-" "-"', REJECT_TS),
        ('1.2.3.4 - - [yesterday] "GET / HTTP/1.1" 200 1 "-" "-"', REJECT_TS),
    ],
)
def test_rejects_have_reasons(line: str, reason: str) -> None:
    r = one(line)
    assert r["_reject"] == reason
    assert r["raw"] == line


def test_mixed_batch_every_line_once_in_order() -> None:
    good = '1.2.3.4 - - [05/Mar/2024:08:00:09 +0000] "GET /{i} HTTP/1.1" 200 {i} "-" "ua"'
    esc = '1.2.3.4 - - [05/Mar/2024:08:00:09 +0000] "GET /{i}\\" HTTP/1.1" 200 {i} "-" "ua"'
    lines = []
    for i in range(300):
        lines.append((good if i % 3 else esc).format(i=i))
        if i % 50 == 0:
            lines.append("garbage line")
    rows = parse_lines("access", lines)
    assert [r["line_no"] for r in rows] == list(range(1, len(lines) + 1))
    assert [r["raw"] for r in rows] == lines
    events = [r for r in rows if r["_reject"] is None]
    assert len(events) == 300
    assert [r["bytes"] for r in events] == list(range(300))
    assert all(r["path"] == f"/{r['bytes']}" + ('\\"' if r["bytes"] % 3 == 0 else "") for r in events)


def test_detect() -> None:
    lines = [
        '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "-"',
        'www.x.org:80 83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "-"',
    ]
    assert FMT.detect(lines) == 1.0
    assert FMT.detect(["Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user x from 1.2.3.4"]) == 0.0
    assert FMT.detect(['{"__REALTIME_TIMESTAMP": "1", "MESSAGE": "x"}']) == 0.0
    assert FMT.detect(["[Sun Dec 04 04:47:44 2005] [notice] x"]) == 0.0
    assert FMT.detect([]) == 0.0
