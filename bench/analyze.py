#!/usr/bin/env python3
"""From log lines to incidents: seconds per stage and peak memory for N auth.log lines.

    python bench/analyze.py                     # 1M lines (target: ingest to incidents < 15 s)
    python bench/analyze.py --lines 200000
    python bench/analyze.py --keep /tmp/bench   # keep (and reuse) the generated log there

Runs in one process, the way `vedette PATH` does: ingest, then the analysis stages
(sessions, scoring, explanations, incidents, store), and prints each stage's seconds, the
incidents found and the peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.workload import write_auth_log  # noqa: E402
from engine.analyze import analyze, preload_models  # noqa: E402
from engine.ingest import ingest  # noqa: E402
from store.case import Case  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--keep", metavar="DIR")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vedette-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / f"auth-{args.lines}.log"
    if not log.exists():
        write_auth_log(log, args.lines, seed=1)
    db = work / "analyze.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        if p.exists():
            p.unlink()
    print(f"# bench/analyze.py: {args.lines:,} auth.log lines ({log.stat().st_size / 1e6:.0f} MB)")
    total = time.perf_counter()
    with Case.open(db) as case:
        t = time.perf_counter()
        preload_models()  # as `vedette PATH` does: the model imports overlap the ingest
        result = ingest(case, [log], tz="UTC")
        ingest_s = time.perf_counter() - t
        print(f"ingest        {ingest_s:7.2f}s  ({result.events:,} events, {result.rejected:,} rejected)")
        analysis = analyze(case)
    for stage, secs in analysis.stage_seconds.items():
        print(f"{stage:13s} {secs:7.2f}s")
    elapsed = time.perf_counter() - total
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"total         {elapsed:7.2f}s  (target < 15 s)   peak RSS {peak:,.0f} MiB")
    print(f"sessions: {analysis.session_counts}")
    print(f"incidents: {len(analysis.incidents)}")
    for inc in analysis.incidents[:8]:
        print(f"  {inc.id} {inc.severity:8s} {inc.risk:3d} {inc.category:20s} {len(inc.src_ips):4d} sources  "
              f"{inc.events:8,d} events  {', '.join(inc.src_ips[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
