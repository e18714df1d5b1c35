"""journald: ``journalctl -o json`` exports, one JSON object per line.

Fields used: ``__REALTIME_TIMESTAMP`` (microseconds since the epoch, UTC; ``_SOURCE_REALTIME_TIMESTAMP``
when it is missing), ``_HOSTNAME``, ``SYSLOG_IDENTIFIER`` (``_COMM`` when missing), ``_PID``
(``SYSLOG_PID`` when missing) and ``MESSAGE``, which is read with the same vocabulary as syslog
(``engine.formats.sshd``), so sshd/sshd-session messages give the full OpenSSH events.

journald writes a ``MESSAGE`` that is not valid UTF-8 (or holds control bytes) as a JSON array of
byte values; it is decoded as UTF-8, and where the bytes are not UTF-8 they are kept as ``\\xNN``
escapes. Each line is parsed once, with ``json_transform``; a line that is not a JSON object, or
an object with neither a timestamp nor a MESSAGE, is a reject with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from engine.formats import sshd
from engine.formats.base import FileContext, LogFormat, Sample
from engine.formats.sshd import sql_str

# Every field read, with the type json_transform gives it. MESSAGE stays JSON so that a string
# and an array of bytes can be told apart.
FIELDS: dict[str, str] = {
    "__REALTIME_TIMESTAMP": "VARCHAR",
    "_SOURCE_REALTIME_TIMESTAMP": "VARCHAR",
    "_HOSTNAME": "VARCHAR",
    "SYSLOG_IDENTIFIER": "VARCHAR",
    "_COMM": "VARCHAR",
    "_PID": "VARCHAR",
    "SYSLOG_PID": "VARCHAR",
    "MESSAGE": "JSON",
}

REJECT_NOT_JSON = "not a JSON object (invalid JSON)"
REJECT_NOT_OBJECT = "not a JSON object"
REJECT_NOT_JOURNAL = "JSON object without __REALTIME_TIMESTAMP or MESSAGE: not a journald record"


def build_sql(ctx: FileContext) -> tuple[str, dict[str, Any]]:
    spec = sql_str(json.dumps(FIELDS))
    # MESSAGE given as an array of byte values -> BLOB -> UTF-8 text, or \xNN escapes if not UTF-8.
    blob = (
        "from_hex(array_to_string([lpad(to_hex(b), 2, '0') "
        "for b in try(json_transform(_mj, '[\"UTINYINT\"]'))], ''))"
    )
    bytes_msg = f"replace(coalesce(try(decode({blob})), {blob}::VARCHAR), chr(0), '\\x00')"
    message = (
        "CASE json_type(_mj) WHEN 'VARCHAR' THEN json_extract_string(_mj, '$') "
        f"WHEN 'ARRAY' THEN {bytes_msg} "
        "WHEN 'NULL' THEN NULL ELSE _mj::VARCHAR END"
    )
    realtime = "coalesce(_j.__REALTIME_TIMESTAMP, _j._SOURCE_REALTIME_TIMESTAMP)"
    base = f"""
SELECT line_no, raw,
    CASE WHEN _reject IS NULL THEN timezone('UTC', make_timestamp(try_cast(_rt AS BIGINT))) END AS ts,
    CASE WHEN _reject IS NULL THEN _j._HOSTNAME END AS host,
    CASE WHEN _reject IS NULL THEN coalesce(_j.SYSLOG_IDENTIFIER, _j._COMM) END AS program,
    CASE WHEN _reject IS NULL THEN try_cast(coalesce(_j._PID, _j.SYSLOG_PID) AS BIGINT) END AS pid,
    CASE WHEN _reject IS NULL THEN {message} END AS message,
    _reject, NULL::VARCHAR AS _skip
FROM (
    SELECT line_no, raw, _j, _j.MESSAGE AS _mj, {realtime} AS _rt,
        CASE WHEN _j IS NULL THEN {sql_str(REJECT_NOT_JSON)}
             WHEN NOT starts_with(ltrim(raw), '{{') THEN {sql_str(REJECT_NOT_OBJECT)}
             WHEN {realtime} IS NULL AND _j.MESSAGE IS NULL THEN {sql_str(REJECT_NOT_JOURNAL)}
        END AS _reject
    FROM (
        SELECT line_no, line AS raw, try(json_transform(line, {spec})) AS _j
        FROM _lines
    ) _p
) _q
"""
    return sshd.wrap(base), {}


def detect(lines: Sequence[str]) -> float:
    """Share of the lines that are JSON objects with journald's keys."""
    considered = [ln for ln in lines if ln.strip()]
    if not considered:
        return 0.0
    hits = 0
    for ln in considered:
        s = ln.strip()
        if not s.startswith("{"):
            continue
        try:
            obj = json.loads(s)
        except ValueError:
            continue
        if isinstance(obj, dict) and (
            "__REALTIME_TIMESTAMP" in obj or ("MESSAGE" in obj and "_HOSTNAME" in obj)
        ):
            hits += 1
    return hits / len(considered)


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _rec(message: Any, ident: str = "sshd", pid: str = "4242", host: str = "bastion",
         realtime: str = "1760000000123456") -> str:
    return json.dumps({
        "__REALTIME_TIMESTAMP": realtime, "_HOSTNAME": host, "SYSLOG_IDENTIFIER": ident,
        "_PID": pid, "_COMM": ident, "MESSAGE": message,
    })


def _s(line: str, **expect: Any) -> Sample:
    return Sample(line=line, expect=expect)


SAMPLES: tuple[Sample, ...] = (
    _s(_rec("Failed password for invalid user admin from 203.0.113.9 port 40022 ssh2"),
       ts=_utc(2025, 10, 9, 8, 53, 20, 123456), host="bastion", program="sshd", pid=4242,
       action="auth_password", outcome="failure", user="admin", src_ip="203.0.113.9", src_port=40022,
       auth_method="password"),
    _s(_rec("Accepted publickey for deploy from 2001:db8::7 port 50100 ssh2: ED25519 SHA256:abc",
            ident="sshd-session"),
       program="sshd-session", action="auth_publickey", outcome="success", user="deploy",
       src_ip="2001:db8::7", src_port=50100),
    _s(_rec("Connection closed by authenticating user root 198.51.100.4 port 61000 [preauth]"),
       action="preauth_close", outcome="failure", user="root", src_ip="198.51.100.4", src_port=61000),
    _s(_rec("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.50  user=root"),
       action="pam_auth_failure", outcome="failure", user="root", src_ip="192.0.2.50"),
    _s(_rec([73, 110, 118, 97, 108, 105, 100, 32, 117, 115, 101, 114, 32, 195, 169, 32, 102, 114, 111,
             109, 32, 49, 46, 50, 46, 51, 46, 52]),
       message="Invalid user \u00e9 from 1.2.3.4", action="invalid_user", user="\u00e9", src_ip="1.2.3.4"),
    _s(_rec([104, 105, 255, 0]), message="hi\\xFF\\x00", action="sshd_other"),
    _s(_rec("(root) CMD (run-parts /etc/cron.hourly)", ident="CRON"), program="CRON", action="cron", user="root"),
    _s(_rec("GPS Reference longitude: 7.358143333", ident="python", pid="184", host="imx6ul-medusa",
            realtime="1534860261221373"),
       ts=_utc(2018, 8, 21, 14, 4, 21, 221373), host="imx6ul-medusa", program="python", pid=184,
       action="syslog", outcome=None),
    _s('{"__REALTIME_TIMESTAMP": "1760000000000000", "_HOSTNAME": "h"',
       _reject=REJECT_NOT_JSON),
    _s('["not", "an", "object"]', _reject=REJECT_NOT_OBJECT),
    _s('{"foo": "bar"}', _reject=REJECT_NOT_JOURNAL),
)

FORMAT = LogFormat(
    name="journald",
    title="journald JSON export (journalctl -o json) with the OpenSSH vocabulary",
    detect=detect,
    build_sql=build_sql,
    samples=SAMPLES,
    priority=10,
    fixups=(sshd.FILL_ADDRESS_SQL,),
)
