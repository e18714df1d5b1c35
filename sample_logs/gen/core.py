"""The Generator: one seeded RNG, the record lists every family appends to, and the run that walks
the attack table, then the benign traffic, in a fixed order."""

from __future__ import annotations

import ipaddress
import random

from .attacks import ATTACKS, BENIGN, BENIGN_TRAFFIC, Attack
from .common import (
    BASTION_INT,
    BASTION_PUB,
    BINGBOT,
    CI_RUNNER,
    CRAWLER_16S,
    DB1_INT,
    DEBIAN_MIRROR,
    GOOGLEBOT,
    HOME_BOB,
    HOSTING_16S,
    OFFICE_ALICE,
    OFFICE_BOB,
    OFFICE_CAROL,
    OUTBOUND_DESTS,
    UNSEEN_8S,
    UPSTREAM_DNS,
    US,
    WEB1_INT,
    WEB1_PUB,
    Conn,
    EveRec,
    LoginSession,
    SyslogHost,
    SysRec,
    WebRec,
)
from . import host_records
from .flows import FlowMixin
from .scenarios import Scenario
from .ssh import SshMixin
from .ssh_benign import SshBenignMixin
from .web import WebMixin


class Generator(SshMixin, SshBenignMixin, WebMixin, FlowMixin):
    """Every record of one scenario, tagged with the attack or benign activity it belongs to."""

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
        self.host_records: dict[str, list] = {}  # output path -> (ts, line, tag), from host_records.py
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

    # -- attacks ------------------------------------------------------------------------------

    def attack_source(self, tag: str, dsts: tuple, prefixes16=HOSTING_16S) -> str:
        """A fresh source address for attack ``tag`` in a /24 of its own, noted with the addresses it targets."""
        ip = self.ip_in_24(self.new_24(prefixes16))
        self.note_ip(tag, ip)
        for d in dsts:
            self.note_dst(tag, d)
        return ip

    def campaign_sources(self, tag: str, n: int, nets: int, dsts: tuple, prefixes16=HOSTING_16S) -> list[str]:
        """``n`` source addresses for a distributed attack ``tag``, spread over ``nets`` fresh /24s."""
        pool = [self.new_24(prefixes16) for _ in range(nets)]
        ips = [self.ip_in_24(pool[k % nets]) for k in range(n)]
        for ip in ips:
            self.note_ip(tag, ip)
        for d in dsts:
            self.note_dst(tag, d)
        return ips

    def attack_truth(self, a: Attack, users: list, description: str) -> None:
        self.truth_attacks.append(
            {
                "id": a.id,
                "category": a.category,
                "severity": a.severity,
                "techniques": list(a.techniques),
                "users": users,
                "hosts": list(a.hosts),
                "description": description,
            }
        )

    def gen_host_records(self) -> None:
        host_records.host_background(self)

    # -- run ----------------------------------------------------------------------------------

    def run(self) -> None:
        # attack sources are drawn first so the benign pools can avoid their networks
        rows = {a.id: a for a in ATTACKS}
        for aid in sorted(self.sc.attacks):
            a = rows[aid]
            users, description = a.plant(self, self.sc.attacks[aid], a)
            self.attack_truth(a, users, description)
        for name in BENIGN_TRAFFIC:
            getattr(self, name)()
        self.truth_benign = [dict(b) for b in BENIGN]
