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

Every record is generated as an object tagged with the attack (A1..A7) or benign activity
(B1..B5) it belongs to; truth.json is computed from those tags, so first_seen/last_seen,
source addresses and per-file evidence counts always match the files.
"""

from __future__ import annotations

import argparse
import base64
import calendar
import gzip
import hashlib
import ipaddress
import json
import os
import random
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SEED = 20261120
DEFAULT_OUT = Path(__file__).resolve().parent

US = 1_000_000  # all times are integer microseconds since the epoch, UTC
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def at(day: int, hour: int = 0, minute: int = 0, second: float = 0.0, month: int = 11, year: int = 2026) -> int:
    """A UTC instant in microseconds (November 2026 unless told otherwise)."""
    whole = _utc_epoch(year, month, day, hour, minute)
    return whole * US + round(second * US)


def _utc_epoch(year: int, month: int, day: int, hour: int, minute: int) -> int:
    return calendar.timegm((year, month, day, hour, minute, 0, 0, 0, 0))


WINDOW_START = at(13, 8)  # 2026-11-13T08:00:00Z
WINDOW_END = at(20, 8)  # 2026-11-20T08:00:00Z, the moment the logs were collected
HOUR = 3600 * US
MINUTE = 60 * US
SECOND = US
DAY = 24 * HOUR


# ---------------------------------------------------------------------------------------------
# Time formats
# ---------------------------------------------------------------------------------------------


def _tm(us: int):
    return time.gmtime(us // US)


def fmt_rfc3164(us: int) -> str:
    t = _tm(us)
    return f"{MONTHS[t.tm_mon - 1]} {t.tm_mday:2d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"


def fmt_rsyslog(us: int, offset_min: int = 0) -> str:
    t = _tm(us + offset_min * MINUTE)
    sign = "+" if offset_min >= 0 else "-"
    oh, om = divmod(abs(offset_min), 60)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
        f".{us % US:06d}{sign}{oh:02d}:{om:02d}"
    )


def fmt_nginx(us: int) -> str:
    t = _tm(us)
    return f"{t.tm_mday:02d}/{MONTHS[t.tm_mon - 1]}/{t.tm_year:04d}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def fmt_eve(us: int) -> str:
    t = _tm(us)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
        f".{us % US:06d}+0000"
    )


def fmt_iso(us: int) -> str:
    t = _tm(us)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}+00:00"


def fmt_zeek(us: int) -> str:
    return f"{us // US}.{us % US:06d}"


def fmt_zeek_interval(us: int) -> str:
    return f"{us // US}.{us % US:06d}"


def fmt_zeek_open(us: int) -> str:
    t = _tm(us)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}-{t.tm_hour:02d}-{t.tm_min:02d}-{t.tm_sec:02d}"


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A mix of traffic. ``attacks`` maps attack id to its start time; absent ids are not planted.

    noise: multiplier on the internet background (failed SSH from scattered sources).
    browse: multiplier on ordinary web visitors and internal outbound traffic.
    """

    name: str
    attacks: dict
    noise: float = 1.0
    browse: float = 1.0
    description: str = ""


SCENARIOS = {
    "default": Scenario(
        "default",
        {
            "A1": at(15, 3, 10),  # brute force, 2 h
            "A3": at(16, 20, 0),  # credential stuffing, 6 h, crosses the bastion rotation at Nov 17 00:xx
            "A6": at(17, 13, 40),  # scanner
            "A2": at(18, 10, 20),  # password spraying
            "A7": at(18, 19, 30),  # C2 beacon, 11 h
            "A4": at(19, 2, 14),  # compromise of deploy@web1
            "A5": at(19, 15, 20),  # web attack
        },
        description="all seven attacks among ordinary traffic",
    ),
    "quiet": Scenario("quiet", {}, description="only benign traffic (admins, CI, monitoring, crawlers, background)"),
    "noisy": Scenario(
        "noisy",
        {
            "A1": at(14, 13, 5),  # in the afternoon, among admin logins
            "A2": at(15, 22, 40),
            "A3": at(17, 1, 0),
            "A4": at(16, 9, 35),  # during business hours
            "A5": at(18, 11, 0),
            "A6": at(19, 20, 15),
            "A7": at(16, 8, 0),  # beacon during the working day, among workstation traffic
        },
        noise=3.0,
        browse=3.0,
        description="three times the benign noise, attacks at other times",
    ),
}

# ---------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------

LOCAL_NETS = (ipaddress.ip_network("10.20.0.0/16"), ipaddress.ip_network("192.0.2.0/24"))

BASTION_PUB = "192.0.2.10"
BASTION_INT = "10.20.0.10"
WEB1_PUB = "192.0.2.20"
WEB1_INT = "10.20.1.20"
DB1_INT = "10.20.1.30"
RESOLVER = "10.20.0.2"
MONITOR_IP = "10.20.0.5"
OFFICE_ALICE = "198.51.100.14"
OFFICE_BOB = "198.51.100.15"
OFFICE_CAROL = "198.51.100.16"
HOME_BOB = "203.0.113.45"
CI_RUNNER = "198.51.100.40"
WORKSTATIONS = tuple(f"10.20.2.{n}" for n in (11, 12, 14, 17, 21, 23, 26, 31, 34, 38, 42, 57))
BEACON_HOST = "10.20.2.57"  # a finance workstation; beacons to C2 in A7
UPSTREAM_DNS = ("9.9.9.9", "149.112.112.112")
DEBIAN_MIRROR = ("151.101.2.132", "151.101.66.132")  # deb.debian.org / security.debian.org (Fastly)
SITE = "www.example.com"

GOOGLEBOT = ("66.249.66.1", "66.249.66.33", "66.249.66.69", "66.249.66.70", "66.249.79.102")
BINGBOT = ("40.77.167.12", "40.77.167.60", "157.55.39.201", "207.46.13.74")
CRAWLER_16S = ("66.249", "40.77", "157.55", "207.46")

# Popular outbound destinations for internal traffic (CDNs and SaaS, all public).
OUTBOUND_DESTS = (
    ("142.250.185.78", 443, "ssl"),
    ("142.250.74.99", 443, "ssl"),
    ("172.217.16.142", 443, "ssl"),
    ("13.107.42.14", 443, "ssl"),
    ("13.107.6.152", 443, "ssl"),
    ("52.97.146.194", 443, "ssl"),
    ("140.82.121.4", 443, "ssl"),
    ("104.16.132.229", 443, "ssl"),
    ("151.101.1.140", 443, "ssl"),
    ("162.159.136.232", 443, "ssl"),
    ("18.66.102.27", 443, "ssl"),
    ("20.190.159.0", 443, "ssl"),
    ("31.13.84.36", 443, "ssl"),
    ("52.84.150.39", 443, "ssl"),
)
OUTBOUND_SNI = {
    "142.250.185.78": "www.google.com",
    "142.250.74.99": "fonts.googleapis.com",
    "172.217.16.142": "docs.google.com",
    "13.107.42.14": "teams.microsoft.com",
    "13.107.6.152": "outlook.office365.com",
    "52.97.146.194": "outlook.office.com",
    "140.82.121.4": "github.com",
    "104.16.132.229": "cdnjs.cloudflare.com",
    "151.101.1.140": "www.reddit.com",
    "162.159.136.232": "discord.com",
    "18.66.102.27": "d1.awsstatic.com",
    "20.190.159.0": "login.microsoftonline.com",
    "31.13.84.36": "www.linkedin.com",
    "52.84.150.39": "slack.com",
}

# Address prefixes that attack sources are drawn from: hosting and VPS space that shows up in
# abuse feeds, as first two octets. Botnet /24s come from residential/ISP-heavy space.
HOSTING_16S = tuple(
    """
    45.155 193.32 80.94 91.92 194.165 141.98 5.181 45.148 179.43 89.248 37.19 146.190 165.232 159.223 64.227
    134.209 92.118 185.224
    """.split()
)
BOTNET_16S = tuple(
    """
    61.177 218.92 180.101 112.85 117.50 222.186 183.81 122.194
    """.split()
)
TOR_24S = ("185.220.100", "185.220.101", "185.220.102")

# /8s that never show up as internet sources in practice (US DoD and similar, announced rarely).
UNSEEN_8S = frozenset((6, 7, 11, 21, 22, 26, 28, 29, 30, 33, 55, 214, 215))

# Users on each host: name -> uid. Anything else is an "Invalid user".
HOST_USERS = {
    "bastion": {"root": 0, "alice": 1000, "bob": 1001, "carol": 1002},
    "web1": {"root": 0, "alice": 1000, "deploy": 1001, "carol": 1002},
    "db1": {"root": 0, "alice": 1000, "bob": 1001, "postgres": 104},
}

KEYS = {
    "alice": "ED25519 SHA256:4bB1QyPpq8h1m7Xo2cT9vKzL0wE5sR3dN6gH8jU2aYc",
    "bob": "ED25519 SHA256:Zr9Qe0s1XlM3fYb7Kp2WcA8nT5vH4gJ6dL1oU0iR3xE",
    "bob-laptop": "ED25519 SHA256:mT3kP8vQ1zX6cN2bW9rJ4hF7yL0sD5gA1eU8oI3qKnV",
    "deploy-ci": "ED25519 SHA256:Yk2xQv8p3lO0cJ9h6WmE1rTzB4nA7sD2fG5hJ8kL0qM",
}


def is_local(ip: str) -> bool:
    a = ipaddress.ip_address(ip)
    return any(a in n for n in LOCAL_NETS)


def community_id(src: str, dst: str, sport: int, dport: int, proto: int) -> str:
    """Community ID v1 (seed 0), as Suricata writes it."""
    s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if proto == 1:  # ICMP: ports are type/code, no ordering by port
        if s > d:
            s, d = d, s
    elif (s, sport) > (d, dport):
        s, d, sport, dport = d, s, dport, sport
    data = struct.pack("!H", 0) + s + d + struct.pack("!BB", proto, 0) + struct.pack("!HH", sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


class Proc:
    """A process whose pid is given out when its first line is written (pids grow with time)."""

    __slots__ = ("pid",)

    def __init__(self) -> None:
        self.pid: int | None = None


class LoginSession:
    """A systemd-logind session number, given out in order of appearance like the pid."""

    __slots__ = ("num",)

    def __init__(self) -> None:
        self.num: int | None = None


@dataclass
class SysRec:
    ts: int
    seq: int
    prog: str
    proc: object  # Proc, int (fixed pid) or None (no pid, e.g. sudo)
    msg: str
    tag: str | None
    sess: LoginSession | None = None


@dataclass
class SyslogHost:
    name: str
    style: str  # "rfc3164" or "rsyslog"
    verbose: bool
    public_ip: str | None
    internal_ip: str
    pid_start: int
    logind_pid: int
    session_start: int
    tz_offset_min: int = 0
    cron_cmd_lines: bool = False  # rsyslog also routes cron.* to auth.log
    records: list = field(default_factory=list)


@dataclass
class Conn:
    """One connection as the sensor saw it; rendered to Zeek conn.log and, if chosen, to EVE."""

    ts: int
    orig: str
    op: int
    resp: str
    rp: int
    proto: str
    service: str | None
    duration: int | None
    ob: int | None
    rb: int | None
    state: str
    history: str
    opk: int
    oipb: int
    rpk: int
    ripb: int
    tag: str | None
    uid: str
    flow_id: int
    eve: bool = False
    alerted: bool = False


@dataclass
class WebRec:
    ts: int
    seq: int
    line: str
    tag: str | None


@dataclass
class EveRec:
    ts: int
    seq: int
    obj: dict
    tag: str | None


# ---------------------------------------------------------------------------------------------
# Suricata signatures (ET Open / GPL, as they appear in eve.json)
# ---------------------------------------------------------------------------------------------

SIGS = {
    "ssh_scan": (
        2001219,
        20,
        "ET SCAN Potential SSH Scan",
        "Attempted Information Leak",
        2,
        "2010_07_30",
        "2010_07_30",
    ),
    "libssh": (
        2006546,
        9,
        "ET SCAN LibSSH Based Frequent SSH Connections Likely BruteForce Attack",
        "Attempted Administrator Privilege Gain",
        1,
        "2010_07_30",
        "2010_07_30",
    ),
    "dshield": (
        2402000,
        7012,
        "ET DROP Dshield Block Listed Source group 1",
        "Misc Attack",
        2,
        "2010_12_30",
        "2026_11_12",
    ),
    "compromised": (
        2500018,
        7104,
        "ET COMPROMISED Known Compromised or Hostile Host Traffic group 10",
        "Misc Attack",
        2,
        "2011_04_28",
        "2026_11_12",
    ),
    "cins": (
        2403343,
        91012,
        "ET CINS Active Threat Intelligence Poor Reputation IP group 44",
        "Misc Attack",
        2,
        "2013_10_08",
        "2026_11_12",
    ),
    "tor": (2520047, 5712, "ET TOR Known Tor Exit Node Traffic group 48", "Misc Attack", 2, "2008_12_01", "2026_11_13"),
    "nmap_ss": (
        2009582,
        3,
        "ET SCAN NMAP -sS window 1024",
        "Attempted Information Leak",
        2,
        "2010_07_30",
        "2019_07_26",
    ),
    "nmap_ua": (
        2009358,
        7,
        "ET SCAN Nmap Scripting Engine User-Agent Detected (Nmap Scripting Engine)",
        "Web Application Attack",
        1,
        "2010_07_30",
        "2019_09_27",
    ),
    "zmap_ua": (
        2029054,
        2,
        "ET SCAN Zmap User-Agent (Inbound)",
        "Detection of a Network Scan",
        3,
        "2019_11_26",
        "2020_10_23",
    ),
    "mysql": (
        2010937,
        3,
        "ET SCAN Suspicious inbound to mySQL port 3306",
        "Potentially Bad Traffic",
        2,
        "2010_07_30",
        "2018_03_27",
    ),
    "pgsql": (
        2010939,
        3,
        "ET SCAN Suspicious inbound to PostgreSQL port 5432",
        "Potentially Bad Traffic",
        2,
        "2010_07_30",
        "2018_03_27",
    ),
    "mssql": (
        2010935,
        3,
        "ET SCAN Suspicious inbound to MSSQL port 1433",
        "Potentially Bad Traffic",
        2,
        "2010_07_30",
        "2018_03_27",
    ),
    "oracle": (
        2010936,
        3,
        "ET SCAN Suspicious inbound to Oracle SQL port 1521",
        "Potentially Bad Traffic",
        2,
        "2010_07_30",
        "2018_03_27",
    ),
    "nikto": (
        2002677,
        14,
        "ET SCAN Nikto Web App Scan in Progress",
        "Web Application Attack",
        1,
        "2010_07_30",
        "2019_09_27",
    ),
    "sqlmap": (
        2008538,
        8,
        "ET SCAN Sqlmap SQL Injection Scan",
        "Attempted Information Leak",
        2,
        "2010_07_30",
        "2019_09_27",
    ),
    "union": (
        2006446,
        14,
        "ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT",
        "Web Application Attack",
        1,
        "2010_07_30",
        "2020_08_20",
    ),
    "passwd": (
        2049400,
        2,
        "ET WEB_SERVER /etc/passwd Detected in URI",
        "Attempted Information Leak",
        2,
        "2023_11_30",
        "2024_03_12",
    ),
    "env": (
        2031502,
        3,
        "ET INFO Request to Hidden Environment File - Inbound",
        "Attempted Information Leak",
        2,
        "2021_01_11",
        "2021_01_11",
    ),
}


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------


class Generator:
    def __init__(self, seed: int, scenario: Scenario) -> None:
        self.seed = seed
        self.sc = scenario
        self.rng = random.Random(seed)
        self._seq = 0
        self.hosts = {
            "bastion": SyslogHost("bastion", "rfc3164", True, BASTION_PUB, BASTION_INT, 811_204, 498, 1843),
            "web1": SyslogHost("web1", "rsyslog", False, WEB1_PUB, WEB1_INT, 1_402_377, 512, 40_211),
            "db1": SyslogHost(
                "db1", "rsyslog", False, None, DB1_INT, 276_810, 455, 912, tz_offset_min=60, cron_cmd_lines=True
            ),
        }
        self.web: list[WebRec] = []
        self.conns: list[Conn] = []
        self.eve: list[EveRec] = []
        self.used_ips: set[str] = set()
        self.reserved_24s: set[str] = set()
        self.attack_16s: set[str] = set()
        self.truth_attacks: list[dict] = []
        self.truth_benign: list[dict] = []
        self.tag_ips: dict[str, list[str]] = {}
        self.tag_dst: dict[str, list[str]] = {}
        for ip in (
            BASTION_PUB,
            WEB1_PUB,
            OFFICE_ALICE,
            OFFICE_BOB,
            OFFICE_CAROL,
            HOME_BOB,
            CI_RUNNER,
            *GOOGLEBOT,
            *BINGBOT,
            *UPSTREAM_DNS,
            *DEBIAN_MIRROR,
            *(d[0] for d in OUTBOUND_DESTS),
        ):
            self.used_ips.add(ip)

    # -- small helpers ------------------------------------------------------------------------

    def seq(self) -> int:
        self._seq += 1
        return self._seq

    def jitter(self, lo: float, hi: float) -> int:
        return int(self.rng.uniform(lo, hi) * US)

    def eph_port(self, kind: str = "linux") -> int:
        if kind == "windows":
            return self.rng.randint(49152, 65535)
        if kind == "any":
            return self.rng.randint(1025, 65535)
        return self.rng.randint(32768, 60999)

    def zeek_uid(self) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "C" + "".join(self.rng.choice(alphabet) for _ in range(17))

    def flow_id(self) -> int:
        return self.rng.randrange(10**14, 2**51)

    def _valid_public(self, ip: str) -> bool:
        a = ipaddress.ip_address(ip)
        if not a.is_global or ip in self.used_ips:
            return False
        if ip.rsplit(".", 1)[0] in self.reserved_24s:
            return False
        if ".".join(ip.split(".")[:2]) in CRAWLER_16S:
            return False
        return True

    def ip_in_24(self, net24: str) -> str:
        while True:
            ip = f"{net24}.{self.rng.randint(2, 254)}"
            if ip not in self.used_ips:
                self.used_ips.add(ip)
                return ip

    def new_24(self, prefixes16) -> str:
        """A fresh /24 for attack sources, in a /16 no other attack uses (so each attack reads as its own)."""
        while True:
            p16 = self.rng.choice(prefixes16)
            net = f"{p16}.{self.rng.randint(0, 255)}"
            if p16 in self.attack_16s or not ipaddress.ip_address(net + ".1").is_global:
                continue
            self.attack_16s.add(p16)
            self.reserved_24s.add(net)
            return net

    def random_public_ip(self) -> str:
        while True:
            first = self.rng.randint(1, 223)
            if first in UNSEEN_8S:
                continue
            ip = f"{first}.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"
            if self._valid_public(ip):
                self.used_ips.add(ip)
                return ip

    def note_ip(self, tag: str, ip: str) -> None:
        lst = self.tag_ips.setdefault(tag, [])
        if ip not in lst:
            lst.append(ip)

    def note_dst(self, tag: str, ip: str) -> None:
        lst = self.tag_dst.setdefault(tag, [])
        if ip not in lst:
            lst.append(ip)

    # -- syslog -------------------------------------------------------------------------------

    def sys(
        self, host: str, ts: int, prog: str, proc, msg: str, tag: str | None, sess: LoginSession | None = None
    ) -> None:
        self.hosts[host].records.append(SysRec(ts, self.seq(), prog, proc, msg, tag, sess))

    # -- network ------------------------------------------------------------------------------

    def conn(
        self,
        ts,
        orig,
        op,
        resp,
        rp,
        proto="tcp",
        service=None,
        duration=None,
        ob=None,
        rb=None,
        state="SF",
        history=None,
        opk=None,
        oipb=None,
        rpk=None,
        ripb=None,
        tag=None,
        eve=None,
    ) -> Conn:
        rng = self.rng
        if history is None:
            history = {"ssh": "ShAdDaFf", "http": "ShADadfF", "ssl": "ShADadFf", "dns": "Dd"}.get(
                service or "", "ShADadFf"
            )
        if proto == "udp":
            opk = opk if opk is not None else 1
            rpk = rpk if rpk is not None else (1 if rb else 0)
            oipb = oipb if oipb is not None else (ob or 0) + 28 * opk
            ripb = ripb if ripb is not None else (rb or 0) + 28 * rpk
        elif opk is None and ob is not None:
            rpk = max(3, (rb or 0) // 1300 + rng.randint(3, 8))
            opk = max(4, ob // 1300 + rng.randint(4, 9), rpk // 2 + rng.randint(0, 3))
            oipb = ob + 52 * opk
            ripb = (rb or 0) + 52 * rpk
        if eve is None:
            eve = rng.random() < 0.02
        c = Conn(
            ts,
            orig,
            op,
            resp,
            rp,
            proto,
            service,
            duration,
            ob,
            rb,
            state,
            history,
            opk,
            oipb,
            rpk,
            ripb,
            tag,
            self.zeek_uid(),
            self.flow_id(),
            eve,
        )
        self.conns.append(c)
        return c

    def tcp_ok(self, ts, orig, op, resp, rp, service, dur_us, ob, rb, tag=None, eve=None) -> Conn:
        hist = (
            self.rng.choice(("ShADadFf", "ShADadfF", "ShADdaFf"))
            if service != "ssh"
            else self.rng.choice(("ShAdDaFf", "ShAdDaFf", "ShADadFf"))
        )
        return self.conn(ts, orig, op, resp, rp, "tcp", service, dur_us, ob, rb, "SF", hist, tag=tag, eve=eve)

    def eve_base(self, ts: int, c: Conn, event_type: str, swap: bool = False) -> dict:
        src, sp, dst, dp = (c.resp, c.rp, c.orig, c.op) if swap else (c.orig, c.op, c.resp, c.rp)
        d = {
            "timestamp": fmt_eve(ts),
            "flow_id": c.flow_id,
            "in_iface": "ens19",
            "event_type": event_type,
            "src_ip": src,
            "src_port": sp,
            "dest_ip": dst,
            "dest_port": dp,
            "proto": c.proto.upper(),
        }
        return d

    def add_eve(self, ts: int, obj: dict, tag: str | None) -> None:
        self.eve.append(EveRec(ts, self.seq(), obj, tag))

    def eve_alert(
        self,
        ts: int,
        c: Conn,
        sig: str,
        tag: str | None,
        app_proto: str | None = None,
        extra: dict | None = None,
        to_client: bool = False,
    ) -> None:
        sid, rev, text, cat, sev, created, updated = SIGS[sig]
        c.alerted = True
        c.eve = True
        d = self.eve_base(ts, c, "alert", swap=to_client)
        d["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 6 if c.proto == "tcp" else 17)
        if extra and "tx_id" in extra:
            d["tx_id"] = extra["tx_id"]
        d["alert"] = {
            "action": "allowed",
            "gid": 1,
            "signature_id": sid,
            "rev": rev,
            "signature": text,
            "category": cat,
            "severity": sev,
            "metadata": {"created_at": [created], "updated_at": [updated]},
        }
        if extra:
            for k, v in extra.items():
                if k != "tx_id":
                    d[k] = v
        if app_proto:
            d["app_proto"] = app_proto
        elapsed = max(0, ts - c.ts)
        frac = 1.0 if not c.duration else min(1.0, elapsed / max(1, c.duration))
        d["direction"] = "to_client" if to_client else "to_server"
        pts = max(1, int(c.opk * frac))
        ptc = int(c.rpk * frac)
        if elapsed < 10_000 or pts == 1:  # the first packet (a SYN) is what matched
            pts, ptc = 1, 0
        d["flow"] = {
            "pkts_toserver": pts,
            "pkts_toclient": ptc,
            "bytes_toserver": 74 if pts == 1 else int((c.oipb + 14 * c.opk) * pts / max(1, c.opk)),
            "bytes_toclient": 0 if ptc == 0 else int((c.ripb + 14 * c.rpk) * ptc / max(1, c.rpk)),
            "start": fmt_eve(c.ts),
        }
        self.add_eve(ts, d, tag)

    # -- sshd connections ---------------------------------------------------------------------

    def _sshd_prelude(self, host: SyslogHost, t: int, ip: str, port: int, proc: Proc, tag) -> int:
        if host.verbose:
            local = host.public_ip if (host.public_ip and not is_local(ip)) else host.internal_ip
            self.sys(host.name, t, "sshd", proc, f'Connection from {ip} port {port} on {local} port 22 rdomain ""', tag)
        return t + self.jitter(0.05, 0.6)

    def _pam_fail(self, ip: str, user: str | None) -> str:
        base = f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip} "
        return base + (f" user={user}" if user else "")

    def ssh_failed(
        self,
        hostname: str,
        t: int,
        ip: str,
        user: str,
        attempts: int = 1,
        end: str = "bye",
        tag: str | None = None,
        client: str = "libssh_0.9.6",
        port: int | None = None,
        eve: bool | None = None,
    ) -> tuple[int, Conn | None]:
        """One sshd connection whose password attempts all fail. Returns (end time, conn)."""
        host = self.hosts[hostname]
        valid = user in HOST_USERS[hostname]
        port = port or self.eph_port("any")
        proc = Proc()
        t0 = t
        t = self._sshd_prelude(host, t, ip, port, proc, tag)
        if not valid:
            t += self.jitter(0.2, 1.2)
            self.sys(hostname, t, "sshd", proc, f"Invalid user {user} from {ip} port {port}", tag)
        for i in range(attempts):
            t += self.jitter(0.3, 1.4) if i == 0 else self.jitter(0.2, 0.9)
            if not valid:
                self.sys(hostname, t, "sshd", proc, "pam_unix(sshd:auth): check pass; user unknown", tag)
            if i == 0:
                self.sys(hostname, t, "sshd", proc, self._pam_fail(ip, user if valid else None), tag)
            t += self.jitter(2.0, 2.4)  # pam_faildelay
            who = user if valid else f"invalid user {user}"
            self.sys(hostname, t, "sshd", proc, f"Failed password for {who} from {ip} port {port} ssh2", tag)
        who = f"authenticating user {user}" if valid else f"invalid user {user}"
        t += self.jitter(0.01, 0.4)
        if end == "maxtries":
            target = user if valid else f"invalid user {user}"
            self.sys(
                hostname,
                t,
                "sshd",
                proc,
                f"error: maximum authentication attempts exceeded for {target} from {ip} port {port} ssh2 [preauth]",
                tag,
            )
            self.sys(
                hostname,
                t,
                "sshd",
                proc,
                f"Disconnecting {who} {ip} port {port}: Too many authentication failures [preauth]",
                tag,
            )
        elif end == "bye":
            self.sys(hostname, t, "sshd", proc, f"Received disconnect from {ip} port {port}:11: Bye Bye [preauth]", tag)
            self.sys(hostname, t, "sshd", proc, f"Disconnected from {who} {ip} port {port} [preauth]", tag)
        elif end == "reset":
            self.sys(hostname, t, "sshd", proc, f"Connection reset by {who} {ip} port {port} [preauth]", tag)
        else:
            self.sys(hostname, t, "sshd", proc, f"Connection closed by {who} {ip} port {port} [preauth]", tag)
        if attempts > 1:
            more = attempts - 1
            tail = f"  user={user}" if valid else " "
            self.sys(
                hostname,
                t,
                "sshd",
                proc,
                f"PAM {more} more authentication failure{'s' if more > 1 else ''}; logname= uid=0 euid=0 tty=ssh "
                f"ruser= rhost={ip}{tail}",
                tag,
            )
        if attempts > 3:
            self.sys(hostname, t, "sshd", proc, f"PAM service(sshd) ignoring max retries; {attempts} > 3", tag)
        c = None
        if host.public_ip and not is_local(ip):
            ob = self.rng.randint(1150, 1700) + 96 * attempts
            rb = self.rng.randint(1900, 2600) + 64 * attempts
            c = self.tcp_ok(
                t0, ip, port, host.public_ip, 22, "ssh", t - t0 + self.jitter(0.001, 0.05), ob, rb, tag, eve
            )
            if c.eve:
                self.eve_ssh(t0 + self.jitter(0.05, 0.3), c, client, tag)
        return t, c

    def ssh_preauth(
        self, hostname: str, t: int, ip: str, kind: str, tag: str | None, port: int | None = None
    ) -> Conn | None:
        """A connection that never gets to authentication (scanners, banner grabbers)."""
        host = self.hosts[hostname]
        port = port or self.eph_port("any")
        proc = Proc()
        t0 = t
        t = self._sshd_prelude(host, t, ip, port, proc, tag)
        if kind == "kex":
            t += self.jitter(0.0, 0.3)
            self.sys(
                hostname, t, "sshd", proc, "error: kex_exchange_identification: Connection closed by remote host", tag
            )
            self.sys(hostname, t, "sshd", proc, f"Connection closed by {ip} port {port}", tag)
            ob, rb, svc = 0, 41, None
        elif kind == "banner":
            t += self.jitter(0.0, 0.4)
            self.sys(
                hostname, t, "sshd", proc, f"banner exchange: Connection from {ip} port {port}: invalid format", tag
            )
            ob, rb, svc = 18, 41, None
        elif kind == "negotiate":
            t += self.jitter(0.1, 0.6)
            self.sys(
                hostname,
                t,
                "sshd",
                proc,
                f"Unable to negotiate with {ip} port {port}: no matching host key type found. "
                f"Their offer: ssh-rsa,ssh-dss [preauth]",
                tag,
            )
            ob, rb, svc = 1046, 1120, "ssh"
        else:  # "closed": key exchange done, no authentication tried
            t += self.jitter(0.5, 3.0)
            self.sys(hostname, t, "sshd", proc, f"Connection closed by {ip} port {port} [preauth]", tag)
            ob, rb, svc = 1350, 1890, "ssh"
        if host.public_ip and not is_local(ip):
            return self.conn(
                t0,
                ip,
                port,
                host.public_ip,
                22,
                "tcp",
                svc,
                t - t0 + self.jitter(0.001, 0.02),
                ob,
                rb,
                "SF",
                "ShAdDaFf" if svc else "ShAFf",
                tag=tag,
            )
        return None

    def ssh_login(
        self,
        hostname: str,
        t: int,
        ip: str,
        user: str,
        method: str,
        dur: int,
        tag: str | None,
        key: str | None = None,
        fails: int = 0,
        interactive: bool = True,
        sudo=(),
        client: str = "OpenSSH_9.6p1",
        failed_key: str | None = None,
        eve: bool | None = None,
        conn_bytes: tuple | None = None,
    ) -> int:
        """A successful login and its session. ``sudo`` holds (offset_us, msg_lines...) tuples."""
        host = self.hosts[hostname]
        uid = HOST_USERS[hostname][user]
        port = self.eph_port("linux")
        proc = Proc()
        sess = LoginSession()
        t0 = t
        t = self._sshd_prelude(host, t, ip, port, proc, tag)
        if failed_key and host.verbose:
            t += self.jitter(0.05, 0.3)
            self.sys(
                hostname, t, "sshd", proc, f"Failed publickey for {user} from {ip} port {port} ssh2: {failed_key}", tag
            )
        for i in range(fails):
            t += self.jitter(1.5, 6.0)
            if i == 0:
                self.sys(hostname, t, "sshd", proc, self._pam_fail(ip, user), tag)
            t += self.jitter(2.0, 2.4)
            self.sys(hostname, t, "sshd", proc, f"Failed password for {user} from {ip} port {port} ssh2", tag)
        t += self.jitter(0.1, 0.5) if method == "publickey" else self.jitter(2.0, 7.0)
        accepted = f"Accepted {method} for {user} from {ip} port {port} ssh2"
        if method == "publickey":
            accepted += f": {key}"
        self.sys(hostname, t, "sshd", proc, accepted, tag)
        t += self.jitter(0.005, 0.03)
        self.sys(
            hostname,
            t,
            "sshd",
            proc,
            f"pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)",
            tag,
        )
        t += self.jitter(0.005, 0.03)
        self.sys(hostname, t, "systemd-logind", host.logind_pid, f"New session {{S}} of user {user}.", tag, sess)
        pts = self.rng.randint(0, 3)
        if host.verbose:
            what = f"shell on pts/{pts}" if interactive else "command"
            self.sys(
                hostname,
                t + self.jitter(0.01, 0.1),
                "sshd",
                proc,
                f"Starting session: {what} for {user} from {ip} port {port} id 0",
                tag,
            )
        for off, lines in sudo:
            ts = t + off
            for j, line in enumerate(lines):
                self.sys(hostname, ts + j * self.jitter(0.0, 0.01), "sudo", None, line.replace("{PTS}", str(pts)), tag)
        t_end = t + dur
        if host.verbose:
            self.sys(hostname, t_end, "sshd", proc, f"Close session: user {user} from {ip} port {port} id 0", tag)
        t_end += self.jitter(0.001, 0.02)
        self.sys(
            hostname, t_end, "sshd", proc, f"Received disconnect from {ip} port {port}:11: disconnected by user", tag
        )
        self.sys(hostname, t_end, "sshd", proc, f"Disconnected from user {user} {ip} port {port}", tag)
        self.sys(hostname, t_end, "sshd", proc, f"pam_unix(sshd:session): session closed for user {user}", tag)
        self.sys(
            hostname,
            t_end,
            "systemd-logind",
            host.logind_pid,
            "Session {S} logged out. Waiting for processes to exit.",
            tag,
            sess,
        )
        t_end += self.jitter(0.001, 0.08)
        self.sys(hostname, t_end, "systemd-logind", host.logind_pid, "Removed session {S}.", tag, sess)
        if host.public_ip and not is_local(ip):
            if conn_bytes:
                ob, rb = conn_bytes
            elif interactive:
                ob = self.rng.randint(20_000, 60_000) + int(dur / US) * 30
                rb = self.rng.randint(40_000, 200_000) + int(dur / US) * 60
            else:
                ob = self.rng.randint(3_400, 5_200)
                rb = self.rng.randint(4_100, 7_800)
            c = self.tcp_ok(t0, ip, port, host.public_ip, 22, "ssh", t_end - t0, ob, rb, tag, eve)
            if c.eve:
                self.eve_ssh(t0 + self.jitter(0.05, 0.2), c, client, tag)
        return t_end

    def sudo_lines(
        self,
        user: str,
        uid: int,
        pwd: str,
        command: str,
        runas: str = "root",
        runas_uid: int = 0,
        tty: str = "pts/{PTS}",
    ) -> tuple:
        return (
            f"{user:>8} : TTY={tty} ; PWD={pwd} ; USER={runas} ; COMMAND={command}",
            f"pam_unix(sudo:session): session opened for user {runas}(uid={runas_uid}) by {user}(uid={uid})",
            f"pam_unix(sudo:session): session closed for user {runas}",
        )

    def eve_ssh(self, ts: int, c: Conn, client: str, tag) -> None:
        d = self.eve_base(ts, c, "ssh")
        d["tx_id"] = 0
        d["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 6)
        d["ssh"] = {
            "client": {"proto_version": "2.0", "software_version": client},
            "server": {"proto_version": "2.0", "software_version": "OpenSSH_9.2p1"},
        }
        self.add_eve(ts, d, tag)

    # -- cron ---------------------------------------------------------------------------------

    def cron_job(self, hostname: str, t: int, user: str, uid: int, cmd: str, dur: float) -> None:
        host = self.hosts[hostname]
        proc = Proc()
        t += self.jitter(0.0, 0.9)
        self.sys(
            hostname,
            t,
            "CRON",
            proc,
            f"pam_unix(cron:session): session opened for user {user}(uid={uid}) by (uid=0)",
            None,
        )
        if host.cron_cmd_lines:
            self.sys(hostname, t + self.jitter(0.001, 0.01), "CRON", proc, f"({user}) CMD ({cmd})", None)
        self.sys(
            hostname, t + int(dur * US), "CRON", proc, f"pam_unix(cron:session): session closed for user {user}", None
        )

    def gen_cron(self) -> None:
        hourly = "   cd / && run-parts --report /etc/cron.hourly"
        daily = "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }"
        phpclean = (
            "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi"
        )
        first_hour = WINDOW_START - WINDOW_START % HOUR
        for hostname in ("bastion", "web1", "db1"):
            off = self.hosts[hostname].tz_offset_min * MINUTE
            t = first_hour
            while t < WINDOW_END:
                # cron runs in the host's local time; /etc/crontab: 17 * * * *, 25 6 * * *
                local_hour = ((t + off) // HOUR) % 24
                run = t + 17 * MINUTE
                if WINDOW_START <= run < WINDOW_END:
                    self.cron_job(hostname, run, "root", 0, hourly, self.rng.uniform(0.01, 0.08))
                if local_hour == 6:
                    run = t + 25 * MINUTE
                    if WINDOW_START <= run < WINDOW_END:
                        self.cron_job(hostname, run, "root", 0, daily, self.rng.uniform(2.0, 40.0))
                if hostname == "web1":
                    for m in (9, 39):
                        run = t + m * MINUTE
                        if WINDOW_START <= run < WINDOW_END:
                            self.cron_job(hostname, run, "root", 0, phpclean, self.rng.uniform(0.02, 0.3))
                if hostname == "db1" and local_hour == 2:
                    run = t + 30 * MINUTE
                    if WINDOW_START <= run < WINDOW_END:
                        self.cron_job(
                            hostname,
                            run,
                            "postgres",
                            104,
                            "/usr/local/bin/pg_backup.sh >> /var/log/postgresql/pg_backup.log 2>&1",
                            self.rng.uniform(60.0, 200.0),
                        )
                t += HOUR

    # -- benign: admins -----------------------------------------------------------------------

    def gen_admins(self) -> None:
        tag = "B1"
        rng = self.rng
        day0 = WINDOW_START - WINDOW_START % DAY
        for d in range(8):
            day = day0 + d * DAY
            weekday = time.gmtime(day // US).tm_wday  # 0 = Monday
            workday = weekday < 5
            # alice: bastion every workday from the office, jumps to db1, fixes things on web1.
            if workday:
                t = day + 8 * HOUR + self.jitter(10 * 60, 80 * 60)
                dur = self.jitter(2.5 * 3600, 6.5 * 3600)
                if WINDOW_START <= t and t + dur < WINDOW_END:
                    sudo = ()
                    if d in (3, 6):
                        sudo = (
                            (
                                self.jitter(300, 900),
                                self.sudo_lines("alice", 1000, "/home/alice", "/usr/bin/apt update"),
                            ),
                            (
                                self.jitter(1000, 1500),
                                self.sudo_lines("alice", 1000, "/home/alice", "/usr/bin/apt upgrade -y"),
                            ),
                        )
                    self.ssh_login("bastion", t, OFFICE_ALICE, "alice", "publickey", dur, tag, KEYS["alice"], sudo=sudo)
                    self.note_ip(tag, OFFICE_ALICE)
                    # ProxyJump hops to db1 (db1 sees the bastion's internal address)
                    for _ in range(rng.randint(1, 2)):
                        tj = t + self.jitter(600, max(700, dur / US - 3600))
                        sudo_db = (
                            (
                                self.jitter(20, 120),
                                self.sudo_lines(
                                    "alice", 1000, "/home/alice", "/usr/bin/psql", runas="postgres", runas_uid=104
                                ),
                            ),
                        )
                        self.ssh_login(
                            "db1",
                            tj,
                            BASTION_INT,
                            "alice",
                            "publickey",
                            self.jitter(300, 2400),
                            tag,
                            KEYS["alice"],
                            sudo=sudo_db,
                        )
                # alice on web1
                t = day + 10 * HOUR + self.jitter(0, 5 * 3600)
                if WINDOW_START <= t < WINDOW_END - 2 * HOUR:
                    cmd = rng.choice(
                        (
                            "/usr/bin/systemctl restart nginx",
                            "/usr/bin/systemctl reload nginx",
                            "/usr/bin/tail -n 200 /var/log/nginx/error.log",
                        )
                    )
                    sudo = ((self.jitter(30, 200), self.sudo_lines("alice", 1000, "/home/alice", cmd)),)
                    self.ssh_login(
                        "web1",
                        t,
                        OFFICE_ALICE,
                        "alice",
                        "publickey",
                        self.jitter(600, 3000),
                        tag,
                        KEYS["alice"],
                        sudo=sudo,
                    )
                # carol: developer, password login on web1 from the office
                if rng.random() < 0.8:
                    t = day + 13 * HOUR + self.jitter(0, 4 * 3600)
                    if WINDOW_START <= t < WINDOW_END - 2 * HOUR:
                        self.ssh_login("web1", t, OFFICE_CAROL, "carol", "password", self.jitter(900, 4000), tag)
                        self.note_ip(tag, OFFICE_CAROL)
            # bob: office on workdays, from home at the weekend (on call)
            ip = OFFICE_BOB if workday else HOME_BOB
            t = day + (9 * HOUR if workday else 10 * HOUR) + self.jitter(0, 3 * 3600)
            dur = self.jitter(1800, 4 * 3600)
            if WINDOW_START <= t and t + dur < WINDOW_END:
                fails = 0
                failed_key = None
                if weekday == 6:  # Sunday: new laptop, key not yet authorised, one password typo
                    c_t = t
                    port = self.eph_port("linux")
                    proc = Proc()
                    c_t = self._sshd_prelude(self.hosts["bastion"], c_t, ip, port, proc, tag)
                    self.sys(
                        "bastion",
                        c_t + self.jitter(0.05, 0.2),
                        "sshd",
                        proc,
                        f"Failed publickey for bob from {ip} port {port} ssh2: {KEYS['bob-laptop']}",
                        tag,
                    )
                    c_t += self.jitter(3.0, 6.0)
                    self.sys("bastion", c_t, "sshd", proc, self._pam_fail(ip, "bob"), tag)
                    c_t += self.jitter(2.0, 2.3)
                    self.sys("bastion", c_t, "sshd", proc, f"Failed password for bob from {ip} port {port} ssh2", tag)
                    c_t += self.jitter(4.0, 9.0)
                    self.sys(
                        "bastion",
                        c_t,
                        "sshd",
                        proc,
                        f"Connection closed by authenticating user bob {ip} port {port} [preauth]",
                        tag,
                    )
                    self.tcp_ok(t, ip, port, BASTION_PUB, 22, "ssh", c_t - t, 2890, 3321, tag)
                    t = c_t + self.jitter(40, 120)  # ssh-add the right key, try again
                self.ssh_login(
                    "bastion", t, ip, "bob", "publickey", dur, tag, KEYS["bob"], fails=fails, failed_key=failed_key
                )
                self.note_ip(tag, ip)
                self.note_ip(tag, BASTION_INT)  # db1 sees the admins' ProxyJump hops from the bastion
                if rng.random() < 0.6:
                    tj = t + self.jitter(300, max(400, dur / US - 600))
                    self.ssh_login("db1", tj, BASTION_INT, "bob", "publickey", self.jitter(120, 1500), tag, KEYS["bob"])

    # -- benign: CI deploy key ----------------------------------------------------------------

    def gen_ci(self) -> None:
        tag = "B2"
        self.note_ip(tag, CI_RUNNER)
        t = WINDOW_START - WINDOW_START % (10 * MINUTE)
        while t < WINDOW_END - 5 * MINUTE:
            start = t + self.jitter(8, 35)  # queue delay of the scheduled pipeline
            if start >= WINDOW_START:
                self.ssh_login(
                    "web1",
                    start,
                    CI_RUNNER,
                    "deploy",
                    "publickey",
                    self.jitter(3, 11),
                    tag,
                    KEYS["deploy-ci"],
                    interactive=False,
                    client="OpenSSH_9.2p1",
                    eve=self.rng.random() < 0.03,
                )
            t += 10 * MINUTE

    # -- benign: background internet noise ------------------------------------------------------

    def gen_background(self) -> None:
        tag = "B5"
        rng = self.rng
        n = round(150 * self.sc.noise)
        common = tuple(
            """
            root root root admin ubuntu test user oracle postgres git pi ftpuser guest support debian centos
            test1 usuario hadoop nagios es steam ts3 minecraft server dev www alex ansible sa
            """.split()
        )
        for _ in range(n):
            ip = self.random_public_ip()
            self.note_ip(tag, ip)
            hostname = "bastion" if rng.random() < 0.65 else "web1"
            t = WINDOW_START + self.jitter(60, (WINDOW_END - WINDOW_START) / US - 900)
            k = rng.choice((1, 1, 2, 2, 3))
            if rng.random() < 0.2:  # some first grab the banner or probe the key exchange
                self.ssh_preauth(hostname, t, ip, rng.choice(("kex", "banner", "closed", "negotiate")), tag)
                t += self.jitter(2, 120)
            client = rng.choice(("libssh_0.9.6", "libssh2_1.4.3", "Go", "PUTTY"))
            for _j in range(k):
                user = rng.choice(common)
                end = rng.choice(("bye", "bye", "closed"))
                t_end, c = self.ssh_failed(hostname, t, ip, user, 1, end, tag, client=client)
                if c is not None and rng.random() < 0.12:
                    sig = rng.choice(("dshield", "compromised", "cins"))  # reputation lists; scan rules need a burst
                    self.eve_alert(c.ts + self.jitter(0.001, 0.05), c, sig, tag)
                t = t_end + self.jitter(5, 400)

    # -- benign: web traffic ------------------------------------------------------------------

    PAGES = (
        ("/", 18_432),
        ("/products", 24_110),
        ("/products/vedette-sensor", 21_876),
        ("/products/vedette-cloud", 20_934),
        ("/pricing", 15_233),
        ("/about", 9_876),
        ("/contact", 7_421),
        ("/blog", 16_502),
        ("/blog/2026/11/rotating-logs-without-tears", 31_205),
        ("/blog/2026/10/what-sshd-tells-you", 28_119),
        ("/blog/2026/09/zeek-conn-states-explained", 33_604),
        ("/docs", 12_980),
        ("/docs/install", 19_455),
        ("/docs/faq", 22_310),
        ("/careers", 8_765),
    )
    ASSETS = (
        ("/static/css/app.4f3c2a.css", 48_211),
        ("/static/js/app.9b1e07.js", 142_377),
        ("/static/js/vendor.1c2d3e.js", 288_930),
        ("/static/img/logo.svg", 3_411),
        ("/static/img/hero.webp", 96_540),
        ("/static/fonts/inter-var.woff2", 71_220),
        ("/favicon.ico", 4_286),
    )
    BROWSERS = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
        "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0",
    )
    REFERERS = (
        "-",
        "-",
        "-",
        "https://www.google.com/",
        "https://www.google.com/",
        "https://www.bing.com/",
        "https://duckduckgo.com/",
        "https://www.linkedin.com/",
        "https://news.ycombinator.com/",
    )

    def access(
        self,
        ts: int,
        ip: str,
        method: str,
        path: str,
        proto: str,
        status: int,
        size: int,
        ref: str,
        ua: str,
        tag: str | None,
    ) -> None:
        line = f'{ip} - - [{fmt_nginx(ts)}] "{method} {path} {proto}" {status} {size} "{ref}" "{ua}"'
        self.web.append(WebRec(ts, self.seq(), line, tag))

    def access_raw(self, ts: int, ip: str, request: str, status: int, size: int, ref: str, ua: str, tag) -> None:
        line = f'{ip} - - [{fmt_nginx(ts)}] "{request}" {status} {size} "{ref}" "{ua}"'
        self.web.append(WebRec(ts, self.seq(), line, tag))

    def gen_visitors(self) -> None:
        rng = self.rng
        hour_weight = (2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 11, 11, 10, 9, 8, 7, 7, 6, 5, 4, 3)
        total_w = sum(hour_weight)
        per_day = 60 * self.sc.browse
        returning: list[tuple[str, str]] = []
        t_hour = WINDOW_START
        while t_hour < WINDOW_END - 10 * MINUTE:
            h = time.gmtime(t_hour // US).tm_hour
            expected = per_day * hour_weight[h] / total_w
            n = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
            for _ in range(n):
                if returning and rng.random() < 0.2:
                    ip, ua = rng.choice(returning)
                else:
                    ip, ua = self.random_public_ip(), rng.choice(self.BROWSERS)
                    if len(returning) < 200:
                        returning.append((ip, ua))
                self.visit(t_hour + self.jitter(0, 3599), ip, ua)
            t_hour += HOUR

    def visit(self, t: int, ip: str, ua: str) -> None:
        rng = self.rng
        proto = "HTTP/2.0"
        ref = rng.choice(self.REFERERS)
        pages = [rng.choice(self.PAGES)]
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 4))):
            pages.append(rng.choice(self.PAGES))
        cached = rng.random() < 0.25
        conn_start = t
        conn_bytes = 0
        last = t
        for i, (path, size) in enumerate(pages):
            if i:
                gap = self.jitter(4, 50) if rng.random() < 0.8 else self.jitter(66, 300)
                t = last + gap
                if gap > 65 * US:  # past nginx keepalive_timeout: the browser opens a new connection
                    self.web_conn(conn_start, ip, last + self.jitter(1, 3) - conn_start, conn_bytes, None)
                    conn_start = t
                    conn_bytes = 0
            status = 200
            if rng.random() < 0.02:
                path, size, status = path + "-old", 3_712, 404
            body = size + rng.randint(-300, 300) if status == 200 else size
            self.access(t, ip, "GET", path, proto, status, body, ref, ua, None)
            conn_bytes += body
            last = t
            page_url = f"https://{SITE}{path}"
            if i == 0:
                for apath, asize in self.ASSETS:
                    ta = t + self.jitter(0.05, 0.9)
                    last = max(last, ta)
                    if cached and apath != "/favicon.ico":
                        self.access(ta, ip, "GET", apath, proto, 304, 0, page_url, ua, None)
                    else:
                        self.access(ta, ip, "GET", apath, proto, 200, asize, page_url, ua, None)
                        conn_bytes += asize
            if path == "/products" and rng.random() < 0.3:
                tq = t + self.jitter(1, 4)
                last = max(last, tq)
                self.access(tq, ip, "GET", "/api/v1/cart", proto, 200, rng.randint(90, 600), page_url, ua, None)
            ref = page_url
        self.web_conn(conn_start, ip, last + self.jitter(1, 65) - conn_start, max(conn_bytes, 1200), None)

    def web_conn(
        self, ts: int, ip: str, dur: int, rb: int, tag, port: int = 443, service: str = "ssl", eve=None
    ) -> Conn:
        ob = self.rng.randint(900, 2400) + rb // 40
        c = self.tcp_ok(
            ts, ip, self.eph_port("windows"), WEB1_PUB, port, service, max(dur, 1000), ob, rb + 4_800, tag, eve
        )
        if c.eve and service == "ssl":
            self.eve_tls(
                ts + self.jitter(0.02, 0.2), c, SITE, "CN=www.example.com", "C=US, O=Let's Encrypt, CN=R11", tag
            )
        return c

    def eve_tls(self, ts: int, c: Conn, sni: str, subject: str, issuer: str, tag, ja3: str | None = None) -> None:
        d = self.eve_base(ts, c, "tls")
        d["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 6)
        fp = hashlib.sha1(f"{subject}|{issuer}".encode()).hexdigest()
        serial = hashlib.md5(subject.encode()).hexdigest().upper()[:32]
        tls = {
            "subject": subject,
            "issuerdn": issuer,
            "serial": ":".join(serial[i : i + 2] for i in range(0, len(serial), 2)),
            "fingerprint": ":".join(fp[i : i + 2] for i in range(0, 40, 2)),
            "sni": sni,
            "version": "TLS 1.2" if ja3 else "TLS 1.3",
            "notbefore": "2026-10-02T11:20:31",
            "notafter": "2026-12-31T11:20:30",
        }
        if ja3:
            tls["notbefore"] = "2026-11-16T22:41:09"
            tls["notafter"] = "2027-11-16T22:41:09"
            tls["ja3"] = {"hash": hashlib.md5(ja3.encode()).hexdigest(), "string": ja3}
        elif c.orig != WEB1_PUB and c.resp != WEB1_PUB:
            tls["notbefore"] = "2026-10-20T08:14:02"
            tls["notafter"] = "2027-01-12T08:14:01"
        d["tls"] = tls
        self.add_eve(ts, d, tag)

    def gen_monitoring(self) -> None:
        tag = "B3"
        self.note_ip(tag, MONITOR_IP)
        t = WINDOW_START + self.jitter(0.0, 15.0)
        while t < WINDOW_END:
            self.access(t, MONITOR_IP, "GET", "/healthz", "HTTP/1.1", 200, 2, "-", "Blackbox Exporter/0.25.0", tag)
            t += 15 * SECOND + self.jitter(-0.004, 0.006)

    def gen_crawlers(self) -> None:
        tag = "B4"
        rng = self.rng
        google_ua = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        google_smart = (
            "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/142.0.7444.59 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        )
        bing_ua = (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) "
            "Chrome/116.0.1938.76 Safari/537.36"
        )
        extra = (("/robots.txt", 412), ("/sitemap.xml", 6_211), ("/blog/feed.xml", 18_774))
        gone = ("/blog/2024/03/old-announcement", "/products/legacy-agent", "/docs/v1/install")
        for bot, ips, uas, per_day in (
            ("google", GOOGLEBOT, (google_ua, google_smart), 9),
            ("bing", BINGBOT, (bing_ua,), 6),
        ):
            for ip in ips:
                self.note_ip(tag, ip)
            n_bursts = int(per_day * 7)
            for _ in range(n_bursts):
                t = WINDOW_START + self.jitter(0, (WINDOW_END - WINDOW_START) / US - 600)
                ip = rng.choice(ips)
                ua = rng.choice(uas)
                proto = "HTTP/1.1" if bot == "bing" else rng.choice(("HTTP/1.1", "HTTP/2.0"))
                start = t
                total = 0
                if rng.random() < 0.35:
                    path, size = rng.choice(extra)
                    self.access(t, ip, "GET", path, proto, 200, size, "-", ua, tag)
                    total += size
                    t += self.jitter(0.5, 4)
                for _k in range(rng.randint(2, 9)):
                    r = rng.random()
                    if r < 0.06:
                        self.access(t, ip, "GET", rng.choice(gone), proto, 404, 3_712, "-", ua, tag)
                    elif r < 0.1:
                        self.access(t, ip, "GET", "/docs/", proto, 301, 162, "-", ua, tag)
                    else:
                        path, size = rng.choice(self.PAGES + self.ASSETS[:2])
                        self.access(t, ip, "GET", path, proto, 200, size + rng.randint(-200, 200), "-", ua, tag)
                        total += size
                    t += self.jitter(1, 20)
                self.web_conn(start, ip, t - start + self.jitter(1, 10), total, tag, eve=rng.random() < 0.1)

    # -- benign: internal outbound traffic ---------------------------------------------------

    def gen_outbound(self) -> None:
        rng = self.rng
        day0 = WINDOW_START - WINDOW_START % DAY
        per_day = 70 * self.sc.browse
        for d in range(8):
            day = day0 + d * DAY
            workday = time.gmtime(day // US).tm_wday < 5
            n = int(per_day * (1.0 if workday else 0.15))
            for _ in range(n):
                t = day + 7 * HOUR + self.jitter(0, 11 * 3600)
                if not (WINDOW_START <= t < WINDOW_END - MINUTE):
                    continue
                src = rng.choice(WORKSTATIONS)
                dst, port, svc = rng.choice(OUTBOUND_DESTS)
                dur = self.jitter(0.2, 240)
                c = self.tcp_ok(
                    t,
                    src,
                    self.eph_port("windows"),
                    dst,
                    port,
                    svc,
                    dur,
                    rng.randint(900, 30_000),
                    rng.randint(3_000, 900_000),
                    None,
                    rng.random() < 0.05,
                )
                if c.eve:
                    self.eve_tls(
                        t + self.jitter(0.01, 0.1),
                        c,
                        OUTBOUND_SNI[dst],
                        f"CN={OUTBOUND_SNI[dst]}",
                        "C=US, O=Google Trust Services, CN=WR2"
                        if dst.startswith(("142.", "172."))
                        else "C=US, O=DigiCert Inc, CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1",
                        None,
                    )
            # the resolver forwards lookups upstream
            for _ in range(int(per_day * 0.6)):
                t = day + self.jitter(0, 86_399)
                if not (WINDOW_START <= t < WINDOW_END - MINUTE):
                    continue
                name = OUTBOUND_SNI[rng.choice(OUTBOUND_DESTS)[0]]
                self.dns(t, name, rng.choice(OUTBOUND_DESTS)[0], None, eve=rng.random() < 0.08)
            # apt on the servers, once a day (unattended-upgrades timer)
            for src in (BASTION_INT, WEB1_INT, DB1_INT):
                t = day + 6 * HOUR + self.jitter(0, 3600)
                if not (WINDOW_START <= t < WINDOW_END - MINUTE):
                    continue
                for mirror, host, path in (
                    (DEBIAN_MIRROR[0], "deb.debian.org", "/debian/dists/bookworm-updates/InRelease"),
                    (DEBIAN_MIRROR[1], "security.debian.org", "/debian-security/dists/bookworm-security/InRelease"),
                ):
                    c = self.tcp_ok(
                        t, src, self.eph_port(), mirror, 80, "http", self.jitter(0.05, 0.4), 412, 1_512, None, True
                    )
                    self.eve_http(
                        t + self.jitter(0.01, 0.05),
                        c,
                        host,
                        path,
                        "Debian APT-HTTP/1.3 (2.6.1)",
                        "GET",
                        304,
                        0,
                        None,
                        content_type=None,
                    )
                    t += self.jitter(0.2, 1.0)

    def dns(self, t: int, name: str, answer: str, tag, eve: bool = False) -> None:
        rng = self.rng
        up = rng.choice(UPSTREAM_DNS)
        port = self.eph_port()
        qlen = 17 + len(name) + 11
        c = self.conn(
            t,
            RESOLVER,
            port,
            up,
            53,
            "udp",
            "dns",
            self.jitter(0.004, 0.03),
            qlen,
            qlen + 16 * rng.randint(1, 3),
            tag=tag,
            eve=eve,
        )
        if eve:
            txid = rng.randint(1, 65535)
            q = self.eve_base(t, c, "dns")
            q["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 17)
            q["dns"] = {"type": "query", "id": txid, "rrname": name, "rrtype": "A", "tx_id": 0, "opcode": 0}
            self.add_eve(t, q, tag)
            ta = t + c.duration
            a = self.eve_base(ta, c, "dns")  # Suricata keeps the flow's direction on answers
            a["community_id"] = q["community_id"]
            ttl = rng.choice((60, 300, 3600))
            a["dns"] = {
                "version": 2,
                "type": "answer",
                "id": txid,
                "flags": "8180",
                "qr": True,
                "rd": True,
                "ra": True,
                "opcode": 0,
                "rrname": name,
                "rrtype": "A",
                "rcode": "NOERROR",
                "answers": [{"rrname": name, "rrtype": "A", "ttl": ttl, "rdata": answer}],
                "grouped": {"A": [answer]},
            }
            self.add_eve(ta, a, tag)

    def eve_http(
        self,
        ts: int,
        c: Conn,
        hostname: str,
        url: str,
        ua: str,
        method: str,
        status: int | None,
        length: int,
        tag,
        content_type: str | None = "text/html",
        tx_id: int = 0,
    ) -> dict:
        d = self.eve_base(ts, c, "http")
        d["tx_id"] = tx_id
        d["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 6)
        http = {"hostname": hostname, "url": url, "http_user_agent": ua}
        if content_type:
            http["http_content_type"] = content_type
        http["http_method"] = method
        http["protocol"] = "HTTP/1.1"
        if status is not None:
            http["status"] = status
        http["length"] = length
        d["http"] = http
        self.add_eve(ts, d, tag)
        return http

    # -- attacks ------------------------------------------------------------------------------

    def attack_truth(
        self, aid: str, category: str, severity: str, techniques: list, users: list, hosts: list, description: str
    ) -> None:
        self.truth_attacks.append(
            {
                "id": aid,
                "category": category,
                "severity": severity,
                "techniques": techniques,
                "users": users,
                "hosts": hosts,
                "description": description,
            }
        )

    def gen_a1_bruteforce(self, start: int) -> None:
        tag = "A1"
        rng = self.rng
        ip = self.ip_in_24(self.new_24(HOSTING_16S))
        self.note_ip(tag, ip)
        self.note_dst(tag, BASTION_PUB)
        t = start
        end = start + 2 * HOUR
        failures = 0
        first = None
        while t < end:
            burst = rng.randint(4, 6)
            conns = []
            for b in range(burst):
                tb = t + self.jitter(0, 40) + b * self.jitter(1, 6)
                k = rng.choice((3, 4, 5, 6, 6, 6))
                endkind = "maxtries" if k == 6 else rng.choice(("bye", "closed"))
                _, c = self.ssh_failed(
                    "bastion", tb, ip, "root", k, endkind, tag, client="libssh_0.9.6", eve=rng.random() < 0.12
                )
                failures += k
                conns.append(c)
                if first is None or c.ts < first.ts:
                    first = c
            if burst >= 5:
                self.eve_alert(conns[4].ts + self.jitter(0.0005, 0.002), conns[4], "ssh_scan", tag)
            if rng.random() < 0.3:
                c = conns[-1]
                self.eve_alert(
                    c.ts + self.jitter(0.3, 1.0),
                    c,
                    "libssh",
                    tag,
                    app_proto="ssh",
                    extra={
                        "ssh": {
                            "client": {"proto_version": "2.0", "software_version": "libssh_0.9.6"},
                            "server": {"proto_version": "2.0", "software_version": "OpenSSH_9.2p1"},
                        }
                    },
                )
            t += self.jitter(150, 330)
        self.eve_alert(first.ts + self.jitter(0.0005, 0.002), first, "dshield", tag)
        self.attack_truth(
            tag,
            "brute_force",
            "high",
            ["T1110.001"],
            ["root"],
            ["bastion"],
            f"Single-source SSH brute force on root at the bastion: {failures} failed passwords over two hours "
            f"in bursts of parallel libssh connections, no success.",
        )

    def gen_a2_spraying(self, start: int) -> None:
        tag = "A2"
        rng = self.rng
        ip = self.ip_in_24(self.new_24(HOSTING_16S))
        self.note_ip(tag, ip)
        self.note_dst(tag, WEB1_PUB)
        users = """
            admin administrator user test guest ubuntu debian oracle postgres mysql git jenkins deploy alice
            carol support info webmaster www ftp ftpuser backup operator dev developer staging sysadmin nagios
            zabbix ansible docker tomcat hadoop minecraft student demo sales marketing hr office
        """.split()
        twice = set(rng.sample(users, 10))
        order = users + [u for u in users if u in twice]
        t = start
        for u in order:
            t, _c = self.ssh_failed(
                "web1", t, ip, u, 1, rng.choice(("bye", "bye", "closed")), tag, client="Go", eve=rng.random() < 0.25
            )
            t += self.jitter(60, 120)
        self.attack_truth(
            tag,
            "password_spraying",
            "medium",
            ["T1110.003"],
            users,
            ["web1"],
            f"Password spraying from one source against web1: {len(users)} different usernames, "
            f"{len(order)} attempts in total (one password each, some twice), about one every 1.5 minutes.",
        )

    def gen_a3_stuffing(self, start: int) -> None:
        tag = "A3"
        rng = self.rng
        accounts = ["root", "admin", "ubuntu", "deploy", "oracle"]
        nets = [self.new_24(BOTNET_16S) for _ in range(4)]
        ips = []
        for net in nets:
            for _ in range(15):
                ips.append(self.ip_in_24(net))
        attempts = 0
        self.note_dst(tag, BASTION_PUB)
        for ip in ips:
            self.note_ip(tag, ip)
            client = rng.choice(("Go", "libssh2_1.4.3", "libssh_0.9.6"))
            for _ in range(rng.randint(2, 5)):
                t = start + self.jitter(0, 6 * 3600 - 60)
                _, c = self.ssh_failed(
                    "bastion",
                    t,
                    ip,
                    rng.choice(accounts),
                    1,
                    rng.choice(("bye", "closed", "reset")),
                    tag,
                    client=client,
                    eve=rng.random() < 0.1,
                )
                attempts += 1
                if c is not None and rng.random() < 0.04:
                    self.eve_alert(c.ts + self.jitter(0.001, 0.01), c, "compromised", tag)
        self.attack_truth(
            tag,
            "credential_stuffing",
            "medium",
            ["T1110.004"],
            accounts,
            ["bastion"],
            f"Distributed credential stuffing: {len(ips)} botnet addresses in {len(nets)} /24 networks "
            f"({', '.join(n + '.0/24' for n in nets)}) each try the same five accounts a few times, "
            f"{attempts} attempts over six hours, one attempt per connection, no success.",
        )

    def gen_a4_compromise(self, start: int) -> None:
        tag = "A4"
        rng = self.rng
        ip = self.ip_in_24(rng.choice(TOR_24S))
        self.reserved_24s.add(ip.rsplit(".", 1)[0])
        self.note_ip(tag, ip)
        self.note_dst(tag, WEB1_PUB)
        t = start
        t, c = self.ssh_failed("web1", t, ip, "admin", 3, "closed", tag, client="libssh_0.9.6", eve=True)
        self.eve_alert(c.ts + self.jitter(0.001, 0.01), c, "tor", tag)
        t += self.jitter(20, 50)
        t, _ = self.ssh_failed("web1", t, ip, "deploy", 3, "closed", tag, client="libssh_0.9.6", eve=True)
        t += self.jitter(15, 40)
        t, _ = self.ssh_failed("web1", t, ip, "admin", 2, "bye", tag, client="libssh_0.9.6")
        t += self.jitter(30, 70)
        # the guess that works: two more misses in the same connection, then in
        sudo = (
            (
                self.jitter(95, 140),
                ("  deploy : command not allowed ; TTY=pts/{PTS} ; PWD=/home/deploy ; USER=root ; COMMAND=/bin/bash",),
            ),
            (
                self.jitter(170, 230),
                (
                    "  deploy : command not allowed ; TTY=pts/{PTS} ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow",
                ),
            ),
            (
                self.jitter(400, 700),
                self.sudo_lines("deploy", 1001, "/var/www/app", "/usr/bin/systemctl reload php8.2-fpm"),
            ),
        )
        t = self.ssh_login(
            "web1",
            t,
            ip,
            "deploy",
            "password",
            self.jitter(1700, 2100),
            tag,
            fails=2,
            sudo=sudo,
            client="OpenSSH_9.6p1",
            eve=True,
            conn_bytes=(188_411, 2_917_533),
        )
        # back two hours later, straight in
        t2 = t + self.jitter(2 * 3600, 2.5 * 3600)
        self.ssh_login(
            "web1",
            t2,
            ip,
            "deploy",
            "password",
            self.jitter(200, 400),
            tag,
            client="OpenSSH_9.6p1",
            eve=True,
            conn_bytes=(21_884, 60_912),
        )
        self.attack_truth(
            tag,
            "suspicious_login",
            "critical",
            ["T1110.001", "T1078"],
            ["deploy", "admin"],
            ["web1"],
            "Compromise of deploy@web1 from a Tor exit: failed passwords for admin (no such user) and deploy, "
            "then 'Accepted password for deploy' from the same source (the CI uses a key from another "
            "address), a 30-minute session with refused sudo attempts, and a second password login later.",
        )

    def gen_a5_web(self, start: int) -> None:
        tag = "A5"
        rng = self.rng
        ip = self.ip_in_24(self.new_24(HOSTING_16S))
        self.note_ip(tag, ip)
        self.note_dst(tag, WEB1_PUB)
        host = WEB1_PUB
        t = start
        state = {"conn": None, "left": 0, "tx": 0, "alerts": {}}

        def request(ts, method, path, status, size, ua, sigs=(), ctype="text/html"):
            if state["conn"] is None or state["left"] <= 0:
                dur = self.jitter(5, 60)
                state["conn"] = self.conn(
                    ts,
                    ip,
                    self.eph_port(),
                    host,
                    80,
                    "tcp",
                    "http",
                    dur,
                    rng.randint(8_000, 30_000),
                    rng.randint(20_000, 90_000),
                    "SF",
                    "ShADadfF",
                    tag=tag,
                    eve=True,
                )
                state["left"] = rng.randint(6, 14)
                state["tx"] = 0
            c = state["conn"]
            state["left"] -= 1
            self.access(ts, ip, method, path, "HTTP/1.1", status, size, "-", ua, tag)
            self.eve_http(
                ts + self.jitter(0.001, 0.01),
                c,
                host,
                path,
                ua,
                method,
                status,
                size,
                tag,
                content_type=ctype if status != 304 else None,
                tx_id=state["tx"],
            )
            for sig in sigs:
                last = state["alerts"].get(sig, -(10**18))
                if ts - last >= 60 * US:  # threshold: one alert per signature and source per minute
                    state["alerts"][sig] = ts
                    self.eve_alert(
                        ts + self.jitter(0.001, 0.01),
                        c,
                        sig,
                        tag,
                        app_proto="http",
                        extra={
                            "tx_id": state["tx"],
                            "http": {
                                "hostname": host,
                                "url": path,
                                "http_user_agent": ua,
                                "http_method": method,
                                "protocol": "HTTP/1.1",
                                "length": size,
                            },
                        },
                    )
            state["tx"] += 1

        # phase 1: nikto
        nikto_paths = [
            (path, int(status), int(size))
            for path, status, size in (
                line.split()
                for line in """
            / 200 18432
            /robots.txt 200 412
            /admin/ 404 3712
            /administrator/ 404 3712
            /phpmyadmin/ 404 3712
            /phpMyAdmin/ 404 3712
            /pma/ 404 3712
            /.htaccess 403 555
            /.htpasswd 403 555
            /server-status 404 3712
            /cgi-bin/test-cgi 404 3712
            /cgi-bin/printenv 404 3712
            /cgi-bin/php.cgi 404 3712
            /test.php 404 3712
            /info.php 404 3712
            /phpinfo.php 404 3712
            /backup.zip 404 3712
            /backup.tar.gz 404 3712
            /db.sql 404 3712
            /dump.sql 404 3712
            /config.php.bak 404 3712
            /index.php.bak 404 3712
            /wp-config.php 404 3712
            /wp-login.php 404 3712
            /xmlrpc.php 404 3712
            /manager/html 404 3712
            /jmx-console/ 404 3712
            /console/ 404 3712
            /solr/admin/ 404 3712
            /icons/README 404 3712
            /README.md 404 3712
            /CHANGELOG.txt 404 3712
            /install.php 404 3712
            /setup.php 404 3712
            /shell.php 404 3712
            /cmd.php 404 3712
            /upload.php 404 3712
            /uploads/ 404 3712
            /tmp/ 404 3712
            /logs/ 404 3712
            /login.php 404 3712
            /admin.php 404 3712
            /user/login 404 3712
            /.DS_Store 403 555
            /.svn/entries 403 555
            /.hg/ 403 555
            /web.config 404 3712
            /crossdomain.xml 404 3712
            /clientaccesspolicy.xml 404 3712
            /sitemap.xml 200 6211
            /index.php 200 18432
            /index.php?page=../../../../../../etc/passwd 500 568
            /index.php?file=/etc/passwd 500 568
            /cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd 400 157
            /../../etc/passwd 400 157
            /static/..%2f..%2f..%2f..%2fetc%2fpasswd 404 3712
            /?=PHPB8B5F2A0-3C92-11d3-A3A9-4C7B08C10000 200 18432
            /examples/servlets/index.html 404 3712
            /docs/..%5c..%5c..%5cwindows%5cwin.ini 404 3712
            /scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir 400 157
            /iisadmin/ 404 3712
            /_vti_bin/ 404 3712
            /owa/ 404 3712
            /exchange/ 404 3712
            /mailman/listinfo 404 3712
            /awstats/awstats.pl 404 3712
            /webalizer/ 404 3712
            /horde/ 404 3712
            /roundcube/ 404 3712
            /squirrelmail/ 404 3712
            /cacti/ 404 3712
            /nagios/ 404 3712
            /zabbix/ 404 3712
            /jenkins/ 404 3712
            /wp-content/debug.log 404 3712
            /api/v1/users 404 3712
            /graphql 404 3712
            /actuator/env 404 3712
            /debug/default/view 404 3712
            /telescope/requests 404 3712
            /vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php 404 3712
            """.strip().splitlines()
            )
        ]
        for i, (path, status, size) in enumerate(nikto_paths):
            ua = f"Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:{rng.randint(1, 7999):06d})"
            if i < 2:
                ua = "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:Port Check)"
            sigs = ["nikto"]
            if "passwd" in path:
                sigs.append("passwd")
            request(t, "GET", path, status, size, ua, sigs)
            t += self.jitter(0.6, 4.5)
        # phase 2: by hand, with a browser user agent
        t += self.jitter(180, 300)
        ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
        manual = [
            ("GET", "/.env", 403, 555, ["env"]),
            ("GET", "/.git/config", 403, 555, []),
            ("GET", "/.git/HEAD", 403, 555, []),
            ("GET", "/wp-login.php", 404, 3_712, []),
            ("POST", "/wp-login.php", 404, 3_712, []),
            ("GET", "/../../etc/passwd", 400, 157, ["passwd"]),
            ("GET", "/index.php?id=1", 200, 14_388, []),
            ("GET", "/index.php?id=1%27", 500, 568, []),
            ("GET", "/index.php?id=1%27%20OR%201=1--", 500, 568, []),
            ("GET", "/index.php?id=1%20OR%201=1", 200, 61_203, []),
        ]
        for method, path, status, size, sigs in manual:
            request(t, method, path, status, size, ua, sigs)
            t += self.jitter(6, 40)
        # phase 3: sqlmap on the id parameter
        t += self.jitter(120, 240)
        ua = "sqlmap/1.8.11#stable (https://sqlmap.org)"
        payloads = [("1", 200, 14_388), ("1%27", 500, 568), ("1%22", 500, 568), ("1%29%28%27%22%2C%28%28", 500, 568)]
        for _ in range(66):
            r = rng.randint(1000, 9999)
            kind = rng.random()
            if kind < 0.25:
                p = (f"1%20AND%20{r}%3D{r}", 200, 14_388)
            elif kind < 0.4:
                p = (f"1%20AND%20{r}%3D{r + 1}", 200, 3_104)
            elif kind < 0.55:
                p = (f"1%27%20AND%20%27{r}%27%3D%27{r}", 500, 568)
            elif kind < 0.65:
                p = ("1%20AND%20SLEEP%285%29", 200, 14_388)
            elif kind < 0.75:
                p = (f"1%20ORDER%20BY%20{rng.randint(1, 12)}--%20-", rng.choice((200, 500)), rng.choice((14_388, 568)))
            else:
                nulls = "%2C".join(["NULL"] * rng.randint(1, 8))
                p = (f"-{r}%20UNION%20ALL%20SELECT%20{nulls}--%20-", rng.choice((200, 500)), rng.choice((3_104, 568)))
            payloads.append(p)
        for q, status, size in payloads:
            path = f"/index.php?id={q}"
            sigs = ["sqlmap"]
            if "UNION" in q:
                sigs.append("union")
            request(t, "GET", path, status, size, ua, sigs, ctype="text/html; charset=UTF-8")
            t += self.jitter(0.3, 9.0) if "SLEEP" not in q else self.jitter(5.0, 5.4)
        self.attack_truth(
            tag,
            "web_attack",
            "high",
            ["T1190", "T1595.002"],
            [],
            ["web1"],
            f"Web attack on web1 from one source: a Nikto scan, hand-made requests for /.env, /.git/config, "
            f"/wp-login.php and /../../etc/passwd, then sqlmap against /index.php?id= (SQL injection, "
            f"UNION SELECT); {len(nikto_paths) + len(manual) + len(payloads)} requests, mostly 404/403/400/500.",
        )

    def gen_a6_scanner(self, start: int) -> None:
        tag = "A6"
        rng = self.rng
        ip = self.ip_in_24(self.new_24(HOSTING_16S))
        self.note_ip(tag, ip)
        for d in (BASTION_PUB, WEB1_PUB):
            self.note_dst(tag, d)
        t = start
        # ping sweep of the DMZ /26
        for last in range(1, 63):
            dst = f"192.0.2.{last}"
            alive = dst in (BASTION_PUB, WEB1_PUB)
            if alive:
                self.conn(
                    t,
                    ip,
                    8,
                    dst,
                    0,
                    "icmp",
                    None,
                    self.jitter(0.0002, 0.002),
                    0,
                    0,
                    "OTH",
                    "-",
                    1,
                    28,
                    1,
                    28,
                    tag,
                    eve=False,
                )
            else:
                self.conn(t, ip, 8, dst, 0, "icmp", None, None, None, None, "OTH", "-", 1, 28, 0, 0, tag, eve=False)
            t += self.jitter(0.01, 0.08)
        t += self.jitter(2, 6)
        # SYN scan of common ports on the two live hosts, fixed source port like nmap
        top = [
            int(p)
            for p in """
            21 22 23 25 53 80 110 111 135 139 143 443 445 465 587 993 995 1025 1433 1521 1723 2049 2375 3306
            3389 5060 5432 5900 5985 6379 8000 8008 8080 8081 8443 8888 9000 9090 9200 9300 10000 11211 27017
        """.split()
        ]
        top += rng.sample(range(1, 10000), 140)
        top = sorted(set(top))
        sport = rng.randint(40000, 65000)
        scan_end = t + 14 * MINUTE
        probes = []
        for dst in (BASTION_PUB, WEB1_PUB):
            for p in top:
                probes.append((dst, p))
        rng.shuffle(probes)
        step = (scan_end - t) // len(probes)
        last_alert = -(10**18)
        db_alerts = {}
        for dst, p in probes:
            open_port = p in (22, 80, 443)
            if open_port:
                c = self.conn(
                    t,
                    ip,
                    sport,
                    dst,
                    p,
                    "tcp",
                    None,
                    self.jitter(0.0001, 0.0009),
                    0,
                    0,
                    "RSTO",
                    "ShR",
                    2,
                    84,
                    1,
                    44,
                    tag,
                    eve=True,
                )
            elif dst == BASTION_PUB:  # the bastion's firewall drops
                c = self.conn(
                    t,
                    ip,
                    sport,
                    dst,
                    p,
                    "tcp",
                    None,
                    None,
                    None,
                    None,
                    "S0",
                    "S",
                    1,
                    44,
                    0,
                    0,
                    tag,
                    eve=rng.random() < 0.05,
                )
            else:  # web1 answers closed ports with RST
                c = self.conn(
                    t,
                    ip,
                    sport,
                    dst,
                    p,
                    "tcp",
                    None,
                    self.jitter(0.00003, 0.0003),
                    0,
                    0,
                    "REJ",
                    "Sr",
                    1,
                    44,
                    1,
                    40,
                    tag,
                    eve=rng.random() < 0.05,
                )
            if t - last_alert >= 60 * US:
                last_alert = t
                self.eve_alert(t + 50, c, "nmap_ss", tag)
            sig = {3306: "mysql", 5432: "pgsql", 1433: "mssql", 1521: "oracle"}.get(p)
            if sig and (dst, sig) not in db_alerts:
                db_alerts[(dst, sig)] = True
                self.eve_alert(t + 80, c, sig, tag)
            t += step + self.jitter(0, 0.2)
        # version detection on the open ports
        t += self.jitter(20, 60)
        for hostname in ("bastion", "web1"):
            self.ssh_preauth(hostname, t, ip, "banner", tag)
            t += self.jitter(0.5, 3)
            self.ssh_preauth(hostname, t, ip, "kex", tag)
            t += self.jitter(0.5, 3)
            self.ssh_preauth(hostname, t, ip, "negotiate", tag)
            t += self.jitter(2, 8)
        nmap_ua = "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"
        epoch = t // US
        nse = [
            ("GET", "/", 200, 18_432),
            ("GET", f"/nmaplowercheck{epoch}", 404, 3_712),
            ("GET", "/HNAP1", 404, 3_712),
            ("GET", "/evox/about", 404, 3_712),
            ("GET", "/robots.txt", 200, 412),
            ("OPTIONS", "/", 405, 568),
            ("PROPFIND", "/", 405, 568),
            ("GET", f"/NmapUpperCheck{epoch}", 404, 3_712),
            ("GET", f"/Nmap/folder/check{epoch}", 404, 3_712),
            ("GET", "/.git/HEAD", 403, 555),
            ("POST", "/sdk", 404, 3_712),
            ("GET", "/favicon.ico", 200, 4_286),
        ]
        c = self.conn(
            t,
            ip,
            self.eph_port(),
            WEB1_PUB,
            80,
            "tcp",
            "http",
            self.jitter(8, 20),
            4_210,
            39_880,
            "SF",
            "ShADadfF",
            tag=tag,
            eve=True,
        )
        alerted = False
        for i, (method, path, status, size) in enumerate(nse):
            self.access(t, ip, method, path, "HTTP/1.1", status, size, "-", nmap_ua, tag)
            self.eve_http(t + 500, c, WEB1_PUB, path, nmap_ua, method, status, size, tag, tx_id=i)
            if not alerted:
                alerted = True
                self.eve_alert(t + 700, c, "nmap_ua", tag, app_proto="http", extra={"tx_id": i})
            t += self.jitter(0.05, 1.2)
        # TLS hello sent to the plain HTTP port (nginx logs the bytes it got)
        for _ in range(2):
            c = self.conn(
                t,
                ip,
                self.eph_port(),
                WEB1_PUB,
                80,
                "tcp",
                None,
                self.jitter(0.01, 0.05),
                517,
                157,
                "SF",
                "ShADadFf",
                tag=tag,
                eve=True,
            )
            self.access_raw(
                t, ip, "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03\\xA7\\x1B", 400, 157, "-", "-", tag
            )
            a = self.eve_base(t + 2000, c, "anomaly")
            a["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 6)
            a["anomaly"] = {
                "app_proto": "http",
                "type": "applayer",
                "event": "APPLAYER_MISMATCH_PROTOCOL_BOTH_DIRECTIONS",
                "layer": "proto_detect",
            }
            self.add_eve(t + 2000, a, tag)
            t += self.jitter(0.5, 2)
        # path sweep with zgrab
        t += self.jitter(60, 180)
        zgrab = "Mozilla/5.0 zgrab/0.x"
        sweep = r"""
            / /admin /login /manager/html /console /actuator/health /actuator/env /api /api/v1 /api/v2/config
            /v2/_catalog /solr/admin/info/system /geoserver/web/ /remote/login /global-protect/login.esp
            /dana-na/auth/url_default/welcome.cgi /owa/auth/logon.aspx
            /ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application
            /boaform/admin/formLogin /cgi-bin/luci /HNAP1/ /sdk /druid/index.html /nacos/ /jenkins/login
            /phpmyadmin/index.php /pma/index.php /adminer.php /.env /.env.production /.aws/credentials
            /.git/config /.svn/wc.db /.DS_Store /server-status /server-info /config.json /config.yaml
            /docker-compose.yml /.vscode/sftp.json /telescope/requests /_profiler/phpinfo /info.php
            /wp-json/wp/v2/users /wp-admin/setup-config.php /xmlrpc.php
            /vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php
            /index.php?s=/Index/\x5Cthink\x5Capp/invokefunction&function=call_user_func_array&vars[0]=md5&vars[1][]=HelloThinkPHP21
            /cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh /hudson /jmx-console/ /invoker/readonly /struts2-showcase/
            /WebInterface/ /autodiscover/autodiscover.xml /mgmt/tm/sys /api/jsonws/invoke
            /Telerik.Web.UI.WebResource.axd /owncloud/status.php /nextcloud/status.php /status.php /webui/ /ui/
            /portal/ /login.action /user/login /users/sign_in /app/kibana /_cat/indices /_all/_search /metrics
            /prometheus /debug/pprof/ /swagger-ui.html /swagger/index.html /openapi.json /v3/api-docs /graphql
            /graphiql /api/graphql /storage/logs/laravel.log /laravel/.env /app/.env /backend/.env /public/.env
            /config/database.yml /wp-config.php.bak /config.php.bak /backup.sql /db.sql.gz /site.tar.gz /www.zip
            /latest.zip /id_rsa /.ssh/id_rsa /.bash_history /etc/passwd /cgi-bin/test.cgi /cgi-bin/status /shell
            /cmd /setup.cgi /tmUnblock.cgi /GponForm/diag_Form?images/ /picsdesc.xml /stssys.htm
            /language/Swedish${IFS}&&echo${IFS}1>test&&tar${IFS}/string.js /robots.txt /sitemap.xml /favicon.ico
        """.split()
        sweep_statuses = {
            "/": (200, 18_432),
            "/admin": (301, 162),
            "/login": (200, 8_811),
            "/robots.txt": (200, 412),
            "/sitemap.xml": (200, 6_211),
            "/favicon.ico": (200, 4_286),
        }
        alert_times = {}
        for path in sweep:
            status, size = sweep_statuses.get(path, (403, 555) if "/." in path else (404, 3_712))
            if path == "/etc/passwd":
                status, size = 404, 3_712
            c = self.conn(
                t,
                ip,
                self.eph_port(),
                WEB1_PUB,
                80,
                "tcp",
                "http",
                self.jitter(0.05, 0.4),
                160 + len(path),
                size + 180,
                "SF",
                "ShADadfF",
                tag=tag,
                eve=rng.random() < 0.2,
            )
            self.access(t, ip, "GET", path, "HTTP/1.1", status, size, "-", zgrab, tag)
            self.eve_http(t + 400, c, WEB1_PUB, path, zgrab, "GET", status, size, tag)
            for sig in ["zmap_ua"] + (["env"] if ".env" in path else []) + (["passwd"] if "passwd" in path else []):
                if t - alert_times.get(sig, -(10**18)) >= 120 * US:
                    alert_times[sig] = t
                    self.eve_alert(t + 600, c, sig, tag, app_proto="http", extra={"tx_id": 0})
            t += self.jitter(2, 14)
        self.attack_truth(
            tag,
            "scanner",
            "medium",
            ["T1046", "T1595.001"],
            [],
            ["bastion", "web1"],
            f"Active scanner: ping sweep of 192.0.2.0/26, SYN scan of {len(top)} ports on the bastion "
            f"(dropped, S0) and web1 (REJ), service probes on ssh (banner/kex errors in both auth logs), "
            f"Nmap NSE requests and a zgrab sweep of {len(sweep)} paths on web1 (mostly 404).",
        )

    def gen_a7_beacon(self, start: int) -> None:
        tag = "A7"
        rng = self.rng
        c2 = self.ip_in_24(self.new_24(HOSTING_16S))
        self.note_ip(tag, BEACON_HOST)
        self.note_dst(tag, c2)
        domain = "cdn-sync.telemetry-update.example.net"
        self.dns(start - self.jitter(1, 3), domain, c2, tag, eve=True)
        t = start
        end = start + 11 * HOUR
        n = 0
        while t < end:
            big = rng.random() < 0.04
            ob = rng.randint(690, 760) + (rng.randint(200, 900) if big else 0)
            rb = rng.randint(1_480, 1_620) + (rng.randint(20_000, 80_000) if big else 0)
            c = self.tcp_ok(
                t,
                BEACON_HOST,
                self.eph_port("windows"),
                c2,
                443,
                "ssl",
                self.jitter(0.18, 0.95 if not big else 2.5),
                ob,
                rb,
                tag,
                eve=(n % 90 == 0) or rng.random() < 0.02,
            )
            if c.eve:
                self.eve_tls(
                    t + self.jitter(0.02, 0.08),
                    c,
                    domain,
                    f"CN={domain}",
                    f"CN={domain}",
                    tag,
                    ja3="771,49196-49195-49200-49199-158-159-52393-52392,0-10-11-13-35-23-65281,29-23-24,0",
                )
            if n % 240 == 0 and n:
                self.dns(t - self.jitter(0.5, 2), domain, c2, tag, eve=True)
            n += 1
            t += 60 * SECOND + self.jitter(-2.0, 2.0)
        self.attack_truth(
            tag,
            "c2_beaconing",
            "high",
            ["T1071.001", "T1573"],
            [],
            ["sensor"],
            f"C2-like beacon: internal workstation {BEACON_HOST} opens a short TLS connection to {c2}:443 "
            f"({domain}, self-signed certificate) every 60 s +/- 2 s, {n} times over 11 hours; a few "
            f"responses are larger (tasking).",
        )

    # -- suricata stats -----------------------------------------------------------------------

    def gen_stats(self) -> None:
        rng = self.rng
        uptime0 = 1_983_422
        pkts = 0
        for i in range(5):
            t = WINDOW_START + i * (WINDOW_END - WINDOW_START - 60 * US) // 4 + self.jitter(0, 7)
            up = uptime0 + (t - WINDOW_START) // US
            pkts += rng.randint(9_000_000, 14_000_000)
            tcp = int(pkts * 0.83)
            udp = int(pkts * 0.15)
            d = {
                "timestamp": fmt_eve(t),
                "event_type": "stats",
                "stats": {
                    "uptime": up,
                    "capture": {"kernel_packets": pkts + 1_200, "kernel_drops": rng.randint(0, 40) * i, "errors": 0},
                    "decoder": {
                        "pkts": pkts,
                        "bytes": pkts * rng.randint(600, 760),
                        "invalid": 17 * i,
                        "ipv4": pkts - 900,
                        "ipv6": 900,
                        "ethernet": pkts,
                        "tcp": tcp,
                        "udp": udp,
                        "icmpv4": pkts - tcp - udp - 900,
                        "icmpv6": 900,
                        "avg_pkt_size": 688,
                        "max_pkt_size": 1514,
                    },
                    "flow": {
                        "memcap": 0,
                        "tcp": int(tcp / 21),
                        "udp": int(udp / 3),
                        "icmpv4": 4_410 + i * 300,
                        "icmpv6": 812,
                        "tcp_reuse": 0,
                        "memuse": 7_474_304 + i * 61_440,
                    },
                    "tcp": {
                        "sessions": int(tcp / 23),
                        "ssn_memcap_drop": 0,
                        "syn": int(tcp / 19),
                        "synack": int(tcp / 22),
                        "rst": int(tcp / 140),
                        "midstream_pickups": 0,
                        "invalid_checksum": 0,
                    },
                    "detect": {
                        "engines": [
                            {
                                "id": 0,
                                "last_reload": "2026-10-21T04:00:12.118630+0000",
                                "rules_loaded": 48_212,
                                "rules_failed": 0,
                                "rules_skipped": 0,
                            }
                        ],
                        "alert": 1_204 + 310 * i,
                        "alert_queue_overflow": 0,
                        "alerts_suppressed": 118 * i,
                    },
                    "app_layer": {
                        "flow": {
                            "http": 9_100 + 700 * i,
                            "tls": 88_400 + 9_000 * i,
                            "ssh": 5_300 + 800 * i,
                            "dns_udp": 60_300 + 6_000 * i,
                            "failed_tcp": 1_900 + 130 * i,
                        },
                        "tx": {
                            "http": 19_200 + 1_500 * i,
                            "tls": 88_400 + 9_000 * i,
                            "ssh": 5_300 + 800 * i,
                            "dns_udp": 121_000 + 12_000 * i,
                        },
                    },
                },
            }
            self.add_eve(t, d, None)

    def gen_anomalies(self) -> None:
        """A few stream/decoder anomalies on ordinary traffic, as every sensor has."""
        rng = self.rng
        pool = [c for c in self.conns if c.proto == "tcp" and c.tag is None and c.state == "SF"]
        for _ in range(6):
            c = rng.choice(pool)
            ts = c.ts + (c.duration or 0) // 2
            a = self.eve_base(ts, c, "anomaly")
            a["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 6)
            a["anomaly"] = rng.choice(
                (
                    {"type": "stream", "event": "stream.pkt_invalid_timestamp"},
                    {"type": "stream", "event": "stream.3whs_synack_with_wrong_ack"},
                    {"type": "stream", "event": "stream.est_packet_out_of_window"},
                )
            )
            self.add_eve(ts, a, None)

    # -- run ----------------------------------------------------------------------------------

    def run(self) -> None:
        # attack sources are drawn first so the benign pools can avoid their networks
        attack_fns = {
            "A1": self.gen_a1_bruteforce,
            "A2": self.gen_a2_spraying,
            "A3": self.gen_a3_stuffing,
            "A4": self.gen_a4_compromise,
            "A5": self.gen_a5_web,
            "A6": self.gen_a6_scanner,
            "A7": self.gen_a7_beacon,
        }
        for aid in sorted(self.sc.attacks):
            attack_fns[aid](self.sc.attacks[aid])
        self.gen_cron()
        self.gen_admins()
        self.gen_ci()
        self.gen_background()
        self.gen_monitoring()
        self.gen_crawlers()
        self.gen_visitors()
        self.gen_outbound()
        self.gen_stats()
        self.gen_anomalies()
        self.truth_benign = [
            {
                "id": "B1",
                "kind": "admin",
                "description": "Admins alice and bob log in to the bastion with public keys every day from the office (bob from home at the "
                "weekend) and hop on to db1; alice also works on web1 with sudo; carol logs in to web1 with a password. On "
                "Sunday bob's new laptop key is refused and he mistypes his password once, then logs in with his usual key "
                "from his usual address a minute later.",
            },
            {
                "id": "B2",
                "kind": "ci_deploy",
                "description": "The CI runner logs in to web1 as deploy with an ED25519 key every 10 minutes and runs a command.",
            },
            {
                "id": "B3",
                "kind": "monitoring",
                "description": "Prometheus blackbox exporter requests /healthz on web1 every 15 seconds.",
            },
            {
                "id": "B4",
                "kind": "crawler",
                "description": "Googlebot and bingbot crawl the site: pages, robots.txt, sitemap.xml, a few 301/404.",
            },
            {
                "id": "B5",
                "kind": "background_noise",
                "description": "Internet background: scattered sources each making 1-3 failed SSH attempts (common usernames, root) or "
                "banner/kex probes on the bastion and web1. Acceptable as one low-severity background_noise incident.",
            },
        ]


# ---------------------------------------------------------------------------------------------
# Rendering and writing
# ---------------------------------------------------------------------------------------------


def render_syslog(gen: Generator, host: SyslogHost) -> list[tuple[int, str, str | None]]:
    rng = random.Random(gen.seed * 7919 + sum(map(ord, host.name)))
    recs = sorted((r for r in host.records if WINDOW_START <= r.ts < WINDOW_END), key=lambda r: (r.ts, r.seq))
    pid = host.pid_start
    sess = host.session_start
    out = []
    for r in recs:
        if isinstance(r.proc, Proc):
            if r.proc.pid is None:
                pid += rng.randint(2, 40)
                r.proc.pid = pid
            tagpart = f"{r.prog}[{r.proc.pid}]"
        elif isinstance(r.proc, int):
            tagpart = f"{r.prog}[{r.proc}]"
        else:
            tagpart = r.prog
        msg = r.msg
        if r.sess is not None:
            if r.sess.num is None:
                sess += rng.choice((1, 1, 1, 2))
                r.sess.num = sess
            msg = msg.replace("{S}", str(r.sess.num))
        if host.style == "rfc3164":
            stamp = fmt_rfc3164(r.ts)
        else:
            stamp = fmt_rsyslog(r.ts, host.tz_offset_min)
        out.append((r.ts, f"{stamp} {host.name} {tagpart}: {msg}", r.tag))
    return out


def zeek_lines(gen: Generator) -> list[tuple[int, str, str | None]]:
    header = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        f"#open\t{fmt_zeek_open(WINDOW_START)}",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\t"
        "conn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\t"
        "tunnel_parents",
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\t"
        "string\tcount\tcount\tcount\tcount\tset[string]",
    ]
    out = [(WINDOW_START, h, None) for h in header]
    conns = sorted(
        (c for c in gen.conns if WINDOW_START <= c.ts < WINDOW_END),
        key=lambda c: (c.ts + (c.duration or 0), c.ts, c.uid),
    )
    # Zeek writes a connection when it ends (or times out), so the file is ordered by end time.
    for c in conns:
        dash = "-"
        fields = [
            fmt_zeek(c.ts),
            c.uid,
            c.orig,
            str(c.op),
            c.resp,
            str(c.rp),
            c.proto,
            c.service or dash,
            fmt_zeek_interval(c.duration) if c.duration is not None else dash,
            str(c.ob) if c.ob is not None else dash,
            str(c.rb) if c.rb is not None else dash,
            c.state,
            "T" if is_local(c.orig) else "F",
            "T" if is_local(c.resp) else "F",
            "0",
            c.history,
            str(c.opk),
            str(c.oipb),
            str(c.rpk),
            str(c.ripb),
            dash,
        ]
        out.append((c.ts, "\t".join(fields), c.tag))
    out.append((WINDOW_END, f"#close\t{fmt_zeek_open(WINDOW_END)}", None))
    return out


def eve_lines(gen: Generator) -> list[tuple[int, str, str | None]]:
    rng = random.Random(gen.seed * 104729)
    recs = list(gen.eve)
    for c in gen.conns:
        if not c.eve or not (WINDOW_START <= c.ts < WINDOW_END):
            continue
        end = c.ts + (c.duration or 0)
        emit = end + int(rng.uniform(20, 130) * US)
        proto_num = {"tcp": 6, "udp": 17, "icmp": 1}[c.proto]
        d = {
            "timestamp": fmt_eve(emit),
            "flow_id": c.flow_id,
            "in_iface": "ens19",
            "event_type": "flow",
            "src_ip": c.orig,
        }
        if c.proto != "icmp":
            d["src_port"] = c.op
        d["dest_ip"] = c.resp
        if c.proto != "icmp":
            d["dest_port"] = c.rp
        d["proto"] = {"tcp": "TCP", "udp": "UDP", "icmp": "ICMP"}[c.proto]
        if c.proto == "icmp":
            d["icmp_type"] = 8
            d["icmp_code"] = 0
        app = {"ssh": "ssh", "ssl": "tls", "http": "http", "dns": "dns"}.get(c.service or "")
        if app:
            d["app_proto"] = app
        if c.state in ("S0", "REJ"):
            state, tstate = ("new", "syn_sent") if c.state == "S0" else ("closed", "closed")
        elif c.state == "RSTO" or c.proto == "tcp":
            state, tstate = "closed", "closed"
        else:
            state, tstate = "established", None
        d["flow"] = {
            "pkts_toserver": c.opk,
            "pkts_toclient": c.rpk,
            "bytes_toserver": c.oipb + 14 * c.opk,
            "bytes_toclient": c.ripb + 14 * c.rpk,
            "start": fmt_eve(c.ts),
            "end": fmt_eve(end),
            "age": (c.duration or 0) // US,
            "state": state,
            "reason": "timeout",
            "alerted": c.alerted,
        }
        d["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, proto_num)
        if c.proto == "tcp":
            if c.state == "S0":
                flags = {"tcp_flags": "02", "tcp_flags_ts": "02", "tcp_flags_tc": "00", "syn": True}
            elif c.state == "REJ":
                flags = {
                    "tcp_flags": "16",
                    "tcp_flags_ts": "02",
                    "tcp_flags_tc": "14",
                    "syn": True,
                    "rst": True,
                    "ack": True,
                }
            elif c.state == "RSTO":
                flags = {
                    "tcp_flags": "16",
                    "tcp_flags_ts": "06",
                    "tcp_flags_tc": "12",
                    "syn": True,
                    "rst": True,
                    "ack": True,
                }
            else:
                flags = {
                    "tcp_flags": "1b",
                    "tcp_flags_ts": "1b",
                    "tcp_flags_tc": "1b",
                    "syn": True,
                    "fin": True,
                    "psh": True,
                    "ack": True,
                }
            flags["state"] = tstate
            d["tcp"] = flags
        recs.append(EveRec(emit, 10**9 + len(recs), d, c.tag))
    recs = [r for r in recs if WINDOW_START <= r.ts < WINDOW_END]
    recs.sort(key=lambda r: (r.ts, r.seq))
    return [(r.ts, json.dumps(r.obj, separators=(",", ":"), ensure_ascii=False), r.tag) for r in recs]


def web_lines(gen: Generator) -> list[tuple[int, str, str | None]]:
    recs = sorted((r for r in gen.web if WINDOW_START <= r.ts < WINDOW_END), key=lambda r: (r.ts, r.seq))
    return [(r.ts, r.line, r.tag) for r in recs]


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


def build(seed: int, scenario_name: str, out: Path) -> dict:
    scenario = SCENARIOS[scenario_name]
    gen = Generator(seed, scenario)
    gen.run()
    rot_rng = random.Random(seed * 31337)

    outputs: list[tuple[str, str, list]] = []  # (relative path, format, lines)
    # bastion: rotated when over logrotate's maxsize, checked at the daily run; two rotations in the window
    bastion = render_syslog(gen, gen.hosts["bastion"])
    cuts = [at(19, 0) + int(rot_rng.uniform(0, 40 * 60) * US), at(17, 0) + int(rot_rng.uniform(0, 40 * 60) * US)]
    for name, part in split_rotated(bastion, cuts, "bastion/auth.log", gz_from=2):
        outputs.append((name, "syslog", part))
    web1 = render_syslog(gen, gen.hosts["web1"])
    for name, part in split_rotated(web1, daily_rotations(rot_rng, 7), "web1/auth.log", gz_from=2):
        outputs.append((name, "syslog", part))
    db1 = render_syslog(gen, gen.hosts["db1"])
    outputs.append(("db1/auth.log", "syslog", db1))
    access = web_lines(gen)
    for name, part in split_rotated(access, daily_rotations(rot_rng, 7), "web1/nginx/access.log", gz_from=2):
        outputs.append((name, "access", part))
    outputs.append(("sensor/conn.log", "zeek", zeek_lines(gen)))
    outputs.append(("sensor/eve.json", "suricata", eve_lines(gen)))

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
            if tag and not line.startswith("#"):
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
