"""The `zeek` format: TSV logs read through their header, and JSON logs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest

from engine.formats import get_format, parse_lines
from engine.formats.base import FileContext, decode_lines, run_format
from engine.formats.zeek import REJECT_JSON, REJECT_NO_HEADER

FMT = get_format("zeek")

CONN_FIELDS = [
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
    "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history",
    "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents",
]


def header(path: str, fields: list[str], sep: str = "\t", sep_text: str = "\\x09") -> list[str]:
    return [
        f"#separator {sep_text}",
        f"#set_separator{sep},",
        f"#empty_field{sep}(empty)",
        f"#unset_field{sep}-",
        f"#path{sep}{path}",
        f"#open{sep}2017-04-16-21-36-10",
        "#fields" + sep + sep.join(fields),
        "#types" + sep + sep.join("string" for _ in fields),
    ]


def row(fields: list[str], values: dict[str, str], sep: str = "\t") -> str:
    return sep.join(values.get(f, "-") for f in fields)


CONN_ROW = {
    "ts": "1320279554.496300", "uid": "Cg9xqq3JAcZusspA86", "id.orig_h": "192.168.2.76", "id.orig_p": "52025",
    "id.resp_h": "208.85.42.28", "id.resp_p": "80", "proto": "tcp", "service": "http", "duration": "2.125850",
    "orig_bytes": "310", "resp_bytes": "1092421", "conn_state": "SF", "history": "ShADadfF",
    "tunnel_parents": "(empty)",
}
CONN_EXPECT = {
    "action": "conn",
    "ts": datetime(2011, 11, 3, 0, 19, 14, 496300, tzinfo=UTC),
    "src_ip": "192.168.2.76",
    "src_port": 52025,
    "dst_ip": "208.85.42.28",
    "dst_port": 80,
    "proto": "tcp",
    "service": "http",
    "duration": 2.12585,
    "src_bytes": 310,
    "bytes": 1092421,
    "conn_state": "SF",
    "format": "zeek",
    "_reject": None,
    "_skip": None,
}


def check(r: dict[str, Any], expect: dict[str, Any]) -> None:
    assert {k: r.get(k) for k in expect} == dict(expect), r["raw"]


def events(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["_skip"] is None]


@pytest.mark.parametrize("i", range(len(FMT.samples)))
def test_every_sample(i: int) -> None:
    s = FMT.samples[i]
    (r,) = parse_lines("zeek", [s.line], mtime_year=s.mtime_year, mtime_month=s.mtime_month)
    check(r, dict(s.expect))


def test_tsv_conn() -> None:
    lines = header("conn", CONN_FIELDS) + [row(CONN_FIELDS, CONN_ROW), "#close\t2017-04-16-21-36-10"]
    rows = parse_lines("zeek", lines)
    assert len(rows) == len(lines)
    assert [r["_skip"] for r in rows] == ["zeek header"] * 8 + [None, "zeek header"]
    assert all(r["_reject"] is None for r in rows)
    check(rows[8], CONN_EXPECT | {"line_no": 9})


def test_tsv_column_order_comes_from_the_header() -> None:
    fields = list(reversed(CONN_FIELDS))
    rows = parse_lines("zeek", header("conn", fields) + [row(fields, CONN_ROW)])
    check(events(rows)[0], CONN_EXPECT)


def test_tsv_other_separator_and_markers() -> None:
    fields = ["ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "conn_state"]
    lines = [
        "#separator \\x7c",
        "#empty_field|EMPTY",
        "#unset_field|NONE",
        "#path|conn",
        "#fields|" + "|".join(fields),
        "1320279554.5|10.0.0.1|1|10.0.0.2|2|udp|EMPTY|NONE",
    ]
    (r,) = events(parse_lines("zeek", lines))
    check(r, {"ts": datetime(2011, 11, 3, 0, 19, 14, 500000, tzinfo=UTC), "src_ip": "10.0.0.1", "dst_port": 2,
              "proto": "udp", "service": None, "conn_state": None, "_reject": None})


def test_tsv_unset_and_empty_are_null_and_masked_ts() -> None:
    values = dict(CONN_ROW, ts="XXXXXXXXXX.XXXXXX", service="-", duration="-", orig_bytes="-", resp_bytes="-")
    (r,) = events(parse_lines("zeek", header("conn", CONN_FIELDS) + [row(CONN_FIELDS, values)]))
    check(r, {"action": "conn", "ts": None, "service": None, "duration": None, "src_bytes": None, "bytes": None,
              "src_ip": "192.168.2.76", "_reject": None})


def test_tsv_hostile_ts_values_do_not_break_the_chunk() -> None:
    rows = [row(CONN_FIELDS, dict(CONN_ROW, ts=t)) for t in ("inf", "nan", "1e300", "-5", "9" * 40, "2024-01-01")]
    out = events(parse_lines("zeek", header("conn", CONN_FIELDS) + rows))
    assert [r["_reject"] for r in out] == [None] * 6
    assert [r["ts"] for r in out][:5] == [None] * 5


def test_tsv_field_count_mismatch_is_a_reject() -> None:
    lines = header("conn", CONN_FIELDS) + ["1320279554.496300\tC\t1.2.3.4", row(CONN_FIELDS, CONN_ROW) + "\textra"]
    out = events(parse_lines("zeek", lines))
    assert [r["_reject"] for r in out] == [
        "Zeek row does not have the 21 fields its #fields header declares"] * 2


def test_tsv_without_header_rejects_rows() -> None:
    rows = parse_lines("zeek", [row(CONN_FIELDS, CONN_ROW)])
    assert rows[0]["_reject"] == REJECT_NO_HEADER


def test_tsv_ssh_log_outcome_and_client() -> None:
    fields = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "version", "auth_success",
              "auth_attempts", "direction", "client", "server"]
    base = {"ts": "1320279554.5", "id.orig_h": "203.0.113.9", "id.orig_p": "50000", "id.resp_h": "10.0.0.2",
            "id.resp_p": "22", "client": "SSH-2.0-libssh_0.9.6", "server": "SSH-2.0-OpenSSH_8.9"}
    lines = header("ssh", fields) + [row(fields, dict(base, auth_success=v)) for v in ("T", "F", "-")]
    out = events(parse_lines("zeek", lines))
    assert [r["outcome"] for r in out] == ["success", "failure", None]
    check(out[0], {"action": "ssh", "user_agent": "SSH-2.0-libssh_0.9.6", "dst_port": 22, "src_ip": "203.0.113.9"})


def test_tsv_http_log() -> None:
    fields = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "trans_depth", "method", "host",
              "uri", "referrer", "version", "user_agent", "request_body_len", "response_body_len", "status_code",
              "status_msg", "username"]
    values = {"ts": "1320279566.452687", "id.orig_h": "192.168.2.76", "id.orig_p": "52026",
              "id.resp_h": "132.235.215.119", "id.resp_p": "80", "method": "GET", "host": "www.reddit.com",
              "uri": "/search.json?&q=#BroIDS", "referrer": "http://www.bro-ids.org/", "version": "1.1",
              "user_agent": "Mozilla/5.0 (Macintosh)", "request_body_len": "0", "response_body_len": "109978",
              "status_code": "200", "status_msg": "OK", "username": "bob"}
    (r,) = events(parse_lines("zeek", header("http", fields) + [row(fields, values)]))
    check(r, {"action": "http", "method": "GET", "host": "www.reddit.com", "path": "/search.json?&q=#BroIDS",
              "referrer": "http://www.bro-ids.org/", "user_agent": "Mozilla/5.0 (Macintosh)", "status": 200,
              "bytes": 109978, "src_bytes": 0, "user": "bob", "proto": "HTTP/1.1", "_reject": None})


def test_tsv_dns_log_takes_its_path_as_action() -> None:
    fields = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "query", "qtype_name"]
    values = {"ts": "1320279554.5", "id.orig_h": "10.0.0.1", "id.orig_p": "5353", "id.resp_h": "10.0.0.53",
              "id.resp_p": "53", "proto": "udp", "query": "evil.example.com", "qtype_name": "A"}
    (r,) = events(parse_lines("zeek", header("dns", fields) + [row(fields, values)]))
    check(r, {"action": "dns", "message": "evil.example.com", "proto": "udp", "dst_port": 53})


def test_hostile_header_names_never_reach_sql() -> None:
    fields = ["ts", "id.orig_h'); DROP TABLE _lines; --", 'x" || (SELECT 1) || "', "id.orig_h", "[bold]"]
    values = {"ts": "1320279554.5", "id.orig_h": "1.2.3.4"}
    lines = header("conn'; DROP TABLE events; --", fields) + [row(fields, values)]
    sql, _params = FMT.build_sql(FileContext(path="/x/conn.log", mtime_year=2026, mtime_month=1,
                                            head_lines=tuple(lines)))
    assert "DROP" not in sql and "[bold]" not in sql and "SELECT 1" not in sql
    (r,) = events(parse_lines("zeek", lines))
    # an unsafe #path is not used as an action
    check(r, {"action": "zeek", "src_ip": "1.2.3.4", "_reject": None})


def test_resume_mid_file_uses_the_header_from_head_lines() -> None:
    head = header("conn", CONN_FIELDS) + [row(CONN_FIELDS, CONN_ROW)]
    later = "\n".join(row(CONN_FIELDS, dict(CONN_ROW, **{"id.orig_p": str(p)})) for p in (1, 2, 3)) + "\n"
    chunk = decode_lines(later.encode(), 500)
    ctx = FileContext(path="/x/conn.log", mtime_year=2026, mtime_month=1, head_lines=tuple(head))
    con = duckdb.connect()
    run_format(con, FMT, ctx, chunk, 1 << 20)
    got = con.execute("SELECT line_no, action, src_port, _reject FROM _parsed ORDER BY line_no").fetchall()
    assert got == [(500, "conn", 1, None), (501, "conn", 2, None), (502, "conn", 3, None)]


def test_json_conn() -> None:
    line = ('{"ts":1591425407.765563,"uid":"C1","id.orig_h":"192.168.100.121","id.orig_p":63406,'
            '"id.resp_h":"8.8.8.8","id.resp_p":53,"proto":"udp","service":"dns","duration":0.02,'
            '"orig_bytes":38,"resp_bytes":62,"conn_state":"SF","history":"Dd"}')
    (r,) = parse_lines("zeek", [line])
    check(r, {"action": "conn", "ts": datetime(2020, 6, 6, 6, 36, 47, 765563, tzinfo=UTC), "src_port": 63406,
              "dst_ip": "8.8.8.8", "src_bytes": 38, "bytes": 62, "duration": 0.02, "conn_state": "SF"})


def test_json_path_iso_ts_and_nested_id() -> None:
    lines = [
        ('{"_path":"conn","ts":"2024-03-05T08:00:01.250000Z","uid":"C1","id":{"orig_h":"10.0.0.1","orig_p":1,'
         '"resp_h":"10.0.0.2","resp_p":443},"proto":"tcp"}'),
        ('{"_path":"http","ts":"2024-03-05T08:00:02","uid":"C2","id.orig_h":"10.0.0.1","method":"POST",'
         '"uri":"/login","status_code":401,"host":"app"}'),
        '{"_path":"[bold]x","ts":1700000000,"uid":"C3","id.orig_h":"10.0.0.9","conn_state":"S0"}',
    ]
    r1, r2, r3 = parse_lines("zeek", lines, tz="Europe/Zurich")
    check(r1, {"action": "conn", "ts": datetime(2024, 3, 5, 8, 0, 1, 250000, tzinfo=UTC), "src_ip": "10.0.0.1",
               "dst_port": 443})
    check(r2, {"action": "http", "ts": datetime(2024, 3, 5, 7, 0, 2, tzinfo=UTC), "method": "POST", "status": 401,
               "path": "/login", "host": "app"})
    check(r3, {"action": "conn", "conn_state": "S0"})  # unsafe _path: guessed from the fields


def test_json_action_from_file_name_when_fields_do_not_tell() -> None:
    line = '{"ts":1700000000.0,"uid":"C1","id.orig_h":"10.0.0.1","fuid":"F1"}'
    assert parse_lines("zeek", [line], path="/logs/files.2024.log")[0]["action"] == "files"
    assert parse_lines("zeek", [line], path="/logs/whatever.log")[0]["action"] == "zeek"


def test_json_rejects() -> None:
    lines = ['{"ts":1700000000.0,"uid":"C1"', '{"uid":"C1"}', "[1, 2]", "plain text"]
    rows = parse_lines("zeek", ['{"ts":1700000000.0,"uid":"C0"}'] + lines)
    assert rows[0]["_reject"] is None
    assert [r["_reject"] for r in rows[1:]] == [REJECT_JSON] * 4


def test_detect() -> None:
    tsv = header("conn", CONN_FIELDS) + [row(CONN_FIELDS, CONN_ROW)]
    assert FMT.detect(tsv) == 1.0
    assert FMT.detect(['{"ts":1591425407.7,"uid":"C1","id.orig_h":"1.2.3.4"}']) == 1.0
    assert FMT.detect(['{"timestamp":"2023-09-05T12:00:00+0000","event_type":"flow","src_ip":"1.2.3.4"}']) == 0.0
    assert FMT.detect(['{"__REALTIME_TIMESTAMP":"1534860261221373","MESSAGE":"x","_HOSTNAME":"h"}']) == 0.0
    assert FMT.detect(["Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user x from 1.2.3.4"]) == 0.0
