#!/usr/bin/env python3
"""Write Vedette's bundled sample logs and their ground truth, deterministically.

    python sample_logs/generate.py [--seed N] [--out DIR] [--scenario default|quiet|noisy]

The default seed and scenario produce the files committed next to this script. Only the
standard library is used: one ``random.Random(seed)`` drives every choice, nothing iterates
over a set or an unordered mapping, and gzip members carry ``mtime=0``, so the same seed,
scenario and Python give the same bytes (gzip bytes also assume the same zlib build; the
decompressed text is the same everywhere).

What is written (paths relative to ``--out``):

    bastion/auth.log, auth.log.1, auth.log.2.gz   RFC 3164 timestamps, sshd LogLevel VERBOSE
    web1/auth.log, auth.log.1, auth.log.2.gz ... auth.log.7.gz   rsyslog ISO timestamps, UTC,
                                                  rotated daily
    web1/nginx/access.log, access.log.1, access.log.2.gz ... access.log.7.gz   nginx combined,
                                                  rotated daily
    db1/auth.log                                  rsyslog ISO timestamps in local time (+01:00);
                                                  its rsyslog also sends cron.* to auth.log
    sensor/conn.log                               Zeek conn.log (TSV)
    sensor/eve.json                               Suricata EVE JSON
    truth.json                                    what was planted, where, and the line counts

Every record is generated as an object tagged with the attack (A1..A12) or benign activity
(B1..B10) it belongs to; truth.json is computed from those tags, so first_seen/last_seen,
source addresses and per-file evidence counts always match the files.

The work is done by the ``gen`` package next to this script (see README.md, "Where things live").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ among the sample logs (vedette demo walks this folder)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import SCENARIOS, build  # noqa: E402  (needs the path above)

DEFAULT_SEED = 20261120
DEFAULT_OUT = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: this folder)")
    p.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default="default",
        help="; ".join(f"{k}: {v.description}" for k, v in sorted(SCENARIOS.items())),
    )
    args = p.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    # Remove files this generator owns from an earlier run, so a smaller rotation set leaves no strays.
    for sub in ("bastion", "web1", "db1", "sensor"):
        d = out / sub
        if d.is_dir():
            for f in sorted(d.rglob("*")):
                if f.is_file() and (
                    f.name.startswith(("auth.log", "access.log")) or f.name in ("conn.log", "eve.json")
                ):
                    f.unlink()
    truth = build(args.seed, args.scenario, out)
    lines = sum(f["lines"] for f in truth["files"].values())
    print(
        f"{args.scenario} seed={args.seed}: {len(truth['files'])} files, {lines} lines, "
        f"{truth['total_bytes'] / 1e6:.2f} MB, {len(truth['attacks'])} attacks -> {out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
