"""Apache error log, 2.2 and 2.4 forms.

    [Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties
    [Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] File does not exist: /var/www/favicon.ico
    [Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:4022] AH00124: ...

Every such line is an ``http_error`` event. The ``[module:level]`` / ``[level]`` bracket has no
column of its own: ``message`` keeps it as a prefix (``[core:error] AH00124: ...``) so it stays
searchable; ``[pid N:tid M]`` gives ``pid`` and ``[client IP(:port)]`` ``src_ip``/``src_port``.
The timestamp has no offset: it is read in ``ctx.tz``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.formats.base import FileContext, LogFormat, Sample

_DETECT = re.compile(
    r"^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d \d{2}:\d{2}:\d{2}(?:\.\d+)? \d{4}\] \[[A-Za-z0-9_:.-]*\]"
)


def detect(lines: Sequence[str]) -> float:
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return 0.0
    return sum(1 for ln in lines if _DETECT.match(ln)) / len(lines)


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# `[time] [level]` then the rest (one-pass: no optional parts before `(.*)`).
_HEAD_RE = r"^\[([^\]]*)\] \[([^\]]*)\](.*)$"
# Optional `[pid N:tid M]` and `[client ADDR]` blocks at the start of the rest.
_PID_RE = r"^ \[pid (\d+)"
_CLIENT_RE = r"^(?: \[pid [^\]]*\])? \[client ([^\]]*)\]"
_BLOCKS_RE = r"^(?: \[pid [^\]]*\])?(?: \[client [^\]]*\])? ?"
_TS_RE = r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d \d{2}:\d{2}:\d{2}(?:\.\d+)? \d{4}"

REJECT_SHAPE = "not an Apache error-log line (expected: [time] [level] message)"
REJECT_TS = "Apache error-log line with an unreadable timestamp"


def build_sql(ctx: FileContext) -> tuple[str, dict[str, Any]]:
    sql = f"""
WITH a AS (
    SELECT line_no, line, regexp_extract(line, {_q(_HEAD_RE)}, ['t', 'lvl', 'rest']) AS m
    FROM _lines
), b AS (
    SELECT line_no, line, m.lvl AS lvl, m.rest AS rest,
           regexp_full_match(m.t, {_q(_TS_RE)}) AS ok,
           CASE WHEN regexp_full_match(m.t, {_q(_TS_RE)})
                THEN timezone($tz, try_strptime(replace(m.t, '  ', ' '),
                                               ['%a %b %d %H:%M:%S %Y', '%a %b %d %H:%M:%S.%f %Y'])) END AS ts,
           nullif(regexp_extract(m.rest, {_q(_CLIENT_RE)}, 1), '') AS client
    FROM a
), c AS (
    SELECT *,
           -- 2.4 writes `[client ip:port]`; 2.2 only `[client ip]` (which may be IPv6 with colons)
           CASE WHEN client IS NOT NULL AND (regexp_full_match(client, '[0-9.]+:[0-9]+')
                      OR ((contains(lvl, ':') OR starts_with(rest, ' [pid ')) AND regexp_full_match(client, '.+:[0-9]+')))
                THEN regexp_extract(client, '^(.+):([0-9]+)$', ['ip', 'port']) END AS cp
    FROM b
)
SELECT
    line_no,
    line AS raw,
    ts,
    'http_error' AS action,
    TRY_CAST(nullif(regexp_extract(rest, {_q(_PID_RE)}, 1), '') AS BIGINT) AS pid,
    coalesce(cp.ip, client) AS src_ip,
    TRY_CAST(cp.port AS INTEGER) AS src_port,
    '[' || lvl || '] ' || regexp_replace(rest, {_q(_BLOCKS_RE)}, '') AS message,
    CASE WHEN NOT ok THEN {_q(REJECT_SHAPE)} WHEN ts IS NULL THEN {_q(REJECT_TS)} END AS _reject,
    NULL::VARCHAR AS _skip
FROM c
"""
    return sql, {"tz": ctx.tz}


def _utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=ZoneInfo("UTC"))


SAMPLES = (
    Sample(
        "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
        {
            "action": "http_error",
            "ts": _utc(2005, 12, 4, 4, 47, 44),
            "message": "[notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
            "src_ip": None,
            "pid": None,
            "_reject": None,
        },
    ),
    Sample(
        "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
        {"message": "[error] mod_jk child workerEnv in error state 6", "outcome": None},
    ),
    Sample(
        "[Sat Jun 24 09:06:22 2006] [error] [client 216.65.221.202] File does not exist: /var/www/html/robots.txt",
        {
            "ts": _utc(2006, 6, 24, 9, 6, 22),
            "src_ip": "216.65.221.202",
            "src_port": None,
            "message": "[error] File does not exist: /var/www/html/robots.txt",
        },
    ),
    Sample(
        "[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:4022] AH00124: Request exceeded the limit of 10 internal redirects",
        {
            "ts": datetime(2000, 10, 11, 14, 32, 52, 123456, tzinfo=ZoneInfo("UTC")),
            "pid": 35708,
            "src_ip": "72.15.99.187",
            "src_port": 4022,
            "message": "[core:error] AH00124: Request exceeded the limit of 10 internal redirects",
        },
    ),
    Sample(
        "[Tue Mar 05 08:00:01.000001 2024] [authz_core:error] [pid 1234] [client 2001:db8::7:51234] AH01630: client denied by server configuration: /srv/www/.git",
        {"pid": 1234, "src_ip": "2001:db8::7", "src_port": 51234,
         "message": "[authz_core:error] AH01630: client denied by server configuration: /srv/www/.git"},
    ),
    Sample(
        "[Tue Mar 05 08:00:02.5 2024] [mpm_event:notice] [pid 1:tid 140] AH00489: Apache/2.4.58 (Unix) configured -- resuming normal operations",
        {"pid": 1, "src_ip": None, "message": "[mpm_event:notice] AH00489: Apache/2.4.58 (Unix) configured -- resuming normal operations"},
    ),
    Sample(
        "[Sun Dec 04 04:47:44 2005] [error] [client ::1] script not found or unable to stat: /var/www/cgi-bin/x",
        {"src_ip": "::1", "src_port": None},
    ),
    Sample("PHP Stack trace:", {"_reject": REJECT_SHAPE}),
    Sample("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186", {"_reject": REJECT_SHAPE}),
    Sample("[Sun Foo 04 04:47:44 2005] [notice] bad month", {"_reject": REJECT_TS}),
)

FORMAT = LogFormat(
    name="apache_error",
    title="Apache error log (2.2 and 2.4)",
    detect=detect,
    build_sql=build_sql,
    samples=SAMPLES,
    priority=10,
)
