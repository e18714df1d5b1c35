"""Campaigns: a crowd of sources that behave alike becomes one incident, and the few that stand out stay apart.

Thousands of sources of one category and session kind that try accounts from one shared pool, on
the same hosts, in one period, with behaviour inside the crowd's own range are one campaign, not
thousands of incidents. HDBSCAN over a bounded, deduplicated set of the crowd's behaviour
profiles splits it into a handful of behaviour groups at most. A source stands out, and keeps its
own incident, when it logged in to an account that no other source logs in to, or when one of its
features lies far beyond the crowd's range. Every campaign says why its members were grouped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from engine import config


@dataclass(frozen=True)
class Campaign:
    """members: the sessions folded together; reason: why, in one sentence for the analyst."""

    members: list
    reason: str


def standout_sources(members: list) -> dict[str, str]:
    """Sources that must keep incidents of their own, with the stated reason.

    A login to an account that no other source in the case logs in to (``Member.rare_logins``).
    """
    out: dict[str, str] = {}
    for m in members:
        if m.src_ip and m.rare_logins and m.src_ip not in out:
            out[m.src_ip] = f"logged in to {', '.join(sorted(m.rare_logins)[:3])}, which no other source logs in to"
    return out


def _pool(lists: list[list[str]], n: int) -> set[str]:
    """Values named by at least CAMPAIGN_POOL_SHARE of the crowd (at least two members)."""
    counts = Counter(v for vs in lists for v in set(vs))
    need = max(2, config.CAMPAIGN_POOL_SHARE * n)
    return {v for v, c in counts.items() if c >= need}


def _alike(values: list[str], pool: set[str]) -> bool:
    # As loose as the pairwise campaign tie of ``engine.incidents`` (one shared account links two
    # bots): a bot that also tries a name of its own is still one of the crowd.
    return not values or any(v in pool for v in values)


def _beyond(raw: np.ndarray, names: tuple[str, ...]) -> list[str | None]:
    """Per row, the first feature far beyond the crowd's range, or None.

    "Far beyond": above CAMPAIGN_OUTLIER_FACTOR times the crowd's upper percentile and at least
    one unit above it (a ratio that is 0.3 where the crowd has 0 is not a reason by itself).
    """
    q = np.percentile(raw, config.CAMPAIGN_OUTLIER_PERCENTILE, axis=0)
    over = (raw > config.CAMPAIGN_OUTLIER_FACTOR * q) & (raw >= q + 1.0)
    out: list[str | None] = [None] * len(raw)
    for i in np.where(over.any(axis=1))[0]:
        j = int(np.argmax(over[i]))
        out[i] = (f"its {names[j]} ({raw[i, j]:g}) is far beyond its crowd's ({q[j]:g} at the "
                  f"{config.CAMPAIGN_OUTLIER_PERCENTILE:g}th percentile)")
    return out


def _periods(members: list, idx: list[int]) -> list[list[int]]:
    """Split by time: members whose spans overlap or lie within SSH_USER_GAP_S are one period."""
    order = sorted(idx, key=lambda i: members[i].first_ts)
    out: list[list[int]] = []
    end = None
    for i in order:
        m = members[i]
        if end is None or (m.first_ts - end).total_seconds() > config.SSH_USER_GAP_S:
            out.append([])
            end = m.last_ts
        out[-1].append(i)
        end = max(end, m.last_ts)
    return out


def _behaviour_groups(X: np.ndarray) -> np.ndarray:
    """Labels 0..k-1 splitting the crowd by behaviour, k small; HDBSCAN on deduplicated profiles.

    Profiles are rounded (log-scaled features to CAMPAIGN_PROFILE_STEP) and deduplicated; the
    most common CAMPAIGN_MAX_PROFILES go to HDBSCAN. Groups smaller than CAMPAIGN_MIN_SOURCES or
    too like a larger one, HDBSCAN's noise and the profiles left out join the nearest group kept:
    within a crowd that tries the same accounts on the same hosts, an odd profile is not a reason
    for an incident.
    """
    n = len(X)
    if n < 2 * config.CAMPAIGN_MIN_SOURCES:
        return np.zeros(n, dtype=np.int64)
    prof = np.round(X / config.CAMPAIGN_PROFILE_STEP) * config.CAMPAIGN_PROFILE_STEP
    uniq, inverse, counts = np.unique(prof, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    keep = np.argsort(-counts, kind="stable")[: config.CAMPAIGN_MAX_PROFILES]
    U = uniq[keep]
    med = np.median(U, axis=0)
    iqr = np.subtract(*np.percentile(U, [75, 25], axis=0))
    scale = np.where(iqr > 0, iqr, np.where(U.std(axis=0) > 0, U.std(axis=0), 1.0))
    Z = (U - med) / scale
    labels_u = np.zeros(len(U), dtype=np.int64)
    if len(U) >= 3:
        import hdbscan

        labels_u = hdbscan.HDBSCAN(min_cluster_size=max(2, config.CAMPAIGN_HDBSCAN_MIN_PROFILES),
                                   min_samples=1).fit_predict(Z)
    # Weight each profile by how many sessions share it; large groups are the ones that stay.
    weight = counts[keep]
    sizes = {lab: int(weight[labels_u == lab].sum()) for lab in set(labels_u.tolist()) if lab >= 0}
    big = sorted((lab for lab, s in sizes.items() if s >= config.CAMPAIGN_MIN_SOURCES), key=lambda lab: -sizes[lab])
    # A behaviour group stays apart only where its typical session differs from every larger
    # group's by CAMPAIGN_SPLIT_MIN_FACTOR in some feature: 4 tries against 5 is one crowd.
    typical = {lab: np.median(U[labels_u == lab], axis=0) for lab in big}
    kept: list[int] = []
    for lab in big:
        if all(np.abs(typical[lab] - typical[k]).max() >= np.log(config.CAMPAIGN_SPLIT_MIN_FACTOR) for k in kept):
            kept.append(lab)
    kept = kept[: config.CAMPAIGN_MAX_SPLITS]
    if len(kept) <= 1:
        return np.zeros(n, dtype=np.int64)
    centres = np.stack([np.average(Z[labels_u == lab], axis=0, weights=weight[labels_u == lab]) for lab in kept])
    # Every session's profile (kept or not) to its nearest large group, in scaled space.
    Zall = (uniq - med) / scale
    d = ((Zall[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    return np.argmin(d, axis=1)[inverse]


def fold(members: list, category: str, standouts: dict[str, str]) -> tuple[list[Campaign], list, dict[str, str]]:
    """Campaigns among one category's members, the members left to the ordinary grouping, and
    why some of those stand out of their crowd (``{session_id: reason}``).

    Only a crowd of at least CAMPAIGN_MIN_SOURCES sources of one session kind is folded.
    """
    notes: dict[str, str] = {}
    by_kind: dict[str, list[int]] = {}
    for i, m in enumerate(members):
        by_kind.setdefault(m.kind, []).append(i)
    taken = np.zeros(len(members), dtype=bool)
    out: list[Campaign] = []
    for kind, idx in sorted(by_kind.items()):
        crowd = [i for i in idx if members[i].src_ip and members[i].src_ip not in standouts]
        if len({members[i].src_ip for i in crowd}) < config.CAMPAIGN_MIN_SOURCES:
            continue
        users = _pool([members[i].users for i in crowd], len(crowd))
        hosts = _pool([members[i].hosts for i in crowd], len(crowd))
        crowd = [i for i in crowd if _alike(members[i].users, users) and _alike(members[i].hosts, hosts)]
        if not crowd:
            continue
        names = tuple(members[crowd[0]].features)
        raw = np.array([list(members[i].features.values()) for i in crowd], dtype=np.float64)
        far = _beyond(raw, names)
        # A short session's rates swing widely (three tries in one minute is "3 per minute"):
        # only a session with some substance stands out by its features.
        far = [f if members[i].events >= config.CAMPAIGN_OUTLIER_MIN_EVENTS else None for i, f in zip(crowd, far)]
        notes.update((members[i].session_id, f) for i, f in zip(crowd, far) if f is not None)
        crowd = [i for i, f in zip(crowd, far) if f is None]
        for period in _periods(members, crowd):
            if len({members[i].src_ip for i in period}) < config.CAMPAIGN_MIN_SOURCES:
                continue
            X = np.stack([members[i].x for i in period])
            labels = _behaviour_groups(X)
            splits = int(labels.max()) + 1
            for lab in range(splits):
                part = [members[i] for i, lb in zip(period, labels) if lb == lab]
                if len({m.src_ip for m in part}) < config.CAMPAIGN_MIN_SOURCES:
                    continue
                for i, lb in zip(period, labels):
                    if lb == lab:
                        taken[i] = True
                out.append(Campaign(part, _reason(part, category, kind, users, hosts, lab, splits)))
    rest = [m for i, m in enumerate(members) if not taken[i]]
    return out, rest, notes


def _reason(part: list, category: str, kind: str, users: set[str], hosts: set[str], lab: int, splits: int) -> str:
    sources = len({m.src_ip for m in part})
    rules = Counter(r for m in part for r in m.rules)
    pattern = ", ".join(f"{r} ({c})" for r, c in rules.most_common(3))
    first = min(m.first_ts for m in part).strftime("%Y-%m-%d %H:%M")
    last = max(m.last_ts for m in part).strftime("%Y-%m-%d %H:%M")
    acct = ", ".join(sorted(users)[:6]) + (" ..." if len(users) > 6 else "")
    split = f"; behaviour group {lab + 1} of {splits} (HDBSCAN)" if splits > 1 else ""
    return (f"campaign: {sources} sources of {kind} sessions behaving alike ({category}: {pattern}), "
            f"on accounts from one pool of {len(users)} ({acct}) and {len(hosts)} hosts, "
            f"between {first} and {last}{split}; none stands out from the crowd's range")
