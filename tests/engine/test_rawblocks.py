"""Raw lines kept as compressed blocks: every event's ``raw`` is its line, whatever the format,
the case stays consistent when an ingest is killed mid-write, and old cases are migrated."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from engine.formats import all_formats
from engine.formats.base import decode_lines, parse_bytes
from engine.ingest import ingest
from store import rawblocks
from store.case import Case
from store.schema import _EVENT_TABLES_V11
from tests.engine.loglines import failed_logins_file, ingest_process
from tests.test_store import _case_at_version



def _text_formats():
    return sorted(name for name, fmt in all_formats().items() if not fmt.record_bytes)


@pytest.mark.parametrize("name", _text_formats())
def test_raw_is_the_decoded_input_line_for_every_text_format(tmp_path: Path, name: str) -> None:
    fmt = all_formats()[name]
    lines = [s.line for s in fmt.samples]
    # A hostile line of each format's kind: invalid UTF-8 and a NUL byte, kept visible.
    data = ("\n".join(lines) + "\n").encode("utf-8") + lines[0].encode("utf-8") + b"\xff\xfe\x00end\n"
    log = tmp_path / f"{name}.log"
    log.write_bytes(data)
    with Case.open(tmp_path / "c.duckdb") as case:
        result = ingest(case, [log], format_name=name, tz="UTC")
        assert result.files[0].lines == len(lines) + 1
        expected = decode_lines(data, 1).column("line").to_pylist()
        got = case.con.execute("SELECT line_no, raw FROM events ORDER BY line_no").fetchall()
        assert got, f"{name}: its samples gave no events"
        for line_no, raw in got:
            assert raw == expected[line_no - 1], f"{name} line {line_no}"
        rejects = case.con.execute("SELECT line_no, raw FROM rejects").fetchall()
        assert all(raw == expected[n - 1] for n, raw in rejects)
        last = case.con.execute("SELECT raw FROM events WHERE line_no = $n", {"n": len(lines) + 1}).fetchall()
        if last:  # where the hostile line is an event, its bytes show as escapes, never lost
            assert last[0][0].endswith("\\xff\\xfe\\x00end")
        assert case.con.execute("SELECT count(*) FROM raw_blocks").fetchall()[0][0] >= 1


def test_raw_of_binary_records_is_what_the_format_renders(tmp_path: Path) -> None:
    from tests.engine.test_format_utmp import WTMP as data
    path = tmp_path / "wtmp"
    path.write_bytes(data)
    expected = {r["line_no"]: r["raw"] for r in parse_bytes("utmp", data, path=str(path))}
    with Case.open(tmp_path / "c.duckdb") as case:
        ingest(case, [path], format_name="utmp", tz="UTC")
        got = dict(case.con.execute("SELECT line_no, raw FROM events").fetchall())
    assert len(got) == len(expected) == 5 and got == expected


def test_lines_span_many_blocks_and_pages_read_only_their_blocks(tmp_path: Path) -> None:
    n = rawblocks.BLOCK_LINES * 5 + 17
    lines = [f"Nov 14 10:{i // 60 % 60:02d}:{i % 60:02d} h sshd[{i}]: Failed password for root from 192.0.2.{i % 250} "
             f"port {i} ssh2" for i in range(n)]
    log = tmp_path / "auth.log"
    log.write_text("\n".join(lines) + "\n")
    with Case.open(tmp_path / "c.duckdb") as case:
        ingest(case, [log], tz="UTC", chunk_bytes=100_000)  # several chunks, each with its own blocks
        blocks = case.con.execute("SELECT block_no, first_line, n FROM raw_blocks ORDER BY block_no").fetchall()
        assert [b[0] for b in blocks] == list(range(len(blocks)))
        assert sum(b[2] for b in blocks) == n
        assert all(b[1] == a[1] + a[2] for a, b in zip(blocks, blocks[1:]))  # consecutive, no gap
        got = case.con.execute("SELECT raw FROM events ORDER BY line_no").fetchall()
        assert [r[0] for r in got] == lines
        # A query that reads no raw line does not touch the blocks (the join is planned away).
        plan = "\n".join(r[1] for r in case.con.execute("EXPLAIN SELECT count(*), count(src_ip) FROM events").fetchall())
        assert rawblocks.UDF_NAME not in plan and "raw_blocks" not in plan
        # The TUI's reader unpacks the blocks of the rows it is asked for, and keeps them.
        rows = [dict(zip(("source_id", "raw_block", "line_no"), r)) for r in case.con.execute(
            "SELECT source_id, raw_block, line_no FROM events WHERE line_no IN (1, 700, $n) ORDER BY line_no",
            {"n": n}).fetchall()]
        reader = rawblocks.RawLines(keep=2)
        assert [r["raw"] for r in reader.fill(case.con, rows)] == [lines[0], lines[699], lines[-1]]
        assert reader.lines(case.con, [(1, 99, 1)]) == [None]


def test_pack_sparse_round_trips_lines_in_any_order() -> None:
    nos = np.array([9, 1, 5000, 2, 3], dtype=np.int64)
    lines = pa.array(["nine", "one", "far", "", "three\\x00"], pa.large_string())
    blocks = rawblocks.pack_sparse(nos, lines, block_lines=8)
    assert [(b.first_line, b.n) for b in blocks] == [(1, 3), (9, 1), (5000, 1)]
    nums = rawblocks.block_numbers(nos, blocks, 10)
    for no, line, num in zip(nos, lines.to_pylist(), nums):
        block = blocks[num - 10]
        assert rawblocks.unpack(block.data, block.n)[int(no) - block.first_line].as_py() == line


def test_kill_9_during_block_writes_leaves_a_consistent_case(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    lines = failed_logins_file(log, 120_000)
    db = tmp_path / "case.duckdb"
    kills = 0
    # Killed at a different moment after a chunk each time: mid-parse, mid-block-insert, mid-commit.
    for delay in (0.0, 0.004, 0.012, 0.03):
        proc = ingest_process(db, log, 128 * 1024)
        seen = 0
        for line in proc.stdout:
            seen += line.startswith("chunk")
            if seen == 3:
                time.sleep(delay)
                proc.kill()
                kills += 1
                break
        proc.wait(10)
        with Case.open(db) as c:
            # Every committed event has its line, every block belongs to committed events.
            assert c.con.execute("SELECT count(*) FROM events WHERE raw IS NULL").fetchall() == [(0,)]
            stored = c.con.execute("SELECT coalesce(sum(n), 0) FROM raw_blocks").fetchall()[0][0]
            assert stored == c.con.execute("SELECT coalesce(sum(lines_read), 0) FROM sources").fetchall()[0][0]
    assert kills >= 2, "the ingest finished before it could be killed"
    with Case.open(db) as c:
        ingest(c, [log], tz="UTC")
        got = c.con.execute("SELECT line_no, raw FROM events ORDER BY line_no").fetchall()
    assert got == [(i, line) for i, line in enumerate(lines, 1)]


def test_migration_12_moves_every_raw_line_of_an_existing_case_into_blocks(tmp_path: Path) -> None:
    db = tmp_path / "v11.duckdb"
    _case_at_version(db, 11)
    assert "raw" in _EVENT_TABLES_V11["ev_auth"]
    con = duckdb.connect(str(db))
    con.execute("SET TimeZone = 'UTC'")
    for sid, path, fmt in ((1, "/var/log/auth.log", "syslog"), (2, "/var/log/audit/audit.log", "auditd"),
                           (3, "/var/log/auth.log.1", "syslog")):
        con.execute("INSERT INTO sources (id, path, format, fingerprint, fp_len) VALUES ($i, $p, $f, 'x', 1)",
                    {"i": sid, "p": path, "f": fmt})
    expect = {}
    # Sparse line numbers (rejects and blank lines are not events) over more than one block.
    for sid, table in ((1, "ev_auth"), (2, "ev_host"), (3, "ev_auth")):
        for line_no in [1, 2, 5, 600, 601, 2000] + list(range(3000, 3000 + 40 * sid)):
            raw = f"src{sid} line {line_no} \\xff [bold]x[/bold]"
            con.execute(f"INSERT INTO {table} (source_id, line_no, ts, action, raw) "
                        "VALUES ($s, $l, TIMESTAMPTZ '2026-11-01 00:00:00+00', 'x', $r)",
                        {"s": sid, "l": line_no, "r": raw})
            expect[(sid, line_no)] = raw
    con.close()
    with Case.open(db) as case:
        got = {(s, n): r for s, n, r in case.con.execute("SELECT source_id, line_no, raw FROM events").fetchall()}
        assert got == expect
        for table in ("ev_auth", "ev_host", "ev_web", "ev_net"):
            cols = {r[0] for r in case.con.execute(f"DESCRIBE {table}").fetchall()}
            assert "raw" not in cols and "raw_block" in cols
        assert case.con.execute("SELECT count(*) FROM events WHERE raw_block IS NULL").fetchall() == [(0,)]


def test_files_ingest_in_parallel_and_a_copy_is_still_recognised(tmp_path: Path, monkeypatch) -> None:
    from engine import config

    monkeypatch.setattr(config, "INGEST_FILES_AT_ONCE", 2)
    logs = tmp_path / "logs"
    logs.mkdir()
    expected = {}
    for h in range(4):
        lines = [f"Nov 14 10:00:{i % 60:02d} web{h} sshd[{i}]: Failed password for root from 192.0.2.{h} port {i} ssh2"
                 for i in range(3000 + h)]
        (logs / f"auth{h}.log").write_text("\n".join(lines) + "\n")
        expected[str(logs / f"auth{h}.log")] = lines
    (logs / "copy-of-auth0.log").write_bytes((logs / "auth0.log").read_bytes())
    with Case.open(tmp_path / "c.duckdb") as case:
        result = ingest(case, [logs], tz="UTC", chunk_bytes=64 * 1024)
        statuses = sorted(f.status for f in result.files)
        # The copy is the same content as auth0.log: read once, whichever came first.
        assert statuses == ["ingested"] * 4 + ["unchanged"]
        assert result.events == sum(len(v) for v in expected.values())
        got = case.con.execute("SELECT source_id, list(raw ORDER BY line_no) FROM events GROUP BY 1").fetchall()
        assert sorted(lines for _, lines in got) == sorted(expected.values())


def test_free_text_search_reads_the_raw_lines_out_of_their_blocks(tmp_path: Path) -> None:
    from store import browse

    lines = [f"Nov 14 10:00:{i % 60:02d} web{i % 3} sshd[{i}]: Failed password for user{i} from 192.0.2.1 port {i} ssh2"
             for i in range(2000)]
    lines[1500] = "Nov 14 10:00:00 gateway sshd[9]: Invalid user 100%_Legit from 192.0.2.9 port 1"
    log = tmp_path / "auth.log"
    log.write_text("\n".join(lines) + "\n")
    with Case.open(tmp_path / "c.duckdb") as case:
        ingest(case, [log], tz="UTC")
        assert browse.count_events(case, browse.parse_filter("GATEWAY")) == 1  # the host: only in the raw line
        assert browse.count_events(case, browse.parse_filter("100%_legit")) == 1  # % and _ are literal
        assert browse.count_events(case, browse.parse_filter("100%%legit")) == 0
        assert browse.count_events(case, browse.parse_filter("web1 sshd")) == len(range(1, 2000, 3)) - (1500 % 3 == 1)
        page = browse.events_page(case, browse.parse_filter("gateway"))
        assert [r["line_no"] for r in page.rows] == [1501]


def test_the_block_prefilter_never_changes_what_the_search_finds(tmp_path: Path) -> None:
    from store import browse

    lines = [f"Nov 14 10:00:{i % 60:02d} h sshd[{i}]: Failed password for u{i} from 192.0.2.1 port {i} ssh2"
             for i in range(3 * rawblocks.BLOCK_LINES)]
    lines[10] = "Nov 14 10:00:00 h sshd[1]: Invalid user ÜBERPRÜFUNG from 192.0.2.9 port 1"
    lines[700] = "Nov 14 10:00:00 h sshd[2]: Invalid user \u212aelvin from 192.0.2.9 port 2"  # KELVIN SIGN
    lines[1200] = "Nov 14 10:00:00 h sshd[3]: Invalid user MiXeD from 192.0.2.9 port 3"
    log = tmp_path / "auth.log"
    log.write_text("\n".join(lines) + "\n")
    with Case.open(tmp_path / "c.duckdb") as case:
        ingest(case, [log], tz="UTC")
        for text in ("überprüfung", "kelvin", "mixed", "MIXED", "port 1\\", "nothing here", "u1"):
            reference = case.con.execute("SELECT count(*) FROM events WHERE raw ILIKE $p ESCAPE '\\'",
                                         {"p": browse._like(text)}).fetchall()[0][0]
            assert browse.count_events(case, browse.parse_filter(text)) == reference, text
        assert browse.count_events(case, browse.parse_filter("mixed")) == 1
