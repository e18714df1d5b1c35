"""The `suricata` format: EVE JSON records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.formats import get_format, parse_lines
from engine.formats.suricata import REJECT_JSON, REJECT_NO_TYPE

FMT = get_format("suricata")

BASE = {
    "timestamp": "2023-09-05T12:00:00.123456+0000",
    "flow_id": 1,
    "in_iface": "ens18",
    "src_ip": "45.155.205.233",
    "src_port": 51111,
    "dest_ip": "192.168.55.199",
    "dest_port": 22,
    "proto": "TCP",
}


def eve(**kw: Any) -> str:
    return json.dumps(BASE | kw)


def one(line: str, **kw: Any) -> dict[str, Any]:
    rows = parse_lines("suricata", [line], **kw)
    assert len(rows) == 1
    return rows[0]


def check(r: dict[str, Any], expect: dict[str, Any]) -> None:
    assert {k: r.get(k) for k in expect} == dict(expect), r["raw"]


@pytest.mark.parametrize("i", range(len(FMT.samples)))
def test_every_sample(i: int) -> None:
    s = FMT.samples[i]
    check(one(s.line, mtime_year=s.mtime_year, mtime_month=s.mtime_month), dict(s.expect))


def test_alert() -> None:
    r = one(eve(event_type="alert", app_proto="ssh",
                alert={"action": "allowed", "gid": 1, "signature_id": 2001219, "rev": 20,
                       "signature": "ET SCAN Potential SSH Scan", "category": "Attempted Information Leak",
                       "severity": 2},
                flow={"pkts_toserver": 1, "bytes_toserver": 74, "bytes_toclient": 0,
                      "start": "2023-09-05T12:00:00.000000+0000"}))
    check(r, {"action": "alert", "ts": datetime(2023, 9, 5, 12, 0, 0, 123456, tzinfo=UTC),
              "src_ip": "45.155.205.233", "src_port": 51111, "dst_ip": "192.168.55.199", "dst_port": 22,
              "proto": "tcp", "service": "ssh", "signature": "ET SCAN Potential SSH Scan", "sig_id": 2001219,
              "sig_category": "Attempted Information Leak", "sig_severity": 2, "src_bytes": 74, "bytes": 0,
              "duration": None, "outcome": None, "format": "suricata", "_reject": None, "_skip": None})


def test_flow() -> None:
    r = one(eve(timestamp="2023-09-03T00:00:29.092106+0300", event_type="flow", proto="UDP", app_proto="dns",
                host="sensor-1",
                flow={"pkts_toserver": 1, "pkts_toclient": 1, "bytes_toserver": 99, "bytes_toclient": 157,
                      "start": "2023-09-02T23:53:14.352054+0300", "end": "2023-09-02T23:53:14.852054+0300",
                      "age": 0, "state": "established", "reason": "timeout", "alerted": False}))
    check(r, {"action": "flow", "ts": datetime(2023, 9, 2, 21, 0, 29, 92106, tzinfo=UTC), "proto": "udp",
              "service": "dns", "src_bytes": 99, "bytes": 157, "conn_state": "established",
              "host": "sensor-1"})
    assert r["duration"] == pytest.approx(0.5)


def test_netflow() -> None:
    r = one(eve(event_type="netflow", netflow={"pkts": 6, "bytes": 1149, "start": "2022-04-25T00:02:08.938341+0000",
                                               "end": "2022-04-25T00:02:33.268264+0000", "age": 25}))
    check(r, {"action": "netflow", "src_bytes": 1149, "bytes": None})
    assert r["duration"] == pytest.approx(24.329923)


def test_http() -> None:
    r = one(eve(timestamp="2022-02-08T09:40:29.080710-0500", event_type="http", dest_port=80,
                http={"hostname": "evil.example", "url": "/hh/hh.html?x=1", "http_user_agent": "Mozilla/4.0",
                      "http_refer": "http://ref/", "http_method": "POST", "protocol": "HTTP/1.1",
                      "status": 404, "length": 1814}))
    check(r, {"action": "http", "ts": datetime(2022, 2, 8, 14, 40, 29, 80710, tzinfo=UTC), "host": "evil.example",
              "path": "/hh/hh.html?x=1", "method": "POST", "status": 404, "user_agent": "Mozilla/4.0",
              "referrer": "http://ref/", "bytes": 1814})


@pytest.mark.parametrize(
    "kw,expect",
    [
        ({"event_type": "dns", "dns": {"type": "query", "rrname": "a.example", "rrtype": "A"}},
         {"action": "dns", "message": "a.example"}),
        ({"event_type": "dns", "dns": {"version": 3, "queries": [{"rrname": "b.example", "rrtype": "AAAA"}]}},
         {"action": "dns", "message": "b.example"}),
        ({"event_type": "tls", "tls": {"sni": "c.example", "version": "TLS 1.3"}}, {"action": "tls", "message": "c.example"}),
        ({"event_type": "ssh", "ssh": {"client": {"proto_version": "2.0", "software_version": "libssh_0.9.6"},
                                       "server": {"software_version": "OpenSSH_8.9p1"}}},
         {"action": "ssh", "user_agent": "libssh_0.9.6"}),
        ({"event_type": "anomaly", "anomaly": {"type": "applayer", "event": "APPLAYER_DETECT_PROTOCOL_ONLY_ONE_DIRECTION",
                                               "layer": "proto_detect"}},
         {"action": "anomaly", "message": "applayer APPLAYER_DETECT_PROTOCOL_ONLY_ONE_DIRECTION"}),
        ({"event_type": "smtp", "smtp": {"helo": "mx.example", "mail_from": "<a@b>", "rcpt_to": ["<c@d>"]}},
         {"action": "smtp", "message": "mx.example <a@b>"}),
        ({"event_type": "fileinfo", "fileinfo": {"filename": "/x.exe", "size": 10}},
         {"action": "fileinfo", "message": "/x.exe"}),
        ({"event_type": "dhcp", "dhcp": {"hostname": "laptop"}}, {"action": "dhcp", "message": "laptop"}),
        ({"event_type": "frobnicate"}, {"action": "frobnicate", "message": None, "_reject": None}),
    ],
)
def test_other_event_types_take_their_event_type(kw: dict[str, Any], expect: dict[str, Any]) -> None:
    check(one(eve(**kw)), expect | {"src_ip": "45.155.205.233", "dst_port": 22})


def test_stats_are_skipped_by_design() -> None:
    r = one('{"timestamp":"2023-09-03T00:00:29.913179+0300","event_type":"stats","stats":{"uptime":12097}}')
    check(r, {"_skip": "suricata stats record", "_reject": None})


def test_timestamp_without_offset_is_read_in_the_file_zone() -> None:
    r = one(eve(timestamp="2023-09-05T12:00:00.5", event_type="flow"), tz="Asia/Tokyo")
    assert r["ts"] == datetime(2023, 9, 5, 3, 0, 0, 500000, tzinfo=UTC)


def test_type_confusion_does_not_break_the_chunk() -> None:
    lines = [
        eve(event_type="alert", src_port="not a port", alert={"signature_id": "x", "severity": [1]}),
        eve(event_type="flow", flow="not an object", timestamp=12),
        eve(event_type="http", http={"status": 99999999999999, "length": -1}),
        eve(event_type="alert", alert={"signature": "[bold]'; DROP TABLE events; --\u001b[2J"}),
    ]
    rows = parse_lines("suricata", lines)
    assert [r["_reject"] for r in rows] == [None] * 4
    check(rows[0], {"src_port": None, "sig_id": None, "sig_severity": None})
    check(rows[1], {"ts": None, "conn_state": None})
    check(rows[2], {"status": None, "bytes": -1})
    assert rows[3]["signature"] == "[bold]'; DROP TABLE events; --\x1b[2J"


@pytest.mark.parametrize(
    "line,reason",
    [
        ('{"timestamp":"2023-09-03T00:00:29.913179+0300","event_type":"alert",', REJECT_JSON),
        ("not json at all", REJECT_JSON),
        ("[1, 2, 3]", REJECT_JSON),
        ('"a string"', REJECT_JSON),
        ('{"a": 1} trailing', REJECT_JSON),
        ('{"timestamp":"2023-09-03T00:00:29+0300"}', REJECT_NO_TYPE),
        ('{"timestamp":"2023-09-03T00:00:29+0300","event_type":""}', REJECT_NO_TYPE),
        ('{"__REALTIME_TIMESTAMP":"1534860261221373","MESSAGE":"x"}', REJECT_NO_TYPE),
    ],
)
def test_rejects(line: str, reason: str) -> None:
    r = one(line)
    assert r["_reject"] == reason
    assert r["raw"] == line


def test_detect() -> None:
    assert FMT.detect([eve(event_type="alert"), eve(event_type="stats")]) == 1.0
    assert FMT.detect(['{"ts":1591425407.7,"uid":"C1","id.orig_h":"1.2.3.4"}']) == 0.0
    assert FMT.detect(['{"__REALTIME_TIMESTAMP":"1534860261221373","MESSAGE":"x","_HOSTNAME":"h"}']) == 0.0
    assert FMT.detect(['{"eventid":"cowrie.login.failed","timestamp":"2018-05-10T00:00:00Z","src_ip":"1.2.3.4"}']) == 0.0
    assert FMT.detect(["Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user x from 1.2.3.4"]) == 0.0
