"""What a report shows, read from the case before any layout: ``gather`` turns one incident into a
plain ``ReportData`` with paged, aggregated SQL (never the whole events table)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine import config
from engine.counts import AuthCounts, auth_counts, grouped_sql
from store.case import Case
from store.rawblocks import RawLines
from store.queries import (
    incident,
    incident_commands,
    incident_event_filter,
    incident_timeline,
    latest_run_id,
)

# --- tunables (each with why) -------------------------------------------------------------------
# Commands and fetched files listed for a honeypot attacker: a session script is rarely longer,
# and a bot's hundred identical sessions say no more in full.
MAX_COMMAND_ROWS = 60

# Entity tables stop here and say how many were left out: a report is read, not grepped.
MAX_SOURCE_ROWS = 150
MAX_USER_ROWS = 100
MAX_HOST_ROWS = 50
# Representative raw lines: the first and last few show how it started and ended, an even
# sample of the middle shows what it looked like; everything else is counted, not printed.
RAW_HEAD = 25
RAW_TAIL = 25
RAW_SAMPLE = 50
# A logged line can be 1 MB; past this many characters it is cut and the rest counted.
RAW_MAX_CHARS = 1200
# Bars in the timeline chart: the TUI's slices too (engine.config).
TIMELINE_BUCKETS = config.TIMELINE_BUCKETS
# Longest entity name printed in a table cell (an attacker chooses usernames).
MAX_NAME_CHARS = 120


class ReportError(Exception):
    """A problem the user reads as one line: an unknown incident, a case with no analysis."""


@dataclass(frozen=True)
class ReportInfo:
    """A written report: which incident, where, how many pages, how long it took (seconds)."""

    incident_id: str
    path: str
    pages: int
    seconds: float


@dataclass
class ReportData:
    """Everything one report shows, read from the case before any layout."""

    incident: dict[str, Any]
    run_id: str
    case_name: str
    generated_at: datetime
    event_count: int
    sources: list[dict] = field(default_factory=list)
    sources_total: int = 0
    users: list[dict] = field(default_factory=list)
    users_total: int = 0
    hosts: list[dict] = field(default_factory=list)
    hosts_total: int = 0
    # The incident's failed attempts and the lines behind them (engine.counts).
    auth: AuthCounts | None = None
    # (bucket start, failure lines, success lines, other lines) and the bucket width in seconds
    timeline: list[tuple[datetime, int, int, int]] = field(default_factory=list)
    bucket_seconds: float = 0.0
    # (1-based position among the incident's events in time order, event fields)
    raw: list[tuple[int, dict]] = field(default_factory=list)
    details: dict | None = None
    # what attackers ran and fetched (honeypot sessions), in time order
    commands: list[dict] = field(default_factory=list)
    # The containment plan (engine.respond, as data) for an incident of the latest run; None otherwise.
    plan: dict | None = None

    def texts(self) -> list[str]:
        """Every string of log or model origin the report may print (for choosing fonts)."""
        inc = self.incident
        out = [self.case_name, self.run_id, str(inc.get("summary") or ""), str(inc.get("triage_note") or "")]
        out += [str(x) for x in (inc.get("users") or [])] + [str(x) for x in (inc.get("hosts") or [])]
        out += [str(x) for x in (inc.get("src_ips") or [])]
        for rows in (self.sources, self.users, self.hosts):
            out += [str(r.get("name") or r.get("src_ip") or "") for r in rows]
        out += [str(e.get("raw") or "") + str(e.get("source_file") or "") for _, e in self.raw]
        out += [str(c.get("command") or "") + str(c.get("url") or "") for c in self.commands]
        if self.details:
            for k in ("summary", "intent", "impact"):
                out.append(str(self.details.get(k) or ""))
            out += [str(s) for s in self.details.get("next_steps") or []]
        if self.plan:
            out += [s["why"] + str(s.get("host") or "") + "".join(c["shell"] for c in s["commands"])
                    for s in self.plan["steps"]]
            out += [e["address"] + e["reason"] for e in self.plan["excluded"]] + list(self.plan["notes"])
        out += [str(g.get("org") or "") for g in (inc.get("geo") or {}).values()]
        return out


# --- gather: the case -> ReportData ------------------------------------------------------------


def gather(case: Case, incident_id: str, run_id: str | None = None) -> ReportData:
    """Read one incident's report contents; ``ReportError`` if the run or incident is missing."""
    run_id = run_id or latest_run_id(case)
    if run_id is None:
        raise ReportError(f"case {case.path} has not been analysed yet: run vedette analyze --db {case.path}")
    inc = incident(case, incident_id, run_id)
    if inc is None:
        raise ReportError(f"no incident {incident_id} in run {run_id} of case {case.path} "
                          f"(vedette incidents --db {case.path} lists them)")
    where, params = incident_event_filter(case, incident_id, run_id)
    con = case.con

    def scalar(sql: str) -> int:
        return int(con.execute(sql, params).fetchall()[0][0] or 0)

    data = ReportData(
        incident=inc, run_id=run_id, case_name=Path(case.path).name, generated_at=datetime.now(timezone.utc),
        event_count=scalar(f"SELECT count(*) FROM events WHERE {where}"),
    )
    # Per entity: events, failed attempts (tries) and failure lines (see engine.counts), successes.
    data.sources = _rows(con.execute(grouped_sql(where, "src_ip", MAX_SOURCE_ROWS), params))
    data.sources_total = scalar(f"SELECT count(DISTINCT src_ip) FROM events WHERE {where}")
    data.users = _rows(con.execute(grouped_sql(where, '"user"', MAX_USER_ROWS), params))
    data.users_total = scalar(f"SELECT count(DISTINCT \"user\") FROM events WHERE {where}")
    data.hosts = _rows(con.execute(grouped_sql(where, "host", MAX_HOST_ROWS), params))
    data.hosts_total = scalar(f"SELECT count(DISTINCT host) FROM events WHERE {where}")
    data.auth = auth_counts(con, where, params)
    # The TUI's slices: the same call, so a peak reads the same in both.
    data.timeline = incident_timeline(case, incident_id, run_id, buckets=TIMELINE_BUCKETS, by_outcome=True)
    data.bucket_seconds = ((data.timeline[1][0] - data.timeline[0][0]).total_seconds()
                           if len(data.timeline) > 1 else 0.0)
    data.raw = _raw_sample(con, where, params, data.event_count)
    data.details = _summary_details(case, inc, run_id)
    data.commands = incident_commands(case, incident_id, run_id, limit=MAX_COMMAND_ROWS)
    data.plan = _containment(case, incident_id, run_id)
    return data


def _containment(case: Case, incident_id: str, run_id: str) -> dict | None:
    """The incident's containment plan as data, for the latest run (plans read its sessions)."""
    from engine import config, respond

    if run_id != latest_run_id(case):
        return None
    try:
        return respond.plan(case, incident_id, firewall=config.RESPOND_REPORT_FIREWALL).as_json()
    except respond.RespondError:
        return None


def _rows(cur) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def sample_positions(total: int, head: int = RAW_HEAD, tail: int = RAW_TAIL, sample: int = RAW_SAMPLE) -> list[int]:
    """Which of ``total`` time-ordered lines (1-based) the appendix prints: the first ``head``,
    the last ``tail`` and ``sample`` spread evenly over the middle."""
    if total <= head + tail + sample:
        return list(range(1, total + 1))
    picked = set(range(1, head + 1)) | set(range(total - tail + 1, total + 1))
    lo, hi = head + 1, total - tail  # the middle, inclusive
    step = (hi - lo + 1) / sample
    picked |= {lo + int(step * k + step / 2) for k in range(sample)}
    return sorted(picked)


def _raw_sample(con, where: str, params: dict, total: int) -> list[tuple[int, dict]]:
    positions = sample_positions(total)
    if not positions:
        return []
    rows = _rows(con.execute(
        f"WITH e AS (SELECT ts, source_file, line_no, source_id, raw_block, "
        f"row_number() OVER (ORDER BY ts, source_file, line_no) AS pos FROM events WHERE {where}) "
        f"SELECT * FROM e WHERE pos IN (SELECT unnest($positions)) ORDER BY pos",
        {**params, "positions": positions},
    ))
    # The lines come out of their blocks here, for the sampled rows only.
    RawLines(keep=len(rows)).fill(con, rows)
    for r in rows:
        raw = r.pop("raw") or ""
        del r["source_id"], r["raw_block"]
        r["raw"], r["raw_len"] = raw[:RAW_MAX_CHARS], len(raw)
    return [(int(r.pop("pos")), r) for r in rows]


def _summary_details(case: Case, inc: dict, run_id: str) -> dict | None:
    """The structured summary (intent, impact, next steps) where the summaries stage offers it.

    Optional enrichment: a report without it still has the stored summary and the checklist, so
    a failure here must not cost the analyst the report.
    """
    if not (inc.get("summary") or "").strip():
        return None
    try:
        from engine.summaries import summary_details
    except ImportError:
        return None
    try:
        return summary_details(case, inc["id"], run_id)
    except Exception:  # noqa: BLE001 - see the docstring: the stored summary is shown instead
        return None
