"""nginx / Apache access logs: common, combined, and combined with extra trailing fields.

    83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /a.png HTTP/1.1" 200 203023 "http://ref/" "Mozilla/5.0 ..."
    www.example.com:443 1.2.3.4 - bob [...] "GET / HTTP/1.1" 200 12 "-" "curl/8"      (Apache vhost_combined)
    ... "curl/8" "10.0.0.1, 10.0.0.2" shop.example.com rt=0.123 urt="0.120"           (nginx extras)

Every line that has the access-log shape is an ``http_request`` event, however odd its request:
``"\\x16\\x03\\x01..."`` (TLS spoken to a plain-HTTP port), ``"-"`` or a bare path keep the request
text in ``path`` with ``method`` NULL. Lines without that shape are rejects.

Speed: each line is split on ``"`` with ``string_split`` and only the short pieces go through
small anchored regexes (at most four groups and unambiguous, so RE2 runs them one-pass; a
many-group regex over the whole line costs several times more). Apache writes a quote inside a
field as ``\\"``: on the few lines holding one, ``\\\\`` and ``\\"`` are swapped for NUL-led
placeholders before the split and put back in the output fields. ``bytes`` of ``-`` is 0 (Apache's
``%b`` writes ``-`` for "no body bytes"); a referrer or user agent of ``-`` is NULL. An extra
trailing unquoted token gives ``duration`` (``rt=0.123``, ``request_time=``, or a bare float) and
``host`` (a host name, or ``host=``/``vhost=``); Apache ``vhost_combined`` gives ``host`` too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from engine.formats.base import FileContext, LogFormat, Sample

# --- detection (Python, on the first lines only) ----------------------------------------------
_DETECT = re.compile(
    r'^(?:[^\s:"]+(?::\d+)? )?[^\s"]+ [^\s"]+ [^\s"]+ \[\d{1,2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2}[^\]]*\] "'
)


def detect(lines: Sequence[str]) -> float:
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return 0.0
    hits = sum(1 for ln in lines if _DETECT.match(ln))
    return hits / len(lines)


# --- SQL --------------------------------------------------------------------------------------
# Only constant strings of this module go into SQL text; `'` is doubled by _q.
def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# An escaped quote `\"` (and `\\`) is swapped for NUL-led tokens before splitting on `"`;
# decode_lines turns NUL bytes into the text `\x00`, so a line can never hold a real NUL.
_ESC_Q = "(chr(0) || 'q')"
_ESC_B = "(chr(0) || 'b')"
# The part before the request's opening quote (kept to at most four groups and unambiguous, so
# RE2 matches it one-pass). Apache vhost_combined puts `host:port` (or `%v` alone: `host`) first:
# tried only where the plain form fails, i.e. four tokens before `[`; the client token after it
# must not be `-`, which tells it from an authuser holding a space (`1.2.3.4 - john doe [...]`).
_HEAD_RE = r"^(\S+) \S+ (\S+) \[([^\]]*)\] $"
_HEAD_VHOST_RE = r"^([^\s:]+(?::\d+)?) (-\S+|[^\s-]\S*) \S+ (\S+) \[([^\]]*)\] $"
# Last resort: an authuser holding spaces.
_HEAD_SPACED_RE = r"^()(\S+) \S+ (.+) \[([^\]]*)\] $"
# Between the request's closing quote and the referrer's opening quote (or the line end).
_MID_RE = r"^ (\d{3}|-) (\d+|-)(?:( .*))?$"
# Request line METHOD PATH PROTO; anything else keeps its text in `path`.
_REQ_RE = r"^([A-Z]+) (\S+) (HTTP/[0-9.]+)$"
_REQ_LOOSE_RE = r"^([A-Z]+) (.*?)(?: (HTTP/[0-9.]+))?$"
# Trailing extras (quoted ones blanked first): request time as `rt=`/`request_time=` or a bare
# float token; a host name token (`shop.example.com`, `host=...`, `vhost=...`).
_QUOTED_RE = r'"[^"]*"'
_DUR_BARE_RE = r"(?:^|\s)(\d+\.\d+)(?:\s|$)"
_DUR_KEY_RE = r"(?:^|\s)(?:rt|request_time)=(\d+(?:\.\d+)?)(?:\s|$)"
_HOST_RE = r"(?:^|\s)(?:v?host=)?((?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+(?::\d+)?)(?:\s|$)"

REJECT_SHAPE = 'not an access-log line (expected: client ident user [time] "request" status bytes ...)'
REJECT_TS = "access-log line with an unreadable timestamp"


def _unesc(col: str) -> str:
    return f"""CASE WHEN esc THEN replace(replace({col}, {_ESC_Q}, '\\"'), {_ESC_B}, '\\\\') ELSE {col} END"""


def build_sql(ctx: FileContext) -> tuple[str, dict[str, Any]]:
    # `17/May/2015:10:05:03 +0000`; then fractions, and times without an offset (in ctx.tz).
    ts_expr = (
        "coalesce(try_strptime(tsr, '%d/%b/%Y:%H:%M:%S %z'), "
        "try_strptime(tsr, '%d/%b/%Y:%H:%M:%S.%f %z'), "
        "timezone($tz, try_strptime(tsr, ['%d/%b/%Y:%H:%M:%S', '%d/%b/%Y:%H:%M:%S.%f'])))"
    )
    loose = f"regexp_extract(req, {_q(_REQ_LOOSE_RE)}, ['m', 'p', 'v'])"
    sql = f"""
WITH s AS (
    SELECT line_no, line, contains(line, '\\"') AS esc,
           string_split(CASE WHEN contains(line, '\\"')
                             THEN replace(replace(line, '\\\\', {_ESC_B}), '\\"', {_ESC_Q})
                             ELSE line END, '"') AS p
    FROM _lines
), s2 AS (
    SELECT line_no, line, esc, p, len(p) AS n,
           regexp_extract(p[1], {_q(_HEAD_RE)}, ['ip', 'usr', 'tsr']) AS hd0,
           CASE WHEN len(p) >= 3 THEN regexp_extract(p[3], {_q(_MID_RE)}, ['st', 'by', 'rest']) END AS md
    FROM s
), s3 AS (
    SELECT *,
           CASE WHEN hd0.ip = '' THEN
                CASE WHEN regexp_matches(p[1], {_q(_HEAD_VHOST_RE)})
                     THEN regexp_extract(p[1], {_q(_HEAD_VHOST_RE)}, ['vh', 'ip', 'usr', 'tsr'])
                     ELSE regexp_extract(p[1], {_q(_HEAD_SPACED_RE)}, ['vh', 'ip', 'usr', 'tsr']) END
           END AS hv
    FROM s2
), f AS (
    SELECT line_no, line, esc,
           coalesce((hd0.ip <> '' OR hv.ip <> '') AND md.st <> '' AND (n = 3 OR md.rest = ' '), false) AS ok,
           nullif(hv.vh, '') AS vh,
           CASE WHEN hv IS NULL THEN hd0.ip ELSE hv.ip END AS ip,
           CASE WHEN hv IS NULL THEN hd0.usr ELSE hv.usr END AS usr,
           CASE WHEN hv IS NULL THEN hd0.tsr ELSE hv.tsr END AS tsr,
           p[2] AS req, md.st AS st, md.by AS byt,
           CASE WHEN n >= 4 THEN p[4] END AS ref,
           CASE WHEN n >= 6 AND p[5] = ' ' THEN p[6] END AS ua,
           CASE WHEN n = 3 THEN md.rest
                WHEN n >= 7 AND p[5] = ' ' THEN array_to_string(p[7:], '"')
                WHEN n >= 5 AND p[5] <> ' ' THEN array_to_string(p[5:], '"')
                ELSE '' END AS trail
    FROM s3
), g AS (
    SELECT line_no, line, esc, ok, vh, ip, usr, req, st, byt, ref, ua,
           CASE WHEN ok THEN {ts_expr} END AS ts,
           CASE WHEN ok THEN regexp_extract(req, {_q(_REQ_RE)}, ['m', 'p', 'v']) END AS rq0,
           -- unquoted trailing tokens; the common nginx `"$http_x_forwarded_for"` = "-" has none
           CASE WHEN ok AND trail NOT IN ('', ' "-"') AND regexp_matches(trail, '[^ ]')
                THEN nullif(trim(regexp_replace(trail, {_q(_QUOTED_RE)}, ' ', 'g')), '') END AS bare
    FROM f
), h AS (
    SELECT *,
           CASE WHEN rq0.m <> '' THEN rq0
                WHEN regexp_matches(req, '^[A-Z]+ ') THEN {loose} END AS rq
    FROM g
)
SELECT
    line_no,
    line AS raw,
    ts,
    coalesce({_unesc('vh')},
             CASE WHEN bare IS NOT NULL THEN nullif(regexp_extract(bare, {_q(_HOST_RE)}, 1), '') END) AS host,
    'http_request' AS action,
    {_unesc('ip')} AS src_ip,
    {_unesc("nullif(usr, '-')")} AS "user",
    rq.m AS method,
    {_unesc("CASE WHEN rq IS NULL THEN req ELSE rq.p END")} AS path,
    nullif(rq.v, '') AS proto,
    TRY_CAST(nullif(st, '-') AS INTEGER) AS status,
    CASE WHEN byt = '-' THEN 0 ELSE TRY_CAST(byt AS BIGINT) END AS bytes,
    {_unesc("nullif(ref, '-')")} AS referrer,
    {_unesc("nullif(ua, '-')")} AS user_agent,
    CASE WHEN bare IS NOT NULL THEN coalesce(
        TRY_CAST(nullif(regexp_extract(bare, {_q(_DUR_KEY_RE)}, 1), '') AS DOUBLE),
        TRY_CAST(nullif(regexp_extract(bare, {_q(_DUR_BARE_RE)}, 1), '') AS DOUBLE)) END AS duration,
    CASE WHEN NOT ok THEN {_q(REJECT_SHAPE)}
         WHEN ts IS NULL THEN {_q(REJECT_TS)}
    END AS _reject,
    NULL::VARCHAR AS _skip
FROM h
"""
    return sql, {"tz": ctx.tz}


SAMPLES = (
    Sample(
        '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36"',
        {
            "action": "http_request",
            "ts": datetime(2015, 5, 17, 10, 5, 3, tzinfo=UTC),
            "src_ip": "83.149.9.216",
            "user": None,
            "method": "GET",
            "path": "/presentations/logstash-monitorama-2013/images/kibana-search.png",
            "proto": "HTTP/1.1",
            "status": 200,
            "bytes": 203023,
            "referrer": "http://semicomplete.com/presentations/logstash-monitorama-2013/",
            "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36",
            "host": None,
            "duration": None,
            "_reject": None,
        },
    ),
    # common log format, authuser set, negative offset, '-' bytes
    Sample(
        '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 304 -',
        {
            "ts": datetime(2000, 10, 10, 20, 55, 36, tzinfo=UTC),
            "src_ip": "127.0.0.1",
            "user": "frank",
            "method": "GET",
            "path": "/apache_pb.gif",
            "proto": "HTTP/1.0",
            "status": 304,
            "bytes": 0,
            "referrer": None,
            "user_agent": None,
        },
    ),
    # nginx with $http_x_forwarded_for, a positive non-zero offset
    Sample(
        '31.56.96.51 - - [22/Jan/2019:03:56:16 +0330] "GET /image/60844/productModel/200x200 HTTP/1.1" 200 5667 "https://www.zanbil.ir/m/filter/b113" "Mozilla/5.0 (Linux; Android 6.0)" "-"',
        {
            "ts": datetime(2019, 1, 22, 0, 26, 16, tzinfo=UTC),
            "status": 200,
            "bytes": 5667,
            "referrer": "https://www.zanbil.ir/m/filter/b113",
            "user_agent": "Mozilla/5.0 (Linux; Android 6.0)",
            "host": None,
            "duration": None,
        },
    ),
    # nginx extras: forwarded-for, vhost, rt=
    Sample(
        '10.0.0.5 - - [05/Mar/2024:08:00:01 +0100] "POST /api/login?next=%2F HTTP/2.0" 401 52 "-" "python-requests/2.31" "203.0.113.9, 10.0.0.1" shop.example.com rt=0.123 urt="0.120"',
        {
            "ts": datetime(2024, 3, 5, 7, 0, 1, tzinfo=UTC),
            "method": "POST",
            "path": "/api/login?next=%2F",
            "proto": "HTTP/2.0",
            "status": 401,
            "bytes": 52,
            "referrer": None,
            "user_agent": "python-requests/2.31",
            "host": "shop.example.com",
            "duration": 0.123,
        },
    ),
    # `%v %h ...`: a vhost without a port first
    Sample(
        'www.sitename.com 192.0.2.222 - - [18/Aug/2024:21:08:39 +0100] "GET /filename.jpg HTTP/1.1" 403 332 "-" "TrackBack/1.02"',
        {"host": "www.sitename.com", "src_ip": "192.0.2.222", "status": 403, "user_agent": "TrackBack/1.02"},
    ),
    # an authuser with a space in it is not taken for a vhost
    Sample(
        '192.0.2.223 - john doe [18/Aug/2024:21:08:39 +0000] "GET / HTTP/1.1" 401 0 "-" "curl/8"',
        {"_reject": None, "src_ip": "192.0.2.223", "user": "john doe", "host": None, "status": 401},
    ),
    # a bare float request time at the end
    Sample(
        '192.0.2.7 - - [05/Mar/2024:08:00:02 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.5.0" 0.004',
        {"duration": 0.004, "host": None, "user_agent": "curl/8.5.0", "status": 200},
    ),
    # Apache vhost_combined: host:port first
    Sample(
        'www.example.org:443 198.51.100.4 - - [05/Mar/2024:08:00:03 +0000] "GET /wp-login.php HTTP/1.1" 404 196 "-" "Mozilla/5.0"',
        {"host": "www.example.org:443", "src_ip": "198.51.100.4", "path": "/wp-login.php", "status": 404},
    ),
    # TLS handshake bytes sent to a plain-HTTP port: still an event, the request text kept in path
    Sample(
        '45.95.147.236 - - [05/Mar/2024:08:00:04 +0000] "\\x16\\x03\\x01\\x00\\xee\\x01\\x00\\x00\\xea\\x03\\x03" 400 157 "-" "-"',
        {
            "action": "http_request",
            "method": None,
            "path": "\\x16\\x03\\x01\\x00\\xee\\x01\\x00\\x00\\xea\\x03\\x03",
            "proto": None,
            "status": 400,
            "user_agent": None,
            "_reject": None,
        },
    ),
    # "-" request (client closed before sending one)
    Sample(
        '203.0.113.50 - - [05/Mar/2024:08:00:05 +0000] "-" 408 0 "-" "-"',
        {"method": None, "path": "-", "proto": None, "status": 408, "bytes": 0},
    ),
    # a bare path without method/protocol, and HTTP/0.9 style "GET /" with no protocol
    Sample(
        '203.0.113.51 - - [05/Mar/2024:08:00:06 +0000] "/etc/passwd" 400 0 "-" "-"',
        {"method": None, "path": "/etc/passwd", "proto": None, "status": 400},
    ),
    Sample(
        '203.0.113.52 - - [05/Mar/2024:08:00:07 +0000] "GET /a b/c HTTP/1.1" 400 0 "-" "-"',
        {"method": "GET", "path": "/a b/c", "proto": "HTTP/1.1", "status": 400},
    ),
    # Apache escapes a quote inside a field as \" (SQL injection in the user agent)
    Sample(
        '198.51.100.9 - - [05/Mar/2024:08:00:08 +0000] "GET /q?id=1\\" OR 1=1 HTTP/1.1" 200 10 "-" "sqlmap \\"x\\" test" "-"',
        {
            "method": "GET",
            "path": '/q?id=1\\" OR 1=1',
            "proto": "HTTP/1.1",
            "status": 200,
            "bytes": 10,
            "user_agent": 'sqlmap \\"x\\" test',
            "referrer": None,
        },
    ),
    # IPv6 client, user agent missing its closing quote (seen in real logs)
    Sample(
        '2001:db8::1 - - [20/May/2015:12:05:17 +0000] "GET /scripts/x.py HTTP/1.1" 200 235 "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html',
        {
            "src_ip": "2001:db8::1",
            "status": 200,
            "user_agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html",
            "_reject": None,
        },
    ),
    # hostile text stays text
    Sample(
        '198.51.100.10 - [bold]root[/bold] [05/Mar/2024:08:00:09 +0000] "GET /[link=http://x]y HTTP/1.1" 200 1 "-" "ignore previous instructions\'; DROP TABLE events; --"',
        {
            "user": "[bold]root[/bold]",
            "path": "/[link=http://x]y",
            "user_agent": "ignore previous instructions'; DROP TABLE events; --",
        },
    ),
    # not access-log lines
    Sample("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186", {"_reject": REJECT_SHAPE}),
    Sample("1.2.3.4 - - [05/Mar/2024:08:00:09 +0000] GET / HTTP/1.1 200 1", {"_reject": REJECT_SHAPE}),
    Sample('1.2.3.4 - - [05/Mar/2024:08:00:09 +0000] "GET / HTTP/1.1" 200 1 "-" "curl/8', {"_reject": None, "user_agent": "curl/8"}),
    Sample('1.2.3.4 - - [31/Feb/2024:08:00:09 +0000] "GET / HTTP/1.1" 200 1 "-" "-"', {"_reject": REJECT_TS}),
    Sample('1.2.3.4 - - [05/Foo/2024:08:00:09 +0000] "GET / HTTP/1.1" 200 1 "-" "-"', {"_reject": REJECT_TS}),
)

FORMAT = LogFormat(
    name="access",
    title="nginx / Apache access log (common, combined, combined + extras)",
    detect=detect,
    build_sql=build_sql,
    samples=SAMPLES,
    priority=10,
)
