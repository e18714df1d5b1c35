"""Containment plans: what an analyst could do about an incident, as commands for a person to review.

``plan(case, incident_id, firewall=...)`` reads the incident's facts from the case (sources,
accounts that logged in, web requests, destinations) and returns a ``Plan`` of commented steps;
``render_sh`` / ``Plan.as_json`` print it. Vedette never runs a plan, and nothing a model wrote
goes into one: every address is re-parsed with ``ipaddress`` and every other value is quoted.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine import config, enrich
from engine.textsafe import visible
from engine.userconfig import config_table
from store.case import Case

FIREWALLS = ("nft", "iptables", "ufw", "fail2ban")
SSH_FAMILY = ("brute_force", "password_spraying", "credential_stuffing", "suspicious_login")
EGRESS = ("c2_beaconing", "data_exfiltration")


class RespondError(Exception):
    """No such incident, or a setting the plan needs is wrong (printed as one line, exit 1)."""


@dataclass(frozen=True)
class Command:
    """One command line: ``argv`` (each element quoted when rendered) or, where the shell must
    combine commands, ``shell`` text built here from quoted values only."""

    argv: tuple[str, ...] = ()
    shell: str | None = None

    def text(self) -> str:
        return self.shell if self.shell is not None else shlex.join(self.argv)

    def as_json(self) -> dict:
        return {"argv": list(self.argv) if self.shell is None else None, "shell": self.text()}


@dataclass(frozen=True)
class Step:
    kind: str            # block | block_egress | web_deny | lock_account | review_keys | end_sessions | rotate | review
    why: str
    commands: tuple[Command, ...] = ()
    host: str | None = None
    addresses: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    def as_json(self) -> dict:
        return {"kind": self.kind, "why": self.why, "host": self.host, "addresses": list(self.addresses),
                "users": list(self.users), "commands": [c.as_json() for c in self.commands]}


@dataclass(frozen=True)
class Exclusion:
    address: str
    reason: str


@dataclass(frozen=True)
class Plan:
    incident_id: str
    category: str
    severity: str
    firewall: str
    steps: tuple[Step, ...]
    excluded: tuple[Exclusion, ...] = ()
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict:
        return {"incident": self.incident_id, "category": self.category, "severity": self.severity,
                "firewall": self.firewall, "reviewed_by_vedette": False,
                "steps": [s.as_json() for s in self.steps],
                "excluded": [{"address": e.address, "reason": e.reason} for e in self.excluded],
                "notes": list(self.notes)}


# --- settings ---------------------------------------------------------------------------------------
def allowlist_setting(env: Mapping[str, str] | None = None) -> list[str]:
    """Addresses/networks never to block: ``$VEDETTE_ALLOWLIST`` (comma or space separated) and
    ``[respond] allowlist`` in config.toml."""
    env = os.environ if env is None else env
    out = [x for x in env.get("VEDETTE_ALLOWLIST", "").replace(",", " ").split() if x]
    path, table = config_table("respond", RespondError, env)
    values = table.get("allowlist", [])
    if not isinstance(values, list):
        raise RespondError(f"{path}: respond.allowlist must be a list of addresses or networks")
    out += [str(v) for v in values]
    return out


def analyst_address(env: Mapping[str, str] | None = None) -> str | None:
    """The address the analyst is connected from (``$SSH_CLIENT``: "ip port port")."""
    env = os.environ if env is None else env
    parts = env.get("SSH_CLIENT", "").split()
    return parts[0] if parts else None


def _networks(values: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    out = []
    for v in values:
        try:
            out.append(ipaddress.ip_network(v.strip(), strict=False))
        except ValueError:
            raise RespondError(f"allowlist entry {visible(v)[:60]!r} is not an address or network") from None
    return out


# --- facts ------------------------------------------------------------------------------------------
def _incident(case: Case, incident_id: str) -> tuple[str, dict]:
    from engine.analyze import load_incidents

    run_id, incidents = load_incidents(case)
    for inc in incidents:
        if inc["id"] == incident_id:
            return run_id, inc
    if run_id is None:
        raise RespondError("the case has no analysis run yet: run vedette analyze first")
    raise RespondError(f"no incident {visible(incident_id)[:40]} in the latest run ({len(incidents)} incidents)")


def _baseline_logins(con, run_id: str, before) -> dict[str, list[str]]:
    """The case's baseline: sources that logged in before ``before`` in sessions no incident took.

    A later unflagged login from an attacking source (the intruder coming back) is not a baseline.
    """
    rows = con.execute(
        "SELECT src_ip, list(DISTINCT l) FROM (SELECT src_ip, unnest(logins) AS l FROM sessions "
        "WHERE run_id = $run AND kind = 'ssh_source' AND incident_id IS NULL AND len(logins) > 0 "
        "AND first_ts < $before) GROUP BY src_ip", {"run": run_id, "before": before},
    ).fetchall()
    return {r[0]: sorted(r[1]) for r in rows if r[0]}


def _logins(con, run_id: str, incident_id: str) -> list[str]:
    row = con.execute(
        "SELECT list(DISTINCT l ORDER BY l) FROM (SELECT unnest(logins) AS l FROM sessions "
        "WHERE run_id = $run AND incident_id = $id)", {"run": run_id, "id": incident_id},
    ).fetchall()
    return [u for u in (row[0][0] or []) if u] if row else []


def _suppressed(con) -> list[str]:
    return [v for k, v in con.execute("SELECT kind, value FROM suppressions").fetchall() if k in ("src_ip", "cidr")]


# --- who may be blocked -------------------------------------------------------------------------------
@dataclass
class _Targets:
    addresses: list[str] = field(default_factory=list)   # single addresses and /24 networks, in order
    excluded: list[Exclusion] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def blockable(addresses: Iterable[str], *, own: str | None, allow: list[str], baseline: Mapping[str, list[str]],
              suppressed: list[str] = ()) -> _Targets:
    """Which of ``addresses`` a plan may block, and why each of the others may not."""
    out = _Targets()
    allow_nets = _networks(allow)
    supp_nets = [n for n in (_try_net(v) for v in suppressed) if n is not None]
    own_addr = _try_addr(own) if own else None
    keep: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    protected: list = []   # addresses inside the case that must stay reachable, for the /24 rule
    for ip in dict.fromkeys(a for a in addresses if a):
        addr = _try_addr(ip)
        if addr is None:
            out.excluded.append(Exclusion(visible(ip)[:80], "not an IP address (a host name as logged); resolve "
                                          "and check it by hand"))
            continue
        sc = enrich.scope(ip)
        reason = None
        if sc != "global":
            reason = f"{sc.replace('_', '-')} address: not a source on the internet"
        elif own_addr is not None and addr == own_addr:
            reason = "the analyst's own address ($SSH_CLIENT)"
        elif any(addr in n for n in allow_nets if n.version == addr.version):
            reason = "on the configured allowlist"
        elif any(addr in n for n in supp_nets if n.version == addr.version):
            reason = "suppressed by the analyst in this case"
        elif ip in baseline:
            reason = "logged in normally in this case (" + ", ".join(shlex.quote(visible(u)) for u in baseline[ip][:5]) + ")"
        if reason:
            out.excluded.append(Exclusion(str(addr), reason))
            protected.append(addr)
        else:
            keep.append(addr)
    protected += [a for a in (_try_addr(b) for b in baseline) if a is not None]
    if own_addr is not None:
        protected.append(own_addr)
    by_net: dict = defaultdict(list)
    for addr in keep:
        if addr.version == 4:
            by_net[ipaddress.ip_network(f"{addr}/24", strict=False)].append(addr)
    whole = set()
    for net, members in by_net.items():
        clash = any(p in net for p in protected if p.version == 4) or any(net.overlaps(n) for n in allow_nets + supp_nets
                                                                          if n.version == 4)
        if len(members) >= config.RESPOND_NET_MIN_SOURCES and not clash:
            whole.add(net)
            out.notes.append(f"{net}: the campaign used {len(members)} of its addresses, so the whole /24 is blocked")
        elif len(members) >= 2:
            why = "an address in it must stay reachable" if clash else (
                f"fewer than {config.RESPOND_NET_MIN_SOURCES} of its addresses were used")
            out.notes.append(f"{net}: {len(members)} sources blocked one by one, not the /24 ({why})")
    done = set()
    keep.sort(key=lambda a: (a.version, int(a)))   # in address order: easier to review
    for addr in keep:
        net = ipaddress.ip_network(f"{addr}/24", strict=False) if addr.version == 4 else None
        if net in whole:
            if net not in done:
                out.addresses.append(str(net))
                done.add(net)
        else:
            out.addresses.append(str(addr))
    return out


def _try_addr(v: str | None):
    try:
        return ipaddress.ip_address((v or "").strip())
    except ValueError:
        return None


def _try_net(v: str):
    try:
        return ipaddress.ip_network(v.strip(), strict=False)
    except ValueError:
        return None


# --- firewall commands -----------------------------------------------------------------------------------
def _split(addresses: list[str]) -> tuple[list[str], list[str]]:
    v4 = [a for a in addresses if ipaddress.ip_network(a, strict=False).version == 4]
    return v4, [a for a in addresses if a not in v4]


def firewall_commands(firewall: str, addresses: list[str], *, egress: bool = False, jail: str = "sshd",
                      comment: str = "") -> tuple[list[Command], str]:
    """Commands that block ``addresses`` (inbound from them, or with ``egress`` outbound to them), and
    a note on how the tool does it. Many addresses go into one set: one rule per address family."""
    timeout = config.RESPOND_BLOCK_TIMEOUT_S
    name = config.RESPOND_SET_NAME + ("_out" if egress else "")
    v4, v6 = _split(addresses)
    cmds: list[Command] = []
    if firewall == "nft":
        hook, chain, key = ("output", "vedette_out", "daddr") if egress else ("input", "vedette_in", "saddr")
        cmds.append(Command(("nft", "add", "table", "inet", "vedette")))
        cmds.append(Command(("nft", "add", "chain", "inet", "vedette", chain,
                             f"{{ type filter hook {hook} priority -10; policy accept; }}")))
        for fam, addrs, typ, proto in (("4", v4, "ipv4_addr", "ip"), ("6", v6, "ipv6_addr", "ip6")):
            if not addrs:
                continue
            set_name = name + ("" if fam == "4" else "6")
            cmds.append(Command(("nft", "add", "set", "inet", "vedette", set_name,
                                 f"{{ type {typ}; flags interval, timeout; timeout {timeout}s; }}")))
            cmds.append(Command(("nft", "add", "rule", "inet", "vedette", chain, proto, key, f"@{set_name}", "drop")))
            cmds.append(Command(("nft", "add", "element", "inet", "vedette", set_name, "{ " + ", ".join(addrs) + " }")))
        return cmds, f"one nftables set per address family, entries expire after {timeout // 3600} h"
    if firewall == "iptables":
        direction, chain = ("dst", "OUTPUT") if egress else ("src", "INPUT")
        for fam, addrs, tool in (("inet", v4, "iptables"), ("inet6", v6, "ip6tables")):
            if not addrs:
                continue
            set_name = name + ("" if fam == "inet" else "6")
            cmds.append(Command(("ipset", "create", set_name, "hash:net", "family", fam, "timeout", str(timeout),
                                 "-exist")))
            cmds += [Command(("ipset", "add", set_name, a, "-exist")) for a in addrs]
            rule = f"-m set --match-set {shlex.quote(set_name)} {direction} -j DROP"
            # -C first: running the plan twice does not stack a second rule.
            cmds.append(Command(shell=f"{tool} -C {chain} {rule} 2>/dev/null || {tool} -I {chain} {rule}"))
        return cmds, f"one ipset per address family behind one iptables rule, entries expire after {timeout // 3600} h"
    if firewall == "ufw":
        for a in addresses:
            # prepend (ufw 0.36+): ahead of allow rules, for IPv4 and IPv6 alike (insert 1 refuses v6)
            argv = ("ufw", "prepend", "deny", "out", "to", a) if egress else ("ufw", "prepend", "deny", "from", a)
            cmds.append(Command(argv + (("comment", comment[:60]) if comment else ())))
        return cmds, "ufw has no address sets or timeouts: one rule per address, removed by hand (ufw delete)"
    if firewall == "fail2ban":
        if egress:
            return [], "fail2ban bans inbound sources only: block these destinations with the host's firewall"
        if addresses:
            cmds.append(Command(("fail2ban-client", "set", jail, "banip", *addresses)))
        return cmds, f"banned in the {jail!r} jail for its bantime, through its banaction"
    raise RespondError(f"unknown firewall {visible(firewall)[:20]!r} (choose from {', '.join(FIREWALLS)})")


# --- the plan ------------------------------------------------------------------------------------------
def _quoted_list(values: Iterable[str], limit: int = 8) -> str:
    values = list(values)
    text = ", ".join(shlex.quote(visible(v)) for v in values[:limit])
    return text + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _live_connections(con, ips: list[str], user: str) -> list[tuple[str, int, object, bool]]:
    """(host, sshd pid, login time, closed?) of the account's logins from ``ips``."""
    return con.execute(
        """
        SELECT l.host, l.pid, l.ts,
               EXISTS (SELECT 1 FROM events c WHERE c.host IS NOT DISTINCT FROM l.host AND c.pid = l.pid
                       AND c.ts >= l.ts AND c.action IN ('session_close', 'disconnect')) AS closed
        FROM events l
        WHERE l.outcome = 'success' AND starts_with(l.action, 'auth_') AND l."user" = $u
          AND l.src_ip IN (SELECT unnest($ips)) AND l.pid IS NOT NULL
        ORDER BY l.ts LIMIT 20
        """, {"u": user, "ips": ips},
    ).fetchall()


def _web_server(con, ips: list[str]) -> str:
    row = con.execute(
        "SELECT count(*) FILTER (source_file ILIKE '%apache%' OR source_file ILIKE '%httpd%'), count(*) "
        "FROM events WHERE action = 'http_request' AND src_ip IN (SELECT unnest($ips))", {"ips": ips},
    ).fetchall()[0]
    return "apache" if row[0] and row[0] * 2 > row[1] else "nginx"


def _destinations(con, ips: list[str], first, last) -> list[str]:
    rows = con.execute(
        "SELECT dst_ip, count(*) AS n FROM events WHERE src_ip IN (SELECT unnest($ips)) AND dst_ip IS NOT NULL "
        "AND ts BETWEEN $first AND $last GROUP BY 1 ORDER BY n DESC, dst_ip LIMIT 50",
        {"ips": ips, "first": first, "last": last},
    ).fetchall()
    return [r[0] for r in rows if enrich.scope(r[0]) == "global"][:10]


def plan(case: Case, incident_id: str, *, firewall: str = "nft", env: Mapping[str, str] | None = None,
         allowlist: Iterable[str] | None = None) -> Plan:
    """The containment plan for ``incident_id`` of the latest run (see the module docstring)."""
    if firewall not in FIREWALLS:
        raise RespondError(f"unknown firewall {visible(firewall)[:20]!r} (choose from {', '.join(FIREWALLS)})")
    env = os.environ if env is None else env
    con = case.con
    run_id, inc = _incident(case, incident_id)
    category, ips, hosts = inc["category"], list(inc["src_ips"]), list(inc["hosts"])
    allow = list(allowlist) if allowlist is not None else allowlist_setting(env)
    baseline = _baseline_logins(con, run_id, inc["first_seen"])
    steps: list[Step] = []
    notes: list[str] = []
    geo = enrich.geo_of(con, ips)

    if category == "background_noise":
        notes.append("background noise: the internet's scattered scanning; no containment proposed. Keep "
                     "sshd on keys only and fail2ban running instead.")
        return Plan(inc["id"], category, inc["severity"], firewall, (), (), tuple(notes))

    if category in EGRESS:
        dests = _destinations(con, ips, inc["first_seen"], inc["last_seen"])
        targets = blockable(dests, own=analyst_address(env), allow=allow, baseline=baseline, suppressed=_suppressed(con))
        if targets.addresses:
            cmds, how = firewall_commands(firewall, targets.addresses, egress=True, comment=f"vedette {inc['id']}")
            steps.append(Step("block_egress", f"stop the traffic to {len(targets.addresses)} outside address(es) the "
                              f"{category.replace('_', ' ')} reached ({how})", tuple(cmds),
                              addresses=tuple(targets.addresses)))
        internal = [ip for ip in ips if enrich.scope(ip) in ("private", "shared")]
        if internal:
            steps.append(Step("review", "the internal machine(s) " + _quoted_list(internal) + " made these "
                              "connections: isolate them and look for the process that opens them",
                              (Command(("ss", "-tnp")), Command(("ps", "-eo", "pid,user,lstart,args"))),
                              addresses=tuple(internal)))
        return Plan(inc["id"], category, inc["severity"], firewall, tuple(steps), tuple(targets.excluded),
                    tuple(notes + targets.notes))

    targets = blockable(ips, own=analyst_address(env), allow=allow, baseline=baseline, suppressed=_suppressed(con))
    jail = "sshd" if category in SSH_FAMILY else config.RESPOND_FAIL2BAN_WEB_JAIL
    if targets.addresses:
        cmds, how = firewall_commands(firewall, targets.addresses, jail=jail, comment=f"vedette {inc['id']}")
        steps.append(Step("block", f"block {_what(targets, geo)} of this {category.replace('_', ' ')}; {how}",
                          tuple(cmds), addresses=tuple(targets.addresses)))

    if category == "web_attack" and targets.addresses:
        server = _web_server(con, ips)
        singles = [a for a in targets.addresses]
        if server == "nginx":
            lines = [f"deny {a};" for a in singles]
            path = "/etc/nginx/conf.d/vedette-deny.conf"
            cmds = (Command(shell=shlex.join(("printf", "%s\\n", *lines)) + " >> " + shlex.quote(path)),
                    Command(shell="nginx -t && systemctl reload nginx"))
        else:
            lines = ['<Location "/">', "<RequireAll>", "Require all granted",
                     *[f"Require not ip {a}" for a in singles], "</RequireAll>", "</Location>"]
            path = "/etc/apache2/conf-available/vedette-deny.conf"
            cmds = (Command(shell=shlex.join(("printf", "%s\\n", *lines)) + " > " + shlex.quote(path)),
                    Command(("a2enconf", "vedette-deny")), Command(shell="apachectl configtest && systemctl reload apache2"))
        for h in hosts or [None]:
            steps.append(Step("web_deny", f"refuse the attacker's requests in {server} itself too (the firewall "
                              f"may sit behind a proxy or CDN that hides the source)", cmds, host=h,
                              addresses=tuple(singles)))

    logins = _logins(con, run_id, inc["id"]) if category in SSH_FAMILY else []
    odd = [u for u in logins if visible(u) != u]
    if odd:
        # No real account is named so (useradd refuses control characters): say so, propose nothing.
        notes.append("logins for names with control characters (" + _quoted_list(odd) + "): no account of "
                     "the system can be named so; look for it by hand (getent passwd), nothing is proposed")
        logins = [u for u in logins if u not in odd]
    if logins:
        steps += _account_steps(con, ips, logins, hosts, baseline)
    elif category in SSH_FAMILY:
        steps.append(Step("review", "no login succeeded from these sources: check that the accounts tried "
                          f"({_quoted_list(inc['users'])}) use keys, and that password logins are off",
                          (Command(shell="sshd -T | grep -Ei '^(passwordauthentication|permitrootlogin) '"),),
                          users=tuple(inc["users"][:20])))
    if not steps and not targets.addresses:
        notes.append("nothing to block: every source is excluded below")
    return Plan(inc["id"], category, inc["severity"], firewall, tuple(steps), tuple(targets.excluded),
                tuple(notes + targets.notes))


def _what(targets: _Targets, geo: Mapping[str, enrich.Geo]) -> str:
    """"the source (DE, Example GmbH)" / "the 60 sources (CN 58, US 2; 3 networks)": what a block covers."""
    blocked = [g for ip, g in geo.items() if ip not in {e.address for e in targets.excluded}]
    if len(targets.addresses) == 1 and "/" not in targets.addresses[0]:
        g = geo.get(targets.addresses[0])
        place = ", ".join(x for x in ((g.country, g.org) if g else ()) if x)
        return "the source" + (f" ({visible(place)})" if place else "")
    where = enrich.spread(blocked)
    place = ", ".join(f"{c} {n}" for c, n in where.countries[:4])
    if where.distinct_networks:
        place += f"; {where.distinct_networks} network(s)"
    return f"the {len(blocked) or len(targets.addresses)} sources" + (f" ({place})" if place else "")


def _account_steps(con, ips: list[str], logins: list[str], hosts: list[str],
                   baseline: Mapping[str, list[str]]) -> list[Step]:
    steps = []
    for user in logins:
        q = shlex.quote(user)
        usual = sorted(ip for ip, users in baseline.items() if user in users)
        also = (f"; it also logs in normally from {_quoted_list(usual, 3)}: those logins (a person, a CI job) "
                "stop too, so warn their owner" if usual else "")
        for h in hosts or [None]:
            steps.append(Step("lock_account", f"a login succeeded for {shlex.quote(visible(user))} from the "
                              f"attacking source(s): lock the password and expire the account so keys stop too"
                              f"{also}",
                              (Command(("passwd", "-l", user)), Command(("usermod", "--expiredate", "1", user))),
                              host=h, users=(user,)))
            steps.append(Step("review_keys", "an intruder's first move is a key of their own in authorized_keys: "
                              "read it, and remove every line you cannot vouch for",
                              (Command(shell=f'cat -A -- "$(getent passwd {q} | cut -d: -f6)/.ssh/authorized_keys"'),
                               Command(("last", "-F", user))), host=h, users=(user,)))
        conns = _live_connections(con, ips, user)
        for h in hosts or [None]:
            here = [c for c in conns if h is None or c[0] == h]
            open_ = [c for c in here if not c[3]]
            why = (f"{len(here)} login(s) from the sources; " + (
                f"{len(open_)} had no close in the logs and may still be live (their sshd pids are checked "
                "first)" if open_ else "all were closed in the logs: end anything they left running"))
            cmds = [Command(("loginctl", "list-sessions")), Command(("ps", "-fu", user))]
            cmds += [Command(("ps", "-o", "pid,user,lstart,args", "-p", str(int(c[1])))) for c in open_[:10]]
            cmds.append(Command(("pkill", "-KILL", "-u", user)))
            steps.append(Step("end_sessions", why, tuple(cmds), host=h, users=(user,)))
        steps.append(Step("rotate", "the password is known to the attacker: set a new one (forced at next "
                          "login), and rotate the keys and tokens this account could read",
                          (Command(("passwd", user)), Command(("chage", "-d", "0", user))),
                          host=hosts[0] if len(hosts) == 1 else None, users=(user,)))
    return steps


def _comment(text: str) -> str:
    """A comment line's text: control characters (a newline above all) shown, never acted on."""
    return visible(text)


def render_sh(p: Plan) -> str:
    """The plan as a shell script for a person to read first. Every value is quoted."""
    out = ["#!/bin/sh",
           f"# Containment plan for {_comment(p.incident_id)} ({p.category}, {p.severity}), firewall: {p.firewall}.",
           "# Written by vedette from the incident's facts. Vedette never runs it: review each step, then run",
           "# the ones you agree with, on the host named above them. Nothing in it came from an LLM.",
           "exit 1  # remove this line once the plan is reviewed", ""]
    for note in p.notes:
        out.append(f"# Note: {_comment(note)}")
    if p.excluded:
        out.append("# Not blocked (safety rules):")
        for e in p.excluded:
            out.append(f"#   {_comment(e.address)}: {_comment(e.reason)}")
    if p.notes or p.excluded:
        out.append("")
    for i, s in enumerate(p.steps, 1):
        lines = textwrap.wrap(f"{i}. [{s.kind}] {_comment(s.why)}", 96, break_long_words=False,
                              break_on_hyphens=False) or [""]
        out += ["# " + lines[0]] + ["#    " + line for line in lines[1:]]
        if s.host:
            out.append(f"#    on host {_comment(shlex.quote(s.host))}")
        out += [c.text() for c in s.commands]
        out.append("")
    if not p.steps:
        out.append("# No steps.")
    return "\n".join(out).rstrip() + "\n"
