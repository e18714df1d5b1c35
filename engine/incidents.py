"""Incidents: HDBSCAN over the flagged sessions so that one campaign is one incident.

Within each category, sessions are compared by behaviour (their scaled features, when of the
same kind) and by what ties a campaign together: the same source, the same /24, shared target
accounts and overlapping time. HDBSCAN (the ``hdbscan`` package, precomputed distances) finds
the dense groups; a group is kept only if its members are actually tied to one another. Sessions
left as noise become incidents of their own when they are at least medium severity; the rest of
a category's low-severity leftovers form one incident, and the internet's background of
scattered sources forms one low-severity ``background_noise`` incident.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
from scipy.spatial.distance import cdist

from engine import campaigns, config
from engine.explain import aggregate
from engine.rules import SEVERITY_RANK, by_id, is_compromise
from engine.scoring import KindScores
from engine.sessions import LOGIN_KINDS, TARGET_KINDS


@dataclass
class Member:
    """A scored session as the incident stage sees it."""

    session_id: str
    kind: str
    src_ip: str | None
    users: list[str]
    hosts: list[str]
    first_ts: datetime
    last_ts: datetime
    events: int
    risk: int
    severity: str
    category: str
    techniques: list[str]
    rules: list[str]
    x: np.ndarray
    top_features: list[dict] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)  # of ``users``, those that logged in
    targets: list[str] = field(default_factory=list)  # what a campaign converged on (endpoint, service)
    compromised: bool = False  # a rule saw the attack get in
    login_user: str | None = None  # who logged in after the failures, and when (compromised only)
    login_ts: datetime | None = None
    rare_logins: list[str] = field(default_factory=list)  # of ``logins``, accounts no other source logs in to


@dataclass
class Incident:
    """One incident, with the fields of the DESIGN.md JSON contract (plus members and rules)."""

    id: str
    category: str
    severity: str
    risk: int
    first_seen: datetime
    last_seen: datetime
    src_ips: list[str]
    users: list[str]
    hosts: list[str]
    sessions: int
    events: int
    techniques: list[str]
    top_features: list[dict]
    rules: list[str]
    members: list[Member]
    summary: str = ""
    summary_source: str = "offline"
    compromised: bool = False
    # The login that shows it: {"user": account or None, "src_ip": ..., "ts": datetime}.
    compromised_login: dict | None = None
    grouped_by: str = ""  # why these sessions are one incident, in one sentence


def _net24(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if addr.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _distances(members: list[Member], campaign: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise distances in [0, 1]: behaviour blended with campaign ties."""
    n = len(members)
    # Behaviour: robust-scaled features, comparable only within one session kind.
    feat = np.ones((n, n))
    kinds = np.array([m.kind for m in members])
    for kind in set(kinds):
        idx = np.where(kinds == kind)[0]
        X = np.stack([members[i].x for i in idx])
        med = np.median(X, axis=0)
        iqr = np.subtract(*np.percentile(X, [75, 25], axis=0))
        scale = np.where(iqr > 0, iqr, np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0))
        Z = (X - med) / scale
        # cdist: n x n, where broadcasting the difference would hold n x n x features at once
        diff = cdist(Z, Z) / (2 * np.sqrt(Z.shape[1]))
        feat[np.ix_(idx, idx)] = np.clip(diff, 0, 1)
    ips = np.array([m.src_ip or "" for m in members], dtype=object)
    nets = np.array([_net24(m.src_ip) or "" for m in members], dtype=object)
    start = np.array([m.first_ts.timestamp() for m in members])
    end = np.array([m.last_ts.timestamp() for m in members])
    overlap = (start[:, None] <= end[None, :]) & (start[None, :] <= end[:, None])
    near = np.minimum(np.abs(start[None, :] - end[:, None]), np.abs(start[:, None] - end[None, :]))
    close_in_time = overlap | (near <= config.SSH_USER_GAP_S)
    same_ip = (ips[:, None] == ips[None, :]) & (ips[:, None] != "")
    same_net = (nets[:, None] == nets[None, :]) & (nets[:, None] != "") & close_in_time
    tie = np.where(same_ip, 1.0, np.where(same_net, 0.6, 0.0))
    if campaign:
        vocab: dict[str, int] = {}
        rows = [[vocab.setdefault(u, len(vocab)) for u in set(m.users) | {f"@{t}" for t in m.targets}]
                for m in members]
        U = np.zeros((n, max(1, len(vocab))))
        for i, cols in enumerate(rows):
            U[i, cols] = 1.0
        inter = U @ U.T
        sizes = U.sum(axis=1)
        # Overlap against the smaller target list: two bots of one campaign each try a few of
        # the same handful of accounts, so their lists overlap without being equal.
        smaller = np.minimum(sizes[:, None], sizes[None, :])
        shared = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
        tie = np.maximum(tie, np.where(close_in_time, 0.9 * shared, 0.0))
    np.fill_diagonal(tie, 1.0)
    w = config.FEATURE_DISTANCE_WEIGHT
    d = w * feat + (1 - w) * (1 - tie)
    np.fill_diagonal(d, 0.0)
    return d, tie


def _groups(members: list[Member], category: str) -> list[list[int]]:
    """Index groups of one category's members (each member in exactly one group)."""
    n = len(members)
    campaign = category in ("credential_stuffing", "password_spraying", "dos")
    if n == 1:
        return [[0]]
    if n > config.MAX_PAIRWISE_SESSIONS:
        # Too many for pairwise ties: one group per source address keeps memory bounded.
        by_ip: dict[str | None, list[int]] = {}
        for i, m in enumerate(members):
            by_ip.setdefault(m.src_ip, []).append(i)
        return list(by_ip.values())
    d, tie = _distances(members, campaign)
    labels = np.full(n, -1)
    if n >= 3:
        import hdbscan

        clusterer = hdbscan.HDBSCAN(
            metric="precomputed", min_cluster_size=config.HDBSCAN_MIN_CLUSTER_SIZE, min_samples=1,
            allow_single_cluster=True,
        )
        labels = clusterer.fit_predict(d.astype(np.float64))
    # Members are linked when strongly tied (same source, same /24 at the same time, shared
    # targets), or when HDBSCAN put them in one dense cluster and they share at least a weak tie.
    same_cluster = (labels[:, None] == labels[None, :]) & (labels[:, None] >= 0)
    linked = (tie >= 0.5) | (same_cluster & (tie >= 0.25))
    return _components(linked)


def _components(linked: np.ndarray) -> list[list[int]]:
    """Connected components of a boolean adjacency matrix, each sorted, in order of first member."""
    n = linked.shape[0]
    seen = np.zeros(n, dtype=bool)
    out: list[list[int]] = []
    for seed in range(n):
        if seen[seed]:
            continue
        comp, stack = [seed], [seed]
        seen[seed] = True
        while stack:
            i = stack.pop()
            for j in np.where(linked[i] & ~seen)[0]:
                seen[j] = True
                comp.append(int(j))
                stack.append(int(j))
        out.append(sorted(comp))
    return out


def build(members: list[Member], background: list[Member]) -> list[Incident]:
    """Incidents from flagged sessions and background ones; ids INC-0001.. by descending risk.

    1. Per category, a crowd of sources behaving alike folds into campaigns (``engine.campaigns``),
       except the sources that stand out; HDBSCAN + campaign ties group the rest (``_groups``).
    2. Groups of different categories that share a source address are one actor seen from
       several sides (an SSH brute force and the IDS alerts about it; a web scanner that also
       port-scans): they merge, and the riskiest member's category names the incident.
    3. What is left as a lone low-severity session joins its category's "low" leftovers.
    Every incident's ``grouped_by`` says which of these put its sessions together.
    """
    groups: list[tuple[list[Member], str]] = []
    by_cat: dict[str, list[Member]] = {}
    for m in members:
        by_cat.setdefault(m.category, []).append(m)
    standouts = campaigns.standout_sources(members)
    for category in sorted(by_cat):
        ms = sorted(by_cat[category], key=lambda m: m.session_id)
        folded, ms, notes = campaigns.fold(ms, category, standouts)
        groups.extend((c.members, c.reason) for c in folded)
        # "Kept apart from its crowd" only where there is a crowd's campaign to be kept apart from.
        apart, notes = (standouts, notes) if folded else ({}, {})
        groups.extend(([ms[i] for i in group], _why(ms, group, apart, notes)) for group in _groups(ms, category))
    merged = _merge_by_source(groups)
    drafts: list[tuple[str, list[Member], str]] = []
    leftovers: dict[str, list[Member]] = {}
    for gm, why in merged:
        lead = max(gm, key=lambda m: (m.risk, SEVERITY_RANK[m.severity], m.session_id))
        top = max(SEVERITY_RANK[m.severity] for m in gm)
        if len(gm) == 1 and top < SEVERITY_RANK["medium"]:
            leftovers.setdefault(lead.category, []).extend(gm)
        else:
            drafts.append((lead.category, gm, why))
    for cat, gm in sorted(leftovers.items()):
        drafts.append((cat, gm, f"the low-severity {cat} sessions that fit no group, together"))
    if background:
        drafts.append(("background_noise", background,
                       "the internet's background: scattered sources with a few failures each and no success"))
    incidents = [_incident(_one_source_category(cat, gm), gm, why) for cat, gm, why in drafts]
    incidents.sort(key=lambda inc: (-inc.risk, -SEVERITY_RANK[inc.severity], inc.first_seen, inc.src_ips[:1]))
    for k, inc in enumerate(incidents, 1):
        inc.id = f"INC-{k:04d}"
    return incidents


def _why(ms: list[Member], group: list[int], standouts: dict[str, str], notes: dict[str, str]) -> str:
    """Why ``_groups`` put these sessions together, from what links them (see ``_groups``), and
    why a session kept apart from its crowd's campaign stands out."""
    gm = [ms[i] for i in group]
    ips = {m.src_ip for m in gm}
    apart = [standouts[m.src_ip] for m in gm if m.src_ip in standouts][:1] or \
        [notes[m.session_id] for m in gm if m.session_id in notes][:1]
    alone = f"; kept apart from its crowd's campaign: {apart[0]}" if apart else ""
    if len(gm) == 1:
        return f"one session of {gm[0].src_ip or 'no known source'}{alone}"
    if len(ips) == 1:
        return f"{len(gm)} sessions of one source, {next(iter(ips))}{alone}"
    nets = {_net24(ip) for ip in ips}
    if len(nets) == 1 and None not in nets:
        return f"{len(ips)} sources of one network ({next(iter(nets))}) active at the same time"
    return (f"{len(ips)} sources tied by shared target accounts, networks or time, and similar behaviour "
            "(HDBSCAN cluster)")


def _merge_by_source(groups: list[tuple[list[Member], str]]) -> list[tuple[list[Member], str]]:
    """Union of groups that share a source address (union-find over groups), with their reasons."""
    parent = list(range(len(groups)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for g, (gm, _) in enumerate(groups):
        for m in gm:
            if not m.src_ip:
                continue
            if m.src_ip in owner:
                a, b = find(owner[m.src_ip]), find(g)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                owner[m.src_ip] = g
    out: dict[int, list[int]] = {}
    for g in range(len(groups)):
        out.setdefault(find(g), []).append(g)
    merged = []
    for root in sorted(out):
        parts = out[root]
        gm = [m for g in parts for m in groups[g][0]]
        if len(parts) == 1:
            why = groups[parts[0]][1]
        else:
            # The largest part's reason first: a campaign that absorbed a source's other sessions.
            reasons = list(dict.fromkeys(groups[g][1] for g in sorted(parts, key=lambda g: -len(groups[g][0]))))
            cats = sorted({m.category for m in gm})
            why = (f"groups sharing a source address merged ({', '.join(cats)}): " + reasons[0]
                   + (f"; and {len(reasons) - 1} more group(s) of the same sources" if len(reasons) > 1 else ""))
        merged.append((gm, why))
    return merged


def _one_source_category(category: str, gm: list[Member]) -> str:
    """Credential stuffing is many sources: one source working through accounts, however slowly,
    is a brute force, or spraying where a rule saw many accounts tried a few times each."""
    if category != "credential_stuffing" or len({m.src_ip for m in gm if m.src_ip}) > 1:
        return category
    return "password_spraying" if any(by_id(r).category == "password_spraying" for m in gm for r in m.rules
                                      if r != "suppressed") else "brute_force"


def _ranked(values: list[tuple[str, int]]) -> list[str]:
    totals: dict[str, int] = {}
    for v, w in values:
        if v:
            totals[v] = totals.get(v, 0) + w
    return [k for k, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]


def _incident(category: str, gm: list[Member], grouped_by: str = "") -> Incident:
    severity = max((m.severity for m in gm), key=lambda s: SEVERITY_RANK[s])
    if category == "background_noise":
        severity = "low"
    risk = max(m.risk for m in gm)
    got_in = sorted((m for m in gm if m.compromised and m.login_ts is not None), key=lambda m: m.login_ts)
    if category != "background_noise" and len(gm) > 1:
        # A campaign is worse than any one of its sessions, a little.
        risk = min(100, risk + min(5, int(np.log2(len(gm)))))
    return Incident(
        id="",
        category=category,
        severity=severity,
        risk=int(risk),
        first_seen=min(m.first_ts for m in gm),
        last_seen=max(m.last_ts for m in gm),
        src_ips=_ranked([(m.src_ip, max(m.events, 1)) for m in gm]),
        users=_ranked([(u, 1) for m in gm for u in m.users]),
        hosts=_ranked([(h, 1) for m in gm for h in m.hosts]),
        sessions=len(gm),
        events=int(sum(m.events for m in gm)),
        techniques=sorted({t for m in gm for t in m.techniques}),
        top_features=aggregate([m.top_features for m in gm]),
        rules=sorted({r for m in gm for r in m.rules}, key=lambda r: (-SEVERITY_RANK[by_id(r).severity], r)),
        members=gm,
        compromised=any(m.compromised for m in gm),
        compromised_login=({"user": got_in[0].login_user, "src_ip": got_in[0].src_ip, "ts": got_in[0].login_ts}
                           if got_in else None),
        grouped_by=grouped_by,
    )


def members_from_scores(con, scores: dict[str, KindScores], explanations: dict[str, list[dict]]
                        ) -> tuple[list[Member], list[Member]]:
    """Flagged and background sessions as ``Member`` rows (entities fetched from ``feat_<kind>``)."""
    flagged: list[Member] = []
    background: list[Member] = []
    rare = _rare_accounts(con)
    for kind, ks in scores.items():
        wanted = [i for i, c in enumerate(ks.category) if c is not None]
        if not wanted:
            continue
        # Column-wise, times as epoch microseconds: DuckDB's row-wise conversion of TIMESTAMPTZ
        # to Python datetimes costs seconds over tens of thousands of sessions.
        got = con.execute(
            f"SELECT session_id, src_ip, coalesce(users, []), coalesce(hosts, []), epoch_us(first_ts), "
            f"epoch_us(last_ts), events, coalesce(logins, []) FROM feat_{kind} ORDER BY session_id"
        ).fetchnumpy()
        pick = np.asarray(wanted, dtype=np.int64)
        cols = [[v.tolist() if isinstance(v, np.ndarray) else v for v in col[pick]] if col.dtype == object
                else col[pick].tolist() for col in got.values()]
        extra = {}
        if kind in LOGIN_KINDS:
            extra = {r[0]: r[1:] for r in con.execute(
                f"SELECT session_id, login_user, login_ts FROM feat_{kind} WHERE login_ts IS NOT NULL").fetchall()}
        targets = {}
        if kind in TARGET_KINDS:
            targets = dict(con.execute(
                f"SELECT session_id, targets FROM feat_{kind} WHERE len(coalesce(targets, [])) > 0").fetchall())
        names = ks.feature_names
        raw_rows = ks.raw[pick].astype(float).tolist()  # Python floats at once: indexing numpy per value is slow
        for k, i in enumerate(wanted):
            sid, ip, users, hosts, first_us, last_us, events, logged_in = (c[k] for c in cols)
            first, last = _utc(first_us), _utc(last_us)
            assert sid == ks.session_ids[i]
            m = Member(
                session_id=sid, kind=kind, src_ip=ip, users=[u for u in users if u is not None],
                hosts=[h for h in hosts if h is not None], first_ts=first, last_ts=last, events=int(events),
                risk=int(ks.risk[i]), severity=ks.severity[i], category=ks.category[i],
                techniques=list(ks.techniques[i]), rules=list(ks.rules[i]), x=ks.X[i],
                top_features=explanations.get(sid, []),
                features=dict(zip(names, raw_rows[k])),
                logins=[u for u in logged_in if u is not None],
                targets=list(targets.get(sid) or []),
                compromised=is_compromise(ks.rules[i]),
                rare_logins=sorted({u for u in logged_in if u in rare}),
            )
            if m.compromised and sid in extra:
                m.login_user, m.login_ts = extra[sid]
            (background if m.category == "background_noise" else flagged).append(m)
    return flagged, background


def _utc(epoch_us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=epoch_us)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _rare_accounts(con) -> set[str]:
    """Accounts that at most CAMPAIGN_RARE_ACCOUNT_SOURCES sources log in to over the whole case."""
    built = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = '_succ'").fetchall()[0][0]
    if not built:  # engine.sessions.build_ssh did not run: no SSH logins either
        return set()
    rows = con.execute(
        'SELECT "user" FROM _succ WHERE src_ip IS NOT NULL GROUP BY 1 HAVING count(DISTINCT src_ip) <= $n',
        {"n": config.CAMPAIGN_RARE_ACCOUNT_SOURCES}).fetchall()
    return {r[0] for r in rows}
