"""Time units and formats, the network (hosts, users, address pools) and the record types every family writes."""

from __future__ import annotations

import base64
import calendar
import hashlib
import ipaddress
import struct
import time

from dataclasses import dataclass, field


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
