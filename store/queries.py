"""Read-side queries the TUI, the reports and the command line share.

Everything pages in DuckDB (``LIMIT/OFFSET`` over an ordered query) and binds values as
parameters; nothing loads the events table into memory.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from store.case import Case


def latest_run_id(case: Case) -> str | None:
    row = next(iter(case.con.execute("SELECT run_id FROM runs ORDER BY finished_at DESC, run_id DESC LIMIT 1").fetchall()), None)
    return row[0] if row else None


# The tables the SQL console lists first (the rest follow by name; ev_* are the events view's parts).
SCHEMA_FIRST = ("events", "incidents", "sessions", "runs", "sources", "rejects", "triage", "suppressions")


def case_schema(case: Case) -> dict[str, list[tuple[str, str]]]:
    """Every table and view of the case with its columns and their types, in column order: the
    analyst's tables first (``SCHEMA_FIRST``), then the rest by name."""
    rows = case.con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_catalog = current_database() "
        "ORDER BY table_name, ordinal_position").fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, typ in rows:
        tables.setdefault(str(table), []).append((str(column), str(typ)))
    order = [t for t in SCHEMA_FIRST if t in tables] + sorted(t for t in tables if t not in SCHEMA_FIRST)
    return {t: tables[t] for t in order}


def _rows(cur) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def incident(case: Case, incident_id: str, run_id: str | None = None) -> dict[str, Any] | None:
    """One incident of a run (the latest by default), with its triage label, or None."""
    run_id = run_id or latest_run_id(case)
    if run_id is None:
        return None
    rows = _rows(case.con.execute(
        "SELECT i.*, t.status AS triage_status, t.note AS triage_note FROM incidents i "
        "LEFT JOIN triage t ON t.incident_key = i.key WHERE i.run_id = $run AND i.id = $id",
        {"run": run_id, "id": incident_id},
    ))
    if not rows:
        return None
    inc = rows[0]
    inc["top_features"] = json.loads(inc["top_features"] or "[]")
    inc["geo"] = geo(case, inc.get("src_ips") or [])
    return inc


def geo(case: Case, ips: list[str]) -> dict[str, dict[str, Any]]:
    """The stored enrichment of ``ips`` (see engine.enrich), in the JSON contract's shape."""
    if not ips:
        return {}
    rows = case.con.execute(
        "SELECT ip, country, asn, org, scope FROM geo WHERE ip IN (SELECT unnest($ips))", {"ips": list(ips)}
    ).fetchall()
    return {r[0]: {"country": r[1], "asn": r[2] or 0, "org": r[3], "scope": r[4]} for r in rows}


def incident_sessions(case: Case, incident_id: str, run_id: str | None = None) -> list[dict[str, Any]]:
    """The sessions an incident is made of, riskiest first."""
    run_id = run_id or latest_run_id(case)
    rows = _rows(case.con.execute(
        "SELECT session_id, kind, src_ip, users, hosts, first_ts, last_ts, events, risk, severity, category, "
        "rules, techniques, anomaly, features, top_features FROM sessions WHERE run_id = $run AND incident_id = $id "
        "ORDER BY risk DESC, first_ts",
        {"run": run_id, "id": incident_id},
    ))
    for r in rows:
        r["features"] = json.loads(r["features"] or "{}")
        r["top_features"] = json.loads(r["top_features"] or "[]")
    return rows


# Which events belong to a session kind (the same filters engine.sessions uses).
_KIND_FILTER = {
    "ssh_source": "((program LIKE 'sshd%' AND format IN ('syslog', 'journald')) OR format = 'cowrie' "
                  "OR (format = 'auditd' AND action = 'auth_password' AND program LIKE 'sshd%') "
                  "OR (format = 'utmp' AND action IN ('auth_failure', 'login')))",
    "web": "action = 'http_request'",
    "web_login": "action = 'http_request'",
    "flow": "((format = 'zeek' AND action = 'conn') OR (format = 'suricata' AND action = 'flow'))",
    "beacon": "((format = 'zeek' AND action = 'conn') OR (format = 'suricata' AND action = 'flow'))",
    "ids": "action = 'alert'",
}


# The event columns ``incident_scope``'s condition reads (for queries that select from a narrower
# relation than the whole ``events`` view).
SCOPE_COLUMNS = ("program", "format", "action", "src_ip", "ts")


@dataclass(frozen=True)
class IncidentScope:
    """Which events belong to an incident: ``where`` (with ``params``) selects them; ``first`` and
    ``last`` are the span they cover (its member sessions' span, no scan of the events needed)."""

    where: str
    params: dict[str, Any]
    first: datetime | None
    last: datetime | None


# A run's sessions never change once it is stored (a new analysis is a new run), so an incident's
# scope is kept per run: the TUI asks for it for every page, count and timeline of an incident.
_SCOPES: OrderedDict[tuple[str, str, str], IncidentScope] = OrderedDict()
_SCOPES_KEPT = 64
_SCOPES_LOCK = threading.Lock()


def incident_scope(case: Case, incident_id: str, run_id: str | None = None) -> IncidentScope:
    """The events of an incident of a run (the latest by default): each member session's source,
    kind and span."""
    run_id = run_id or latest_run_id(case)
    if run_id is None:
        return IncidentScope("FALSE", {}, None, None)
    key = (case.path, run_id, incident_id)
    with _SCOPES_LOCK:
        scope = _SCOPES.get(key)
        if scope is not None:
            _SCOPES.move_to_end(key)
            return scope
    members = case.con.execute(
        "SELECT kind, src_ip, first_ts, last_ts FROM sessions WHERE run_id = $run AND incident_id = $id",
        {"run": run_id, "id": incident_id},
    ).fetchall()
    # Group members per kind: one IN-list of sources and the overall span keep the SQL small
    # even for a campaign of thousands of sessions.
    by_kind: dict[str, tuple[set[str], datetime, datetime]] = {}
    for kind, ip, first, last in members:
        if ip is None or kind not in _KIND_FILTER:
            continue
        ips, lo, hi = by_kind.get(kind, (set(), first, last))
        ips.add(ip)
        by_kind[kind] = (ips, min(lo, first), max(hi, last))
    parts, params = [], {}
    for n, (kind, (ips, lo, hi)) in enumerate(sorted(by_kind.items())):
        parts.append(f"({_KIND_FILTER[kind]} AND src_ip IN (SELECT unnest($ips{n})) AND ts BETWEEN $lo{n} AND $hi{n})")
        params.update({f"ips{n}": sorted(ips), f"lo{n}": lo, f"hi{n}": hi})
    if not parts:
        scope = IncidentScope("FALSE", {}, None, None)
    else:
        scope = IncidentScope("(" + " OR ".join(parts) + ")", params, min(lo for _, lo, _ in by_kind.values()),
                              max(hi for _, _, hi in by_kind.values()))
    with _SCOPES_LOCK:
        _SCOPES[key] = scope
        while len(_SCOPES) > _SCOPES_KEPT:
            _SCOPES.popitem(last=False)
    return scope


def incident_event_filter(case: Case, incident_id: str, run_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """SQL condition (and its parameters, a dict of the caller's own) selecting an incident's raw
    events."""
    scope = incident_scope(case, incident_id, run_id)
    return scope.where, dict(scope.params)


def incident_event_count(case: Case, incident_id: str, run_id: str | None = None) -> int:
    where, params = incident_event_filter(case, incident_id, run_id)
    return case.con.execute(f"SELECT count(*) FROM events WHERE {where}", params).fetchall()[0][0]


def commands_sql(where: str) -> str:
    """A SELECT (ts, src_ip, session, action, command, url, file_hash, source_file, line_no) of
    what attackers ran and fetched among the events ``where`` selects: Cowrie commands, downloads
    and uploads, and the audit log's commands (EXECVE, sudo) in the login sessions those sources
    opened (audit ``ses``). Log text: show it escaped."""
    return f"""
    SELECT ts, src_ip, session, action, command, url, file_hash, source_file, line_no FROM events
    WHERE ({where}) AND action IN ('command_input', 'session_file_download', 'session_file_upload')
    UNION ALL
    SELECT a.ts, l.src_ip, a.session, a.action, a.command, NULL, NULL, a.source_file, a.line_no
    FROM events a JOIN (
        SELECT DISTINCT source_id, session, src_ip, min(ts) AS since FROM events
        WHERE format = 'auditd' AND action = 'user_login' AND outcome = 'success' AND session IS NOT NULL
          AND src_ip IN (SELECT src_ip FROM events WHERE ({where}))
        GROUP BY ALL
    ) l ON a.source_id = l.source_id AND a.session = l.session AND a.ts >= l.since
    WHERE a.format = 'auditd' AND a.action IN ('execve', 'user_cmd') AND a.command IS NOT NULL"""


def incident_commands(case: Case, incident_id: str, run_id: str | None = None, limit: int = 200) -> list[dict]:
    """What an incident's attackers ran and fetched (``commands_sql``), in time order: ts, src_ip,
    session, action, command, url, file_hash. Log text: show it escaped."""
    where, params = incident_event_filter(case, incident_id, run_id)
    return _rows(case.con.execute(
        f"SELECT ts, src_ip, session, action, command, url, file_hash FROM ({commands_sql(where)}) "
        f"ORDER BY ts, source_file, line_no LIMIT {int(limit)}",
        params,
    ))


def incident_sources(case: Case, incident_id: str, run_id: str | None = None, limit: int = 500) -> list[dict]:
    """Per source address: events, failed attempts, successes, accounts tried, first/last seen."""
    where, params = incident_event_filter(case, incident_id, run_id)
    return _rows(case.con.execute(
        f"SELECT src_ip, count(*) AS events, count(*) FILTER (outcome = 'failure') AS failures, "
        f"count(*) FILTER (outcome = 'success') AS successes, count(DISTINCT \"user\") AS users, "
        f"min(ts) AS first_seen, max(ts) AS last_seen FROM events WHERE {where} "
        f"GROUP BY src_ip ORDER BY events DESC, src_ip LIMIT {int(limit)}",
        params,
    ))


def incident_timeline(case: Case, incident_id: str, run_id: str | None = None, buckets: int = 48,
                      by_outcome: bool = False) -> list[tuple]:
    """Event counts in ``buckets`` equal slices of the incident's span (one slice when the span has
    no length): ``(slice start, events)``, or with ``by_outcome`` ``(slice start, failure lines,
    success lines, other lines)``. The TUI's sparkline and the PDF's chart both call this with
    ``engine.config.TIMELINE_BUCKETS``, so their slices and peaks are the same."""
    scope = incident_scope(case, incident_id, run_id)
    if scope.first is None or scope.last is None:
        return []
    lo, hi = scope.first, scope.last
    span = (hi - lo).total_seconds()
    buckets = int(buckets) if span > 0 else 1
    width = timeline_width(lo, hi, buckets)
    rows = case.con.execute(
        f"SELECT least({buckets - 1}, floor((epoch(ts) - epoch($lo)) / $w))::INT AS b, "
        f"count(*) FILTER (outcome = 'failure'), count(*) FILTER (outcome = 'success'), count(*) "
        f"FROM events WHERE {scope.where} GROUP BY b ORDER BY b",
        {**scope.params, "lo": lo, "w": width},
    ).fetchall()
    counts = {b: (f, s, n) for b, f, s, n in rows}
    out: list[tuple] = []
    for i in range(buckets):
        f, s, n = counts.get(i, (0, 0, 0))
        start = lo + timedelta(seconds=i * width)
        out.append((start, int(f), int(s), int(n - f - s)) if by_outcome else (start, int(n)))
    return out


def timeline_width(first: datetime, last: datetime, buckets: int) -> float:
    """Seconds one of ``buckets`` slices of [first, last] covers (``incident_timeline``'s slices)."""
    return max((last - first).total_seconds() / max(1, buckets), 1e-6)
