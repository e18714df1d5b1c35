"""Writing a scenario out: rendering each output file, rotating it (daily or on size), gzip with mtime=0,
and truth.json computed from the records' tags."""

from __future__ import annotations

import gzip
import ipaddress
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .common import DAY, US, WINDOW_END, WINDOW_START, at, fmt_iso
from . import host_records
from .core import Generator
from .flows import eve_lines, zeek_lines
from .scenarios import SCENARIOS
from .ssh import render_syslog
from .web import web_lines


def daily_rotations(rng: random.Random, n: int) -> list[int]:
    """Rotation instants, newest first: logrotate.timer fires daily at 00:00 with up to an hour's delay."""
    last_midnight = WINDOW_END - WINDOW_END % DAY
    return [last_midnight - k * DAY + int(rng.uniform(0, 40 * 60) * US) for k in range(n)]


def split_rotated(lines, cuts_newest_first: list[int], base: str, gz_from: int) -> list[tuple[str, list]]:
    """Split time-ordered lines at rotation instants into base, base.1, base.2.gz, ... (newest first)."""
    files = []
    upper = None
    for k in range(len(cuts_newest_first) + 1):
        lower = cuts_newest_first[k] if k < len(cuts_newest_first) else None
        part = [x for x in lines if (lower is None or x[0] >= lower) and (upper is None or x[0] < upper)]
        name = base if k == 0 else f"{base}.{k}" + (".gz" if k >= gz_from else "")
        files.append((name, part))
        upper = lower
    return [(n, p) for n, p in files if p]


def write_file(out: Path, rel: str, lines: list, mtime_us: int | None) -> tuple[int, int]:
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if lines and isinstance(lines[0][1], bytes):  # binary records (wtmp/btmp)
        data = b"".join(x[1] for x in lines)
    else:
        data = ("\n".join(x[1] for x in lines) + "\n").encode("utf-8")
    if rel.endswith(".gz"):
        # gzip records the original name, like logrotate's gzip; mtime=0 keeps the bytes reproducible
        with (
            open(path, "wb") as fh,
            gzip.GzipFile(filename=Path(rel).name[:-3], mode="wb", fileobj=fh, compresslevel=9, mtime=0) as gz,
        ):
            gz.write(data)
    else:
        path.write_bytes(data)
    if mtime_us is not None:
        os.utime(path, (mtime_us / US, mtime_us / US))
    return len(lines), path.stat().st_size


def size_rotations(rng: random.Random) -> list[int]:
    """The bastion's rotation instants, newest first: over logrotate's maxsize at two daily runs in the window."""
    return [at(19, 0) + int(rng.uniform(0, 40 * 60) * US), at(17, 0) + int(rng.uniform(0, 40 * 60) * US)]


def _daily(rng: random.Random) -> list[int]:
    return daily_rotations(rng, 7)


@dataclass(frozen=True)
class Output:
    """One output file: ``render(gen)`` gives its (ts, line, tag) in order; ``rotate(rng)`` its rotation
    instants, newest first (None: never rotated). Rotated sets are base, base.1, base.2.gz, ..."""

    path: str
    format: str  # truth.json's "format": syslog, access, zeek, suricata
    render: Callable[[Generator], list]
    rotate: Callable[[random.Random], list[int]] | None = None


# Walked in this order; the rotation draws follow it, so a new file goes at the end to keep the others' bytes.
OUTPUTS = (
    Output("bastion/auth.log", "syslog", lambda gen: render_syslog(gen, gen.hosts["bastion"]), size_rotations),
    Output("web1/auth.log", "syslog", lambda gen: render_syslog(gen, gen.hosts["web1"]), _daily),
    Output("db1/auth.log", "syslog", lambda gen: render_syslog(gen, gen.hosts["db1"])),
    Output("web1/nginx/access.log", "access", web_lines, _daily),
    Output("sensor/conn.log", "zeek", zeek_lines),
    Output("sensor/eve.json", "suricata", eve_lines),
    *(Output(p, f, (lambda gen, p=p: host_records.lines(gen, p)))
      for p, f in ((host_records.COWRIE, "cowrie"), (host_records.AUTH, "syslog"), (host_records.AUDIT, "auditd"),
                   (host_records.WTMP, "utmp"), (host_records.BTMP, "utmp"))),
)


def build(seed: int, scenario_name: str, out: Path) -> dict:
    scenario = SCENARIOS[scenario_name]
    gen = Generator(seed, scenario)
    gen.run()
    rot_rng = random.Random(seed * 31337)

    outputs: list[tuple[str, str, list]] = []  # (relative path, format, lines)
    for o in OUTPUTS:
        lines = o.render(gen)
        if o.rotate is None:
            outputs.append((o.path, o.format, lines))
            continue
        for name, part in split_rotated(lines, o.rotate(rot_rng), o.path, gz_from=2):
            outputs.append((name, o.format, part))

    files = {}
    evidence: dict[str, dict[str, int]] = {}
    total = 0
    for rel, fmt, lines in sorted(outputs, key=lambda o: o[0]):
        last_ts = max(x[0] for x in lines)
        n, size = write_file(out, rel, lines, min(last_ts, WINDOW_END))
        total += size
        files[rel] = {"lines": n, "format": fmt}
        for _ts, _line, tag in lines:
            if tag:
                ev = evidence.setdefault(tag, {})
                ev[rel] = ev.get(rel, 0) + 1

    times: dict[str, list[int]] = {}
    for _rel, _fmt, lines in outputs:
        for ts, line, tag in lines:
            if tag and not (isinstance(line, str) and line.startswith("#")):
                lo_hi = times.setdefault(tag, [ts, ts])
                lo_hi[0] = min(lo_hi[0], ts)
                lo_hi[1] = max(lo_hi[1], ts)

    attacks = []
    for a in sorted(gen.truth_attacks, key=lambda a: a["id"]):
        aid = a["id"]
        attacks.append(
            {
                "id": aid,
                "category": a["category"],
                "severity": a["severity"],
                "techniques": a["techniques"],
                "src_ips": sorted(gen.tag_ips.get(aid, []), key=ipaddress.ip_address),
                "dst_ips": sorted(gen.tag_dst.get(aid, []), key=ipaddress.ip_address),
                "users": sorted(a["users"]),
                "hosts": a["hosts"],
                "first_seen": fmt_iso(times[aid][0]),
                "last_seen": fmt_iso(times[aid][1]),
                "description": a["description"],
                "evidence": dict(sorted(evidence.get(aid, {}).items())),
            }
        )
    benign = []
    for b in gen.truth_benign:
        bid = b["id"]
        if bid not in times:
            continue
        benign.append(
            {
                "id": bid,
                "kind": b["kind"],
                "src_ips": sorted(gen.tag_ips.get(bid, []), key=ipaddress.ip_address),
                "first_seen": fmt_iso(times[bid][0]),
                "last_seen": fmt_iso(times[bid][1]),
                "description": b["description"],
                "evidence": dict(sorted(evidence.get(bid, {}).items())),
            }
        )

    attack_ips = {ip for a in attacks for ip in a["src_ips"]}
    benign_ips = {ip for b in benign for ip in b["src_ips"]}
    overlap = sorted(attack_ips & benign_ips)
    if overlap:
        raise AssertionError(f"benign and attack sources overlap: {overlap}")

    truth = {
        "seed": seed,
        "scenario": scenario.name,
        "generated_by": "sample_logs/generate.py",
        "window": {"start": fmt_iso(WINDOW_START), "end": fmt_iso(WINDOW_END)},
        "timezone_note": "All times are UTC. db1 logs in local time with a +01:00 offset; RFC 3164 files (bastion) "
        "carry no year or zone and are UTC.",
        "attacks": attacks,
        "benign": benign,
        "files": files,
        "total_bytes": total,
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return truth

