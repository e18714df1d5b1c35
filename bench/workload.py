#!/usr/bin/env python3
"""Synthetic log workloads for Vedette's ingest and analysis benchmarks.

    python bench/workload.py auth 1000000 /tmp/auth.log        # RFC 3164 auth.log
    python bench/workload.py access 1000000 /tmp/access.log    # nginx combined
    python bench/workload.py auth 10000000 /tmp/auth.log.gz    # .gz: gzip level 1

Importable::

    from bench.workload import write_auth_log, write_access_log
    w = write_auth_log(tmp_path / "auth.log", 100_000, seed=1)
    w.lines, w.counts["failed_password"], w.attacker_ips

Lines are produced in chunks and written through a large buffer, so memory stays flat however
many lines are asked for (10M lines is fine); 1M lines take a few seconds. The same arguments
give the same bytes. Only the standard library is used.

The auth log is mostly sshd: a brute-force mix (a few attacker addresses hammering root and
invalid users, each connection with its own pid), scattered internet background, public-key
logins with sessions, plus CRON and sudo. The access log mixes browser page views with their
assets, crawlers, a 15-second health check, and scanner/SQL-injection traffic from a few
addresses. Time advances monotonically at ``rate`` lines per second from ``start``; the file's
mtime is set to the last timestamp so year-less RFC 3164 stamps resolve to the right year.
"""

from __future__ import annotations

import argparse
import bisect
import calendar
import gzip
import io
import itertools
import json
import math
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DEFAULT_START = calendar.timegm((2026, 11, 1, 0, 0, 0, 0, 0, 0))  # 2026-11-01T00:00:00Z
CHUNK = 50_000  # lines per write


@dataclass(frozen=True)
class Workload:
    """What was written.

    path: the file; kind: "auth" or "access"; lines: lines written; bytes: file size on disk;
    first_ts / last_ts: epoch seconds (UTC) of the first and last line; attacker_ips: the
    addresses that make the brute-force / scanner traffic; counts: what was generated, by kind
    (auth: "failed_password" lines, "invalid_user", "accepted", "session_opened", "cron", "sudo",
    "preauth" connections; access: "page", "asset", "crawler", "health", "attack" lines and
    "http_404", "http_5xx"). The last event may be cut short to hit exactly ``lines``.
    """

    path: Path
    kind: str
    lines: int
    bytes: int
    first_ts: float
    last_ts: float
    attacker_ips: tuple[str, ...]
    counts: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "path": str(self.path),
            "kind": self.kind,
            "lines": self.lines,
            "bytes": self.bytes,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "attacker_ips": list(self.attacker_ips),
            "counts": self.counts,
        }


def _is_public(a: int, b: int, c: int) -> bool:
    """False for private, reserved and documentation IPv4 space (cheap stand-in for ``is_global``)."""
    if a in (0, 10, 127) or a >= 224:
        return False
    if (a == 100 and 64 <= b <= 127) or (a == 169 and b == 254) or (a == 172 and 16 <= b <= 31):
        return False
    if (a == 192 and b == 168) or (a == 198 and b in (18, 19)):
        return False
    if (a, b, c) in ((192, 0, 0), (192, 0, 2), (198, 51, 100), (203, 0, 113)):
        return False
    return True


def _public_ips(rng: random.Random, n: int) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    rand = rng.random
    while len(out) < n:
        a, b, c, d = 1 + int(rand() * 223), int(rand() * 256), int(rand() * 256), 1 + int(rand() * 254)
        if not _is_public(a, b, c):
            continue
        ip = f"{a}.{b}.{c}.{d}"
        if ip not in seen:
            seen.add(ip)
            out.append(ip)
    return out


def _stamper(fmt: str):
    """A function epoch-second -> formatted stamp, caching the last second (lines share seconds)."""
    last = [-1, ""]

    def stamp(sec: int) -> str:
        if sec == last[0]:
            return last[1]
        tm = time.gmtime(sec)
        if fmt == "rfc3164":
            text = f"{MONTHS[tm.tm_mon - 1]} {tm.tm_mday:2d} {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}"
        else:  # nginx $time_local in UTC
            text = f"{tm.tm_mday:02d}/{MONTHS[tm.tm_mon - 1]}/{tm.tm_year}:{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} +0000"
        last[0] = sec
        last[1] = text
        return text

    return stamp


def _picker(rng: random.Random, weights) -> callable:
    """index = pick(): a weighted choice without rebuilding cumulative weights on every call."""
    cum = list(itertools.accumulate(weights))
    total = cum[-1]
    rand = rng.random
    return lambda: bisect.bisect_right(cum, rand() * total)


# ---------------------------------------------------------------------------------------------
# auth.log
# ---------------------------------------------------------------------------------------------

_INVALID_USERS = (
    "admin",
    "test",
    "user",
    "ubuntu",
    "oracle",
    "postgres",
    "git",
    "pi",
    "ftpuser",
    "guest",
    "support",
    "debian",
    "test1",
    "hadoop",
    "nagios",
    "dev",
    "www",
    "ansible",
    "steam",
    "minecraft",
    "server",
    "demo",
    "backup",
    "mysql",
    "jenkins",
    "tomcat",
    "docker",
    "deploy",
    "sa",
    "usuario",
)
_ADMINS = (("alice", 1000), ("bob", 1001), ("carol", 1002), ("deploy", 1003))
_SUDO_CMDS = (
    "/usr/bin/systemctl restart nginx",
    "/usr/bin/apt update",
    "/usr/bin/journalctl -u ssh",
    "/usr/bin/tail -n 100 /var/log/syslog",
    "/usr/sbin/ufw status",
)


def auth_lines(
    n: int,
    *,
    seed: int = 0,
    start: float = DEFAULT_START,
    rate: float = 25.0,
    host: str = "bench1",
    brute_share: float = 0.45,
    attackers: int = 40,
    counts: dict | None = None,
    attacker_ips: list | None = None,
) -> Iterator[list[str]]:
    """Yield chunks (lists) of exactly ``n`` RFC 3164 auth.log lines in total, ``rate`` lines/s on average.

    ``counts`` and ``attacker_ips``, if given, are filled in as lines are produced.
    """
    rng = random.Random(seed)
    rand = rng.random
    log = math.log
    stamp = _stamper("rfc3164")
    bots = _public_ips(rng, attackers)
    pick_bot = _picker(rng, [1.0 / (i + 1) for i in range(len(bots))])  # a few attackers do most of the work
    background = _public_ips(rng, 20_000)
    n_bg = len(background)
    admin_ips = [f"198.51.100.{i}" for i in range(10, 40)]
    n_users = len(_INVALID_USERS)
    if attacker_ips is not None:
        attacker_ips.extend(bots)
    c = counts if counts is not None else {}
    for k in ("failed_password", "invalid_user", "accepted", "session_opened", "cron", "sudo", "preauth"):
        c.setdefault(k, 0)
    pick_kind = _picker(rng, (brute_share, 0.22, 0.12, 0.12, 0.03, 0.06))
    mean = 1.0 / rate
    t = float(start)
    pid = 200_000
    sess = 1_000
    hp = f" {host} "
    buf: list[str] = []
    out: list[str] = []
    add = out.append
    left = n
    while left > 0:
        kind = pick_kind()
        pid += 1 + int(rand() * 9)
        port = 1025 + int(rand() * 64510)
        st = stamp(int(t))
        sp = f"{st}{hp}sshd[{pid}]: "
        if kind <= 1:  # 0: brute force, 1: background
            if kind == 0:
                ip = bots[pick_bot()]
                root = rand() < 0.6
                tries = 1 + int(rand() * 6)
            else:
                ip = background[int(rand() * n_bg)]
                root = rand() < 0.35
                tries = 1
            if root:
                add(
                    f"{sp}pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user=root"
                )
                failed = f"{sp}Failed password for root from {ip} port {port} ssh2"
                who = "authenticating user root"
                target = "root"
            else:
                u = _INVALID_USERS[int(rand() * n_users)]
                add(f"{sp}Invalid user {u} from {ip} port {port}")
                add(f"{sp}pam_unix(sshd:auth): check pass; user unknown")
                add(
                    f"{sp}pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip} "
                )
                failed = f"{sp}Failed password for invalid user {u} from {ip} port {port} ssh2"
                who = target = f"invalid user {u}"
                c["invalid_user"] += 1
            for _ in range(tries):
                add(failed)
            c["failed_password"] += tries
            if tries == 6:
                add(
                    f"{sp}error: maximum authentication attempts exceeded for {target} from {ip} port {port} ssh2 [preauth]"
                )
                add(f"{sp}Disconnecting {who} {ip} port {port}: Too many authentication failures [preauth]")
            elif rand() < 0.6:
                add(f"{sp}Received disconnect from {ip} port {port}:11: Bye Bye [preauth]")
                add(f"{sp}Disconnected from {who} {ip} port {port} [preauth]")
            else:
                add(f"{sp}Connection closed by {who} {ip} port {port} [preauth]")
            if tries > 1:
                tail = "  user=root" if root else " "
                add(
                    f"{sp}PAM {tries - 1} more authentication failure{'s' if tries > 2 else ''}; logname= uid=0 "
                    f"euid=0 tty=ssh ruser= rhost={ip}{tail}"
                )
        elif kind == 2:  # public-key login with a short session
            user, uid = _ADMINS[int(rand() * 4)]
            ip = admin_ips[int(rand() * 30)]
            sess += 1
            lp = f"{st}{hp}systemd-logind[512]: "
            add(f"{sp}Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:bench{uid}key")
            add(f"{sp}pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)")
            add(f"{lp}New session {sess} of user {user}.")
            t += -log(1.0 - rand()) * mean * 4.0
            st = stamp(int(t))
            sp = f"{st}{hp}sshd[{pid}]: "
            lp = f"{st}{hp}systemd-logind[512]: "
            add(f"{sp}Received disconnect from {ip} port {port}:11: disconnected by user")
            add(f"{sp}Disconnected from user {user} {ip} port {port}")
            add(f"{sp}pam_unix(sshd:session): session closed for user {user}")
            add(f"{lp}Removed session {sess}.")
            c["accepted"] += 1
            c["session_opened"] += 1
        elif kind == 3:
            cp = f"{st}{hp}CRON[{pid}]: "
            add(f"{cp}pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
            add(f"{cp}(root) CMD (   cd / && run-parts --report /etc/cron.hourly)")
            add(f"{cp}pam_unix(cron:session): session closed for user root")
            c["cron"] += 1
        elif kind == 4:
            user, uid = _ADMINS[int(rand() * 3)]
            cmd = _SUDO_CMDS[int(rand() * len(_SUDO_CMDS))]
            su = f"{st}{hp}sudo: "
            add(f"{su}{user:>8} : TTY=pts/{int(rand() * 5)} ; PWD=/home/{user} ; USER=root ; COMMAND={cmd}")
            add(f"{su}pam_unix(sudo:session): session opened for user root(uid=0) by {user}(uid={uid})")
            add(f"{su}pam_unix(sudo:session): session closed for user root")
            c["sudo"] += 1
        else:
            ip = background[int(rand() * n_bg)]
            if rand() < 0.5:
                add(f"{sp}error: kex_exchange_identification: Connection closed by remote host")
                add(f"{sp}Connection closed by {ip} port {port}")
            else:
                add(f"{sp}Connection closed by {ip} port {port} [preauth]")
            c["preauth"] += 1
        if len(out) > left:
            del out[left:]
        t += -log(1.0 - rand()) * mean * len(out)  # the next event, so that lines arrive at ``rate``
        buf += out
        left -= len(out)
        out.clear()
        if len(buf) >= CHUNK:
            yield buf
            buf = []
    if buf:
        yield buf
    c["_last_ts"] = t


# ---------------------------------------------------------------------------------------------
# nginx access log
# ---------------------------------------------------------------------------------------------

_PAGES = (
    "/",
    "/products",
    "/products/vedette-sensor",
    "/products/vedette-cloud",
    "/pricing",
    "/about",
    "/contact",
    "/blog",
    "/blog/2026/11/rotating-logs-without-tears",
    "/blog/2026/10/what-sshd-tells-you",
    "/docs",
    "/docs/install",
    "/docs/faq",
    "/careers",
    "/search?q=zeek",
    "/search?q=suricata+rules",
)
_ASSETS = (
    ("/static/css/app.4f3c2a.css", 48_211),
    ("/static/js/app.9b1e07.js", 142_377),
    ("/static/js/vendor.1c2d3e.js", 288_930),
    ("/static/img/logo.svg", 3_411),
    ("/static/img/hero.webp", 96_540),
    ("/favicon.ico", 4_286),
)
_BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36",
)
_CRAWLERS = (
    ("66.249.66.1", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    ("66.249.66.33", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    (
        "40.77.167.12",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
        "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
    ),
)
_ATTACK_PATHS = (
    "/wp-login.php",
    "/.env",
    "/.git/config",
    "/phpmyadmin/",
    "/admin/",
    "/../../etc/passwd",
    "/index.php?id=1%27%20OR%201=1--",
    "/index.php?id=-1%20UNION%20ALL%20SELECT%20NULL%2CNULL--%20-",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci",
    "/actuator/env",
    "/server-status",
    "/xmlrpc.php",
    "/boaform/admin/formLogin",
    "/.aws/credentials",
    "/config.json",
)
_ATTACK_UAS = (
    "sqlmap/1.8.11#stable (https://sqlmap.org)",
    "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000123)",
    "Mozilla/5.0 zgrab/0.x",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
)


def access_lines(
    n: int,
    *,
    seed: int = 0,
    start: float = DEFAULT_START,
    rate: float = 150.0,
    attack_share: float = 0.04,
    attackers: int = 12,
    counts: dict | None = None,
    attacker_ips: list | None = None,
) -> Iterator[list[str]]:
    """Yield chunks (lists) of exactly ``n`` nginx combined-format lines in total, ``rate`` lines/s on average."""
    rng = random.Random(seed)
    rand = rng.random
    log = math.log
    stamp = _stamper("nginx")
    visitors = _public_ips(rng, 50_000)
    bots = _public_ips(rng, attackers)
    if attacker_ips is not None:
        attacker_ips.extend(bots)
    c = counts if counts is not None else {}
    for k in ("page", "asset", "crawler", "health", "attack", "http_404", "http_5xx"):
        c.setdefault(k, 0)
    attack_lines = []
    for path in _ATTACK_PATHS:
        status = 500 if "id=" in path else (403 if "/." in path else (400 if ".." in path else 404))
        size = {500: 568, 403: 555, 400: 157}.get(status, 3_712)
        attack_lines.append((f'"GET {path} HTTP/1.1" {status} {size} "-" "', status))
    crawler_tails = [(ip, f' "-" "{ua}"') for ip, ua in _CRAWLERS]
    n_vis, n_bots, n_att, n_pages, n_br, n_assets = (
        len(visitors),
        len(bots),
        len(attack_lines),
        len(_PAGES),
        len(_BROWSERS),
        len(_ASSETS),
    )
    n_crawl, n_ua = len(crawler_tails), len(_ATTACK_UAS)
    mean = 1.0 / rate
    t = float(start)
    next_health = t
    buf: list[str] = []
    add = buf.append
    left = n
    crawl_cut = attack_share + 0.06
    while left > 0:
        t += -log(1.0 - rand()) * mean
        st = stamp(int(t))
        if t >= next_health:
            next_health += 15.0
            add(f'10.20.0.5 - - [{st}] "GET /healthz HTTP/1.1" 200 2 "-" "Blackbox Exporter/0.25.0"')
            c["health"] += 1
            left -= 1
        else:
            r = rand()
            if r < attack_share:
                req, status = attack_lines[int(rand() * n_att)]
                add(f'{bots[int(rand() * n_bots)]} - - [{st}] {req}{_ATTACK_UAS[int(rand() * n_ua)]}"')
                c["attack"] += 1
                if status == 404:
                    c["http_404"] += 1
                elif status >= 500:
                    c["http_5xx"] += 1
                left -= 1
            elif r < crawl_cut:
                ip, tail = crawler_tails[int(rand() * n_crawl)]
                add(
                    f'{ip} - - [{st}] "GET {_PAGES[int(rand() * n_pages)]} HTTP/1.1" 200 {8_000 + int(rand() * 26_000)}{tail}'
                )
                c["crawler"] += 1
                left -= 1
            else:
                # a page view and (usually) some of its assets, same client and second
                ip = visitors[int(n_vis * rand() ** 2)]  # some visitors come back often
                ua = _BROWSERS[int(rand() * n_br)]
                path = _PAGES[int(rand() * n_pages)]
                if rand() < 0.015:
                    status, size = 404, 3_712
                    c["http_404"] += 1
                else:
                    status, size = 200, 7_000 + int(rand() * 27_000)
                ref = "-" if rand() < 0.5 else "https://www.google.com/"
                pre = f"{ip} - - [{st}] "
                add(f'{pre}"GET {path} HTTP/2.0" {status} {size} "{ref}" "{ua}"')
                c["page"] += 1
                left -= 1
                k = min(left, int(rand() * (n_assets + 1)))
                for j in range(k):
                    apath, asize = _ASSETS[j]
                    if rand() < 0.3:
                        add(f'{pre}"GET {apath} HTTP/2.0" 304 0 "https://www.example.com{path}" "{ua}"')
                    else:
                        add(f'{pre}"GET {apath} HTTP/2.0" 200 {asize} "https://www.example.com{path}" "{ua}"')
                c["asset"] += k
                left -= k
                t += k * mean
        if len(buf) >= CHUNK:
            yield buf
            buf = []
            add = buf.append
    if buf:
        yield buf
    c["_last_ts"] = t


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------


def _write(path: Path, chunks: Iterator[list[str]]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    if path.suffix == ".gz":
        raw = open(path, "wb")
        fh = io.TextIOWrapper(
            gzip.GzipFile(filename=path.name[:-3], mode="wb", fileobj=raw, compresslevel=1, mtime=0),
            encoding="utf-8",
            newline="\n",
            write_through=False,
        )
    else:
        raw = None
        fh = open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20)
    try:
        for chunk in chunks:
            fh.write("\n".join(chunk))
            fh.write("\n")
            written += len(chunk)
    finally:
        fh.close()
        if raw is not None:
            raw.close()
    return written


def _finish(path: Path, kind: str, lines: int, start: float, counts: dict, attackers: list) -> Workload:
    last = counts.pop("_last_ts", start)
    os.utime(path, (last, last))
    return Workload(
        Path(path), kind, lines, Path(path).stat().st_size, float(start), float(last), tuple(attackers), dict(counts)
    )


def write_auth_log(
    path: str | os.PathLike,
    n: int,
    *,
    seed: int = 0,
    start: float = DEFAULT_START,
    rate: float = 25.0,
    host: str = "bench1",
    brute_share: float = 0.45,
) -> Workload:
    """Write ``n`` RFC 3164 auth.log lines to ``path`` (gzip if it ends in .gz)."""
    counts: dict = {}
    attackers: list = []
    lines = _write(
        Path(path),
        auth_lines(
            n,
            seed=seed,
            start=start,
            rate=rate,
            host=host,
            brute_share=brute_share,
            counts=counts,
            attacker_ips=attackers,
        ),
    )
    return _finish(Path(path), "auth", lines, start, counts, attackers)


def write_access_log(
    path: str | os.PathLike,
    n: int,
    *,
    seed: int = 0,
    start: float = DEFAULT_START,
    rate: float = 150.0,
    attack_share: float = 0.04,
) -> Workload:
    """Write ``n`` nginx combined-format lines to ``path`` (gzip if it ends in .gz)."""
    counts: dict = {}
    attackers: list = []
    lines = _write(
        Path(path),
        access_lines(
            n, seed=seed, start=start, rate=rate, attack_share=attack_share, counts=counts, attacker_ips=attackers
        ),
    )
    return _finish(Path(path), "access", lines, start, counts, attackers)


def _parse_start(text: str) -> float:
    t = text.rstrip("Z").replace(" ", "T")
    return float(calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%S" if "T" in t else "%Y-%m-%d")))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write a synthetic auth.log or nginx access log for benchmarks.")
    p.add_argument("kind", choices=("auth", "access"))
    p.add_argument("lines", type=int)
    p.add_argument("path", type=Path, help="output file; a .gz suffix writes gzip")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", default="2026-11-01T00:00:00", help="UTC start, e.g. 2026-11-01T00:00:00")
    p.add_argument("--rate", type=float, default=None, help="lines per second of log time (auth 25, access 150)")
    args = p.parse_args(argv)
    if args.lines < 0:
        p.error("lines must be >= 0")
    start = _parse_start(args.start)
    t0 = time.perf_counter()
    if args.kind == "auth":
        w = write_auth_log(args.path, args.lines, seed=args.seed, start=start, rate=args.rate or 25.0)
    else:
        w = write_access_log(args.path, args.lines, seed=args.seed, start=start, rate=args.rate or 150.0)
    d = w.as_dict()
    d["seconds"] = round(time.perf_counter() - t0, 3)
    print(json.dumps(d))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
