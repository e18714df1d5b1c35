#!/usr/bin/env python3
"""Live follow: lag from a line written to its event stored, and from an attack's first line to its incident.

    python bench/follow.py                 # 2,000 lines/s (auth.log + nginx) for 60 s
    python bench/follow.py --seconds 15    # a short run

A writer appends auth.log and nginx access lines at ``--rate`` lines/s while ``vedette follow
--json --stats`` runs as its own process (``python -m tui.cli follow ...``); half-way through, a
brute force from one source starts in auth.log. Printed: event lag p50 / p95 / max (a line's write
-> the follow's report that its chunk committed), the attack's first line -> its incident printed
on stdout, lines lost or doubled (counted in the case afterwards), and the follow's CPU while idle
and while busy. Targets: lag p50 < 1 s, max < 3 s; attack to incident < 10 s; none lost or doubled;
idle under 2% of a core.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ATTACKER = "203.0.113.200"


def syslog_ts(t: float) -> str:
    d = datetime.fromtimestamp(t, timezone.utc)
    return f"{d:%b} {d.day:>2} {d:%H:%M:%S}"


def auth_line(i: int, t: float, attack: bool) -> str:
    if attack:
        return (f"{syslog_ts(t)} bench sshd[{30000 + i % 20000}]: Failed password for root from {ATTACKER} "
                f"port {10000 + i % 50000} ssh2")
    if i % 10 == 0:
        ip = f"10.1.{(i // 10) % 20}.{(i // 200) % 250 + 1}"
        return f"{syslog_ts(t)} bench sshd[{60000 + i % 5000}]: Accepted publickey for deploy from {ip} port {i % 60000} ssh2"
    return f"{syslog_ts(t)} bench CRON[{i}]: pam_unix(cron:session): session opened for user app{i % 5} by (uid=0)"


def access_line(i: int, t: float) -> str:
    d = datetime.fromtimestamp(t, timezone.utc)
    ip = f"198.51.{(i // 7) % 50}.{i % 200 + 1}"
    return (f'{ip} - - [{d:%d/%b/%Y:%H:%M:%S} +0000] "GET /item/{i} HTTP/1.1" 200 {300 + i % 900} "-" '
            f'"Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"')


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Follow:
    """``vedette follow`` as a subprocess, its stdout (incident lines) and stderr (stats) read as they come."""

    def __init__(self, paths: list[Path], db: Path) -> None:
        cmd = [sys.executable, "-m", "tui.cli", "follow", *map(str, paths), "--db", str(db), "--json", "--stats",
               "--no-llm"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stats: list[dict] = []
        self.incidents: list[tuple[float, dict]] = []
        self.other_stderr: list[str] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self) -> None:
        for line in self.proc.stdout:
            with self.lock:
                self.incidents.append((time.time(), json.loads(line)))

    def _read_err(self) -> None:
        for line in self.proc.stderr:
            try:
                rec = json.loads(line)
            except ValueError:
                self.other_stderr.append(line.rstrip())
                continue
            with self.lock:
                self.stats.append(rec)

    def wait_for(self, cond, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if cond():
                    return True
            if self.proc.poll() is not None:
                raise SystemExit(f"vedette follow exited early: {self.other_stderr[-3:]}")
            time.sleep(0.05)
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="how long the writer writes (default 60)")
    ap.add_argument("--rate", type=int, default=2000, help="lines per second, auth and nginx together")
    ap.add_argument("--keep", metavar="DIR", help="write the logs and the case there (kept afterwards)")
    args = ap.parse_args(argv)

    work = Path(args.keep or tempfile.mkdtemp(prefix="vedette-follow-"))
    work.mkdir(parents=True, exist_ok=True)
    auth, web, db = work / "auth.log", work / "access.log", work / "case.duckdb"
    for p in (auth, web, db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    now = time.time()
    seed = 2000
    with open(auth, "w") as a, open(web, "w") as w:
        for i in range(seed):
            a.write(auth_line(i, now, False) + "\n")
            w.write(access_line(i, now) + "\n")

    follow = Follow([auth, web], db)
    t0 = time.monotonic()
    if not follow.wait_for(lambda: any(s["kind"] == "analysis" for s in follow.stats), 300):
        raise SystemExit("no first analysis within 300 s")
    print(f"first ingest + full analysis: {time.monotonic() - t0:.1f} s ({2 * seed} lines)")
    time.sleep(3)  # the analysis that follows the first one's own writes
    idle_from = cpu_seconds(follow.proc.pid)
    time.sleep(10)
    idle = (cpu_seconds(follow.proc.pid) - idle_from) / 10

    # The writer: batches every 20 ms, each batch's write time recorded per line.
    written: dict[str, list[float]] = {str(auth): [], str(web): []}
    step = 0.02
    per_batch = max(1, round(args.rate * step / 2))
    attack_from = args.seconds / 2
    attack_first: float | None = None
    busy_from = cpu_seconds(follow.proc.pid)
    start = time.time()
    n = seed
    with open(auth, "a") as a, open(web, "a") as w:
        k = 0
        while time.time() - start < args.seconds:
            t = time.time()
            attacking = t - start >= attack_from and t - start < attack_from + 15
            a_lines, w_lines = [], []
            for j in range(per_batch):
                a_lines.append(auth_line(n + j, t, attacking and j % 2 == 0))
                w_lines.append(access_line(n + j, t))
            a.write("\n".join(a_lines) + "\n")
            w.write("\n".join(w_lines) + "\n")
            a.flush()
            w.flush()
            done = time.time()
            if attacking and attack_first is None:
                attack_first = done
            written[str(auth)].extend([done] * per_batch)
            written[str(web)].extend([done] * per_batch)
            n += per_batch
            k += 1
            time.sleep(max(0.0, start + k * step - time.time()))
    wrote_s = time.time() - start
    busy = (cpu_seconds(follow.proc.pid) - busy_from) / wrote_s
    total = {p: seed + len(v) for p, v in written.items()}

    def stored(path: str) -> int:
        return sum(s.get("lines", 0) for s in follow.stats if s["kind"] == "ingested" and s.get("path") == path)

    caught_up = follow.wait_for(lambda: all(stored(p) >= total[p] for p in total), 60)
    incident_seen = follow.wait_for(lambda: any(ATTACKER in inc.get("src_ips", []) and inc["change"] == "new"
                                                for _, inc in follow.incidents), 30)
    follow.proc.send_signal(signal.SIGINT)
    follow.proc.wait(60)

    lags: list[float] = []
    for path, times in written.items():
        upto = 0  # lines of the file stored so far (the seed lines are the first report)
        for s in follow.stats:
            if s["kind"] != "ingested" or s.get("path") != path:
                continue
            end = upto + s["lines"]
            lags.extend(s["at"] - times[i - seed] for i in range(max(upto, seed), end) if i - seed < len(times))
            upto = end
    attack_s = None
    if attack_first is not None:
        seen = [t for t, inc in follow.incidents if ATTACKER in inc.get("src_ips", []) and inc["change"] == "new"]
        attack_s = seen[0] - attack_first if seen else None

    from store.case import Case  # the events view reads raw lines with Vedette's own function

    con = Case.open(db, read_only=True).con
    rows = dict((r[0], r[1:]) for r in con.execute(
        "SELECT source_file, count(*), count(DISTINCT raw) FROM events GROUP BY 1").fetchall())
    rejects = con.execute("SELECT count(*) FROM rejects").fetchall()[0][0]
    analyses = [s for s in follow.stats if s["kind"] == "analysis"]
    inc_times = [s["seconds"] for s in analyses if s.get("mode") == "incremental"]
    con.close()

    print(f"wrote {sum(len(v) for v in written.values()):,} lines in {wrote_s:.1f} s "
          f"({sum(len(v) for v in written.values()) / wrote_s:,.0f} lines/s); caught up: {caught_up}")
    if lags:
        lags.sort()
        print(f"event lag: p50 {statistics.median(lags):.2f} s  p95 {lags[int(0.95 * (len(lags) - 1))]:.2f} s  "
              f"max {lags[-1]:.2f} s   (targets: p50 < 1 s, max < 3 s)")
    print("attack first line -> incident printed: "
          + (f"{attack_s:.1f} s" if attack_s is not None else f"not seen (incident seen: {incident_seen})")
          + "   (target < 10 s)")
    for path in total:
        count, distinct = rows.get(path, (0, 0))
        print(f"{Path(path).name}: written {total[path]:,}, stored {count:,} ({distinct:,} distinct): "
              f"lost {max(0, total[path] - distinct):,}, doubled {count - distinct:,}")
    print(f"rejected lines: {rejects}")
    print(f"analyses: {len(analyses)} ({len(inc_times)} incremental, median "
          f"{statistics.median(inc_times) if inc_times else 0:.2f} s, max {max(inc_times, default=0):.2f} s)")
    print(f"follow CPU: idle {idle:.1%} of a core, while writing {busy:.0%}")
    if args.keep:
        with open(work / "stats.jsonl", "w") as f:
            f.writelines(json.dumps(rec) + "\n" for rec in follow.stats)
    else:
        for p in work.iterdir():
            p.unlink()
        work.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
