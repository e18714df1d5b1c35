"""Triage: the analyst's verdicts on incidents, their notes, and the patterns they suppress.

Verdicts are keyed by ``incidents.key`` (category, first source, first day), not by the per-run
id ``INC-0001``, so a label survives re-analysis of the same case. Suppressions are read by
``engine.analyze.apply_suppressions`` on the next run: a suppressed source, CIDR or account
(a CI deploy key, the office NAT) folds into benign instead of raising incidents again.
Everything binds its values as SQL parameters.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timezone

from store.case import Case

STATUSES: tuple[str, ...] = ("true_positive", "benign", "needs_review")
# Words for people (tables, help, notifications).
STATUS_LABELS: dict[str, str] = {
    "true_positive": "true positive",
    "benign": "benign",
    "needs_review": "needs review",
}
SUPPRESSION_KINDS: tuple[str, ...] = ("src_ip", "user", "cidr")
# A note longer than this is cut: a note is a sentence or two, not a paste of the log.
MAX_NOTE_CHARS = 4000


class TriageError(ValueError):
    """A verdict or suppression the store refuses (unknown status, malformed CIDR...)."""


@dataclass(frozen=True)
class Triage:
    """The analyst's verdict on one incident (across runs)."""

    incident_key: str
    status: str
    note: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class Suppression:
    """A pattern the next analysis folds into benign: ``kind`` is src_ip, user or cidr."""

    id: int
    kind: str
    value: str
    note: str | None
    created_at: datetime | None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def get(case: Case, incident_key: str) -> Triage | None:
    row = next(iter(case.con.execute(
        "SELECT incident_key, status, note, updated_at FROM triage WHERE incident_key = $k", {"k": incident_key}
    ).fetchall()), None)
    return Triage(*row) if row else None


def labels(case: Case) -> dict[str, Triage]:
    """Every verdict in the case, by incident key."""
    rows = case.con.execute("SELECT incident_key, status, note, updated_at FROM triage").fetchall()
    return {r[0]: Triage(*r) for r in rows}


def set_status(case: Case, incident_key: str, status: str) -> Triage:
    """Record a verdict (keeping any note)."""
    if status not in STATUSES:
        raise TriageError(f"unknown triage status {status!r} (one of {', '.join(STATUSES)})")
    if not incident_key:
        raise TriageError("this incident has no key (analysed by an older vedette): re-analyse the case")
    case.con.execute(
        "INSERT INTO triage VALUES ($k, $s, NULL, $t) "
        "ON CONFLICT (incident_key) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
        {"k": incident_key, "s": status, "t": _now()},
    )
    return get(case, incident_key)  # type: ignore[return-value]


def set_note(case: Case, incident_key: str, note: str) -> Triage:
    """Attach a note. An incident with a note but no verdict yet is marked needs_review: someone
    looked at it and has not decided."""
    if not incident_key:
        raise TriageError("this incident has no key (analysed by an older vedette): re-analyse the case")
    note = (note or "").strip()[:MAX_NOTE_CHARS] or None
    case.con.execute(
        "INSERT INTO triage VALUES ($k, 'needs_review', $n, $t) "
        "ON CONFLICT (incident_key) DO UPDATE SET note = excluded.note, updated_at = excluded.updated_at",
        {"k": incident_key, "n": note, "t": _now()},
    )
    return get(case, incident_key)  # type: ignore[return-value]


def clear(case: Case, incident_key: str) -> None:
    """Forget the verdict and note on an incident."""
    case.con.execute("DELETE FROM triage WHERE incident_key = $k", {"k": incident_key})


def normalise_suppression(kind: str, value: str) -> str:
    """The value as stored: stripped; a CIDR in canonical form. Raises TriageError when malformed."""
    if kind not in SUPPRESSION_KINDS:
        raise TriageError(f"unknown suppression kind {kind!r} (one of {', '.join(SUPPRESSION_KINDS)})")
    value = (value or "").strip()
    if not value:
        raise TriageError("nothing to suppress: the value is empty")
    if kind == "cidr":
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise TriageError(f"{value!r} is not a network (e.g. 198.51.100.0/24)") from None
    return value


def add_suppression(case: Case, kind: str, value: str, note: str | None = None) -> Suppression:
    """Suppress a source address, account or network from the next analysis on. Adding the same
    pattern twice returns the existing one."""
    value = normalise_suppression(kind, value)
    row = next(iter(case.con.execute(
        "SELECT id, kind, value, note, created_at FROM suppressions WHERE kind = $k AND value = $v",
        {"k": kind, "v": value},
    ).fetchall()), None)
    if row:
        return Suppression(*row)
    row = next(iter(case.con.execute(
        "INSERT INTO suppressions VALUES (nextval('suppressions_id_seq'), $k, $v, $n, $t) "
        "RETURNING id, kind, value, note, created_at",
        {"k": kind, "v": value, "n": (note or "").strip() or None, "t": _now()},
    ).fetchall()), None)
    return Suppression(*row)


def suppressions(case: Case) -> list[Suppression]:
    rows = case.con.execute("SELECT id, kind, value, note, created_at FROM suppressions ORDER BY id").fetchall()
    return [Suppression(*r) for r in rows]


def remove_suppression(case: Case, suppression_id: int) -> bool:
    """Stop suppressing; True when there was such a suppression."""
    row = next(iter(case.con.execute(
        "DELETE FROM suppressions WHERE id = $id RETURNING id", {"id": int(suppression_id)}
    ).fetchall()), None)
    return row is not None
