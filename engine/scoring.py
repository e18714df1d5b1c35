"""Scoring: detection rules (SQL) plus an IsolationForest per session kind -> risk and severity.

A rule hit gives a session its category, ATT&CK technique and a base risk by severity; the
forest's anomaly score (0.5 ordinary, towards 1 isolated) adds up to ``ANOMALY_RISK_WEIGHT``.
A session with no rule hit but a very isolated profile becomes an ``anomaly``; the internet's
background of sources with a handful of failures becomes ``background_noise``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np

from engine import config
from engine.rules import (ANOMALY_ELIGIBLE, BACKGROUND_WHEN, BRUTE_FAMILY, SEVERITY_BASE_RISK, SEVERITY_RANK,
                          rules_for)
from engine.sessions import FEATURES


@dataclass
class KindScores:
    """Scores of one session kind, row-aligned with ``session_ids``.

    X: the (log-scaled) feature matrix the forest saw; raw: the features as computed;
    model: the fitted IsolationForest, or None where the kind had too few sessions.
    """

    kind: str
    session_ids: list[str]
    raw: np.ndarray
    X: np.ndarray
    anomaly: np.ndarray
    rules: list[list[str]]
    background: np.ndarray
    events: np.ndarray
    model: object | None = None
    eligible: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    risk: np.ndarray = field(default_factory=lambda: np.zeros(0))
    severity: list[str] = field(default_factory=list)
    category: list[str | None] = field(default_factory=list)
    techniques: list[list[str]] = field(default_factory=list)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return FEATURES[self.kind]


def _rule_hits(con: duckdb.DuckDBPyConnection, kind: str):
    """Per session (ordered by id): rule ids hit, background flag, anomaly eligibility, events."""
    rules = rules_for(kind)
    hits = ", ".join(f"CASE WHEN ({r.when}) THEN '{r.id}' END" for r in rules) or "NULL"
    # Column-wise: a row-wise fetch of tens of thousands of sessions costs seconds.
    got = con.execute(
        f"SELECT session_id, list_filter([{hits}], lambda x: x IS NOT NULL) AS hits, "
        f"coalesce(({BACKGROUND_WHEN[kind]}), false) AS bg, "
        f"coalesce(({ANOMALY_ELIGIBLE[kind]}), false) AS eligible, events FROM feat_{kind} ORDER BY session_id"
    ).fetchnumpy()
    return (got["session_id"].tolist(), [[] if h is None else h.tolist() for h in got["hits"]],
            np.asarray(got["bg"], dtype=bool), np.asarray(got["eligible"], dtype=bool),
            np.asarray(got["events"], dtype=np.int64))


def score_kind(con: duckdb.DuckDBPyConnection, kind: str, model: object | None = None,
               fit: bool = True) -> KindScores:
    """Score ``feat_<kind>``: with a forest fitted here, or with ``model`` (one fitted earlier on
    the case: a live follow scores its new sessions against the run's models; ``fit=False``
    fits none where the run had none)."""
    names = FEATURES[kind]
    ids, hits, bg, eligible, events = _rule_hits(con, kind)
    cols = ", ".join(f"coalesce({n}, 0)::DOUBLE" for n in names)
    got = con.execute(f"SELECT {cols} FROM feat_{kind} ORDER BY session_id").fetchnumpy()
    raw = np.column_stack([np.asarray(v, dtype=np.float64) for v in got.values()]) if len(ids) else \
        np.zeros((0, len(names)))
    # Counts are heavy-tailed: the forest splits on log scale so 10 vs 1000 attempts is not
    # dwarfed by 10,000 vs 100,000.
    X = np.sign(raw) * np.log1p(np.abs(raw))
    anomaly = np.full(len(ids), 0.5)
    if model is not None:
        if len(ids):
            anomaly = -model.score_samples(X)
    elif fit and len(ids) >= config.MIN_SESSIONS_FOR_MODEL:
        from sklearn.ensemble import IsolationForest

        model = IsolationForest(
            n_estimators=config.ISOLATION_TREES,
            max_samples=min(config.ISOLATION_MAX_SAMPLES, len(ids)),
            random_state=config.RANDOM_SEED,
        ).fit(X)
        anomaly = -model.score_samples(X)
    ks = KindScores(kind, ids, raw, X, anomaly, hits, bg, events, model, eligible=eligible)
    _assign(ks)
    return ks


def _assign(ks: KindScores) -> None:
    from engine.rules import by_id

    n = len(ks.session_ids)
    risk = np.zeros(n, dtype=np.int64)
    bump = np.clip((ks.anomaly - 0.5) / 0.5, 0.0, 1.0) * config.ANOMALY_RISK_WEIGHT
    for i in range(n):
        hits = [by_id(h) for h in ks.rules[i]]
        if hits:
            top = max(hits, key=lambda r: SEVERITY_RANK[r.severity])
            sev = top.severity
            base = SEVERITY_BASE_RISK[sev]
            cap = 100 if sev == "critical" else SEVERITY_BASE_RISK[_next(sev)] - 1
            risk[i] = min(cap, base + int(round(bump[i])))
            ks.severity.append(sev)
            ks.category.append(_category(top, hits))
            ks.techniques.append(_techniques(hits))
        elif ks.background[i]:  # the internet's usual noise, however odd one source looks
            risk[i] = 10
            ks.severity.append("low")
            ks.category.append("background_noise")
            ks.techniques.append(["T1110"])
        elif ks.model is not None and ks.eligible[i] and ks.anomaly[i] >= config.ANOMALY_ONLY_MIN_SCORE and \
                ks.events[i] >= config.ANOMALY_ONLY_MIN_EVENTS:
            span = (ks.anomaly[i] - config.ANOMALY_ONLY_MIN_SCORE) / max(1e-9, 1 - config.ANOMALY_ONLY_MIN_SCORE)
            risk[i] = int(round(25 + 35 * min(1.0, span)))
            ks.severity.append(severity_for_risk(int(risk[i])))
            ks.category.append("anomaly")
            ks.techniques.append([])
        else:
            risk[i] = int(round(bump[i]))
            ks.severity.append("info")
            ks.category.append(None)
            ks.techniques.append([])
    ks.risk = risk


def _category(top, hits) -> str:
    """The top rule's category; a success keeps the category of the attack it ended (spraying
    that got in is still spraying), its own where nothing else fired."""
    if not top.compromise:
        return top.category
    family = [r for r in hits if not r.compromise and r.category in BRUTE_FAMILY]
    return max(family, key=lambda r: SEVERITY_RANK[r.severity]).category if family else top.category


def _techniques(hits) -> list[str]:
    """Every technique the hits name; a success's own guess at how it got in (T1110.001) gives
    way to what another rule saw (spraying, stuffing)."""
    seen = {t for r in hits if not r.compromise for t in (r.technique, *r.also) if t}
    out = set(seen)
    for r in hits:
        if r.compromise:
            out.update(r.also)
            if r.technique and not any(t.startswith("T1110") for t in seen):
                out.add(r.technique)
    return sorted(out)


def _next(sev: str) -> str:
    order = ("info", "low", "medium", "high", "critical")
    return order[min(len(order) - 1, order.index(sev) + 1)]


def severity_for_risk(risk: int) -> str:
    if risk >= 90:
        return "critical"
    if risk >= 70:
        return "high"
    if risk >= 45:
        return "medium"
    if risk >= 20:
        return "low"
    return "info"


def score(con: duckdb.DuckDBPyConnection, models: dict[str, object] | None = None) -> dict[str, KindScores]:
    """Score every kind that has features (``engine.sessions.build`` must have run).

    ``models``: the fitted forests of an earlier run, by kind, to score with instead of fitting
    (a kind that had none stays without one).
    """
    if models is None:
        return {kind: score_kind(con, kind) for kind in FEATURES}
    return {kind: score_kind(con, kind, models.get(kind), fit=False) for kind in FEATURES}
