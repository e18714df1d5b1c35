#!/usr/bin/env python3
"""Enrichment of N distinct addresses: seconds to load the data, to look up, and a second pass.

    python bench/enrich.py                      # 100k distinct addresses (target: a few seconds)
    python bench/enrich.py --addresses 20000 --geoip DIR   # the analyst's .mmdb files instead

The addresses (random IPv4, one in ten IPv6, some private) sit in a session table of a real case
file, as after the sessions stage; ``engine.enrich.enrich`` takes the distinct list from DuckDB,
looks each up once and stores them. The second pass finds them all known and looks up none.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pyarrow as pa  # noqa: E402

from engine import enrich  # noqa: E402
from store.case import Case  # noqa: E402


def addresses(n: int, seed: int = 1) -> list[str]:
    rnd = random.Random(seed)
    out: set[str] = set()
    while len(out) < n:
        k = rnd.random()
        if k < 0.1:
            out.add(f"2a0{rnd.randint(0, 9)}:{rnd.randint(0, 0xffff):x}:{rnd.randint(0, 0xffff):x}::{rnd.randint(1, 0xffff):x}")
        elif k < 0.15:
            out.add(f"10.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}")
        else:
            out.add(f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}")
    return sorted(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--addresses", type=int, default=100_000)
    ap.add_argument("--geoip", metavar="DIR", help="a folder of MaxMind .mmdb files")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vedette-bench-enrich-"))
    case = Case.open(work / "case.duckdb")
    ips = addresses(args.addresses)
    # Each address in three sessions: the distinct list is DuckDB's job, not a Python set's.
    case.con.register("_ips", pa.table({"src_ip": pa.array(ips * 3, pa.string())}))
    case.con.execute("CREATE TEMP TABLE feat_bench AS SELECT src_ip FROM _ips")
    case.con.unregister("_ips")

    t = time.perf_counter()
    data = enrich.geo_data(args.geoip)
    load = time.perf_counter() - t
    first = enrich.enrich(case.con, data)
    second = enrich.enrich(case.con, data)
    scopes = dict(case.con.execute("SELECT scope, count(*) FROM geo GROUP BY 1").fetchall())
    located = case.con.execute("SELECT count(country) FROM geo").fetchall()[0][0]
    case.close()
    print(f"data: {enrich.data_info(args.geoip)}")
    print(f"load data            {load:7.2f} s")
    print(f"enrich {first.looked_up:,} new      {first.seconds:7.2f} s  ({first.looked_up / first.seconds:,.0f} addresses/s)")
    print(f"enrich again         {second.seconds:7.2f} s  ({second.looked_up} looked up, {second.known:,} known)")
    print(f"scopes {scopes}; with a country: {located:,}")
    print(f"peak RSS             {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
