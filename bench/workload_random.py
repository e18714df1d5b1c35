"""The "random" auth.log shape: thousands of uniform random sources that all behave alike.

Each connection picks a source uniformly among ``sources`` (20,000 by default), a random account,
host and sshd pid, and is either a few failed passwords or a public-key login with its session;
so every source mixes failures and successes. A few planted sources stand out: each guesses the
password of an account that nobody else ever logs in to, then gets in (``Accepted password``).
A good analysis shows the crowd as one campaign (or a handful) and the planted ones apart.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterator
from pathlib import Path

from bench.workload import CHUNK, DEFAULT_START, Workload, _finish, _public_ips, _stamper, _write

_USERS = ("root", "admin", "ubuntu", "deploy", "git", "alice", "bob", "carol", "dave", "erin", "oracle",
          "postgres", "jenkins", "backup", "www", "test", "ops", "ci", "monitor", "support")
# Accounts that only the planted sources log in to.
_RARE = ("svc_payroll", "svc_ledger", "svc_vault")


def random_auth_lines(n: int, *, seed: int = 0, start: float = DEFAULT_START, rate: float = 25.0,
                      sources: int = 20_000, hosts: int = 12, counts: dict | None = None,
                      planted: list | None = None) -> Iterator[list[str]]:
    """Yield chunks of exactly ``n`` lines; ``counts`` and ``planted`` (the standing-out sources) are filled in."""
    rng = random.Random(seed)
    rand = rng.random
    stamp = _stamper("rfc3164")
    ips = _public_ips(rng, sources + len(_RARE))
    crowd, stand_out = ips[:sources], ips[sources:]
    if planted is not None:
        planted.extend(stand_out)
    names = [f"node{i:02d}" for i in range(hosts)]
    c = counts if counts is not None else {}
    for k in ("failed_password", "accepted_publickey", "accepted_password"):
        c.setdefault(k, 0)
    # Where in the file each planted source strikes: 40 failures, then the login.
    strikes = sorted((int(n * (0.2 + 0.6 * k / max(1, len(stand_out)))), k) for k in range(len(stand_out)))
    mean = 1.0 / rate
    t = float(start)
    buf: list[str] = []
    out: list[str] = []
    add = out.append
    left, done = n, 0
    while left > 0:
        pid = 1000 + int(rand() * 4_000_000)
        port = 1025 + int(rand() * 64510)
        host = names[int(rand() * hosts)]
        sp = f"{stamp(int(t))} {host} sshd[{pid}]: "
        if strikes and done >= strikes[0][0]:
            _, k = strikes.pop(0)
            ip, user = stand_out[k], _RARE[k % len(_RARE)]
            for _ in range(40):
                add(f"{sp}Failed password for {user} from {ip} port {port} ssh2")
            add(f"{sp}Accepted password for {user} from {ip} port {port} ssh2")
            add(f"{sp}pam_unix(sshd:session): session opened for user {user}(uid=0) by (uid=0)")
            c["failed_password"] += 40
            c["accepted_password"] += 1
        else:
            ip = crowd[int(rand() * sources)]
            user = _USERS[int(rand() * len(_USERS))]
            if rand() < 0.65:
                tries = 1 + int(rand() * 3)
                for _ in range(tries):
                    add(f"{sp}Failed password for {user} from {ip} port {port} ssh2")
                add(f"{sp}Connection closed by authenticating user {user} {ip} port {port} [preauth]")
                c["failed_password"] += tries
            else:
                add(f"{sp}Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:k{pid % 997}")
                add(f"{sp}pam_unix(sshd:session): session opened for user {user}(uid=1000) by (uid=0)")
                add(f"{sp}Received disconnect from {ip} port {port}:11: disconnected by user")
                add(f"{sp}pam_unix(sshd:session): session closed for user {user}")
                c["accepted_publickey"] += 1
        if len(out) > left:
            del out[left:]
        t += -math.log(1.0 - rand()) * mean * len(out)
        buf += out
        left -= len(out)
        done += len(out)
        out.clear()
        if len(buf) >= CHUNK:
            yield buf
            buf = []
    if buf:
        yield buf
    c["_last_ts"] = t


def write_random_auth_log(path: str | os.PathLike, n: int, *, seed: int = 0, start: float = DEFAULT_START,
                          rate: float = 25.0, sources: int = 20_000) -> Workload:
    """Write ``n`` lines of the random shape to ``path``; ``attacker_ips`` are the planted sources."""
    counts: dict = {}
    planted: list = []
    lines = _write(Path(path), random_auth_lines(n, seed=seed, start=start, rate=rate, sources=sources,
                                                 counts=counts, planted=planted))
    return _finish(Path(path), "auth", lines, start, counts, planted)
