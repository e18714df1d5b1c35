"""Scoring a run against a ground-truth file (the shape ``sample_logs/generate.py`` writes).

Per planted attack: was it detected (an incident holds one of its sources), with the right
category, at or above the expected severity, and in how many incidents (a campaign should be
one). Then the false incidents: those none of whose sources belongs to any attack; an incident
made only of sources the truth lists as benign is the worst kind. ``background_noise`` incidents
are not counted as detections nor as false incidents: folding the noise is their job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.rules import SEVERITY_RANK


@dataclass(frozen=True)
class AttackResult:
    id: str
    category: str
    expected_severity: str
    detected: bool
    incidents: tuple[str, ...]
    categories: tuple[str, ...]
    severity: str | None
    category_ok: bool
    severity_ok: bool


@dataclass(frozen=True)
class Evaluation:
    attacks: tuple[AttackResult, ...]
    false_incidents: tuple[str, ...]
    benign_only_incidents: tuple[str, ...]
    incident_count: int

    @property
    def detected(self) -> int:
        return sum(a.detected for a in self.attacks)

    def as_json(self) -> dict:
        return {
            "attacks": [a.__dict__ | {"incidents": list(a.incidents), "categories": list(a.categories)}
                        for a in self.attacks],
            "detected": self.detected,
            "total": len(self.attacks),
            "category_ok": sum(a.category_ok for a in self.attacks),
            "severity_ok": sum(a.severity_ok for a in self.attacks),
            "false_incidents": list(self.false_incidents),
            "benign_only_incidents": list(self.benign_only_incidents),
            "incidents": self.incident_count,
        }


def load_truth(path: str | Path) -> dict:
    try:
        truth = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read ground truth {path}: {exc}") from None
    if not isinstance(truth, dict) or not isinstance(truth.get("attacks"), list):
        raise ValueError(f"{path} is not a ground-truth file: it needs an 'attacks' list")
    return truth


def evaluate(incidents: list[dict], truth: dict) -> Evaluation:
    attack_ips = {ip for a in truth["attacks"] for ip in a.get("src_ips", [])}
    benign_ips = {ip for b in truth.get("benign", []) for ip in b.get("src_ips", [])}
    real = [i for i in incidents if i["category"] != "background_noise"]
    results = []
    for a in truth["attacks"]:
        ips = set(a.get("src_ips", []))
        hit = [i for i in real if ips & set(i["src_ips"])]
        cats = tuple(sorted({i["category"] for i in hit}))
        sev = max((i["severity"] for i in hit), key=lambda s: SEVERITY_RANK[s], default=None)
        expected = a.get("severity", "medium")
        results.append(AttackResult(
            id=a.get("id", "?"), category=a["category"], expected_severity=expected, detected=bool(hit),
            incidents=tuple(i["id"] for i in hit), categories=cats, severity=sev,
            category_ok=a["category"] in cats,
            severity_ok=sev is not None and SEVERITY_RANK[sev] >= SEVERITY_RANK.get(expected, 2),
        ))
    false = tuple(i["id"] for i in real if not (set(i["src_ips"]) & attack_ips))
    benign_only = tuple(i["id"] for i in real if i["src_ips"] and set(i["src_ips"]) <= benign_ips)
    return Evaluation(tuple(results), false, benign_only, len(incidents))
