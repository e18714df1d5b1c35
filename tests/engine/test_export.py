"""The case as Hive-partitioned Parquet: round trip, re-export, and ingest --parquet's partial re-write."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from engine.analyze import analyze
from engine.export import ExportError, export_new_events, export_parquet, ingest_mark
from engine.ingest import ingest
from store.case import Case

AUTH_DAY1 = [
    "2026-11-10T03:10:00+00:00 bastion sshd[4100]: Failed password for root from 45.155.205.233 port 50100 ssh2",
    "2026-11-10T03:10:02+00:00 bastion sshd[4100]: Failed password for root from 45.155.205.233 port 50100 ssh2",
    "2026-11-10T03:10:05+00:00 bastion sshd[4101]: Invalid user admin from 45.155.205.233 port 50102",
    "2026-11-10T23:59:59+00:00 bastion sshd[4102]: Accepted publickey for deploy from 10.0.0.5 port 40000 ssh2",
]
AUTH_DAY2 = [
    "2026-11-11T00:00:01+00:00 bastion sshd[4200]: Failed password for invalid user oracle from 185.1.2.3 port 1 ssh2",
    "2026-11-11T08:00:00+00:00 bastion sshd[4201]: Accepted password for alice from 10.0.0.7 port 2 ssh2",
]
ACCESS = [
    '203.0.113.9 - - [10/Nov/2026:10:00:00 +0000] "GET /.env HTTP/1.1" 404 153 "-" "curl/8.5.0"',
    '203.0.113.9 - - [10/Nov/2026:10:00:01 +0000] "GET /wp-login.php HTTP/1.1" 404 153 "-" "curl/8.5.0"',
    '198.51.100.4 - - [11/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 512 "-" "Mozilla/5.0"',
]

# Per partition: rows and an order-free checksum of every event's identity and raw line.
PER_PARTITION = ("SELECT day, format, count(*) AS n, sum(hash(event_id, raw, ts, src_ip, \"user\"))::HUGEINT AS h "
                 "FROM ({src}) GROUP BY ALL ORDER BY ALL")
CASE_EVENTS = ("SELECT strftime(timezone('UTC', ts), '%Y-%m-%d') AS day, format, event_id, raw, ts, src_ip, \"user\" "
               "FROM events")


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def parquet_events(root: Path) -> str:
    return (f"SELECT day::VARCHAR AS day, format, event_id, raw, ts, src_ip, \"user\" FROM read_parquet("
            f"'{root}/events/*/*/*.parquet', hive_partitioning = true, hive_types = {{'day': VARCHAR}})")


def per_partition_case(case: Case) -> list[tuple]:
    return case.con.execute(PER_PARTITION.format(src=CASE_EVENTS)).fetchall()


def per_partition_parquet(root: Path) -> list[tuple]:
    return duckdb.connect().execute(PER_PARTITION.format(src=parquet_events(root))).fetchall()


def files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.parquet"))


@pytest.fixture
def case(tmp_path: Path) -> Case:
    logs = tmp_path / "logs"
    logs.mkdir()
    write(logs / "auth.log", AUTH_DAY1 + AUTH_DAY2)
    write(logs / "access.log", ACCESS)
    c = Case.open(tmp_path / "case.duckdb")
    ingest(c, [logs], tz="UTC")
    yield c
    c.close()


def test_export_round_trips_per_partition(case: Case, tmp_path: Path) -> None:
    root = tmp_path / "pq"
    result = export_parquet(case, root)
    expected = per_partition_case(case)
    assert [(d, f) for d, f, *_ in expected] == [
        ("2026-11-10", "access"), ("2026-11-10", "syslog"), ("2026-11-11", "access"), ("2026-11-11", "syslog")]
    assert per_partition_parquet(root) == expected
    assert result.tables["events"].rows == 9
    assert sorted(result.tables["events"].partitions) == [(d, f) for d, f, *_ in expected]
    # Zstd-compressed, Hive layout.
    meta = duckdb.connect().execute(
        f"SELECT DISTINCT compression FROM parquet_metadata('{root}/events/*/*/*.parquet')").fetchall()
    assert meta == [("ZSTD",)]
    assert (root / "events" / "day=2026-11-10" / "format=syslog").is_dir()


def test_sessions_and_incidents_are_exported_with_the_case(case: Case, tmp_path: Path) -> None:
    analyze(case, llm=None)
    root = tmp_path / "pq"
    result = export_parquet(case, root)
    con = duckdb.connect()
    for table in ("sessions", "incidents"):
        want = case.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        assert want > 0
        got = con.execute(f"SELECT count(*) FROM read_parquet('{root}/{table}/**/*.parquet')").fetchall()[0][0]
        assert got == want == result.tables[table].rows
    kinds = con.execute(f"SELECT DISTINCT kind FROM read_parquet('{root}/sessions/*/*/*.parquet', "
                        "hive_partitioning = true) ORDER BY 1").fetchall()
    assert ("ssh_source",) in kinds and ("web",) in kinds


def test_reexport_replaces_partitions_and_never_duplicates(case: Case, tmp_path: Path) -> None:
    root = tmp_path / "pq"
    export_parquet(case, root)
    first = per_partition_parquet(root)
    export_parquet(case, root)
    export_parquet(case, root, tables=("events",))
    assert per_partition_parquet(root) == first == per_partition_case(case)
    assert not [p for p in root.iterdir() if p.name.startswith(".staging")]


def test_ingest_parquet_rewrites_only_the_partitions_it_touched(case: Case, tmp_path: Path) -> None:
    root = tmp_path / "pq"
    export_parquet(case, root, tables=("events",))
    untouched = {p: p.stat().st_ino for p in files(root) if "day=2026-11-10" in str(p) or "format=access" in str(p)}
    assert untouched
    # The auth log grows by a line of day 2 and one of a new day; access.log does not change.
    logs = tmp_path / "logs"
    with (logs / "auth.log").open("a") as f:
        f.write("2026-11-11T09:00:00+00:00 bastion sshd[4300]: Failed password for bob from 185.1.2.3 port 3 ssh2\n")
        f.write("2026-11-12T01:00:00+00:00 bastion sshd[4301]: Failed password for bob from 185.1.2.3 port 4 ssh2\n")
    mark = ingest_mark(case)
    ingest(case, [logs], tz="UTC")
    result = export_new_events(case, root, mark)
    assert sorted(result.tables["events"].partitions) == [("2026-11-11", "syslog"), ("2026-11-12", "syslog")]
    assert per_partition_parquet(root) == per_partition_case(case)
    for p, inode in untouched.items():
        assert p.exists() and p.stat().st_ino == inode, f"{p} was rewritten"
    # Nothing new: nothing written.
    again = export_new_events(case, root, ingest_mark(case))
    assert again.tables["events"].partitions == ()


def test_events_without_a_time_go_to_hives_null_partition(tmp_path: Path) -> None:
    from tests.engine.eventgen import Events, at

    ev = Events()
    ev.add(ts=None, program="kernel", action="other", message="a line whose time the log masks")
    ev.failed_password(at(1), "45.155.205.233", "root")
    case = Case.open(tmp_path / "c.duckdb")
    ev.into(case)
    root = tmp_path / "pq"
    export_parquet(case, root, tables=("events",))
    assert per_partition_parquet(root) == per_partition_case(case)
    assert [r[0] for r in per_partition_case(case)] == ["2026-11-10", None]
    assert (root / "events" / "day=__HIVE_DEFAULT_PARTITION__" / "format=syslog").is_dir()


def test_export_into_a_file_is_a_one_line_error(case: Case, tmp_path: Path) -> None:
    target = tmp_path / "not-a-dir"
    target.write_text("x")
    with pytest.raises(ExportError, match="is a file"):
        export_parquet(case, target)
