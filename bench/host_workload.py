#!/usr/bin/env python3
"""Synthetic audit.log and wtmp workloads for the ingest benchmark.

    python bench/host_workload.py audit 1000000 /tmp/audit.log   # auditd records
    python bench/host_workload.py wtmp 1000000 /tmp/wtmp          # glibc struct utmp records

The audit log is SSH logins as PAM and sshd record them (USER_AUTH failures from a few
guessers, then for logins CRED_ACQ, USER_LOGIN, USER_START, commands as SYSCALL + EXECVE with
hex-encoded arguments, USER_END). The wtmp is login/logout pairs on ptys with IPv4 and IPv6
sources and a reboot now and then, built as one numpy array. The same arguments give the same bytes.
"""

from __future__ import annotations

import argparse
import calendar
import os
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

START = calendar.timegm((2026, 11, 1, 0, 0, 0, 0, 0, 0))


def write_audit_log(path: Path, n: int, seed: int = 1) -> int:
    """``n`` audit records; returns the number written."""
    rng = random.Random(seed)
    out: list[str] = []
    serial, t, ses = 1000, float(START), 1
    bots = [f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(50)]
    users = ("root", "admin", "oracle", "test", "ubuntu", "deploy")

    def rec(kind: str, body: str) -> None:
        out.append(f"type={kind} msg=audit({t:.3f}:{serial}): {body}")

    with open(path, "w", buffering=1 << 22) as f:
        written = 0
        while written < n:
            t += rng.uniform(0.05, 2.0)
            serial += 1
            pid = rng.randint(1000, 60000)
            if rng.random() < 0.8:
                ip, user = rng.choice(bots), rng.choice(users)
                rec("USER_AUTH", f"pid={pid} uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=PAM:"
                    f"authentication grantors=? acct=\"{user}\" exe=\"/usr/sbin/sshd\" hostname={ip} addr={ip} "
                    "terminal=ssh res=failed'")
            else:
                ip, user = f"198.51.100.{rng.randint(2, 250)}", "alice"
                ses += 1
                for kind, op in (("CRED_ACQ", "PAM:setcred"), ("USER_START", "PAM:session_open")):
                    serial += 1
                    rec(kind, f"pid={pid} uid=0 auid=1000 ses={ses} subj=unconfined msg='op={op} acct=\"{user}\" "
                        f"exe=\"/usr/sbin/sshd\" hostname={ip} addr={ip} terminal=ssh res=success'")
                serial += 1
                rec("USER_LOGIN", f"pid={pid} uid=0 auid=1000 ses={ses} msg='op=login id=1000 exe=\"/usr/sbin/sshd\" "
                    f"hostname={ip} addr={ip} terminal=/dev/pts/0 res=success'")
                for cmd in (["ls", "-la", "/var/log"], ["tail", "-n", "50", "/var/log/syslog"]):
                    serial += 1
                    rec("SYSCALL", f"arch=c000003e syscall=59 success=yes exit=0 items=2 ppid={pid} pid={pid + 1} "
                        f"auid=1000 uid=1000 tty=pts0 ses={ses} comm=\"{cmd[0]}\" exe=\"/usr/bin/{cmd[0]}\" key=\"exec\"")
                    args = " ".join(f"a{i}={w.encode().hex().upper()}" for i, w in enumerate(cmd))
                    rec("EXECVE", f"argc={len(cmd)} {args}")
                serial += 1
                rec("USER_END", f"pid={pid} uid=0 auid=1000 ses={ses} msg='op=PAM:session_close acct=\"{user}\" "
                    f"exe=\"/usr/sbin/sshd\" hostname={ip} addr={ip} terminal=ssh res=success'")
            if len(out) >= 50_000 or written + len(out) >= n:
                take = out[: n - written]
                f.write("\n".join(take) + "\n")
                written += len(take)
                out.clear()
    os.utime(path, (t, t))
    return written


def write_wtmp(path: Path, n: int, seed: int = 1) -> int:
    """``n`` utmp records (login/logout pairs, a reboot every 5,000); returns the number written."""
    from engine.formats.utmp import DTYPE

    rng = np.random.default_rng(seed)
    recs = np.zeros(n, dtype=DTYPE)
    k = np.arange(n)
    pair = k // 2
    recs["type"] = np.where(k % 2 == 0, 7, 8)
    recs["type"][k % 5000 == 4999] = 2
    recs["pid"] = 1000 + pair % 30000
    tty = np.array([f"pts/{i}".encode() for i in range(64)], dtype="S32")
    recs["line"] = tty[pair % 64].view("V32")
    users = np.array([b"root", b"alice", b"bob", b"deploy", b"carol"], dtype="S32")
    recs["user"] = np.where(k % 2 == 0, users[pair % 5], b"").astype("S32").view("V32")
    v4 = rng.integers(1, 224, size=(n, 4), dtype=np.uint8)
    addr = np.zeros((n, 16), dtype=np.uint8)
    addr[:, :4] = v4
    six = pair % 10 == 0
    addr[six] = np.frombuffer(bytes.fromhex("20010db8000000000000000000000000"), np.uint8)
    addr[six, 14:] = rng.integers(0, 256, size=(int(six.sum()), 2), dtype=np.uint8)
    addr[k % 2 == 1] = 0
    recs["addr"] = addr.view("V16").ravel()
    hosts = np.array([".".join(str(b) for b in a[:4]).encode() for a in v4[:4096]], dtype="S256")
    recs["host"] = np.where(k % 2 == 0, hosts[pair % 4096], b"").astype("S256").view("V256")
    secs = START + pair * 7 + (k % 2) * rng.integers(60, 3600, size=n)
    recs["sec"] = secs
    recs["usec"] = rng.integers(0, 1_000_000, size=n)
    path.write_bytes(recs.tobytes())
    os.utime(path, (float(secs[-1]), float(secs[-1])))
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=("audit", "wtmp"))
    ap.add_argument("n", type=int)
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    n = (write_audit_log if args.kind == "audit" else write_wtmp)(args.out, args.n)
    print(f"{args.out}: {n:,} records, {args.out.stat().st_size / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
