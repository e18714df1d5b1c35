#!/usr/bin/env python3
"""The same sessions and features SQL on DuckDB and on Spark: seconds per stage for N events.

    python bench/spark.py                        # 10M events (auth.log + nginx access, 80/20)
    python bench/spark.py --events 1000000 --master 'local[2]'
    python bench/spark.py --keep /tmp/bench      # keep (and reuse) the logs, case and Parquet

Ingests generated logs into one case, exports its events as Parquet (engine.export), then runs
the analysis twice: sessions in the case's DuckDB, and sessions on Spark over the Parquet
(start, SQL, bringing the feature rows back), each followed by the same scoring, explanations,
incidents, summaries (offline) and store. Spark is for more machines, not for two cores: the
figure is there to compare, not a target.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.workload import write_access_log, write_auth_log  # noqa: E402
from engine.analyze import analyze  # noqa: E402
from engine.export import export_parquet  # noqa: E402
from engine.ingest import ingest  # noqa: E402
from store.case import Case  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--keep", metavar="DIR")
    args = ap.parse_args()
    from engine import spark

    try:
        spark.check_available()
    except spark.SparkUnavailable as exc:
        print(f"bench/spark.py: {exc}", file=sys.stderr)
        return 1
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vedette-bench-spark-"))
    work.mkdir(parents=True, exist_ok=True)
    n_auth, n_web = args.events * 4 // 5, args.events - args.events * 4 // 5
    logs = work / f"logs-{args.events}"
    if not logs.exists():
        logs.mkdir()
        write_auth_log(logs / "auth.log", n_auth, seed=1)
        write_access_log(logs / "access.log", n_web, seed=2)
    db = work / f"case-{args.events}.duckdb"
    root = work / f"parquet-{args.events}"
    print(f"# bench/spark.py: {args.events:,} lines ({n_auth:,} auth.log, {n_web:,} access), Spark {args.master}")
    with Case.open(db) as case:
        if case.con.execute("SELECT count(*) FROM events").fetchall()[0][0] == 0:
            t = time.perf_counter()
            r = ingest(case, [logs], tz="UTC")
            print(f"ingest              {time.perf_counter() - t:8.2f}s  ({r.events:,} events)")
        shutil.rmtree(root, ignore_errors=True)
        ex = export_parquet(case, root, tables=("events",))
        size = sum(p.stat().st_size for p in root.rglob("*.parquet")) / 1e6
        print(f"export (parquet)    {ex.seconds:8.2f}s  ({ex.tables['events'].rows:,} rows, "
              f"{len(ex.tables['events'].partitions)} partitions, {size:,.0f} MB zstd)")
        duck = analyze(case, llm=None)
        backend = spark.SparkSessions(root, args.master)
        on_spark = analyze(case, llm=None, sessions_backend=backend)
    print(f"{'stage':19s} {'duckdb':>9s} {'spark':>9s}")
    for stage in duck.stage_seconds:
        print(f"{stage:19s} {duck.stage_seconds[stage]:8.2f}s {on_spark.stage_seconds[stage]:8.2f}s")
        if stage == "sessions":
            for part, secs in backend.seconds.items():
                print(f"  spark {part:13s} {'':9s} {secs:8.2f}s")
    print(f"{'total':19s} {duck.seconds:8.2f}s {on_spark.seconds:8.2f}s")
    same = duck.session_counts == on_spark.session_counts and [
        (i.category, i.severity, i.sessions) for i in duck.incidents] == [
        (i.category, i.severity, i.sessions) for i in on_spark.incidents]
    print(f"sessions: {on_spark.session_counts}")
    print(f"incidents: {len(on_spark.incidents)}; same sessions and incidents on both: {same}")
    print(f"peak RSS (this process, not the JVM) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
