"""Detection rules, as data: which sessions they flag, what that means, and how bad it is.

Each rule is a SQL condition over one session kind's feature table (``engine.sessions``), mapped
to a MITRE ATT&CK technique and one of the DESIGN.md categories. Thresholds come from
``engine.config`` and are formatted in as numbers (never text from logs).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import config

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
# Where a rule's severity puts a session's risk before the anomaly score adds to it.
SEVERITY_BASE_RISK = {"info": 5, "low": 25, "medium": 50, "high": 70, "critical": 90}


@dataclass(frozen=True)
class Rule:
    """id: stable name; kind: the session kind it reads; when: SQL condition over its features;
    category/technique/severity: what a hit means; why: one line for the analyst; also: further
    techniques a hit means; compromise: a hit means the attack got in (a login after failures):
    the session keeps the category of the attack family it belongs to and ``compromised`` is set."""

    id: str
    kind: str
    when: str
    category: str
    technique: str | None
    severity: str
    why: str
    also: tuple[str, ...] = ()
    compromise: bool = False


c = config
# Private, loopback, link-local and multicast destinations (written for dst_ip; the beacon rule
# also applies it to src_ip: a beacon goes from inside out).
_PRIVATE = (
    "(regexp_matches(coalesce(dst_ip, ''), '^(10\\.|192\\.168\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|127\\.|169\\.254\\.|"
    "fe80:|fc|fd|ff0|::1$|224\\.|239\\.|255\\.)'))"
)

RULES: tuple[Rule, ...] = (
    # --- SSH ---------------------------------------------------------------------------------
    Rule("ssh.login_after_failures", "ssh_source",
         f"success_after_failures = 1 AND (failures_before_success >= {c.COMPROMISE_MIN_FAILURES} "
         f"OR distinct_users >= {c.COMPROMISE_MIN_USERS}) AND honeypot_logins = 0",
         "brute_force", "T1110.001", "critical",
         "the brute force succeeded: a login from the source after its failed attempts",
         also=("T1078",), compromise=True),
    Rule("ssh.new_source_odd_login", "ssh_source",
         "new_source_logins >= 1 AND (unusual_method_logins >= 1 OR off_hours_share >= 0.5)",
         "suspicious_login", "T1078", "medium",
         "an account logged in from a source it never used, by an unusual method or at an unusual hour"),
    Rule("ssh.password_spraying", "ssh_source",
         f"distinct_users >= {c.SPRAY_MIN_USERS} AND failed_attempts <= {c.SPRAY_MAX_PER_USER} * distinct_users",
         "password_spraying", "T1110.003", "high",
         "one source tried many accounts with few passwords each"),
    Rule("ssh.credential_stuffing", "ssh_source",
         f"max_sources_per_user >= {c.STUFFING_MIN_SOURCES} AND failed_attempts >= 1 "
         f"AND distinct_users < {c.SPRAY_MIN_USERS}",
         "credential_stuffing", "T1110.004", "high",
         "many sources are trying the same real accounts, a few attempts each"),
    Rule("ssh.brute_force_heavy", "ssh_source",
         f"failed_attempts >= {c.BRUTE_HIGH_ATTEMPTS} AND distinct_users < {c.SPRAY_MIN_USERS}",
         "brute_force", "T1110.001", "high",
         "many failed passwords from one source against few accounts"),
    Rule("ssh.brute_force", "ssh_source",
         f"failed_attempts >= {c.BRUTE_MIN_ATTEMPTS} AND distinct_users < {c.SPRAY_MIN_USERS}",
         "brute_force", "T1110.001", "medium",
         "repeated failed passwords from one source"),
    Rule("ssh.brute_force_many_users", "ssh_source",
         f"failed_attempts >= {c.BRUTE_MIN_ATTEMPTS} AND distinct_users >= {c.SPRAY_MIN_USERS} "
         f"AND failed_attempts > {c.SPRAY_MAX_PER_USER} * distinct_users",
         "brute_force", "T1110.001", "high",
         "many failed passwords from one source over a list of accounts"),
    Rule("ssh.preauth_scanning", "ssh_source",
         f"preauth_noise >= {c.SSH_SCAN_MIN_PREAUTH} AND failed_attempts = 0 AND successes = 0",
         "scanner", "T1595", "low",
         "connections that never try to log in: banner grabbing or protocol scanning"),
    # A honeypot has no users: whoever logs in is attacking, and what they run is the evidence.
    Rule("ssh.honeypot_commands", "ssh_source", "honeypot_logins >= 1 AND (commands >= 1 OR downloads >= 1)",
         "suspicious_login", "T1059", "high",
         "logged in to a honeypot and ran commands or fetched files there"),
    Rule("ssh.honeypot_login", "ssh_source", "honeypot_logins >= 1",
         "suspicious_login", "T1078", "medium",
         "logged in to a honeypot with a guessed password"),
    # --- web -----------------------------------------------------------------------------------
    Rule("web.injection", "web",
         # A scanner's wordlist carries a few payload-looking paths among hundreds; an attack
         # is made of them.
         f"injection_hits >= {c.WEB_INJECTION_MIN} AND injection_hits >= {c.WEB_INJECTION_MIN_SHARE} * requests",
         "web_attack", "T1190", "high",
         "requests carrying SQL injection, traversal or command injection payloads"),
    Rule("web.sensitive_probing", "web",
         f"sensitive_path_hits >= {c.WEB_SENSITIVE_MIN} AND status_4xx_share >= 0.5",
         "scanner", "T1595.002", "medium",
         "requests for admin panels, secrets and config files that do not exist here: vulnerability scanning"),
    Rule("web.content_discovery", "web",
         f"distinct_paths >= {c.WEB_SCAN_MIN_PATHS} AND status_4xx_share >= 0.5",
         "scanner", "T1595.003", "medium",
         "many distinct paths, mostly not found: wordlist scanning"),
    Rule("web.tool_scanning", "web",
         f"tool_user_agent = 1 AND requests >= {c.WEB_TOOL_MIN_REQUESTS} AND status_4xx_share >= 0.3",
         "scanner", "T1595", "medium",
         "an attack or scripting tool's user agent with many failing requests"),
    Rule("web.flood", "web",
         f"requests >= {c.WEB_DOS_MIN_REQUESTS} AND requests_per_min >= {c.WEB_DOS_MIN_RATE}",
         "dos", "T1499", "high",
         "a request rate far above any normal client"),
    # --- web logins ------------------------------------------------------------------------------
    Rule("web.login_after_failures", "web_login",
         f"failures_before_success >= {c.WEB_COMPROMISE_MIN_FAILURES}",
         "brute_force", "T1110.001", "critical",
         "the brute force succeeded: a run of failed logins, then a redirect or another answer",
         also=("T1078",), compromise=True),
    Rule("web.campaign_login", "web_login",
         f"failures_before_success >= {c.WEB_CAMPAIGN_COMPROMISE_MIN_FAILURES} "
         f"AND campaign_sources >= {c.WEB_CAMPAIGN_MIN_SOURCES}",
         "credential_stuffing", "T1110.004", "critical",
         "a source of a distributed login attack got in after its failed attempts",
         also=("T1078",), compromise=True),
    Rule("web.brute_force_heavy", "web_login",
         f"login_failures >= {c.WEB_BRUTE_HIGH_FAILURES} AND login_fail_share >= {c.WEB_BRUTE_MIN_FAIL_SHARE}",
         "brute_force", "T1110.001", "high",
         "many failed logins over HTTP from one source"),
    Rule("web.brute_force", "web_login",
         f"login_failures >= {c.WEB_BRUTE_MIN_FAILURES} AND login_fail_share >= {c.WEB_BRUTE_MIN_FAIL_SHARE}",
         "brute_force", "T1110.001", "medium",
         "repeated failed logins over HTTP from one source"),
    Rule("web.password_spraying_accounts", "web_login",
         f"distinct_users >= {c.SPRAY_MIN_USERS} AND login_failures >= {c.SPRAY_MIN_USERS} "
         f"AND login_failures <= {c.SPRAY_MAX_PER_USER} * distinct_users",
         "password_spraying", "T1110.003", "high",
         "one source tried many accounts over HTTP with few passwords each"),
    Rule("web.password_spraying", "web_login",
         f"campaign_sources >= {c.WEB_CAMPAIGN_MIN_SOURCES} AND login_failures BETWEEN 1 AND "
         f"{c.WEB_BRUTE_MIN_FAILURES - 1} AND campaign_failures_per_source <= {c.WEB_SPRAY_MAX_PER_SOURCE} "
         f"AND (login_successes = 0 OR failures_before_success >= {c.WEB_CAMPAIGN_COMPROMISE_MIN_FAILURES})",
         "password_spraying", "T1110.003", "high",
         "many sources at once fail on one login endpoint, a try or two each"),
    Rule("web.credential_stuffing", "web_login",
         f"campaign_sources >= {c.WEB_CAMPAIGN_MIN_SOURCES} AND login_failures BETWEEN 1 AND "
         f"{c.WEB_BRUTE_MIN_FAILURES - 1} AND campaign_failures_per_source > {c.WEB_SPRAY_MAX_PER_SOURCE} "
         f"AND (login_successes = 0 OR failures_before_success >= {c.WEB_CAMPAIGN_COMPROMISE_MIN_FAILURES})",
         "credential_stuffing", "T1110.004", "high",
         "a surge of sources failing on one login endpoint, several tries each"),
    # --- flows ---------------------------------------------------------------------------------
    Rule("net.flood", "flow",
         f"flood_conns >= {c.FLOOD_MIN_PER_MIN} AND distinct_dst_ports < {c.PORTSCAN_MIN_PORTS}",
         "dos", "T1499", "high",
         "one source opened connections to one service far faster than it is ever used"),
    Rule("net.distributed_flood", "flow",
         f"flood_sources >= {c.FLOOD_MIN_SOURCES} AND flood_conns >= {c.FLOOD_MIN_CONNS_PER_SOURCE} "
         f"AND distinct_dst_ports < {c.PORTSCAN_MIN_PORTS}",
         "dos", "T1498", "high",
         "many sources at once flood one service with connections"),
    Rule("net.port_scan", "flow",
         f"distinct_dst_ports >= {c.PORTSCAN_MIN_PORTS} AND failed_conn_share >= 0.5",
         "scanner", "T1046", "medium",
         "connections to many ports, mostly unanswered: a port scan"),
    Rule("net.host_sweep", "flow",
         f"distinct_dst_ips >= {c.PORTSCAN_MIN_PORTS} AND failed_conn_share >= 0.5",
         "scanner", "T1046", "medium",
         "connections to many hosts, mostly unanswered: a network sweep"),
    Rule("net.large_upload", "flow",
         f"src_mbytes >= {c.EXFIL_MIN_MBYTES}",
         "data_exfiltration", "T1048", "medium",
         "an unusually large amount of data sent out by one source"),
    Rule("net.beaconing", "beacon",
         f"connections >= {c.BEACON_MIN_CONNECTIONS} AND interval_cv <= {c.BEACON_MAX_CV} "
         f"AND span_h >= {c.BEACON_MIN_SPAN_H} AND interval_mean_s >= {c.BEACON_MIN_INTERVAL_S} "
         f"AND {_PRIVATE.replace('dst_ip', 'src_ip')} AND NOT {_PRIVATE}",
         "c2_beaconing", "T1071", "high",
         "an internal host calls one outside address on a steady beat"),
    # --- IDS -----------------------------------------------------------------------------------
    Rule("ids.exploit", "ids", "exploit_alerts >= 1 AND exploit_alerts >= scan_alerts", "web_attack", "T1190",
         "high", "the IDS saw exploit attempts from this source"),
    Rule("ids.trojan", "ids", "trojan_alerts >= 1", "c2_beaconing", "T1071", "high",
         "the IDS saw malware or command-and-control traffic"),
    Rule("ids.bruteforce", "ids", "bruteforce_alerts >= 1", "brute_force", "T1110", "medium",
         "the IDS saw brute-force login traffic from this source"),
    Rule("ids.scan", "ids", f"scan_alerts >= {c.IDS_SCAN_MIN_ALERTS}", "scanner", "T1595", "medium",
         "the IDS saw repeated scanning from this source"),
    Rule("ids.scan_seen", "ids", "scan_alerts >= 1", "scanner", "T1595", "low",
         "the IDS saw a scan from this source"),
    Rule("ids.alert", "ids", f"max_severity >= 3 OR alerts >= {c.IDS_MIN_ALERTS}", "anomaly", None, "low",
         "the IDS raised high-severity or repeated alerts for this source"),
)

# Sessions matching this and no rule are the internet's background: folded into one incident.
BACKGROUND_WHEN = {
    "ssh_source": f"failed_attempts BETWEEN 1 AND {c.BACKGROUND_MAX_ATTEMPTS} AND successes = 0",
    "web": "FALSE",
    "web_login": "FALSE",
    "flow": "FALSE",
    "beacon": "FALSE",
    "ids": "FALSE",
}


# An isolated session with no rule hit becomes an ``anomaly`` only where its profile points the
# bad way: a key-only deploy account logging in every ten minutes is unusual but not a threat,
# nor is a crawler's mass of 200s or a health check's steady beat.
ANOMALY_ELIGIBLE = {
    "ssh_source": "failed_attempts > 0 OR new_source_logins > 0 OR unusual_method_logins > 0 OR preauth_noise > 0",
    "web": "status_4xx_share >= 0.2 OR status_5xx_share >= 0.2 OR sensitive_path_hits > 0 OR injection_hits > 0 "
           "OR tool_user_agent = 1 OR empty_user_agent = 1",
    "web_login": "login_failures >= 5 AND login_fail_share >= 0.5",
    "flow": "failed_conn_share >= 0.2 OR src_mbytes >= 50",
    "beacon": "FALSE",
    "ids": "alerts > 0",
}


# The categories a brute force's success keeps: the family that got in.
BRUTE_FAMILY = ("brute_force", "password_spraying", "credential_stuffing")


def is_compromise(rule_ids) -> bool:
    """Whether any of these rules means the attack got in (unknown ids, e.g. ``suppressed``, do not)."""
    return any(r in _COMPROMISE for r in rule_ids)


def rules_for(kind: str) -> tuple[Rule, ...]:
    return tuple(r for r in RULES if r.kind == kind)


def by_id(rule_id: str) -> Rule:
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


_COMPROMISE = frozenset(r.id for r in RULES if r.compromise)
