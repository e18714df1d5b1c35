"""The ingest core: files in, events/rejects out, nothing lost, nothing twice."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.ingest import IngestError, expand_paths, ingest
from store.case import Case, CaseLocked, CaseMissing, CaseError
from tests.engine.loglines import failed_logins_file, ingest_process

AUTH = [
    "Nov 14 03:10:01 bastion sshd[1001]: Failed password for root from 203.0.113.9 port 50100 ssh2",
    "Nov 14 03:10:03 bastion sshd[1001]: Failed password for root from 203.0.113.9 port 50100 ssh2",
    "Nov 14 03:10:05 bastion sshd[1002]: Invalid user oracle from 203.0.113.9 port 50102",
    "Nov 14 03:11:00 bastion sshd[1003]: Accepted publickey for alice from 198.51.100.7 port 40000 ssh2: ED25519 SHA256:abc",
    "Nov 14 03:15:01 bastion CRON[1100]: (root) CMD (run-parts /etc/cron.hourly)",
]


def write(path: Path, lines: list[str], *, newline: str = "\n", mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(line + newline for line in lines).encode())
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def count(case: Case, sql: str, params: dict | None = None) -> int:
    return case.con.execute(sql, params or {}).fetchone()[0]


@pytest.fixture
def case(tmp_path: Path):
    c = Case.open(tmp_path / "case.duckdb")
    yield c
    c.close()


def no_duplicates(case: Case) -> bool:
    return count(case, "SELECT count(*) FROM events") == count(
        case, "SELECT count(*) FROM (SELECT DISTINCT source_file, line_no FROM events)"
    )


def test_every_line_is_an_event_a_reject_or_skipped(case: Case, tmp_path: Path) -> None:
    log = write(tmp_path / "auth.log", AUTH + ["", "this is not syslog at all", "# a comment"])
    result = ingest(case, [log], tz="UTC")
    (f,) = result.files
    assert (f.lines, f.events, f.rejected, f.skipped) == (8, 5, 1, 2)
    assert f.lines == f.events + f.rejected + f.skipped
    assert f.format == "syslog"
    (reason, raw, line_no) = case.con.execute("SELECT reason, raw, line_no FROM rejects").fetchone()
    assert raw == "this is not syslog at all" and line_no == 7 and reason
    row = case.con.execute(
        "SELECT source_file, line_no, action, outcome, src_ip, \"user\" FROM events WHERE line_no = 1"
    ).fetchone()
    assert row == (str(log.resolve()), 1, "auth_password", "failure", "203.0.113.9", "root")


def test_reingest_unchanged_adds_nothing_and_append_reads_only_new_lines(case: Case, tmp_path: Path) -> None:
    log = write(tmp_path / "auth.log", AUTH)
    ingest(case, [log], tz="UTC")
    again = ingest(case, [log], tz="UTC")
    assert again.files[0].status == "unchanged" and again.events == 0
    assert count(case, "SELECT count(*) FROM events") == 5
    with log.open("a") as f:
        f.write("Nov 14 04:00:00 bastion sshd[1200]: Failed password for admin from 192.0.2.50 port 1234 ssh2\n")
    appended = ingest(case, [log], tz="UTC")
    assert appended.files[0].status == "appended"
    assert (appended.files[0].lines, appended.events) == (1, 1)
    assert count(case, "SELECT max(line_no) FROM events") == 6
    assert count(case, "SELECT count(*) FROM events") == 6 and no_duplicates(case)


def test_rotation_is_read_oldest_first_and_recognised_after_rename(case: Case, tmp_path: Path) -> None:
    d = tmp_path / "logs"
    d.mkdir()
    with gzip.open(d / "auth.log.2.gz", "wt") as f:
        f.write(AUTH[0] + "\n")
    write(d / "auth.log.1", [AUTH[1]])
    write(d / "auth.log", [AUTH[2]])
    write(d / "auth.log.10", [AUTH[3]])
    files, problems = expand_paths([d])
    assert [p.path.name for p in files] == ["auth.log.10", "auth.log.2.gz", "auth.log.1", "auth.log"]
    assert not problems
    result = ingest(case, [d], tz="UTC")
    assert [Path(f.path).name for f in result.files] == ["auth.log.10", "auth.log.2.gz", "auth.log.1", "auth.log"]
    assert result.events == 4
    # logrotate: auth.log.1 -> auth.log.2 (gzipped), auth.log -> auth.log.1, a new auth.log starts.
    (d / "auth.log.2.gz").unlink()
    with gzip.open(d / "auth.log.2.gz", "wb") as f:
        f.write((d / "auth.log.1").read_bytes())
    (d / "auth.log").rename(d / "auth.log.1")
    write(d / "auth.log", [AUTH[4]])
    result = ingest(case, [d], tz="UTC")
    assert result.events == 1, result.as_json()
    assert count(case, "SELECT count(*) FROM events") == 5


def test_gzip_bz2_and_crlf(case: Case, tmp_path: Path) -> None:
    with gzip.open(tmp_path / "a.log.gz", "wb") as f:
        f.write(("\r\n".join(AUTH[:2]) + "\r\n").encode())
    with bz2.open(tmp_path / "b.log.bz2", "wb") as f:
        f.write(("\n".join(AUTH[2:4])).encode())  # no trailing newline: the last line still counts
    result = ingest(case, [tmp_path / "a.log.gz", tmp_path / "b.log.bz2"], tz="UTC")
    assert result.events == 4 and result.rejected == 0
    assert count(case, "SELECT count(*) FROM events WHERE raw LIKE '%' || chr(13) || '%'") == 0
    assert count(case, "SELECT count(*) FROM events WHERE \"user\" = 'alice'") == 1


def test_year_comes_from_the_file_mtime(case: Case, tmp_path: Path) -> None:
    jan = time.mktime((2027, 1, 3, 12, 0, 0, 0, 0, -1))
    log = write(
        tmp_path / "auth.log",
        ["Dec 31 23:59:58 h sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2",
         "Jan  1 00:00:02 h sshd[2]: Failed password for root from 192.0.2.1 port 2 ssh2"],
        mtime=jan,
    )
    ingest(case, [log], tz="UTC")
    years = [r[0] for r in case.con.execute("SELECT year(ts) FROM events ORDER BY line_no").fetchall()]
    assert years == [2026, 2027]


def test_bad_inputs_give_clear_problems_not_tracebacks(case: Case, tmp_path: Path) -> None:
    (tmp_path / "random.bin").write_bytes(os.urandom(20000))
    many = [f"Nov 14 03:{i // 60 % 60:02d}:{i % 60:02d} h sshd[{i}]: Failed password for u{i} from 192.0.2.{i % 250} port {i} ssh2"
            for i in range(5000)]
    good = gzip.compress(("\n".join(many) + "\n").encode())
    (tmp_path / "truncated.log.gz").write_bytes(good[: len(good) // 2])
    invalid = AUTH[0].encode() + b"\n" + b"Nov 14 03:10:09 bastion sshd[7]: Invalid user \xff\xfe\x00x from 192.0.2.9 port 5\n"
    (tmp_path / "invalid.log").write_bytes(invalid)
    huge = AUTH[0] + "\n" + "Nov 14 03:10:09 bastion sshd[7]: " + "A" * (3 << 20) + "\n" + AUTH[1] + "\n"
    (tmp_path / "huge.log").write_text(huge)
    result = ingest(
        case,
        [tmp_path / "random.bin", tmp_path / "truncated.log.gz", tmp_path / "invalid.log", tmp_path / "huge.log",
         tmp_path / "missing.log"],
        tz="UTC",
    )
    reasons = {Path(p.path).name: p.reason for p in result.problems}
    assert "binary" in reasons["random.bin"]
    assert "no such file" in reasons["missing.log"]
    by_name = {Path(f.path).name: f for f in result.files}
    trunc = by_name["truncated.log.gz"]
    assert trunc.status == "partial" and "truncated" in trunc.note and trunc.events > 0
    inv = by_name["invalid.log"]
    assert (inv.events, inv.rejected) == (2, 0)
    user = count(case, "SELECT \"user\" FROM events WHERE source_file LIKE '%invalid.log' AND line_no = 2")
    assert user == "\\xff\\xfe\\x00x"
    h = by_name["huge.log"]
    assert (h.events, h.rejected) == (2, 1)
    reason, raw_len = case.con.execute(
        "SELECT reason, length(raw) FROM rejects WHERE source_file LIKE '%huge.log'"
    ).fetchone()
    assert "over the" in reason and raw_len == 4096


def test_truncated_gzip_resumes_without_duplicates_once_complete(case: Case, tmp_path: Path) -> None:
    lines = [f"Nov 14 03:{i // 60 % 60:02d}:{i % 60:02d} h sshd[{i}]: Failed password for root from 192.0.2.1 port {i} ssh2"
             for i in range(3000)]
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "auth.log.1.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    first = ingest(case, [path], tz="UTC")
    assert first.files[0].status == "partial"
    path.write_bytes(data)  # the copy finished
    second = ingest(case, [path], tz="UTC")
    assert second.files[0].status == "appended"
    assert count(case, "SELECT count(*) FROM events") == 3000 and no_duplicates(case)


def test_unknown_format_name_is_a_usage_error(case: Case, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="unknown format"):
        ingest(case, [write(tmp_path / "a.log", AUTH)], format_name="nope")


def test_walk_skips_the_case_file_and_reports_non_logs_as_ignored(tmp_path: Path) -> None:
    write(tmp_path / "auth.log", AUTH)
    (tmp_path / "notes.txt").write_text("shopping list\nmilk\n")
    with Case.open(tmp_path / "case.duckdb") as c:
        result = ingest(c, [tmp_path], tz="UTC")
    assert [Path(f.path).name for f in result.files] == ["auth.log"]
    assert [Path(p.path).name for p in result.problems] == ["notes.txt"]
    assert not result.errors  # met in a walk: reported, not an error


def test_case_locked_by_another_process_is_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "case.duckdb"
    Case.open(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.read()", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(CaseLocked) as info:
            Case.open(db)
        assert "in use" in str(info.value) and "\n" not in str(info.value)
        with pytest.raises(CaseLocked):
            Case.open(db, read_only=True)
    finally:
        holder.stdin.close()
        holder.wait(10)


def test_read_only_open_of_missing_or_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(CaseMissing):
        Case.open(tmp_path / "nope.duckdb", read_only=True)
    (tmp_path / "junk.duckdb").write_bytes(b"not a database at all" * 100)
    with pytest.raises(CaseError):
        Case.open(tmp_path / "junk.duckdb")


def test_kill_9_mid_ingest_leaves_a_case_that_opens_and_resumes(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    n = 200_000
    failed_logins_file(log, n)
    db = tmp_path / "case.duckdb"
    proc = ingest_process(db, log, 256 * 1024)
    seen = 0
    for line in proc.stdout:
        if line.startswith("chunk"):
            seen += 1
        if seen == 5:
            proc.kill()  # SIGKILL: no cleanup, no atexit
            break
    proc.wait(10)
    assert seen == 5, "the ingest finished before it could be killed"
    with Case.open(db) as c:
        partial = count(c, "SELECT count(*) FROM events")
        assert 0 < partial < n
        assert count(c, "SELECT sum(events) FROM sources") == partial
        result = ingest(c, [log], tz="UTC")
        assert result.files[0].status == "appended"
        assert count(c, "SELECT count(*) FROM events") == n
        assert no_duplicates(c)
        assert count(c, "SELECT max(line_no) FROM events") == n


def test_cli_ingest_json_and_query(tmp_path: Path) -> None:
    log = write(tmp_path / "auth.log", AUTH + ["garbage"])
    db = tmp_path / "c.duckdb"
    env = {**os.environ, "TZ": "UTC"}
    out = subprocess.run([sys.executable, "-m", "tui.cli", "ingest", str(log), "--db", str(db), "--json"],
                         capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    (f,) = report["files"]
    assert {k: f[k] for k in ("format", "lines", "events", "rejected", "skipped")} == {
        "format": "syslog", "lines": 6, "events": 5, "rejected": 1, "skipped": 0}
    assert report["events"] == 5 and report["rejected"] == 1 and report["skipped"] == 0
    q = subprocess.run([sys.executable, "-m", "tui.cli", "query",
                        "SELECT src_ip, count(*) AS n FROM events WHERE outcome = 'failure' GROUP BY 1",
                        "--db", str(db), "--format", "json"],
                       capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert q.returncode == 0, q.stderr
    assert json.loads(q.stdout) == [{"src_ip": "203.0.113.9", "n": 3}]
    bad = subprocess.run([sys.executable, "-m", "tui.cli", "query", "DELETE FROM events", "--db", str(db)],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and bad.stderr.count("\n") == 1
    missing = subprocess.run([sys.executable, "-m", "tui.cli", "ingest", str(tmp_path / "nope.log"), "--db", str(db)],
                             capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert missing.returncode == 1 and "no such file" in missing.stderr and "Traceback" not in missing.stderr


def test_address_fill_crosses_chunk_edges_and_appends(case: Case, tmp_path: Path) -> None:
    """A connection's address-less lines get its address also when the line naming it was read
    in an earlier chunk, or in an earlier ingest of the same growing file."""
    head = "Mar  3 10:00:01 h sshd[77]: Failed password for root from 203.0.113.5 port 40000 ssh2\n"
    filler = "".join(f"Mar  3 10:00:02 h CRON[{1000 + i}]: (root) CMD (true)\n" for i in range(400))
    tail = "Mar  3 10:00:03 h sshd[77]: Disconnecting: Too many authentication failures [preauth]\n"
    log = tmp_path / "auth.log"
    log.write_text(head + filler + tail)
    ingest(case, [log], tz="UTC", chunk_bytes=4096)  # head and tail are chunks apart
    assert case.con.execute("SELECT count(*) FROM sources WHERE lines_read = 402").fetchone()[0] == 1
    with log.open("a") as f:
        f.write("Mar  3 10:00:04 h sshd[77]: Disconnecting: Too many authentication failures [preauth]\n")
        f.write("Mar  3 10:00:05 h sshd[78]: Disconnecting: Too many authentication failures [preauth]\n")
    ingest(case, [log], tz="UTC")
    rows = case.con.execute(
        "SELECT line_no, pid, src_ip, src_port FROM events WHERE action = 'max_auth_exceeded' ORDER BY line_no"
    ).fetchall()
    assert rows == [(402, 77, "203.0.113.5", 40000), (403, 77, "203.0.113.5", 40000), (404, 78, None, None)]
