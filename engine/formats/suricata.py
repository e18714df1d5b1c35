"""Suricata EVE JSON: one object per line.

Each line is parsed once (``json_transform`` into a struct of the fields used here, inside
``try()`` so invalid JSON gives NULL instead of an error). The action is the ``event_type``
(``alert``, ``flow``, ``http``, ``dns``, ``tls``, ``ssh``, ``anomaly``, ``smtp``, ``fileinfo``, ...);
``stats`` records are skipped by design. Lines that are not JSON objects with an ``event_type``
are rejects.

Columns: ``src_ip``/``src_port``, ``dest_ip``/``dest_port`` -> ``dst_ip``/``dst_port``, ``proto``
(lower case, like Zeek), ``app_proto`` -> ``service``, flow ``bytes_toserver`` -> ``src_bytes`` and
``bytes_toclient`` -> ``bytes``, flow ``state`` -> ``conn_state``, flow end - start -> ``duration``;
alert ``signature``/``signature_id``/``category``/``severity`` -> ``signature``/``sig_id``/
``sig_category``/``sig_severity``; http ``hostname``/``url``/``http_method``/``status``/
``http_user_agent``/``http_refer``/``length`` -> ``host``/``path``/``method``/``status``/
``user_agent``/``referrer``/``bytes``; ssh client software -> ``user_agent``. The sensor name
(top-level ``host``) is ``host`` for non-http records. ``message`` holds a short description
(alert signature, dns query name, TLS SNI, anomaly event, ...).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from engine.formats.base import FileContext, LogFormat, Sample, json_object

_V = "VARCHAR"
_STRUCT = {
    "timestamp": _V,
    "event_type": _V,
    "src_ip": _V,
    "src_port": _V,
    "dest_ip": _V,
    "dest_port": _V,
    "proto": _V,
    "app_proto": _V,
    "host": _V,
    "alert": {"signature": _V, "signature_id": _V, "category": _V, "severity": _V, "action": _V},
    "flow": {"bytes_toserver": _V, "bytes_toclient": _V, "state": _V, "start": _V, "end": _V, "age": _V},
    "netflow": {"bytes": _V, "start": _V, "end": _V, "age": _V},
    "http": {
        "hostname": _V, "url": _V, "http_method": _V, "status": _V, "http_user_agent": _V,
        "http_refer": _V, "length": _V, "protocol": _V,
    },
    "dns": {"rrname": _V, "rrtype": _V, "type": _V, "queries": [{"rrname": _V, "rrtype": _V}]},
    "tls": {"sni": _V, "version": _V, "subject": _V},
    "ssh": {"client": {"software_version": _V, "proto_version": _V}, "server": {"software_version": _V}},
    "smtp": {"helo": _V, "mail_from": _V},
    "fileinfo": {"filename": _V, "size": _V},
    "anomaly": {"type": _V, "event": _V, "layer": _V},
    "dhcp": {"hostname": _V, "assigned_ip": _V, "client_mac": _V},
}

REJECT_JSON = "not a Suricata EVE record (invalid JSON or not an object)"
REJECT_NO_TYPE = "not a Suricata EVE record (no event_type)"


def detect(lines: Sequence[str]) -> float:
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return 0.0
    hits = 0
    for ln in lines:
        obj = json_object(ln)
        if obj is not None and isinstance(obj.get("event_type"), str) and "timestamp" in obj:
            hits += 1
    return hits / len(lines)


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def ts_sql(v: str) -> str:
    """ISO text with an offset (``+0000``, ``+03:00``, ``Z``), or without one (read in ``$tz``)."""
    return (
        f"CASE WHEN regexp_matches({v}, '(?:Z|[+-][0-9]{{2}}:?[0-9]{{2}})$') THEN TRY_CAST({v} AS TIMESTAMPTZ) "
        f"ELSE timezone($tz, TRY_CAST({v} AS TIMESTAMP)) END"
    )


def build_sql(ctx: FileContext) -> tuple[str, dict[str, Any]]:
    struct = json.dumps(_STRUCT)
    sql = f"""
WITH a AS (
    SELECT line_no, line,
           CASE WHEN starts_with(ltrim(line), '{{') THEN try(json_transform(line, {_q(struct)})) END AS m
    FROM _lines
), b AS (
    SELECT line_no, line, m, nullif(m.event_type, '') AS et FROM a
)
SELECT
    line_no,
    line AS raw,
    {ts_sql('m.timestamp')} AS ts,
    CASE WHEN et = 'http' THEN coalesce(m.http.hostname, m.host) ELSE m.host END AS host,
    et AS action,
    m.src_ip AS src_ip,
    TRY_CAST(m.src_port AS INTEGER) AS src_port,
    m.dest_ip AS dst_ip,
    TRY_CAST(m.dest_port AS INTEGER) AS dst_port,
    m.http.http_method AS method,
    m.http.url AS path,
    TRY_CAST(m.http.status AS INTEGER) AS status,
    coalesce(TRY_CAST(m.flow.bytes_toclient AS BIGINT), TRY_CAST(m.http.length AS BIGINT)) AS bytes,
    coalesce(TRY_CAST(m.flow.bytes_toserver AS BIGINT), TRY_CAST(m.netflow.bytes AS BIGINT)) AS src_bytes,
    m.http.http_refer AS referrer,
    coalesce(m.http.http_user_agent, m.ssh.client.software_version) AS user_agent,
    lower(m.proto) AS proto,
    m.app_proto AS service,
    m.flow.state AS conn_state,
    coalesce(epoch({ts_sql('m.flow."end"')}) - epoch({ts_sql('m.flow.start')}),
             epoch({ts_sql('m.netflow."end"')}) - epoch({ts_sql('m.netflow.start')}),
             TRY_CAST(coalesce(m.flow.age, m.netflow.age) AS DOUBLE)) AS duration,
    m.alert.signature AS signature,
    TRY_CAST(m.alert.signature_id AS BIGINT) AS sig_id,
    m.alert.category AS sig_category,
    TRY_CAST(m.alert.severity AS INTEGER) AS sig_severity,
    CASE et
        WHEN 'alert' THEN m.alert.signature
        WHEN 'dns' THEN coalesce(m.dns.rrname, m.dns.queries[1].rrname)
        WHEN 'tls' THEN coalesce(m.tls.sni, m.tls.subject)
        WHEN 'anomaly' THEN concat_ws(' ', m.anomaly.type, m.anomaly.event)
        WHEN 'smtp' THEN concat_ws(' ', m.smtp.helo, m.smtp.mail_from)
        WHEN 'fileinfo' THEN m.fileinfo.filename
        WHEN 'ssh' THEN m.ssh.client.software_version
        WHEN 'dhcp' THEN m.dhcp.hostname
    END AS message,
    CASE WHEN m IS NULL THEN {_q(REJECT_JSON)} WHEN et IS NULL THEN {_q(REJECT_NO_TYPE)} END AS _reject,
    CASE WHEN et = 'stats' THEN 'suricata stats record' END AS _skip
FROM b
"""
    return sql, {"tz": ctx.tz}


SAMPLES = (
    Sample(
        '{"timestamp":"2023-09-05T12:00:00.123456+0000","flow_id":1,"in_iface":"ens18","event_type":"alert",'
        '"src_ip":"45.155.205.233","src_port":51111,"dest_ip":"192.168.55.199","dest_port":22,"proto":"TCP",'
        '"alert":{"action":"allowed","gid":1,"signature_id":2001219,"rev":20,'
        '"signature":"ET SCAN Potential SSH Scan","category":"Attempted Information Leak","severity":2},'
        '"app_proto":"ssh","flow":{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":74,"bytes_toclient":0,'
        '"start":"2023-09-05T12:00:00.000000+0000"}}',
        {
            "action": "alert",
            "ts": datetime(2023, 9, 5, 12, 0, 0, 123456, tzinfo=UTC),
            "src_ip": "45.155.205.233",
            "src_port": 51111,
            "dst_ip": "192.168.55.199",
            "dst_port": 22,
            "proto": "tcp",
            "service": "ssh",
            "signature": "ET SCAN Potential SSH Scan",
            "sig_id": 2001219,
            "sig_category": "Attempted Information Leak",
            "sig_severity": 2,
            "message": "ET SCAN Potential SSH Scan",
            "_reject": None,
            "_skip": None,
        },
    ),
    Sample(
        '{"timestamp":"2023-09-03T00:00:29.092106+0300","flow_id":870450833547062,"event_type":"flow",'
        '"src_ip":"192.168.55.199","src_port":45973,"dest_ip":"192.168.55.1","dest_port":53,"proto":"UDP",'
        '"app_proto":"dns","flow":{"pkts_toserver":1,"pkts_toclient":1,"bytes_toserver":99,"bytes_toclient":157,'
        '"start":"2023-09-02T23:53:14.352054+0300","end":"2023-09-02T23:53:16.852054+0300","age":2,'
        '"state":"established","reason":"timeout","alerted":false},"host":"sensor1"}',
        {
            "action": "flow",
            "ts": datetime(2023, 9, 2, 21, 0, 29, 92106, tzinfo=UTC),
            "proto": "udp",
            "service": "dns",
            "src_bytes": 99,
            "bytes": 157,
            "conn_state": "established",
            "duration": 2.5,
            "host": "sensor1",
        },
    ),
    Sample(
        '{"timestamp":"2022-02-08T09:40:29.080710-0500","flow_id":1201228494666661,"event_type":"http",'
        '"src_ip":"10.2.8.102","src_port":49730,"dest_ip":"91.240.118.172","dest_port":80,"proto":"TCP",'
        '"tx_id":0,"http":{"hostname":"91.240.118.172","url":"/hh/hh.html","http_user_agent":"Mozilla/4.0",'
        '"http_content_type":"text/html","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":1814}}',
        {
            "action": "http",
            "ts": datetime(2022, 2, 8, 14, 40, 29, 80710, tzinfo=UTC),
            "host": "91.240.118.172",
            "path": "/hh/hh.html",
            "method": "GET",
            "status": 200,
            "user_agent": "Mozilla/4.0",
            "bytes": 1814,
        },
    ),
    Sample(
        '{"timestamp":"2022-02-08T09:40:31.064321-0500","event_type":"dns","src_ip":"10.2.8.102","src_port":49278,'
        '"dest_ip":"10.2.8.8","dest_port":53,"proto":"UDP","dns":{"type":"query","id":22761,'
        '"rrname":"ttisecurity.com","rrtype":"A","tx_id":0}}',
        {"action": "dns", "message": "ttisecurity.com", "dst_port": 53},
    ),
    Sample(
        '{"timestamp":"2023-09-03T00:01:00.000000+0300","event_type":"ssh","src_ip":"1.2.3.4","src_port":40000,'
        '"dest_ip":"192.168.55.199","dest_port":22,"proto":"TCP","ssh":{"client":{"proto_version":"2.0",'
        '"software_version":"libssh_0.9.6"},"server":{"proto_version":"2.0","software_version":"OpenSSH_8.9p1"}}}',
        {"action": "ssh", "user_agent": "libssh_0.9.6", "message": "libssh_0.9.6"},
    ),
    Sample(
        '{"timestamp":"2023-09-03T00:00:29.913179+0300","event_type":"stats","stats":{"uptime":12097}}',
        {"_skip": "suricata stats record", "_reject": None},
    ),
    Sample('{"timestamp":"2023-09-03T00:00:29.913179+0300","event_type":"alert",', {"_reject": REJECT_JSON}),
    Sample('{"ts": 1, "uid": "C1"}', {"_reject": REJECT_NO_TYPE}),
    Sample("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186", {"_reject": REJECT_JSON}),
)

FORMAT = LogFormat(
    name="suricata",
    title="Suricata EVE JSON",
    detect=detect,
    build_sql=build_sql,
    samples=SAMPLES,
    priority=10,
)
