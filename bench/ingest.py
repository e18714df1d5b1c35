#!/usr/bin/env python3
"""Ingest speed and memory: `vedette ingest` as a whole process, against lnav and GoAccess.

    python bench/ingest.py                      # 1M auth.log lines and 1M nginx lines
    python bench/ingest.py --lines 10000000     # the 10M-line memory check
    python bench/ingest.py --keep /tmp/bench    # keep the generated logs there (reused next time)
    python bench/ingest.py --only audit         # one workload: auth, access, audit (auditd), wtmp

Prints lines/s for each tool on the same files on this machine and Vedette's ratio to each, and
Vedette's peak RSS, and the floor under any ingest that keeps the lines in the case: the same
file's bare lines stored in DuckDB with nothing parsed (``bench/store_floor.py``), and the cost of
storing the parsed rows alone (their INSERT, timed inside a process). lnav and GoAccess are compared only where installed
(`apt-get install lnav goaccess`). Targets (issue 16): auth.log within 1.5x of lnav's count (goal: faster), nginx at least
15x GoAccess, 10M lines under 1.5 GiB peak memory. The audit log and wtmp (binary records, counted
as lines) have no tool to compare with; their figures are Vedette's alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.host_workload import write_audit_log, write_wtmp  # noqa: E402
from bench.workload import write_access_log, write_auth_log  # noqa: E402

WRITERS = {"auth": write_auth_log, "access": write_access_log, "audit": write_audit_log, "wtmp": write_wtmp}


def peak_of(cmd: list[str]) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall seconds, peak RSS in bytes and the result of one command run as its own process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        # wait4 reports this child's own rusage (ru_maxrss in KiB on Linux), not all children's.
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(cmd, os.waitstatus_to_exitcode(status), out.read(), err.read())
    return elapsed, usage.ru_maxrss * 1024, result


def vedette(path: Path, db: Path) -> tuple[float, int]:
    for p in (db, Path(str(db) + ".wal")):
        if p.exists():
            p.unlink()
    secs, peak, proc = peak_of([sys.executable, "-m", "tui.cli", "ingest", str(path), "--db", str(db), "--json"])
    if proc.returncode != 0:
        raise SystemExit(f"vedette ingest failed: {proc.stderr[-500:]}")
    return secs, peak


def store_floor(path: Path, db: Path, how: str | None) -> float:
    """Seconds a process takes just to store the file's lines in DuckDB (``bench/store_floor.py``)."""
    secs, _, proc = peak_of([sys.executable, str(HERE / "store_floor.py"), str(path), str(db)]
                            + ([how] if how else []))
    if proc.returncode != 0:
        raise SystemExit(f"store_floor failed: {proc.stderr[-500:]}")
    return secs


def rows_floor(case: Path, db: Path) -> float:
    """Seconds to insert the parsed event rows of ``case`` into a new case (``store_floor.py --rows``)."""
    _, _, proc = peak_of([sys.executable, str(HERE / "store_floor.py"), "--rows", str(case), str(db)])
    if proc.returncode != 0:
        raise SystemExit(f"store_floor --rows failed: {proc.stderr[-500:]}")
    return float(proc.stdout.split()[-1])


def lnav(path: Path) -> float | None:
    if not shutil.which("lnav"):
        return None
    home = tempfile.mkdtemp()
    secs, _, proc = peak_of(["env", f"HOME={home}", "lnav", "-n", "-c", ";SELECT count(*) FROM syslog_log", str(path)])
    shutil.rmtree(home, ignore_errors=True)
    return secs if proc.returncode == 0 else None


def goaccess(path: Path, out: Path) -> float | None:
    if not shutil.which("goaccess"):
        return None
    secs, _, proc = peak_of(["goaccess", str(path), "--log-format=COMBINED", "-o", str(out)])
    return secs if proc.returncode == 0 else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--keep", metavar="DIR", help="folder for the generated logs (reused when present)")
    ap.add_argument("--only", choices=tuple(WRITERS))
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vedette-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    n = args.lines
    print(f"# bench/ingest.py: {n:,} lines per log, {os.cpu_count()} cores, files in {work}")
    for kind in WRITERS:
        if args.only and kind != args.only:
            continue
        path = work / (f"wtmp-{n}" if kind == "wtmp" else f"{kind}-{n}.log")
        if not path.exists():
            t = time.perf_counter()
            WRITERS[kind](path, n, seed=1)
            print(f"generated {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f}s")
        size = path.stat().st_size
        secs, peak = vedette(path, work / f"{kind}.duckdb")
        print(f"{kind:7s} vedette ingest : {secs:7.2f}s  {n / secs:12,.0f} lines/s  {size / secs / 1e6:6.1f} MB/s  "
              f"peak RSS {peak / 2**20:,.0f} MiB")
        if kind in ("audit", "wtmp"):
            continue
        floor = store_floor(path, work / f"{kind}-floor.duckdb", "--zstd" if kind == "access" else None)
        print(f"{kind:7s} lines only     : {floor:7.2f}s  {n / floor:12,.0f} lines/s  (the bare lines as DuckDB "
              "VARCHAR, nothing parsed: the floor of an ingest that keeps lines in a column)")
        blocks = store_floor(path, work / f"{kind}-blocks.duckdb", "--blocks")
        print(f"{kind:7s} lines as blocks: {blocks:7.2f}s  {n / blocks:12,.0f} lines/s  (the bare lines as Vedette's "
              "compressed blocks, nothing parsed: the floor under vedette ingest now)")
        stored = rows_floor(work / f"{kind}.duckdb", work / f"{kind}-rows.duckdb")
        print(f"{kind:7s} rows stored    : {stored:7.2f}s  {n / stored:12,.0f} lines/s  (only the INSERT of the "
              "event rows this ingest parsed, already in memory: the floor of storing the columns, any parser)")
        other = lnav(path) if kind == "auth" else goaccess(path, work / "goaccess.html")
        name = "lnav" if kind == "auth" else "goaccess"
        if other is None:
            print(f"{kind:7s} {name:15s}: not installed or failed (apt-get install {name})")
        else:
            print(f"{kind:7s} {name:15s}: {other:7.2f}s  {n / other:12,.0f} lines/s  "
                  + (f"-> vedette is {other / secs:.1f}x faster" if other >= secs
                     else f"-> vedette takes {secs / other:.1f}x as long"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
