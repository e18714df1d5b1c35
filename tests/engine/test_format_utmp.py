"""The `utmp` format: wtmp/btmp records written with struct.pack, events and sessions out."""

from __future__ import annotations

import gzip
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.formats import detect_binary_format, get_format
from engine.formats.base import parse_bytes
from engine.formats.utmp import RECORD, detect_bytes
from engine.ingest import ingest
from store.case import Case

FMT = get_format("utmp")
T0 = datetime(2026, 11, 14, 3, 0, 0, tzinfo=UTC)


def rec(ut_type: int, *, pid: int = 0, line: str = "", user: str = "", host: str = "", addr: bytes = b"",
        at: float = 0.0, ut_id: str = "") -> bytes:
    """A glibc struct utmp, packed field by field here (not with the module under test)."""
    ts = T0 + timedelta(seconds=at)
    sec = int(ts.timestamp())
    usec = ts.microsecond
    return struct.pack("<hhi32s4s32s256shhiii16s20s", ut_type, 0, pid, line.encode(), ut_id.encode(),
                       user.encode(), host.encode(), 0, 0, 0, sec, usec, addr.ljust(16, b"\0"), b"")


V4 = bytes([203, 0, 113, 9])
V6 = bytes.fromhex("20010db8000000000000000000000007")

WTMP = b"".join([
    rec(2, line="~", user="reboot", host="6.8.0-31-generic", at=0),
    rec(7, pid=1500, line="pts/0", ut_id="ts/0", user="root", host="203.0.113.9", addr=V4, at=60),
    rec(7, pid=1600, line="pts/1", ut_id="ts/1", user="alice", host="2001:db8::7", addr=V6, at=90.25),
    rec(8, pid=1500, line="pts/0", ut_id="ts/0", at=660),
    rec(1, line="~~", user="shutdown", host="6.8.0-31-generic", at=900),
])


def test_records_become_events_with_paired_sessions() -> None:
    assert len(WTMP) == 5 * RECORD
    rows = parse_bytes(FMT, WTMP)
    assert [r["line_no"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["action"] for r in rows] == ["boot", "login", "login", "logout", "shutdown"]
    boot, root, alice, logout, down = rows
    assert boot["ts"] == T0 and boot["src_ip"] is None
    assert (root["user"], root["src_ip"], root["session"], root["pid"], root["outcome"]) == (
        "root", "203.0.113.9", "pts/0", 1500, "success")
    assert alice["src_ip"] == "2001:db8::7" and alice["ts"] == T0 + timedelta(seconds=90.25)
    # the logout record names no user: pairing with the login on its tty gives it, and the length
    assert (logout["user"], logout["src_ip"], logout["duration"]) == ("root", "203.0.113.9", 600.0)
    assert root["duration"] == 600.0 and alice["duration"] is None
    assert down["user"] == "shutdown"
    assert all(r["_reject"] is None for r in rows)


def test_btmp_records_are_failed_logins() -> None:
    data = rec(6, pid=2000, line="ssh:notty", user="oracle", host="198.51.100.4", addr=bytes([198, 51, 100, 4]), at=5)
    (r,) = parse_bytes(FMT, data, path="/var/log/btmp.1")
    assert (r["action"], r["outcome"], r["user"], r["src_ip"]) == ("auth_failure", "failure", "oracle", "198.51.100.4")


def test_truncated_final_record_is_a_reject_with_a_reason() -> None:
    rows = parse_bytes(FMT, WTMP + WTMP[:100])
    assert len(rows) == 6
    assert rows[5]["line_no"] == 6
    assert "truncated" in rows[5]["_reject"] and "100 bytes" in rows[5]["_reject"]


def test_unknown_type_is_a_reject() -> None:
    rows = parse_bytes(FMT, rec(42, user="x", at=1))
    assert rows[0]["_reject"] == "not a utmp record (type 42)"


def test_detection_by_content_and_name() -> None:
    assert detect_bytes(WTMP, "wtmp") == 1.0
    assert detect_bytes(WTMP, "records.bin") == pytest.approx(0.9)
    assert detect_bytes(b"Nov 14 03:10:01 bastion sshd[1]: x\n" * 40, "wtmp") == 0.0
    assert detect_binary_format(WTMP, "btmp.1.gz") is FMT
    assert FMT.detect(["anything"]) == 0.0
    # a sparse lastlog (292-byte records, mostly zeros) or a zeroed file is not a wtmp
    assert detect_bytes(b"\0" * 100_000, "wtmp") == 0.0
    lastlog = bytearray(292 * 200)
    lastlog[292 * 3: 292 * 3 + 4] = struct.pack("<i", int(T0.timestamp()))
    lastlog[292 * 3 + 4: 292 * 3 + 9] = b"pts/1"
    assert detect_bytes(bytes(lastlog), "lastlog") == 0.0


def test_ingest_reads_wtmp_and_btmp_gz_resumes_and_adds_nothing_twice(tmp_path: Path) -> None:
    wtmp = tmp_path / "wtmp"
    wtmp.write_bytes(WTMP)
    btmp = tmp_path / "btmp.1.gz"
    btmp.write_bytes(gzip.compress(b"".join(
        rec(6, pid=3000 + i, line="ssh:notty", user="admin", host="192.0.2.50", addr=bytes([192, 0, 2, 50]), at=i)
        for i in range(7))))
    case = Case.open(tmp_path / "c.duckdb")
    try:
        first = ingest(case, [wtmp, btmp])
        assert {f.path.rsplit("/", 1)[1]: (f.format, f.lines, f.events, f.rejected) for f in first.files} == {
            "wtmp": ("utmp", 5, 5, 0), "btmp.1.gz": ("utmp", 7, 7, 0)}
        again = ingest(case, [wtmp, btmp])
        assert again.events == 0 and {f.status for f in again.files} == {"unchanged"}
        # wtmp grows by a login/logout pair: only the new records are read, and the logout pairs
        # with its login across the two ingests.
        with wtmp.open("ab") as f:
            f.write(rec(7, pid=1700, line="pts/2", user="bob", host="192.0.2.8", addr=bytes([192, 0, 2, 8]), at=1000))
        ingest(case, [wtmp])
        with wtmp.open("ab") as f:
            f.write(rec(8, pid=1700, line="pts/2", at=1300) + b"\x07\x00" * 20)
        grown = ingest(case, [wtmp])
        (g,) = grown.files
        assert (g.status, g.lines, g.events, g.rejected) == ("appended", 2, 1, 1)
        row = case.con.execute("SELECT line_no, \"user\", src_ip, duration FROM events WHERE action = 'logout' "
                               "AND session = 'pts/2'").fetchone()
        assert row == (7, "bob", "192.0.2.8", 300.0)
        assert case.con.execute("SELECT line_no, reason FROM rejects").fetchall() == [
            (8, "truncated utmp record: the file ends 40 bytes into a 384-byte record")]
        assert case.con.execute("SELECT count(*) FROM events WHERE action = 'auth_failure' AND src_ip = '192.0.2.50'"
                                ).fetchone()[0] == 7
    finally:
        case.close()
