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
    "failed_attempts": "failed login attempts",
    "failed_per_min": "failed attempts per minute",
    "failed_auth_ratio": "share of attempts that failed",
    "distinct_users": "different accounts tried",
    "distinct_invalid_users": "non-existent accounts tried",
    "distinct_hosts": "servers targeted",
    "successes": "successful logins",
    "success_after_failures": "success after failures",
    "failures_before_success": "failures before the success",
    "interval_mean_s": "mean seconds between attempts",
    "interval_cv": "irregularity of the timing (low = machine-like)",
    "off_hours_share": "share at unusual hours",
    "new_source_logins": "logins from a never-seen source",
    "unusual_method_logins": "logins by an unusual method",
    "max_sources_per_user": "sources attacking the same account",
    "preauth_noise": "connections dropped before login",
    "duration_min": "duration (minutes)",
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
        explainer = shap.TreeExplainer(ks.model)
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
