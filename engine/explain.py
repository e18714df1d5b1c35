"""Explanations: SHAP TreeExplainer on each kind's IsolationForest, for the sessions that matter.

SHAP values of an IsolationForest explain its path length: negative means "isolated sooner",
i.e. more anomalous. We report ``contribution = -shap`` normalised so a session's contributions'
absolute values sum to 1: a positive contribution of 0.4 means this feature accounts for 40% of
why the session stands out. Only the top sessions are explained (it costs milliseconds a row).
"""

from __future__ import annotations

import numpy as np

from engine import config
from engine.scoring import KindScores

# Feature names in plain words, for the TUI and the PDF.
PLAIN_NAMES: dict[str, str] = {
    # "attempts" are tries, not log lines (see engine.counts).
    "failed_attempts": "failed attempts",
    "failed_per_min": "failed attempts per minute",
    "failed_auth_ratio": "share of attempts that failed",
    "distinct_users": "different accounts tried",
    "distinct_invalid_users": "non-existent accounts tried",
    "distinct_hosts": "servers targeted",
    "successes": "successful logins",
    "success_after_failures": "success after failures",
    "failures_before_success": "failed attempts before the success",
    "interval_mean_s": "mean seconds between attempts",
    "interval_cv": "irregularity of the timing (low = machine-like)",
    "off_hours_share": "share at unusual hours",
    "new_source_logins": "logins from a never-seen source",
    "unusual_method_logins": "logins by an unusual method",
    "max_sources_per_user": "sources attacking the same account",
    "preauth_noise": "connections dropped before login",
    "duration_min": "duration (minutes)",
    "honeypot_logins": "logins to a honeypot",
    "commands": "commands run in the session",
    "downloads": "files downloaded or uploaded",
    "requests": "requests",
    "requests_per_min": "requests per minute",
    "distinct_paths": "distinct paths requested",
    "status_4xx_share": "share of 4xx errors",
    "status_5xx_share": "share of 5xx errors",
    "sensitive_path_hits": "requests for sensitive paths",
    "injection_hits": "requests with injection payloads",
    "tool_user_agent": "attack-tool user agent",
    "crawler_user_agent": "crawler user agent",
    "empty_user_agent": "empty user agent",
    "post_share": "share of POST requests",
    "flows": "connections",
    "distinct_dst_ips": "distinct destination hosts",
    "distinct_dst_ports": "distinct destination ports",
    "failed_conn_share": "share of unanswered connections",
    "src_mbytes": "MB sent",
    "dst_mbytes": "MB received",
    "mean_duration_s": "mean connection seconds",
    "connections": "connections",
    "span_h": "hours active",
    "alerts": "IDS alerts",
    "distinct_signatures": "distinct IDS signatures",
    "max_severity": "highest IDS severity (3 = high)",
    "bruteforce_alerts": "IDS brute-force alerts",
    "scan_alerts": "IDS scan alerts",
    "exploit_alerts": "IDS exploit alerts",
    "trojan_alerts": "IDS malware alerts",
}


def plain(name: str) -> str:
    return PLAIN_NAMES.get(name, name.replace("_", " "))


def explain(scores: dict[str, KindScores], budget: int = config.SHAP_MAX_SESSIONS) -> dict[str, list[dict]]:
    """Top feature contributions for the riskiest flagged sessions: ``{session_id: [{name, value,
    contribution}]}``. Sessions of a kind without a forest get none."""
    picked: list[tuple[int, str, int]] = []
    for kind, ks in scores.items():
        if ks.model is None:
            continue
        for i, cat in enumerate(ks.category):
            if cat is not None:
                picked.append((int(ks.risk[i]), kind, i))
    picked.sort(key=lambda t: (-t[0], t[1], t[2]))
    picked = picked[:budget]
    by_kind: dict[str, list[int]] = {}
    for _, kind, i in picked:
        by_kind.setdefault(kind, []).append(i)
    out: dict[str, list[dict]] = {}
    if not by_kind:
        return out
    import shap

    for kind, rows in by_kind.items():
        ks = scores[kind]
        explainer = shap.TreeExplainer(forest_as_shap_model(ks.model))
        values = np.asarray(explainer.shap_values(ks.X[rows]))
        contrib = -values
        norm = np.abs(contrib).sum(axis=1, keepdims=True)
        norm[norm == 0] = 1.0
        contrib = contrib / norm
        names = ks.feature_names
        for j, i in enumerate(rows):
            order = np.argsort(-contrib[j])[: config.TOP_FEATURES]
            out[ks.session_ids[i]] = [
                {"name": names[k], "value": round(float(ks.raw[i, k]), 4), "contribution": round(float(contrib[j, k]), 4)}
                for k in order if contrib[j, k] > 0
            ]
    return out


def _average_path_length(n: np.ndarray) -> np.ndarray:
    """Expected path length of an unsuccessful search in a binary search tree of n points: what an
    isolation tree adds for the points left in a leaf (Liu et al., 2008; sklearn's formula)."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def forest_as_shap_model(forest) -> dict:
    """A fitted IsolationForest as SHAP's generic tree-ensemble dict.

    It is what ``shap.TreeExplainer(forest)`` builds itself (each node's value is the mean path
    length of the training points under it: a leaf's depth plus the average path length of the
    points it holds), computed with arrays: shap's own conversion calls sklearn's validated
    ``_average_path_length`` once per leaf and spends seconds on a 100-tree forest.
    """
    trees = []
    scaling = 1.0 / len(forest.estimators_)  # the forest's output is the mean over its trees
    for est, feats in zip(forest.estimators_, forest.estimators_features_):
        t = est.tree_
        left = t.children_left.astype(np.int32)
        right = t.children_right.astype(np.int32)
        n = t.n_node_samples.astype(np.float64)
        count = len(left)
        depth = np.zeros(count, dtype=np.int64)
        for i in range(count):  # sklearn numbers a parent before its children
            if left[i] >= 0:
                depth[left[i]] = depth[right[i]] = depth[i] + 1
        leaf = left < 0
        total = np.where(leaf, (depth + _average_path_length(n)) * n, 0.0)
        for i in range(count - 1, -1, -1):  # children before their parent
            if not leaf[i]:
                total[i] = total[left[i]] + total[right[i]]
        values = (total / n).reshape(-1, 1) * scaling
        features = t.feature.astype(np.int64)
        trees.append({
            "children_left": left,
            "children_right": right,
            "children_default": left,
            "features": np.where(features >= 0, np.asarray(feats)[np.maximum(features, 0)], features),
            "thresholds": t.threshold.astype(np.float64),
            "values": values,
            "node_sample_weight": t.weighted_n_node_samples.astype(np.float64),
        })
    return {"trees": trees, "tree_output": "raw_value", "input_dtype": np.float32, "internal_dtype": np.float64}


def aggregate(per_session: list[list[dict]], top: int = config.TOP_FEATURES) -> list[dict]:
    """An incident's top features: mean contribution over its explained sessions, with the mean value."""
    sums: dict[str, list[float]] = {}
    n = 0
    for feats in per_session:
        if not feats:
            continue
        n += 1
        for f in feats:
            s = sums.setdefault(f["name"], [0.0, 0.0, 0])
            s[0] += f["contribution"]
            s[1] += f["value"]
            s[2] += 1
    if not n:
        return []
    rows = [
        {"name": name, "value": round(v[1] / v[2], 4), "contribution": round(v[0] / n, 4)}
        for name, v in sums.items()
    ]
    rows.sort(key=lambda r: -r["contribution"])
    return rows[:top]
