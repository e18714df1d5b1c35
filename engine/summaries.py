"""Incident summaries. The offline summariser: a factual paragraph built from an incident's fields.

It needs no model, so it works on an air-gapped server; the LLM client (later) falls back to it.
"""

from __future__ import annotations

from datetime import datetime

from engine.incidents import Incident
from engine.rules import by_id


def _span(first: datetime, last: datetime) -> str:
    secs = max(0, int((last - first).total_seconds()))
    if secs < 60:
        return f"{secs} s"
    h, rem = divmod(secs // 60, 60)
    if h >= 48:
        return f"{h // 24} days"
    return f"{h} h {rem} min" if h else f"{rem} min"


def _list(items: list[str], n: int = 3, noun: str = "") -> str:
    if not items:
        return ""
    shown = ", ".join(items[:n])
    more = len(items) - n
    return shown + (f" and {more} more{(' ' + noun) if noun else ''}" if more > 0 else "")


def _sum(inc: Incident, name: str) -> float:
    return sum(m.features.get(name, 0.0) for m in inc.members)


def offline_summary(inc: Incident) -> str:
    """A plain factual paragraph: what, who, against what, when, how many, which rules."""
    src = _list(inc.src_ips, 3, "sources")
    users = _list(inc.users, 4, "accounts")
    hosts = _list(inc.hosts, 3, "hosts")
    when = f"between {inc.first_seen:%Y-%m-%d %H:%M} and {inc.last_seen:%Y-%m-%d %H:%M} UTC ({_span(inc.first_seen, inc.last_seen)})"
    failed = int(_sum(inc, "failed_attempts"))
    successes = int(_sum(inc, "successes"))
    n_src = len(inc.src_ips)
    target = f" against {users}" if users else ""
    on = f" on {hosts}" if hosts else ""
    cat = inc.category
    if cat in ("brute_force", "password_spraying", "credential_stuffing", "background_noise"):
        who = f"{n_src} sources ({src})" if n_src > 1 else src
        what = {
            "brute_force": "Brute-force login attempts",
            "password_spraying": "Password spraying",
            "credential_stuffing": "Credential stuffing",
            "background_noise": "Background internet login noise",
        }[cat]
        outcome = f"{successes} login(s) succeeded" if successes else "no login succeeded"
        text = (f"{what}: {failed:,} failed logins from {who}{target}{on} {when}; "
                f"{len(inc.users)} account(s) tried, {outcome}.")
    elif cat == "suspicious_login":
        before = int(_sum(inc, "failures_before_success"))
        text = (f"Suspicious login: {successes} successful login(s) from {src}{target}{on} {when}"
                + (f", after {before} failed attempt(s) from the same source" if before else "") + ".")
    elif cat in ("web_attack", "scanner", "dos"):
        reqs = int(_sum(inc, "requests"))
        parts = []
        if reqs:
            parts.append(f"{reqs:,} HTTP requests")
        inj = int(_sum(inc, "injection_hits"))
        if inj:
            parts.append(f"{inj:,} with injection or traversal payloads")
        paths = int(_sum(inc, "distinct_paths"))
        if paths:
            parts.append(f"{paths:,} distinct paths")
        ports = int(max((m.features.get("distinct_dst_ports", 0) for m in inc.members), default=0))
        if ports:
            parts.append(f"connections to {ports:,} ports")
        alerts = int(_sum(inc, "alerts"))
        if alerts:
            parts.append(f"{alerts:,} IDS alerts")
        label = {"web_attack": "Web exploitation attempts", "scanner": "Scanning", "dos": "Request flood"}[cat]
        text = f"{label} from {src}{on} {when}: " + (", ".join(parts) if parts else f"{inc.events:,} events") + "."
    elif cat == "c2_beaconing":
        text = f"Possible command-and-control beaconing from {src}{on} {when}: {inc.events:,} connections on a steady rhythm."
    else:
        text = f"{cat.replace('_', ' ').capitalize()}: {inc.events:,} events from {src or 'unknown sources'}{target}{on} {when}."
    why = "; ".join(by_id(r).why for r in inc.rules[:3])
    techniques = ", ".join(inc.techniques)
    if why:
        text += f" Why: {why}" + (f" ({techniques})." if techniques else ".")
    return text
