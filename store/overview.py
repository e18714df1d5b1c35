"""Queries behind the overview: case totals, incidents by category and severity, activity over
time per file or host, the busiest sources and accounts, the files read and the rejects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store import queries
from store.browse import BrowseError
from store.case import Case

@dataclass(frozen=True)
class CaseTotals:
    events: int
    files: int
    rejected: int
    skipped: int
    first_ts: datetime | None
    last_ts: datetime | None
    run_id: str | None
    run_finished: datetime | None
    run_seconds: float | None
    incidents: int
    suppressions: int
    triaged: int


def case_totals(case: Case) -> CaseTotals:
    con = case.con
    events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    files, rejected, skipped = con.execute(
        "SELECT count(*), coalesce(sum(rejected), 0), coalesce(sum(skipped), 0) FROM sources").fetchall()[0]
    first, last = con.execute("SELECT min(ts), max(ts) FROM events").fetchall()[0]
    run = next(iter(con.execute("SELECT run_id, finished_at, seconds FROM runs ORDER BY finished_at DESC, run_id DESC LIMIT 1"
                      ).fetchall()), None)
    run_id, finished, secs = run if run else (None, None, None)
    incidents = con.execute("SELECT count(*) FROM incidents WHERE run_id = $r", {"r": run_id}).fetchall()[0][0]
    supp = con.execute("SELECT count(*) FROM suppressions").fetchall()[0][0]
    triaged = con.execute(
        "SELECT count(*) FROM incidents i JOIN triage t ON t.incident_key = i.key WHERE i.run_id = $r",
        {"r": run_id}).fetchall()[0][0]
    return CaseTotals(int(events), int(files), int(rejected), int(skipped), first, last, run_id, finished, secs,
                      int(incidents), int(supp), int(triaged))


def incident_breakdown(case: Case, run_id: str | None = None) -> dict[str, dict[str, int]]:
    """Incident counts of a run by severity, by category and by triage status."""
    run_id = run_id or queries.latest_run_id(case)
    out: dict[str, dict[str, int]] = {"severity": {}, "category": {}, "triage": {}}
    if run_id is None:
        return out
    for dim, expr in (("severity", "i.severity"), ("category", "i.category"),
                      ("triage", "coalesce(t.status, 'untriaged')")):
        rows = case.con.execute(
            f"SELECT {expr}, count(*) FROM incidents i LEFT JOIN triage t ON t.incident_key = i.key "
            f"WHERE i.run_id = $r GROUP BY 1 ORDER BY 2 DESC, 1", {"r": run_id}).fetchall()
        out[dim] = {str(k): int(v) for k, v in rows}
    return out


@dataclass(frozen=True)
class Activity:
    """Events over time per group (source file or host): ``series[name]`` has ``buckets`` counts
    over [first, last]."""

    first: datetime | None
    last: datetime | None
    series: dict[str, list[int]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)


# A rotated set (auth.log, auth.log.1, auth.log.2.gz) is one log for the activity chart.
_ROTATION_SUFFIX = re.compile(r"(\.[0-9]{1,4})?(\.(gz|bz2|xz))?$|-[0-9]{8,10}(\.(gz|bz2|xz))?$")


def activity(case: Case, by: str = "source_file", buckets: int = 60, top: int = 8) -> Activity:
    """Events over time for the ``top`` busiest logs (a rotated set of files counts as one) or
    hosts, in one scan (grouped by the small integer source id; files are folded in Python)."""
    if by not in ("source_file", "host"):
        raise BrowseError(f"activity by {by!r}?")
    first, last = case.con.execute("SELECT min(ts), max(ts) FROM events").fetchall()[0]
    if first is None:
        return Activity(None, None)
    width = max((last - first).total_seconds() / max(1, buckets), 1e-6)
    group = "host" if by == "host" else "source_id"
    rows = case.con.execute(
        f"SELECT {group} AS g, least({int(buckets) - 1}, floor((epoch(ts) - epoch($lo)) / $w))::INT AS b, "
        f"count(*) FROM events WHERE ts IS NOT NULL GROUP BY ALL",
        {"lo": first, "w": width},
    ).fetchall()
    if by == "source_file":
        paths = dict(case.con.execute("SELECT id, path FROM sources").fetchall())
        name = {sid: _ROTATION_SUFFIX.sub("", paths.get(sid) or "?", count=1) for sid in {g for g, _, _ in rows}}
        rows = [(name[g], b, n) for g, b, n in rows]
    unknown = "(no host)" if by == "host" else "?"
    totals: dict[str, int] = {}
    for g, _, n in rows:
        g = unknown if g is None else str(g)
        totals[g] = totals.get(g, 0) + int(n)
    keep = sorted(totals, key=lambda g: (-totals[g], g))[:top]
    series = {g: [0] * int(buckets) for g in keep}
    for g, b, n in rows:
        g = unknown if g is None else str(g)
        if g in series:
            series[g][int(b)] += int(n)
    return Activity(first, last, series, {g: totals[g] for g in keep})


def top_sources(case: Case, limit: int = 8) -> list[dict[str, Any]]:
    cur = case.con.execute(
        "SELECT t.*, g.country, g.asn, g.org, g.scope FROM ("
        "SELECT src_ip, count(*) AS events, count(*) FILTER (outcome = 'failure') AS failures, "
        "count(*) FILTER (outcome = 'success') AS successes FROM events WHERE src_ip IS NOT NULL "
        f"GROUP BY src_ip ORDER BY events DESC, src_ip LIMIT {int(limit)}) t LEFT JOIN geo g ON g.ip = t.src_ip "
        "ORDER BY t.events DESC, t.src_ip")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def top_accounts(case: Case, limit: int = 8) -> list[dict[str, Any]]:
    cur = case.con.execute(
        "SELECT \"user\", count(*) AS events, count(*) FILTER (outcome = 'failure') AS failures, "
        "count(*) FILTER (outcome = 'success') AS successes, count(DISTINCT src_ip) AS sources FROM events "
        f"WHERE \"user\" IS NOT NULL GROUP BY \"user\" ORDER BY events DESC, \"user\" LIMIT {int(limit)}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def sources(case: Case) -> list[dict[str, Any]]:
    """The ingested files: path, format, events, rejected, skipped, status."""
    cur = case.con.execute(
        "SELECT path, format, lines_read, events, rejected, skipped, status, note, ingested_at FROM sources ORDER BY path")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def reject_reasons(case: Case) -> list[tuple[str, int]]:
    return [(str(r), int(n)) for r, n in case.con.execute(
        "SELECT coalesce(reason, '?'), count(*) FROM rejects GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()]


def rejects(case: Case, *, offset: int = 0, limit: int = 500) -> list[dict[str, Any]]:
    cur = case.con.execute(
        "SELECT source_file, line_no, reason, raw FROM rejects ORDER BY source_file, line_no "
        f"LIMIT {int(limit)} OFFSET {int(offset)}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]
