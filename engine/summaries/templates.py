"""The offline summariser: per category, a paragraph, next steps, intent, impact and confidence
written from an incident's facts with no model; ``TEMPLATES`` says which writer serves which category."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timezone

from engine import config
from engine.explain import plain
from engine.incidents import Incident
from engine.rules import by_id
from engine.summaries.facts import (
    IncidentFacts,
    Summary,
    _n,
    _name,
    _names,
    _num,
    _pct,
    _span,
    facts_of,
    with_lead,
)


def _who(f: IncidentFacts) -> str:
    if not f.src_ips:
        return "an unknown source"
    if len(f.src_ips) == 1:
        return _name(f.src_ips[0])
    return f"{len(f.src_ips):,} sources ({_names(f.src_ips, 3)})"


def _rate(count: float, minutes: float) -> str:
    if minutes < 1:
        return "within a minute"
    per_min = count / minutes
    if per_min >= 10:
        return f"{per_min:,.0f} per minute"
    if per_min >= 1:
        return f"{per_min:.1f} per minute"
    per_h = per_min * 60
    return f"about {per_h:.1f} per hour" if per_h < 10 else f"about {per_h:.0f} per hour"


def _secs(v: float) -> str:
    if v >= 120:
        return f"{v / 60:.0f} min"
    return f"{v:.0f} s"


def _when(f: IncidentFacts) -> str:
    return f"over {_span(f.first_seen, f.last_seen)} from {f.first_seen.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"


def _techs(f: IncidentFacts) -> str:
    return ", ".join(f.techniques)


def _on(f: IncidentFacts) -> str:
    if not f.hosts:
        return ""
    return f" on {_names(f.hosts, 3, 'hosts')}"


def _them(f: IncidentFacts) -> str:
    return "this source" if len(f.src_ips) <= 1 else "these sources"


def _block(f: IncidentFacts) -> str:
    if len(f.src_ips) == 1:
        return f"block {_name(f.src_ips[0])} at the edge"
    return f"block the {len(f.src_ips):,} sources at the edge"


def _rule_why(f: IncidentFacts, n: int = 2) -> str:
    whys = []
    for r in f.rules[:n]:
        try:
            whys.append(by_id(r).why)
        except KeyError:
            continue
    return "; ".join(whys)


def _standout(f: IncidentFacts, n: int = 3) -> str:
    feats = [x for x in f.top_features if x.get("contribution", 0) > 0][:n]
    return ", ".join(f"{plain(str(x['name']))} ({_num(float(x.get('value', 0)))})" for x in feats)


def _minutes(f: IncidentFacts) -> float:
    return max(0.0, (f.last_seen - f.first_seen).total_seconds() / 60)


def _login_attack(f: IncidentFacts) -> Summary:
    # SSH and web logins alike (an access log rarely names the account)
    failed = f.total("failed_attempts") + f.total("login_failures")
    succ = f.total("successes") + f.total("login_successes")
    users = _names(f.users, 3, "accounts") or "accounts the log does not name"
    logged = _names(f.logins, 3, "accounts")
    outcome = (f"then {_n(succ)} successful login{'s' if succ != 1 else ''}" + (f" (to {logged})" if logged else "")
               if succ else "no success")
    if succ and not (logged or f.users):  # an access log: the application's own log names the account
        first_step = ("find the account that signed in (the application's own log names it) and treat it as "
                      "compromised; review what followed")
    elif succ:
        first_step = f"treat {logged or users} as compromised: find the successful login and review what followed"
    else:
        first_step = f"confirm no later success from {_them(f)}"
    impact = ("a login succeeded: the account may be compromised" if succ else "none seen: no login succeeded")
    cat, techs = f.category, _techs(f)
    tech = f" ({techs})" if techs else ""
    if cat == "brute_force":
        text = (f"{_n(failed)} failed attempts for {users}{_on(f)} from {_who(f)} {_when(f)}, "
                f"{_rate(failed, _minutes(f))}, {outcome}; typical of automated brute force{tech}.")
        hardening = ("check that root login by password is disabled" if "root" in f.users else
                     "check that password login is disabled or the targeted accounts have strong passwords")
        return Summary(text, (first_step, _block(f), hardening),
                       intent=f"guess the password of {users} to get a shell", impact=impact, confidence="high")
    if cat == "password_spraying" and not f.users:  # over HTTP: many sources, the accounts not logged
        per = failed / max(1, len(f.src_ips))
        text = (f"{_n(failed)} failed attempts{_on(f)} from {_who(f)} {_when(f)}, about {per:.1f} per source; "
                f"{outcome}. Many sources at once with a guess or two each is password spraying{tech}: it stays "
                "under per-source rate limits and per-account lockouts.")
        return Summary(text, ("check the accounts that signed in during the campaign for unusual activity",
                              _block(f), "rate-limit the login endpoint across sources and add MFA"),
                       intent="find any account that uses a common password", impact=impact, confidence="medium")
    if cat == "password_spraying":
        per = failed / max(1, len(f.users))
        invalid = f.peak("distinct_invalid_users")
        text = (f"{_n(failed)} failed attempts across {len(f.users):,} accounts ({users}){_on(f)} from {_who(f)} "
                f"{_when(f)}, about {per:.1f} per account"
                + (f", {_n(invalid)} of them names that do not exist here" if invalid else "")
                + f"; {outcome}. A few guesses each over many accounts is password spraying{tech}: it stays "
                "under per-account lockouts.")
        return Summary(text, ("check every targeted account for a later success from any source", _block(f),
                              "make lockout and alerting count failures across accounts, not only per account"),
                       intent="find any account that uses a common password", impact=impact, confidence="high")
    if cat == "credential_stuffing":
        per = failed / max(1, len(f.src_ips))
        accounts = (f"{len(f.users):,} existing account{'s' if len(f.users) != 1 else ''} ({users})" if f.users
                    else "the login endpoint")
        text = (f"{_n(failed)} failed attempts against {accounts}{_on(f)} from {_who(f)} {_when(f)}, "
                f"about {per:.1f} per source; {outcome}. Many sources replaying a few real account names suggests "
                f"leaked credentials tried by a botnet{tech}.")
        reset = (f"reset the passwords of {users} and check them against known breaches" if f.users else
                 "find the accounts tried in the application's own log; reset those that signed in and check them "
                 "against known breaches")
        return Summary(text, (reset,
                              "require keys or MFA for these accounts", f"look for a success from any of {_them(f)}",
                              _block(f)),
                       intent="log in with credentials leaked elsewhere", impact=impact, confidence="high")
    # background_noise
    text = (f"{_n(failed)} failed attempts from {_who(f)} {_when(f)}, at most a few from each, at common account names "
            f"({users}); {outcome}. This is the internet's background of opportunistic bots, folded into one "
            "incident so it does not hide the real ones.")
    return Summary(text, ("nothing urgent: keep password login disabled where possible",
                          "look again if any of these sources later logs in"),
                   intent="find any server with a weak password", impact=impact, confidence="high")


def _honeypot_login(f: IncidentFacts) -> Summary:
    """Logins to a honeypot: no account is at risk; the attacker's passwords, commands and files are
    the intelligence."""
    logins, cmds, files = f.total("honeypot_logins"), f.total("commands"), f.total("downloads")
    users = _names(f.logins or f.users, 3, "accounts") or "an account"
    did = []
    if cmds:
        did.append(f"ran {_n(cmds)} command{'s' if cmds != 1 else ''}")
    if files:
        did.append(f"fetched or uploaded {_n(files)} file{'s' if files != 1 else ''}")
    before = f.total("failures_before_success")
    tried = f" after {_n(before)} failed attempt{'s' if before != 1 else ''}" if before else ""
    text = (f"{_n(logins)} login{'s' if logins != 1 else ''} to the honeypot{_on(f)} as {users} from {_who(f)} "
            f"{_when(f)}{tried}; "
            + (" and ".join(did) if did else "nothing was run after logging in")
            + f". A honeypot has no real users: this is an attacker ({_techs(f) or 'T1078'}).")
    steps = ["read the commands and files in the incident detail (attacker input, shown as logged)",
             "look up the downloaded files' SHA-256 and block the URLs they came from" if files else
             "note the passwords that worked: attackers reuse them against real servers",
             "search the production hosts' logs for these sources and passwords", _block(f)]
    return Summary(text, tuple(steps), intent="get a shell on an exposed server and use it",
                   impact="none on production: the login was to a honeypot", confidence="high")


def _suspicious_login(f: IncidentFacts) -> Summary:
    if f.total("honeypot_logins"):
        return _honeypot_login(f)
    succ, before = f.total("successes"), f.total("failures_before_success")
    # The accounts logged in to, not every account the source named (it may have tried others).
    users = _names(f.logins or f.users, 3, "accounts") or "an account"
    tried = [u for u in f.users if u not in f.logins] if f.logins else []
    techs = _techs(f)
    tech = f" ({techs})" if techs else ""
    logins = f"{_n(succ)} successful logins" if succ > 1 else "A successful login"
    if before:
        also = f" (it also tried {_names(tuple(tried), 3, 'accounts')})" if tried else ""
        text = (f"{logins} to {users}{_on(f)} from {_who(f)} {_when(f)}, after {_n(before)} failed "
                f"attempt{'s' if before != 1 else ''} from the same source{also}. A password that works after repeated "
                f"failures is how a guessed or stolen credential looks{tech}; treat the account as compromised "
                "until shown otherwise.")
        confidence = "high"
    else:
        odd = []
        if f.total("unusual_method_logins"):
            odd.append("by a method it does not normally use")
        if f.peak("off_hours_share") >= 0.5:
            odd.append("at an hour it is not normally used")
        text = (f"{logins} to {users}{_on(f)} from {_who(f)}, a source this account never used before"
                + (", " + " and ".join(odd) if odd else "") + f", {_when(f)}. It may be the owner on a new "
                f"device or network, or a stolen credential{tech}.")
        confidence = "medium"
    hosts = _names(f.hosts, 3, "hosts") or "the host"
    return Summary(text, (f"confirm with the owner of {users} whether this login was theirs",
                          "review what the session did after logging in (commands, sudo, new SSH keys, cron jobs)",
                          f"if it was not theirs, lock the account, rotate its password and keys and isolate {hosts}",
                          _block(f)),
                   intent="use a working credential to get in", impact="a login succeeded: possible account compromise",
                   confidence=confidence)


def _scanner(f: IncidentFacts) -> Summary:
    parts = []
    reqs, paths, sens = f.total("requests"), f.peak("distinct_paths"), f.total("sensitive_path_hits")
    if reqs:
        p = f"{_n(reqs)} HTTP requests for {_n(paths)} distinct paths"
        if sens:
            p += f", {_n(sens)} of them for admin panels, secrets or config files"
        if f.peak("status_4xx_share"):
            p += f", up to {_pct(f.peak('status_4xx_share'))} answered with a 4xx error"
        parts.append(p)
    ports, dsts = f.peak("distinct_dst_ports"), f.peak("distinct_dst_ips")
    if ports >= config.PORTSCAN_MIN_PORTS or (ports and not dsts):
        parts.append(f"connections to {_n(ports)} ports" + (f", {_pct(f.peak('failed_conn_share'))} unanswered"
                                                             if f.peak("failed_conn_share") else ""))
    if dsts >= config.PORTSCAN_MIN_PORTS:
        parts.append(f"connections to {_n(dsts)} hosts")
    if f.total("preauth_noise"):
        parts.append(f"{_n(f.total('preauth_noise'))} SSH connections closed before any login attempt")
    if f.total("scan_alerts"):
        parts.append(f"{_n(f.total('scan_alerts'))} IDS scan alerts")
    if not parts:
        parts.append(f"{f.events:,} events")
    techs = _techs(f)
    text = (f"Scanning from {_who(f)}{_on(f)} {_when(f)}: {'; '.join(parts)}. This is reconnaissance"
            + (f" ({techs})" if techs else "") + ": a search for something to attack, not an attack yet.")
    return Summary(text, ("check whether any probe got a real answer (a 200 on a sensitive path, an open port)",
                          _block(f).replace("block", "block or rate-limit", 1),
                          "make sure nothing that was probed is exposed by mistake"),
                   intent="find exposed services, files or known vulnerabilities",
                   impact="none by itself; it often comes before an attack", confidence="high" if f.rules else "medium")


def _web_attack(f: IncidentFacts) -> Summary:
    reqs, inj = f.total("requests"), f.total("injection_hits")
    techs = _techs(f)
    tech = f" ({techs})" if techs else ""
    parts = []
    if reqs:
        p = f"{_n(reqs)} HTTP requests from {_who(f)}{_on(f)} {_when(f)}"
        if inj:
            p += f", {_n(inj)} carrying SQL injection, path traversal or command injection payloads"
        if f.peak("tool_user_agent"):
            p += ", sent with an attack tool's user agent"
        parts.append(p)
    if f.total("exploit_alerts"):
        parts.append(f"the IDS saw {_n(f.total('exploit_alerts'))} exploit attempts from {_who(f)}")
    text = "; ".join(parts) if parts else f"{f.events:,} events from {_who(f)}{_on(f)} {_when(f)}"
    text = text[0].upper() + text[1:]
    s5 = f.peak("status_5xx_share")
    if s5 >= 0.05:
        text += f"; up to {_pct(s5)} of the answers were server errors, a sign that payloads reached the application"
    text += f". An attempt to exploit the web application{tech}."
    return Summary(text, ("check the responses to the payload requests: a 200 or a 500 may mean a payload worked",
                          "read the application and database logs for the same minutes",
                          _block(f) + " and consider a WAF rule for these payloads",
                          "verify the targeted endpoints are patched and bind their SQL parameters"),
                   intent="exploit the web application to read data or run code",
                   impact="not known from access logs alone: check the responses and application logs",
                   confidence="high")


def _dos(f: IncidentFacts) -> Summary:
    reqs, rate = f.total("requests"), f.peak("requests_per_min")
    conns = f.total("flood_conns")
    techs = _techs(f)
    tech = f" ({techs})" if techs else ""
    if conns and not reqs:
        syn = f.peak("syn_only_share")
        text = (f"{_n(conns)} connection attempts from {_who(f)} {_when(f)} to one service, in minutes when it got "
                f"far more than its usual rate (up to {_n(f.peak('peak_dst_per_min'))} a minute from one source)"
                + (f"; up to {_pct(syn)} of a source's connections never got past the SYN, the mark of a SYN flood"
                   if syn >= 0.5 else "") + f"{tech}.")
        steps = ("check whether the service slowed down or failed in that window",
                 _block(f).replace("block", "rate-limit or block", 1) + " or ask the upstream provider to filter",
                 "make sure the target has SYN cookies and a connection limit per source" if syn >= 0.5 else
                 "make sure the target limits connections per source")
    else:
        text = (f"{_n(reqs)} HTTP requests from {_who(f)}{_on(f)} {_when(f)}, up to {_n(rate)} per minute, far above "
                f"any normal client{tech}.")
        steps = ("check whether the service slowed down or failed in that window",
                 _block(f).replace("block", "rate-limit or block", 1) + " or the CDN",
                 "see whether the requests target an expensive endpoint")
    return Summary(text, steps,
                   intent="exhaust the service so legitimate users cannot use it",
                   impact="possible slowdown or outage during the flood", confidence="high")


def _beaconing(f: IncidentFacts) -> Summary:
    conns, interval, cv = f.total("connections"), f.peak("interval_mean_s"), f.peak("interval_cv")
    techs = _techs(f)
    tech = f" ({techs})" if techs else ""
    src = _name(f.src_ips[0]) if len(f.src_ips) == 1 else "the host"
    if conns:
        text = (f"{_who(f)} called one outside address {_n(conns)} times {_when(f)}, about every {_secs(interval)} "
                f"with little variation (timing irregularity {cv:.2f}); regular check-ins like this are typical "
                f"of malware calling its command-and-control server{tech}.")
    else:
        text = (f"The IDS saw {_n(f.total('trojan_alerts') or f.total('alerts'))} malware or command-and-control "
                f"alerts for {_who(f)} {_when(f)}{tech}.")
    return Summary(text, (f"identify the process on {src} that makes these connections",
                          "look up the destination's reputation and who owns it",
                          "isolate the host if the process is not a known updater or agent",
                          "block the destination at the edge"),
                   intent="keep remote control of a compromised host", impact="a host may be compromised",
                   confidence="medium")


def _exfiltration(f: IncidentFacts) -> Summary:
    mb = f.total("src_mbytes")
    techs = _techs(f)
    text = (f"{_n(mb)} MB sent out by {_who(f)} {_when(f)}, far more than usual" + (f" ({techs})" if techs else "")
            + ".")
    return Summary(text, ("find what was sent and where to (destination, process, files)",
                          "check whether it was a known backup or sync job",
                          "if not, isolate the host and preserve its logs"),
                   intent="copy data out of the network", impact="possible data loss", confidence="medium")


def _other(f: IncidentFacts) -> Summary:
    label = f.category.replace("_", " ").capitalize()
    users = _names(f.users, 3, "accounts")
    target = f" involving {users}" if users else ""
    standout = _standout(f)
    why = _rule_why(f)
    text = (f"{label}: {f.events:,} events from {_who(f)}{target}{_on(f)} {_when(f)} that stand out from the rest "
            "of the case" + (f" for {standout}" if standout else "")
            + (f"; {why}" if why else "; no detection rule matched") + ".")
    return Summary(text, ("review the raw events to decide whether this is benign",
                          "label the incident so the next analyst knows"),
                   intent="unknown", impact="unknown", confidence="low" if not f.rules else "medium")


@dataclass(frozen=True)
class Template:
    """category: the incident category it serves; write: its writer, facts in, ``Summary`` out."""

    category: str
    write: Callable[[IncidentFacts], Summary]


# One row per category, like the rules in ``engine.rules``; a category not here gets ``FALLBACK``.
TEMPLATES: tuple[Template, ...] = (
    Template("brute_force", _login_attack),
    Template("password_spraying", _login_attack),
    Template("credential_stuffing", _login_attack),
    Template("background_noise", _login_attack),
    Template("suspicious_login", _suspicious_login),
    Template("scanner", _scanner),
    Template("web_attack", _web_attack),
    Template("dos", _dos),
    Template("c2_beaconing", _beaconing),
    Template("data_exfiltration", _exfiltration),
)
FALLBACK = _other
_OFFLINE_WRITERS: dict[str, Callable[[IncidentFacts], Summary]] = {t.category: t.write for t in TEMPLATES}


def offline(facts: IncidentFacts) -> Summary:
    """The offline summary of an incident: a paragraph, next steps, intent, impact, confidence."""
    s = _OFFLINE_WRITERS.get(facts.category, FALLBACK)(facts)
    why = facts.grouped_by
    # Why one incident: said where it is news (a campaign of many sources, a source kept apart
    # from its crowd), not for one source's own sessions.
    if why and (len(facts.src_ips) > 1 or "kept apart" in why):
        s = replace(s, summary=f"{s.summary.rstrip()} Why this incident: {why}.")
    if facts.places:
        where = "; ".join(facts.places)
        s = replace(s, summary=f"{s.summary.rstrip()} Where: {where[:1].upper() + where[1:].rstrip('.')}.")
    return with_lead(s, facts)


def offline_summary(inc: Incident) -> str:
    """The offline paragraph (with its next steps) for an incident of an analysis."""
    return offline(facts_of(inc)).text
