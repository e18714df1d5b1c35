#!/usr/bin/env python3
"""From log lines to incidents: seconds per stage and peak memory for N auth.log lines.

    python bench/analyze.py                     # 1M lines (target: ingest to incidents < 12 s)
    python bench/analyze.py --lines 200000
    python bench/analyze.py --keep /tmp/bench   # keep (and reuse) the generated log there
    python bench/analyze.py --shape random      # 20,000 uniform random sources that behave alike
                                                # (target: < 20 s, < 2 GiB, a few dozen medium+ incidents)

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
from bench.workload_random import write_random_auth_log  # noqa: E402
from engine.analyze import analyze, preload_models  # noqa: E402
from engine.ingest import ingest  # noqa: E402
from store.case import Case  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--keep", metavar="DIR")
    ap.add_argument("--shape", choices=("realistic", "random"), default="realistic",
                    help="realistic: bench/workload.py's mix; random: bench/workload_random.py's crowd")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vedette-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / (f"auth-{args.lines}.log" if args.shape == "realistic" else f"auth-random-{args.lines}.log")
    if not log.exists():
        (write_auth_log if args.shape == "realistic" else write_random_auth_log)(log, args.lines, seed=1)
    db = work / "analyze.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        if p.exists():
            p.unlink()
    print(f"# bench/analyze.py: {args.lines:,} auth.log lines, {args.shape} shape ({log.stat().st_size / 1e6:.0f} MB)")
    total = time.perf_counter()
    with Case.open(db) as case:
        t, c0 = time.perf_counter(), time.process_time()
        preload_models()  # as `vedette PATH` does: the model imports overlap the ingest
        result = ingest(case, [log], tz="UTC")
        ingest_s = time.perf_counter() - t
        print(f"ingest        {ingest_s:7.2f}s  ({result.events:,} events, {result.rejected:,} rejected)")
        ingest_cpu = time.process_time()
        marks: list[tuple[str, float]] = []
        analysis = analyze(case, llm=None, progress=lambda p: marks.append((p.stage, time.process_time())))
        marks.append(("", time.process_time()))
    # CPU seconds (all threads) beside wall seconds: on a shared machine wall time says more
    # about the neighbours than about Vedette.
    cpu = {stage: marks[k + 1][1] - at for k, (stage, at) in enumerate(marks[:-1])}
    print(f"{'':13s} {'':7s}   cpu {ingest_cpu - c0:6.2f}s (ingest, with the model imports beside it)")
    for stage, secs in analysis.stage_seconds.items():
        print(f"{stage:13s} {secs:7.2f}s  cpu {cpu.get(stage, 0.0):6.2f}s")
    elapsed = time.perf_counter() - total
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss / 1024
    target = "< 12 s" if args.shape == "realistic" else "< 20 s, < 2 GiB"
    print(f"total         {elapsed:7.2f}s  cpu {usage.ru_utime + usage.ru_stime:6.2f}s  (target {target})   "
          f"peak RSS {peak:,.0f} MiB")
    print(f"sessions: {analysis.session_counts}")
    loud = [i for i in analysis.incidents if i.severity in ("medium", "high", "critical")]
    print(f"incidents: {len(analysis.incidents)} ({len(loud)} medium or worse)")
    for inc in analysis.incidents[:8]:
        print(f"  {inc.id} {inc.severity:8s} {inc.risk:3d} {inc.category:20s} {len(inc.src_ips):4d} sources  "
              f"{inc.events:8,d} events  {', '.join(inc.src_ips[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
