"""What is planted, as data: the attack table the generator walks, the benign traffic it then runs,
and the benign activities truth.json names. A new attack is a row here plus its function."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from . import host_records, net_attacks, ssh_attacks, web_attacks

if TYPE_CHECKING:
    from .core import Generator


@dataclass(frozen=True)
class Attack:
    """One planted attack. ``plant(gen, start, attack)`` writes its records, tagged ``id``, and returns
    ``(users, description)`` for truth.json; ``params`` are its knobs, read by ``plant``.

    category, severity (the minimum expected), techniques and hosts go to truth.json as they are.
    """

    id: str
    name: str
    plant: Callable[[Generator, int, Attack], tuple[list, str]]
    # what truth.json says of it
    category: str
    severity: str
    techniques: tuple[str, ...]
    hosts: tuple[str, ...]
    # its knobs
    params: dict = field(default_factory=dict)


# Scenarios (scenarios.py) say which of these start when; the generator plants them in id order.
ATTACKS = (
    Attack(
        id="A1", name="ssh brute force", category="brute_force", severity="high",
        techniques=("T1110.001",), hosts=("bastion",),
        plant=ssh_attacks.brute_force, params={"user": "root", "client": "libssh_0.9.6"},
    ),
    Attack(
        id="A2", name="ssh password spraying", category="password_spraying", severity="medium",
        techniques=("T1110.003",), hosts=("web1",),
        plant=ssh_attacks.password_spraying, params={"twice": 10, "gap_s": (60, 120)},
    ),
    Attack(
        id="A3", name="ssh credential stuffing", category="credential_stuffing", severity="medium",
        techniques=("T1110.004",), hosts=("bastion",),
        plant=ssh_attacks.credential_stuffing,
        params={"accounts": ("root", "admin", "ubuntu", "deploy", "oracle"), "nets": 4, "per_net": 15},
    ),
    Attack(
        id="A4", name="ssh compromise", category="brute_force", severity="critical",
        techniques=("T1110.001", "T1078"), hosts=("web1",),
        plant=ssh_attacks.compromise,
    ),
    Attack(
        id="A5", name="web scan", category="web_attack", severity="high",
        techniques=("T1190", "T1595.002"), hosts=("web1",),
        plant=web_attacks.web_scan,
    ),
    Attack(
        id="A6", name="scanner", category="scanner", severity="medium",
        techniques=("T1046", "T1595.001"), hosts=("bastion", "web1"),
        plant=net_attacks.scanner,
    ),
    Attack(
        id="A7", name="c2 beacon", category="c2_beaconing", severity="high",
        techniques=("T1071.001", "T1573"), hosts=("sensor",),
        plant=net_attacks.beacon,
        params={"domain": "cdn-sync.telemetry-update.example.net", "period_s": 60, "hours": 11},
    ),
    # Host and honeypot records (host_records.py draws from RNGs of its own).
    Attack(
        id="H1", name="honeypot brute force", category="brute_force", severity="high",
        techniques=("T1110.001",), hosts=("hp1",),
        plant=host_records.honeypot_brute_force, params={"attempts": 240},
    ),
    Attack(
        id="H2", name="honeypot intrusion", category="suspicious_login", severity="high",
        techniques=("T1110.001", "T1078", "T1059"), hosts=("hp1",),
        plant=host_records.honeypot_intrusion, params={"url": "http://198.51.100.99/bins/x86"},
    ),
    Attack(
        id="H3", name="app1 compromise", category="brute_force", severity="critical",
        techniques=("T1110.001", "T1078", "T1136.001"), hosts=("app1",),
        plant=host_records.app1_compromise, params={"failures": 30},
    ),
    Attack(
        id="A8", name="web login brute force", category="brute_force", severity="high",
        techniques=("T1110.001",), hosts=("web1",),
        plant=web_attacks.web_brute_force, params={"tries": 320, "gap_s": (0.4, 1.6)},
    ),
    Attack(
        id="A9", name="web password spraying", category="password_spraying", severity="high",
        techniques=("T1110.003",), hosts=("web1",),
        plant=web_attacks.web_spraying, params={"sources": 36, "nets": 4, "minutes": 40},
    ),
    Attack(
        id="A10", name="web credential stuffing", category="credential_stuffing", severity="high",
        techniques=("T1110.004", "T1078"), hosts=("web1",),
        plant=web_attacks.web_stuffing, params={"sources": 48, "nets": 4, "minutes": 70},
    ),
    Attack(
        id="A11", name="web login compromise", category="brute_force", severity="critical",
        techniques=("T1110.001", "T1078"), hosts=("web1",),
        plant=web_attacks.web_compromise, params={"tries": 45, "gap_s": (1.0, 4.0)},
    ),
    Attack(
        id="A12", name="syn flood", category="dos", severity="high",
        techniques=("T1498",), hosts=("web1",),
        plant=net_attacks.syn_flood, params={"sources": 24, "nets": 5, "per_source": 30, "seconds": 70},
    ),
)

# Benign traffic, Generator methods run in this order after the attacks (the order is part of the seed's output).
BENIGN_TRAFFIC = (
    "gen_cron",
    "gen_admins",
    "gen_ci",
    "gen_background",
    "gen_monitoring",
    "gen_crawlers",
    "gen_visitors",
    "gen_shop_logins",
    "gen_login_services",
    "gen_outbound",
    "gen_stats",
    "gen_anomalies",
    "gen_host_records",
)

# The benign activities truth.json lists (those with tagged lines), look-alikes that should not become incidents.
BENIGN = (
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
        "id": "B7",
        "kind": "shop_customers",
        "description": "Customers sign in to the shop from their own addresses (the form, a POST answered 302, their "
        "account); one in ten mistypes the password once first.",
    },
    {
        "id": "B8",
        "kind": "mobile_app",
        "description": "The shop's mobile app on a phone refreshes its OAuth token (POST /oauth/token, 200) every 15 minutes.",
    },
    {
        "id": "B9",
        "kind": "monitoring_post",
        "description": "An uptime service POSTs web1's /api/v1/health every 15 minutes.",
    },
    {
        "id": "B10",
        "kind": "login_typo",
        "description": "A customer mistypes the password three times, then signs in.",
    },
    {
        "id": "B11",
        "kind": "load_balancer",
        "description": "A CDN edge address carries many customers' sign-ins (their own address in X-Forwarded-For), "
        "a few with a typo first.",
    },
    {
        "id": "B5",
        "kind": "background_noise",
        "description": "Internet background: scattered sources each making 1-3 failed SSH attempts (common usernames, root) or "
        "banner/kex probes on the bastion and web1. Acceptable as one low-severity background_noise incident.",
    },
    {
        "id": "B6",
        "kind": "admin",
        "description": "carol logs in to app1 with her key from the office every morning; each login is in app1's auth.log, "
        "audit.log and wtmp at once and must count once.",
    },
)
