"""Cowrie SSH/telnet honeypot JSON (``cowrie.json*``): one object per line, ``eventid`` ``cowrie.*``.

Every event type is kept. ``cowrie.login.failed`` / ``cowrie.login.success`` are authentication
events (action ``auth_password``, ``outcome`` failure/success, ``user``, ``password``); the others
take their ``eventid`` without the ``cowrie.`` prefix, dots as underscores, as the action
(``session_connect``, ``command_input``, ``session_file_download``, ``client_kex``, ...).

Columns: ``session`` (Cowrie's id of the connection), ``src_ip``/``src_port``, ``dst_ip``/``dst_port``,
``sensor`` -> ``host``, ``protocol`` -> ``proto``, ``input`` -> ``command``, ``url``/``shasum`` ->
``url``/``file_hash`` (downloads and uploads), ``version`` -> ``user_agent``, ``hassh``, ``duration``
(seconds: session.closed, log.closed), ``message``. Cowrie logs the source port only on
``session.connect``; a fixup gives it to the session's other events (across chunks too).
``#`` comment lines are skipped; a line that is not a Cowrie object is a reject with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from engine.formats.base import FileContext, LogFormat, Sample, json_object
from engine.formats.sshd import sql_str
from engine.formats.suricata import ts_sql

_V = "VARCHAR"
_STRUCT = {
    "eventid": _V, "timestamp": _V, "session": _V, "src_ip": _V, "src_port": _V, "dst_ip": _V,
    "dst_port": _V, "username": _V, "password": _V, "input": _V, "url": _V, "shasum": _V,
    "outfile": _V, "filename": _V, "version": _V, "hassh": _V, "duration": _V, "duration_ms": _V,
    "message": "JSON", "sensor": _V, "protocol": _V,
}

REJECT_JSON = "not a Cowrie record (invalid JSON or not an object)"
REJECT_NO_EVENTID = "not a Cowrie record (no cowrie.* eventid)"


def detect(lines: Sequence[str]) -> float:
    """Share of the (non-comment) lines that are objects with a ``cowrie.*`` eventid."""
    lines = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return 0.0
    hits = 0
    for ln in lines:
        obj = json_object(ln)
        if obj is not None and str(obj.get("eventid", "")).startswith("cowrie."):
            hits += 1
    return hits / len(lines)


def build_sql(ctx: FileContext) -> tuple[str, dict[str, Any]]:
    struct = sql_str(json.dumps(_STRUCT))
    # Cowrie writes message as a string, or (older versions) as a list of strings.
    message = (
        "CASE json_type(m.message) WHEN 'VARCHAR' THEN json_extract_string(m.message, '$') "
        "WHEN 'ARRAY' THEN array_to_string(json_extract_string(m.message, '$[*]'), ' ') "
        "ELSE m.message::VARCHAR END"
    )
    sql = f"""
WITH a AS (
    SELECT line_no, line,
           CASE WHEN starts_with(ltrim(line), '{{') THEN try(json_transform(line, {struct})) END AS m,
           starts_with(ltrim(line), '#') AS comment
    FROM _lines
), b AS (
    SELECT *, CASE WHEN starts_with(m.eventid, 'cowrie.') THEN m.eventid[8:] END AS ev FROM a
)
SELECT
    line_no,
    line AS raw,
    {ts_sql('m.timestamp')} AS ts,
    m.sensor AS host,
    'cowrie' AS program,
    CASE WHEN ev IN ('login.failed', 'login.success') THEN 'auth_password' ELSE replace(ev, '.', '_') END AS action,
    CASE ev WHEN 'login.failed' THEN 'failure' WHEN 'login.success' THEN 'success' END AS outcome,
    CASE WHEN ev LIKE 'login.%' THEN 'password' END AS auth_method,
    m.src_ip AS src_ip,
    TRY_CAST(m.src_port AS INTEGER) AS src_port,
    m.dst_ip AS dst_ip,
    TRY_CAST(m.dst_port AS INTEGER) AS dst_port,
    m.username AS "user",
    m.password AS password,
    m.session AS session,
    lower(m.protocol) AS proto,
    CASE WHEN ev LIKE 'command.%' THEN m.input END AS command,
    CASE WHEN ev LIKE 'session.file_%' THEN coalesce(m.url, m.filename) END AS url,
    CASE WHEN ev LIKE 'session.file_%' THEN m.shasum END AS file_hash,
    m.version AS user_agent,
    m.hassh AS hassh,
    coalesce(TRY_CAST(m.duration AS DOUBLE), TRY_CAST(m.duration_ms AS DOUBLE) / 1000.0) AS duration,
    {message} AS message,
    CASE WHEN comment THEN NULL
         WHEN m IS NULL THEN {sql_str(REJECT_JSON)}
         WHEN ev IS NULL THEN {sql_str(REJECT_NO_EVENTID)} END AS _reject,
    CASE WHEN comment THEN 'comment line' END AS _skip
FROM b
"""
    return sql, {"tz": ctx.tz}


# The source port (and the honeypot's address) of a session, from its connect event, for the
# session's other events; the connect may be in an earlier chunk (``_prior``).
FILL_FROM_CONNECT_SQL = """
UPDATE _parsed SET src_port = coalesce(_parsed.src_port, c.src_port),
                   dst_ip = coalesce(_parsed.dst_ip, c.dst_ip),
                   dst_port = coalesce(_parsed.dst_port, c.dst_port)
FROM (
    SELECT session, any_value(src_port) AS src_port, any_value(dst_ip) AS dst_ip, any_value(dst_port) AS dst_port
    FROM (
        SELECT session, src_port, dst_ip, dst_port FROM _parsed
        WHERE action = 'session_connect' AND _reject IS NULL AND _skip IS NULL
        UNION ALL
        SELECT session, src_port, dst_ip, dst_port FROM _prior WHERE action = 'session_connect'
    ) GROUP BY session
) c
WHERE _parsed.session = c.session AND _parsed._reject IS NULL AND _parsed.action <> 'session_connect'
  AND (_parsed.src_port IS NULL OR _parsed.dst_ip IS NULL)
  AND _parsed.action NOT LIKE 'direct-tcpip%'
"""


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


SAMPLES = (
    Sample(
        '{"eventid": "cowrie.session.connect", "src_ip": "185.222.209.151", "src_port": 58875, '
        '"timestamp": "2018-05-10T00:09:27.838173Z", "message": "New connection: 185.222.209.151:58875 '
        '(172.17.0.3:2222) [session: ab29aebee4e6]", "dst_ip": "172.17.0.3", "system": '
        '"cowrie.ssh.factory.CowrieSSHFactory", "protocol": "ssh", "isError": 0, "session": "ab29aebee4e6", '
        '"dst_port": 2222, "sensor": "920497a79896"}',
        {"ts": _utc(2018, 5, 10, 0, 9, 27, 838173), "action": "session_connect", "src_ip": "185.222.209.151",
         "src_port": 58875, "dst_ip": "172.17.0.3", "dst_port": 2222, "session": "ab29aebee4e6", "proto": "ssh",
         "host": "920497a79896", "program": "cowrie", "outcome": None, "_reject": None},
    ),
    Sample(
        '{"eventid": "cowrie.login.failed", "username": "", "timestamp": "2018-05-10T00:09:28.188455Z", '
        '"message": "login attempt [/root] failed", "system": "SSHService \'ssh-userauth\' on '
        'HoneyPotSSHTransport,670,185.222.209.151", "isError": 0, "src_ip": "185.222.209.151", '
        '"session": "ab29aebee4e6", "password": "root", "sensor": "920497a79896"}',
        {"action": "auth_password", "outcome": "failure", "user": "", "password": "root",
         "auth_method": "password", "session": "ab29aebee4e6", "message": "login attempt [/root] failed"},
    ),
    Sample(
        '{"session":"2a5e755afa79","protocol":"ssh","src_ip":"137.184.154.9","src_port":37416,"dst_ip":"172.18.0.2",'
        '"dst_port":2222,"username":"brun","password":"brun","eventid":"cowrie.login.success",'
        '"sensor":"580d0186ebeb","timestamp":"2026-08-13T00:00:35.273750Z",'
        '"message":"login attempt [brun/brun] succeeded"}',
        {"action": "auth_password", "outcome": "success", "user": "brun", "password": "brun",
         "src_port": 37416, "ts": _utc(2026, 8, 13, 0, 0, 35, 273750)},
    ),
    Sample(
        '{"eventid": "cowrie.command.input", "timestamp": "2018-05-10T20:33:41.005464Z", "message": '
        '"CMD: /ip cloud print", "isError": 0, "src_ip": "178.140.128.15", "session": "e5f36c01bec1", '
        '"input": "/ip cloud print", "sensor": "920497a79896"}',
        {"action": "command_input", "command": "/ip cloud print", "outcome": None, "user": None},
    ),
    Sample(
        '{"eventid":"cowrie.session.file_download","url":"http://198.51.100.7/bins/x86","outfile":'
        '"var/lib/cowrie/downloads/5f1c","shasum":"5f1c0b4e9d6f3a8b2c7d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b",'
        '"src_ip":"203.0.113.9","session":"9f8e7d6c5b4a","timestamp":"2026-08-13T00:06:00.000000Z",'
        '"message":"Downloaded URL (http://198.51.100.7/bins/x86) with SHA-256 5f1c to var/lib/cowrie/downloads/5f1c"}',
        {"action": "session_file_download", "url": "http://198.51.100.7/bins/x86",
         "file_hash": "5f1c0b4e9d6f3a8b2c7d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"},
    ),
    Sample(
        '{"session":"2a5e755afa79","protocol":"ssh","src_ip":"137.184.154.9","src_port":37416,"dst_ip":"172.18.0.2",'
        '"dst_port":2222,"version":"SSH-2.0-Go","eventid":"cowrie.client.version","sensor":"580d0186ebeb",'
        '"timestamp":"2026-08-13T00:00:34.808236Z","message":"Remote SSH version: SSH-2.0-Go"}',
        {"action": "client_version", "user_agent": "SSH-2.0-Go"},
    ),
    Sample(
        '{"session":"2a5e755afa79","src_ip":"137.184.154.9","hassh":"16443846184eafde36765c9bab2f4397",'
        '"kexAlgs":["curve25519-sha256"],"langCS":[""],"eventid":"cowrie.client.kex","sensor":"580d0186ebeb",'
        '"timestamp":"2026-08-13T00:00:34.924330Z","message":"SSH client hassh fingerprint: 16443846184eafde"}',
        {"action": "client_kex", "hassh": "16443846184eafde36765c9bab2f4397"},
    ),
    Sample(
        '{"eventid": "cowrie.session.closed", "timestamp": "2018-05-10T00:09:29.226879Z", "message": '
        '"Connection lost after 1 seconds", "src_ip": "185.222.209.151", "duration": 1.3843309879302979, '
        '"session": "ab29aebee4e6", "sensor": "920497a79896"}',
        {"action": "session_closed", "duration": 1.3843309879302979},
    ),
    Sample("# Cowrie honeypot JSON log", {"_skip": "comment line", "_reject": None}),
    Sample("not a json line at all", {"_reject": REJECT_JSON}),
    Sample('{"eventid": "alert", "timestamp": "2026-08-13T00:00:00Z"}', {"_reject": REJECT_NO_EVENTID}),
)

FORMAT = LogFormat(
    name="cowrie",
    title="Cowrie honeypot JSON",
    detect=detect,
    build_sql=build_sql,
    samples=SAMPLES,
    priority=20,
    fixups=(FILL_FROM_CONNECT_SQL,),
)
