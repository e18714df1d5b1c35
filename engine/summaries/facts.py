"""The facts an incident's summary is written from (``IncidentFacts``, from an analysis or a stored
case), their cache key, the ``Summary`` they become, and the helpers that put them into words."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import numpy as np

from engine.compromise import lead, login_of
from engine.incidents import Incident
from engine.textsafe import visible

OFFLINE = "offline"
CONFIDENCES = ("low", "medium", "high")
# Part of the cache key: a new prompt or answer format makes old answers stale.
PROMPT_VERSION = 2

# Features that add up over an incident's sessions, and those where the highest session tells more.
SUM_FEATURES = (
    "failed_attempts", "successes", "failures_before_success", "new_source_logins", "unusual_method_logins",
    "preauth_noise", "requests", "sensitive_path_hits", "injection_hits", "flows", "src_mbytes", "dst_mbytes",
    "connections", "alerts", "scan_alerts", "exploit_alerts", "trojan_alerts", "honeypot_logins", "commands",
    "downloads", "login_failures", "login_successes", "flood_conns",
)
PEAK_FEATURES = (
    "failed_per_min", "failed_auth_ratio", "distinct_users", "distinct_invalid_users", "distinct_hosts",
    "max_sources_per_user", "off_hours_share", "interval_mean_s", "interval_cv", "requests_per_min",
    "distinct_paths", "status_4xx_share", "status_5xx_share", "tool_user_agent", "post_share", "distinct_dst_ips",
    "distinct_dst_ports", "failed_conn_share", "span_h", "distinct_signatures", "max_severity", "duration_min",
    "login_fail_share", "campaign_sources", "syn_only_share", "peak_dst_per_min", "flood_sources",
)


# --- the facts a summary is written from -------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """One member session's kind, source and time span: which raw events belong to the incident."""

    kind: str
    src_ip: str | None
    first: datetime
    last: datetime


@dataclass(frozen=True)
class IncidentFacts:
    """What a summary may say: the incident's fields, its sessions' features summed (``totals``)
    and at their highest (``peaks``), and the member spans that locate its raw lines. Built from an
    ``Incident`` during analysis (``facts_of``) or from a stored case (``stored_facts``); both give
    the same facts and so the same cache key."""

    id: str
    category: str
    severity: str
    risk: int
    first_seen: datetime
    last_seen: datetime
    src_ips: tuple[str, ...]
    users: tuple[str, ...]
    hosts: tuple[str, ...]
    sessions: int
    events: int
    techniques: tuple[str, ...]
    rules: tuple[str, ...]
    top_features: tuple[dict, ...]
    totals: dict[str, float] = field(default_factory=dict)
    peaks: dict[str, float] = field(default_factory=dict)
    spans: tuple[Span, ...] = ()
    logins: tuple[str, ...] = ()  # of ``users``, the accounts that logged in
    places: tuple[str, ...] = ()  # where the sources are, and logins from a new country/network (engine.enrich)
    # The login that shows the attack got in ({"user", "src_ip", "ts"}), None where it did not.
    compromised_login: dict | None = None
    grouped_by: str = ""  # why the incident's sessions are one incident (``Incident.grouped_by``)

    def total(self, name: str) -> float:
        return self.totals.get(name, 0.0)

    def peak(self, name: str) -> float:
        return self.peaks.get(name, 0.0)


def _aggregate(feature_rows: list[dict]) -> tuple[dict[str, float], dict[str, float]]:
    """Sum and maximum of each feature over an incident's sessions. The background incident has
    ~20k of them: rows of the same numeric features are summed as one array."""
    if len(feature_rows) > 64:
        keys = tuple(feature_rows[0])
        if all(tuple(r) == keys for r in feature_rows):
            try:
                values = np.fromiter((v for r in feature_rows for v in r.values()), dtype=float,
                                     count=len(feature_rows) * len(keys)).reshape(len(feature_rows), len(keys))
            except (TypeError, ValueError):
                values = None  # a NULL or a non-number: the general path below
            if values is not None and not np.isnan(values).any():
                return (dict(zip(keys, values.sum(axis=0).tolist())), dict(zip(keys, values.max(axis=0).tolist())))
    totals: dict[str, float] = {}
    peaks: dict[str, float] = {}
    for feats in feature_rows:
        for k, v in feats.items():
            try:
                v = float(v or 0.0)
            except (TypeError, ValueError):
                continue
            totals[k] = totals.get(k, 0.0) + v
            peaks[k] = max(peaks.get(k, v), v)
    return totals, peaks


def facts_of(inc: Incident, con=None) -> IncidentFacts:
    """The facts of an analysed incident; with ``con``, the places of its sources too."""
    totals, peaks = _aggregate([m.features for m in inc.members])
    logins = _logins(inc.users, [m.logins for m in inc.members])
    return IncidentFacts(
        id=inc.id, category=inc.category, severity=inc.severity, risk=int(inc.risk), first_seen=inc.first_seen,
        last_seen=inc.last_seen, src_ips=tuple(inc.src_ips), users=tuple(inc.users), hosts=tuple(inc.hosts),
        sessions=int(inc.sessions), events=int(inc.events), techniques=tuple(inc.techniques),
        rules=tuple(inc.rules), top_features=tuple(inc.top_features), totals=totals, peaks=peaks,
        spans=tuple(Span(m.kind, m.src_ip, m.first_ts, m.last_ts) for m in inc.members),
        logins=logins, places=places(con, inc.src_ips, logins) if con is not None else (),
        compromised_login=login_of(inc.compromised_login) if inc.compromised else None,
        grouped_by=inc.grouped_by,
    )


def places(con, src_ips, logins) -> tuple[str, ...]:
    """Facts of where: the sources' countries and networks, and logins that were an account's first
    from a country or network (from the case's enrichment; empty where it has none)."""
    from engine import enrich

    geo = enrich.geo_of(con, src_ips)
    out = []
    if len(src_ips) == 1 and src_ips[0] in geo and geo[src_ips[0]].scope == "global":
        g = geo[src_ips[0]]
        out.append(f"the source {_name(g.ip)} is in {g.country or 'an unknown country'}"
                   + (f", network {_name(g.network)}" if g.network else ""))
    elif len(src_ips) > 1 and geo:
        sp = enrich.spread(geo.values())
        if sp.countries:
            top = ", ".join(f"{c} {n}" for c, n in sp.countries[:5])
            nets = ", ".join(f"{_name(k, 40)} {n}" for k, n in sp.networks[:3])
            nc, nn = sp.distinct_countries, sp.distinct_networks
            out.append(f"the sources are in {nc} {'country' if nc == 1 else 'countries'} ({top}) and "
                       f"{nn} {'network' if nn == 1 else 'networks'} (most: {nets})")
    for p in enrich.new_login_places(con, src_ips, logins) if logins else []:
        what = " and ".join(x for x, new in ((p.country, p.new_country), (_name(p.network or "", 40), p.new_network))
                            if new and x)
        if what:
            out.append(f"{_name(p.user)} logged in from {what} for the first time in this case "
                       f"(earlier logins came from elsewhere)")
    return tuple(out)



def _logins(users, per_session) -> tuple[str, ...]:
    """The accounts some session logged in to, in the incident's order of ``users``."""
    logged = {u for names in per_session for u in (names or ()) if u is not None}
    return tuple(u for u in users if u in logged) + tuple(sorted(logged - set(users)))


def _latest_run(con) -> str | None:
    rows = con.execute("SELECT run_id FROM runs ORDER BY finished_at DESC, run_id DESC LIMIT 1").fetchall()
    return rows[0][0] if rows else None


def stored_facts(con, incident_id: str, run_id: str | None = None) -> IncidentFacts | None:
    """The facts of a stored incident (the latest run's by default), or None if there is none."""
    run_id = run_id or _latest_run(con)
    row = con.execute(
        "SELECT id, category, severity, risk, first_seen, last_seen, src_ips, users, hosts, sessions, events, "
        "techniques, rules, top_features, coalesce(compromised, false), compromised_login, grouped_by "
        "FROM incidents WHERE run_id = $run AND id = $id",
        {"run": run_id, "id": incident_id},
    ).fetchall()
    if not row:
        return None
    row = row[0]
    members = con.execute(
        "SELECT kind, src_ip, first_ts, last_ts, features, logins FROM sessions WHERE run_id = $run "
        "AND incident_id = $id ORDER BY session_id", {"run": run_id, "id": incident_id},
    ).fetchall()
    totals, peaks = _aggregate([json.loads(m[4]) if isinstance(m[4], str) else (m[4] or {}) for m in members])
    logins = _logins(tuple(row[7] or ()), [m[5] for m in members])
    return IncidentFacts(
        id=row[0], category=row[1], severity=row[2], risk=int(row[3]), first_seen=row[4], last_seen=row[5],
        src_ips=tuple(row[6] or ()), users=tuple(row[7] or ()), hosts=tuple(row[8] or ()), sessions=int(row[9]),
        events=int(row[10]), techniques=tuple(row[11] or ()), rules=tuple(row[12] or ()),
        top_features=tuple(json.loads(row[13] or "[]")), totals=totals, peaks=peaks,
        spans=tuple(Span(m[0], m[1], m[2], m[3]) for m in members),
        logins=logins, places=places(con, tuple(row[6] or ()), logins),
        compromised_login=login_of(row[15]) if row[14] and row[15] else None,
        grouped_by=row[16] or "",
    )


def cache_key(facts: IncidentFacts, model: str) -> str:
    """A hash of the incident's content (not its id, which shifts when other incidents change),
    the model and the prompt version."""
    def iso(t: datetime) -> str:
        return t.astimezone(timezone.utc).isoformat()

    sheet = {
        "v": PROMPT_VERSION, "model": model, "category": facts.category, "severity": facts.severity,
        "risk": facts.risk, "first": iso(facts.first_seen), "last": iso(facts.last_seen),
        "src_ips": list(facts.src_ips), "users": list(facts.users), "hosts": list(facts.hosts),
        "logins": list(facts.logins),
        "sessions": facts.sessions, "events": facts.events, "techniques": list(facts.techniques),
        "rules": list(facts.rules),
        "top": [[f.get("name"), round(float(f.get("value", 0)), 3), round(float(f.get("contribution", 0)), 3)]
                for f in facts.top_features],
        # Two decimals: sums over the same sessions in another order, or read back from JSON,
        # agree to far more than that.
        "totals": {k: round(v, 2) for k, v in sorted(facts.totals.items()) if round(v, 2)},
        "peaks": {k: round(v, 2) for k, v in sorted(facts.peaks.items()) if round(v, 2)},
    }
    if facts.places:  # only where the case has enrichment: older cache entries stay valid
        sheet["places"] = list(facts.places)
    if facts.compromised_login:  # only where there is one: other incidents keep their cached answers
        login = facts.compromised_login
        sheet["login"] = [login.get("user"), login.get("src_ip"), iso(login["ts"]) if login.get("ts") else None]
    return hashlib.sha256(json.dumps(sheet, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --- summaries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """A summary, offline or from a model. ``text`` is what ``incidents.summary`` holds."""

    summary: str
    next_steps: tuple[str, ...] = ()
    intent: str | None = None
    impact: str | None = None
    confidence: str | None = None
    source: str = OFFLINE

    @property
    def text(self) -> str:
        if not self.next_steps:
            return self.summary
        steps = "; ".join(s.rstrip(" .;") for s in self.next_steps)
        return f"{self.summary.rstrip()} Next: {steps}."

    def as_dict(self) -> dict:
        return {"summary": self.summary, "text": self.text, "intent": self.intent, "impact": self.impact,
                "next_steps": list(self.next_steps), "confidence": self.confidence, "source": self.source}


# --- facts in words (for the offline summaries and the prompt) ---------------------------------

def compromise_lead(facts: IncidentFacts) -> str | None:
    """The lead sentence of an incident the attack got in through (``engine.compromise``), else None."""
    return lead(facts.category, facts.compromised_login)


def with_lead(s: Summary, facts: IncidentFacts) -> Summary:
    """The summary led by the compromise, whoever wrote it (the offline summariser or a model)."""
    lead = compromise_lead(facts)
    if not lead or s.summary.startswith(lead):
        return s
    return replace(s, summary=f"{lead} {s.summary}")


def _span(first: datetime, last: datetime) -> str:
    secs = max(0, int((last - first).total_seconds()))
    if secs < 60:
        return f"{secs} s"
    h, rem = divmod(secs // 60, 60)
    if h >= 48:
        return f"{h // 24} days"
    return f"{h} h {rem} min" if h else f"{rem} min"


def _n(v: float) -> str:
    return f"{int(round(v)):,}"


def _num(v: float) -> str:
    return _n(v) if float(v).is_integer() or abs(v) >= 100 else f"{v:.2f}".rstrip("0").rstrip(".")


def _pct(share: float) -> str:
    return f"{round(share * 100)}%"


def _name(s: str, limit: int = 64) -> str:
    """An entity from the logs, made safe to put in a sentence: control characters escaped, cut."""
    s = visible(s)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _names(items: tuple[str, ...], n: int = 3, noun: str = "") -> str:
    shown = [_name(i) for i in items[:n]]
    more = len(items) - n
    if more > 0:
        return ", ".join(shown) + f" and {more:,} more{(' ' + noun) if noun else ''}"
    if len(shown) > 1:
        return ", ".join(shown[:-1]) + " and " + shown[-1]
    return "".join(shown)
