"""Zeek (Bro) logs: TSV with ``#separator``/``#fields``/``#types`` headers, and JSON lines.

TSV: the header at the start of the file (``ctx.head_lines``, there even when ingest resumes
mid-file) says which column is which; column order is never assumed. Field names come from the
file, so they are hostile data: they are looked up in this module's own tables in Python and only
the resulting list *indexes* (integers) are written into SQL; the separator, unset and empty
markers travel as ``$params``. ``#`` lines are skipped by design (``zeek header``); a row whose
field count differs from the header's is a reject.

``#path`` decides the action: ``conn`` rows are ``conn``; other logs (ssh, http, dns, ...) take the
path name. ``-`` (unset) and ``(empty)`` become NULL. ``ts`` is epoch seconds; a masked time
(``XXXXXXXXXX.XXXXXX`` in Zeek's test baselines) gives a NULL ``ts``, the row is still an event.

JSON (one object per line, ``ts`` as epoch seconds or ISO text): the same field names, read with
one ``json_transform`` per line; the action is ``_path`` when present, else guessed from the
fields the record has (conn_state -> conn, auth_success -> ssh, ...), else from the file name.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from engine.formats.base import FileContext, LogFormat, Sample, json_object

# --- field tables: Zeek field name -> (event column, kind) --------------------------------------
# kind: str, int, bigint, double, time, outcome (T/F, true/false), http_version, user_agent
_COMMON: dict[str, tuple[str, str]] = {
    "ts": ("ts", "time"),
    "id.orig_h": ("src_ip", "str"),
    "id.orig_p": ("src_port", "int"),
    "id.resp_h": ("dst_ip", "str"),
    "id.resp_p": ("dst_port", "int"),
    "proto": ("proto", "str"),
    "service": ("service", "str"),
    "duration": ("duration", "double"),
    "orig_bytes": ("src_bytes", "bigint"),
    "resp_bytes": ("bytes", "bigint"),
    "conn_state": ("conn_state", "str"),
    "method": ("method", "str"),
    "host": ("host", "str"),
    "uri": ("path", "str"),
    "referrer": ("referrer", "str"),
    "user_agent": ("user_agent", "str"),
    "status_code": ("status", "int"),
    "username": ("user", "str"),
    "user": ("user", "str"),
    "request_body_len": ("src_bytes", "bigint"),
    "response_body_len": ("bytes", "bigint"),
    "auth_success": ("outcome", "outcome"),
    "note": ("signature", "str"),
    "msg": ("message", "str"),
}
# Per log path, on top of (and overriding) _COMMON.
_BY_PATH: dict[str, dict[str, tuple[str, str]]] = {
    "http": {"version": ("proto", "http_version")},
    "ssh": {"client": ("user_agent", "str")},
    "dns": {"query": ("message", "str")},
    "ssl": {"server_name": ("message", "str")},
    "weird": {"name": ("message", "str")},
    "ftp": {"command": ("method", "str"), "arg": ("path", "str"), "reply_code": ("status", "int")},
}
_KNOWN_PATHS = (
    "conn", "dns", "http", "ssh", "ssl", "files", "notice", "weird", "x509", "dhcp", "smtp", "ftp",
    "rdp", "sip", "snmp", "smb_files", "smb_mapping", "dce_rpc", "kerberos", "ntlm", "ntp", "tunnel",
    "software", "intel", "pe", "radius", "socks", "syslog", "dpd", "known_hosts", "known_services",
    "capture_loss", "stats", "loaded_scripts", "packet_filter", "reporter",
)
_SAFE_PATH = re.compile(r"[a-z0-9_]{1,32}")

REJECT_NO_HEADER = "Zeek TSV row, but the file starts without a #fields header"
REJECT_JSON = "not a Zeek JSON record (invalid JSON or no ts)"


def _reject_count(n: int) -> str:
    return f"Zeek row does not have the {n} fields its #fields header declares"


# --- detection ---------------------------------------------------------------------------------
_JSON_KEYS = ("uid", "id.orig_h", "id.resp_h", "_path", "id")


def detect(lines: Sequence[str]) -> float:
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return 0.0
    if any(ln.startswith("#fields") for ln in lines) and any(ln.startswith("#separator") for ln in lines):
        return 1.0
    hits = 0
    for ln in lines:
        obj = json_object(ln)
        if obj is not None and "ts" in obj and any(k in obj for k in _JSON_KEYS) and "event_type" not in obj:
            hits += 1
    return hits / len(lines)


# --- header --------------------------------------------------------------------------------------
def _unescape(s: str) -> str:
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), s)


def _parse_header(head: Sequence[str]) -> dict[str, Any]:
    sep = "\t"
    hdr: dict[str, Any] = {"sep": sep, "unset": "-", "empty": "(empty)", "path": None, "fields": None}
    for ln in head:
        if not ln.startswith("#"):
            if ln.strip():
                break  # the header is over
            continue
        if ln.startswith("#separator"):
            rest = ln[len("#separator"):]
            val = _unescape(rest.strip(" ")) if rest.startswith(" ") else _unescape(rest[1:])
            if val:
                sep = hdr["sep"] = val
            continue
        key, _, rest = ln.partition(sep)
        if key == "#fields":
            hdr["fields"] = rest.split(sep)
        elif key == "#unset_field":
            hdr["unset"] = rest
        elif key == "#empty_field":
            hdr["empty"] = rest
        elif key == "#path":
            hdr["path"] = rest
    return hdr


def _safe_action(path: str | None) -> str:
    if path and _SAFE_PATH.fullmatch(path):
        return path
    return "zeek"


def _value_sql(v: str, kind: str) -> str:
    """SQL turning the text expression ``v`` into an event column value of ``kind``."""
    if kind == "time":
        # epoch seconds (kept to years 1970..2999: to_timestamp raises outside its range), else ISO text
        d = f"TRY_CAST({v} AS DOUBLE)"
        return (
            f"coalesce(CASE WHEN {d} >= 0 AND {d} < 32503680000 THEN to_timestamp({d}) END, "
            f"CASE WHEN regexp_matches({v}, '^[0-9]{{4}}-') THEN "
            f"CASE WHEN regexp_matches({v}, '(?:Z|[+-][0-9]{{2}}:?[0-9]{{2}})$') THEN TRY_CAST({v} AS TIMESTAMPTZ) "
            f"ELSE timezone($tz, TRY_CAST({v} AS TIMESTAMP)) END END)"
        )
    if kind == "int":
        return f"TRY_CAST({v} AS INTEGER)"
    if kind == "bigint":
        return f"TRY_CAST({v} AS BIGINT)"
    if kind == "double":
        return f"TRY_CAST({v} AS DOUBLE)"
    if kind == "outcome":
        return f"CASE WHEN {v} IN ('T', 'true') THEN 'success' WHEN {v} IN ('F', 'false') THEN 'failure' END"
    if kind == "http_version":
        return f"'HTTP/' || {v}"
    return v


def _columns(names: Sequence[str], path: str | None, value_of) -> dict[str, str]:
    """Event column -> SQL, for the known names among ``names``; ``value_of(i, name)`` gives the
    SQL text of field number ``i`` (its position in ``names``) and must not use ``name`` itself."""
    table = dict(_COMMON)
    table.update(_BY_PATH.get(path or "", {}))
    out: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        if name not in table:
            continue
        col, kind = table[name]
        out.setdefault(col, []).append(_value_sql(value_of(i, name), kind))
    return {col: (exprs[0] if len(exprs) == 1 else f"coalesce({', '.join(exprs)})") for col, exprs in out.items()}


def _tsv_sql(ctx: FileContext) -> tuple[str, dict[str, Any]]:
    hdr = _parse_header(ctx.head_lines)
    fields = hdr["fields"]
    params: dict[str, Any] = {"sep": hdr["sep"], "unset": hdr["unset"], "empty": hdr["empty"], "tz": ctx.tz}
    if not fields:
        return (
            f"""SELECT line_no, line AS raw,
                   CASE WHEN NOT starts_with(line, '#') THEN {_q(REJECT_NO_HEADER)} END AS _reject,
                   CASE WHEN starts_with(line, '#') THEN 'zeek header' END AS _skip
                FROM _lines""",
            {},
        )
    path = hdr["path"] if _SAFE_PATH.fullmatch(hdr["path"] or "") else None
    params["action"] = _safe_action(path)
    # list indexes are 1-based; `i` is an int from enumerate, never file text
    cols = _columns(fields, path, lambda i, _name: f"nullif(nullif(f[{int(i) + 1}], $unset), $empty)")
    n = len(fields)
    select = ",\n    ".join(f'{expr} AS "{col}"' for col, expr in cols.items())
    sql = f"""
WITH a AS (
    SELECT line_no, line, starts_with(line, '#') AS hdr,
           CASE WHEN NOT starts_with(line, '#') THEN string_split(line, $sep) END AS f
    FROM _lines
)
SELECT
    line_no,
    line AS raw,
    CASE WHEN hdr THEN NULL ELSE $action END AS action,
    {select + "," if select else ""}
    CASE WHEN NOT hdr AND len(f) <> {n} THEN {_q(_reject_count(n))} END AS _reject,
    CASE WHEN hdr THEN 'zeek header' END AS _skip
FROM a
"""
    return sql, {k: v for k, v in params.items() if f"${k}" in sql}


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _json_struct(names: Sequence[str]) -> str:
    spec: dict[str, Any] = {name: "VARCHAR" for name in names}
    spec["_path"] = "VARCHAR"
    spec["id"] = {"orig_h": "VARCHAR", "orig_p": "VARCHAR", "resp_h": "VARCHAR", "resp_p": "VARCHAR"}
    return json.dumps(spec)


def _json_sql(ctx: FileContext) -> tuple[str, dict[str, Any]]:
    # Every name these are built from is a constant of this module.
    names = sorted(set(_COMMON) | {k for t in _BY_PATH.values() for k in t})
    base = os.path.basename(ctx.path).lower()
    hint = next((p for p in _KNOWN_PATHS if re.search(rf"(?:^|[^a-z]){p}(?:[^a-z]|$)", base)), None)

    def value_of(_i: int, name: str) -> str:
        v = f'm."{name}"'
        if name.startswith("id."):
            v = f'coalesce(m."{name}", m.id."{name[3:]}")'
        return f"nullif(nullif({v}, '-'), '(empty)')"

    # One column set for every path; the path-specific fields only where the row's path matches.
    common = _columns(names, None, value_of)
    per_path: dict[str, dict[str, str]] = {p: _columns(list(t), p, value_of) for p, t in _BY_PATH.items()}
    cols: dict[str, str] = dict(common)
    for p, pc in per_path.items():
        for col, expr in pc.items():
            base_expr = cols.get(col, "NULL")
            cols[col] = f"CASE WHEN act = {_q(p)} THEN coalesce({expr}, {base_expr}) ELSE {base_expr} END"
    select = ",\n    ".join(f'{expr} AS "{col}"' for col, expr in cols.items())
    guess = (
        "CASE WHEN m.conn_state IS NOT NULL OR m.history IS NOT NULL THEN 'conn' "
        "WHEN m.auth_success IS NOT NULL OR m.auth_attempts IS NOT NULL THEN 'ssh' "
        "WHEN m.method IS NOT NULL OR m.status_code IS NOT NULL OR m.uri IS NOT NULL THEN 'http' "
        "WHEN m.query IS NOT NULL OR m.qtype_name IS NOT NULL THEN 'dns' "
        "WHEN m.server_name IS NOT NULL THEN 'ssl' "
        "WHEN m.note IS NOT NULL THEN 'notice' END"
    )
    struct = _json_struct(sorted(set(names) | {"history", "auth_attempts", "qtype_name"}))
    sql = f"""
WITH a AS (
    SELECT line_no, line,
           CASE WHEN starts_with(ltrim(line), '{{') THEN try(json_transform(line, {_q(struct)})) END AS m
    FROM _lines
), b AS (
    SELECT line_no, line, m,
           coalesce(CASE WHEN regexp_full_match(m._path, '[a-z0-9_]{{1,32}}') THEN m._path END,
                    {guess}, $hint, 'zeek') AS act
    FROM a
)
SELECT
    line_no,
    line AS raw,
    act AS action,
    {select},
    CASE WHEN m IS NULL OR m.ts IS NULL THEN {_q(REJECT_JSON)} END AS _reject,
    NULL::VARCHAR AS _skip
FROM b
"""
    return sql, {"hint": hint, "tz": ctx.tz}


def build_sql(ctx: FileContext) -> tuple[str, dict[str, Any]]:
    first = next((ln for ln in ctx.head_lines if ln.strip()), "")
    if first.lstrip().startswith("{"):
        return _json_sql(ctx)
    return _tsv_sql(ctx)


# --- samples -------------------------------------------------------------------------------------
_CONN_HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    "#open\t2017-04-16-21-36-10\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes"
    "\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes"
    "\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool"
    "\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]"
)


def _utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


SAMPLES = (
    # Samples are single lines; the TSV ones are checked with their header in tests/engine.
    Sample(
        '{"ts":1591425407.765563,"uid":"CdCP464YLOr79eqaje","id.orig_h":"192.168.100.121","id.orig_p":63406,'
        '"id.resp_h":"8.8.8.8","id.resp_p":53,"proto":"udp","service":"dns","duration":0.020179033279418945,'
        '"orig_bytes":38,"resp_bytes":62,"conn_state":"SF","local_orig":true,"missed_bytes":0,"history":"Dd"}',
        {
            "action": "conn",
            "ts": datetime(2020, 6, 6, 6, 36, 47, 765563, tzinfo=UTC),
            "src_ip": "192.168.100.121",
            "src_port": 63406,
            "dst_ip": "8.8.8.8",
            "dst_port": 53,
            "proto": "udp",
            "service": "dns",
            "duration": 0.020179033279418945,
            "src_bytes": 38,
            "bytes": 62,
            "conn_state": "SF",
            "_reject": None,
        },
    ),
    Sample(
        '{"_path":"ssh","ts":"2024-03-05T08:00:01.250000Z","uid":"C1","id.orig_h":"203.0.113.5","id.orig_p":50022,'
        '"id.resp_h":"10.0.0.2","id.resp_p":22,"auth_success":false,"auth_attempts":3,"client":"SSH-2.0-libssh_0.9.6"}',
        {
            "action": "ssh",
            "ts": datetime(2024, 3, 5, 8, 0, 1, 250000, tzinfo=UTC),
            "src_ip": "203.0.113.5",
            "outcome": "failure",
            "user_agent": "SSH-2.0-libssh_0.9.6",
            "dst_port": 22,
        },
    ),
    Sample(
        '{"ts":1700000000.5,"uid":"C2","id.orig_h":"10.0.0.9","id.orig_p":40000,"id.resp_h":"93.184.216.34",'
        '"id.resp_p":80,"method":"GET","host":"example.com","uri":"/index.html","user_agent":"curl/8.5.0",'
        '"status_code":200,"response_body_len":1256,"version":"1.1"}',
        {
            "action": "http",
            "method": "GET",
            "host": "example.com",
            "path": "/index.html",
            "user_agent": "curl/8.5.0",
            "status": 200,
            "bytes": 1256,
            "proto": "HTTP/1.1",
        },
    ),
    Sample("#separator \\x09", {"_skip": "zeek header", "_reject": None}),
    Sample("1320279554.496300\tCg9xqq3JAcZusspA86\t192.168.2.76\t52025", {"_reject": REJECT_NO_HEADER}),
    Sample('{"uid":"C3","note":"x"}', {"_reject": REJECT_JSON}),
    Sample("{not json", {"_reject": REJECT_JSON}),
)

FORMAT = LogFormat(
    name="zeek",
    title="Zeek (Bro) logs: TSV with #fields header, or JSON lines",
    detect=detect,
    build_sql=build_sql,
    samples=SAMPLES,
    priority=10,
)
