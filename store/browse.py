"""Queries behind the events browser and the incident list (the overview's are in ``store.overview``,
the SQL console's and export's in ``store.console``).

The events browser pages with a keyset on ``(ts, source_file, line_no)``: a page after (or
before) a row is a bounded ``ORDER BY ... LIMIT`` that DuckDB answers from the row groups near
that time (its top-N filter pushdown and zone maps), so the 1,000th page costs what the first
does and nothing ever loads the table. Rows whose time the log masked (``ts IS NULL``) come last,
ordered by file and line. Values are bound as parameters; field names are checked against the
schema before they reach SQL.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from store import queries, rawblocks
from store.case import Case
from store.schema import DERIVED_EVENT_COLUMNS, EVENT_COLUMN_NAMES, EVENT_COLUMN_TYPES, EVENT_TABLES

# Columns the browser shows, in order; the rest are in the event's detail view.
BROWSE_COLUMNS: tuple[str, ...] = (
    "ts", "host", "program", "action", "outcome", "src_ip", "user", "method", "path", "status", "message",
    "source_file", "line_no",
)
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # info 0 .. critical 4
FILTER_OPS: tuple[str, ...] = ("!=", ">=", "<=", "=", "~", ">", "<")
# Time windows a backward page looks in before giving up on pruning: 1 min, 8 min, ... ~4 years.
BACKWARD_PROBES = 9
# Windows a forward page looks in when told how much time the page before it covered: twice
# that, then 8 and 64 times more, then no bound.
FORWARD_PROBES = 3
_FIELD_TOKEN = re.compile(r"^([A-Za-z_]+)(!=|>=|<=|=|~|>|<)(.*)$", re.S)


class BrowseError(ValueError):
    """A filter or statement the user typed that cannot run (one line, shown as a notification)."""


# --- filters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldFilter:
    """``column op value``; op is one of ``= != ~ > < >= <=`` (``~`` = contains, any case).
    An empty value with ``=`` / ``!=`` means IS NULL / IS NOT NULL."""

    column: str
    op: str
    value: str

    def __str__(self) -> str:
        v = self.value
        return f"{self.column}{self.op}{shlex.quote(v) if (not v or any(c.isspace() for c in v)) and v else v}"


@dataclass(frozen=True)
class EventFilter:
    """What the events browser shows: free text (matched in the raw line, any case), field
    conditions, and optionally only one incident's events (of the latest run)."""

    text: str = ""
    fields: tuple[FieldFilter, ...] = ()
    incident_id: str | None = None
    run_id: str | None = None

    @property
    def empty(self) -> bool:
        return not self.text and not self.fields and self.incident_id is None

    def describe(self) -> str:
        parts = []
        if self.incident_id:
            parts.append(f"incident {self.incident_id}")
        parts.extend(str(f) for f in self.fields)
        if self.text:
            parts.append(repr(self.text))
        return " and ".join(parts) if parts else "all events"

    def as_text(self) -> str:
        """The filter as the user would type it (round-trips through ``parse_filter``)."""
        parts = [str(f) for f in self.fields]
        if self.text:
            parts.append(shlex.quote(self.text) if any(c.isspace() for c in self.text) else self.text)
        return " ".join(parts)

    def with_range(self, start: datetime | None, end: datetime | None) -> EventFilter:
        """The same filter over ``[start, end]`` only (either open when None); any time condition
        it had is replaced."""
        kept = tuple(f for f in self.fields if f.column != "ts")
        bounds = tuple(FieldFilter("ts", op, t.isoformat()) for op, t in ((">=", start), ("<=", end)) if t is not None)
        return EventFilter(self.text, kept + bounds, self.incident_id, self.run_id)

    def time_range(self) -> tuple[str | None, str | None]:
        """The filter's time bounds as typed (``ts>=`` / ``ts<=`` values), None where open."""
        lo = next((f.value for f in self.fields if f.column == "ts" and f.op in (">=", ">")), None)
        hi = next((f.value for f in self.fields if f.column == "ts" and f.op in ("<=", "<")), None)
        return lo, hi

    def with_field(self, column: str, op: str, value: str) -> EventFilter:
        kept = tuple(f for f in self.fields if f.column != column)
        return EventFilter(self.text, kept + (_check_field(column, op, value),), self.incident_id, self.run_id)


def _check_field(column: str, op: str, value: str) -> FieldFilter:
    if column not in EVENT_COLUMN_NAMES:
        raise BrowseError(f"no event field {column!r}")
    if op not in FILTER_OPS:
        raise BrowseError(f"unknown operator {op!r}")
    return FieldFilter(column, op, value)


def parse_filter(text: str, *, incident_id: str | None = None, run_id: str | None = None) -> EventFilter:
    """``user=root src_ip~45.155 status>=500 failed password`` -> field conditions plus free text.

    A token ``name<op>value`` whose name is an event column is a field condition; anything else
    (an IP, a word, ``a=b`` for a non-column) is free text. Quotes group words.
    """
    try:
        tokens = shlex.split(text)
    except ValueError:
        tokens = text.split()
    fields: list[FieldFilter] = []
    words: list[str] = []
    for tok in tokens:
        m = _FIELD_TOKEN.match(tok)
        if m and m.group(1) in EVENT_COLUMN_NAMES:
            fields.append(FieldFilter(m.group(1), m.group(2), m.group(3)))
        else:
            words.append(tok)
    return EventFilter(" ".join(words), tuple(fields), incident_id, run_id)


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def filter_sql(case: Case, flt: EventFilter) -> tuple[str, dict[str, Any]]:
    """The WHERE condition (and its parameters) selecting ``flt``'s events."""
    parts: list[str] = []
    params: dict[str, Any] = {}
    if flt.incident_id is not None:
        where, p = queries.incident_event_filter(case, flt.incident_id, flt.run_id)
        parts.append(where)
        params.update(p)
    for n, f in enumerate(flt.fields):
        col = f'"{f.column}"'
        typ = EVENT_COLUMN_TYPES[f.column]
        key = f"f{n}"
        if f.op in ("=", "!=") and f.value == "":
            parts.append(f"{col} IS {'NOT ' if f.op == '!=' else ''}NULL")
            continue
        if f.op == "~":
            parts.append(f"CAST({col} AS VARCHAR) ILIKE ${key} ESCAPE '\\'")
            params[key] = _like(f.value)
            continue
        params[key] = f.value
        cmp = "<>" if f.op == "!=" else f.op
        parts.append(f"{col} {cmp} TRY_CAST(${key} AS {typ})" if typ != "VARCHAR" else f"{col} {cmp} ${key}")
        if typ != "VARCHAR":
            # A value that is not of the column's type would silently match nothing: say so.
            ok = case.con.execute(f"SELECT TRY_CAST($v AS {typ}) IS NOT NULL", {"v": f.value}).fetchall()[0][0]
            if not ok:
                raise BrowseError(f"{f.column} holds {typ.lower()} values; {f.value!r} is not one")
    if flt.text:
        # The raw lines are in compressed blocks: the search reads each block once and keeps the
        # ids of the lines that match (store.rawblocks), rather than joining every line to its event.
        parts.append(f"(source_id::BIGINT << 40) + line_no IN {rawblocks.matching_events_sql('text', 'needle')}")
        params["text"] = _like(flt.text)
        params["needle"] = flt.text
    return (" AND ".join(f"({p})" for p in parts) if parts else "TRUE"), params


def filter_columns(flt: EventFilter) -> set[str]:
    """The event columns ``filter_sql(flt)`` reads."""
    cols = {f.column for f in flt.fields}
    if flt.text:
        cols |= {"line_no"}
    if flt.incident_id is not None:
        cols |= set(queries.SCOPE_COLUMNS)
    return cols


def events_relation(columns: set[str] | tuple[str, ...], blocks: bool = False) -> str:
    """A FROM item with the ``events`` view's ``columns`` only (a subquery over the event tables).
    ``blocks``: carry ``raw_block`` too, so that ``raw`` can be read later, for fewer rows.

    The view unions every column of every event table and joins ``sources``; planning it is about
    half of a browser query (~5 ms of ~12 on a small machine), whatever few columns the query
    reads. This relation carries only the columns asked for (NULL where a table lacks one) and
    joins ``sources`` only for ``source_file`` / ``format``.
    """
    wanted = [c for c in EVENT_COLUMN_NAMES if c in columns]
    raw = "raw" in wanted
    stored = [c for c in wanted if c not in DERIVED_EVENT_COLUMNS and c != "raw"]
    if raw or blocks:
        stored = list(dict.fromkeys([*stored, "line_no"]))
    branches = []
    for table, have in EVENT_TABLES.items():
        cols = ", ".join(f'"{c}"' if c in have else f'NULL::{EVENT_COLUMN_TYPES[c]} AS "{c}"' for c in stored)
        block = ", raw_block" if raw or blocks else ""
        branches.append(f"SELECT source_id{block}{', ' + cols if cols else ''} FROM {table}")
    union = " UNION ALL ".join(branches)
    derived = [c for c in DERIVED_EVENT_COLUMNS if c in columns]
    if not derived and not raw:
        return f"({union})"
    names = {"source_file": "path", "format": "format"}
    extra = [f's."{names[c]}" AS "{c}"' for c in derived] + ([f"{rawblocks.raw_sql('e')} AS raw"] if raw else [])
    joins = " LEFT JOIN sources s ON s.id = e.source_id" if derived else ""
    star = "e.* EXCLUDE (raw_block)" if raw else "e.*"
    return f"(SELECT {star}, {', '.join(extra)} FROM ({union}) e{joins})"


# --- paging -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageKey:
    """Where a row sits in browse order: (ts, source_file, line_no); ts None sorts last."""

    ts: datetime | None
    source_file: str | None
    line_no: int | None


@dataclass(frozen=True)
class EventPage:
    """A page of events in browse order. ``rows`` are dicts of ``columns``; ``at_start`` /
    ``at_end`` say whether nothing comes before / after it."""

    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    at_start: bool
    at_end: bool

    @property
    def first_key(self) -> PageKey | None:
        return _key(self.rows[0]) if self.rows else None

    @property
    def last_key(self) -> PageKey | None:
        return _key(self.rows[-1]) if self.rows else None


def _key(row: dict[str, Any]) -> PageKey:
    return PageKey(row.get("ts"), row.get("source_file"), row.get("line_no"))


def _select_list(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def events_page(case: Case, flt: EventFilter, *, after: PageKey | None = None, before: PageKey | None = None,
                last: bool = False, limit: int = 200, columns: tuple[str, ...] = BROWSE_COLUMNS,
                span: timedelta | None = None) -> EventPage:
    """One page of events matching ``flt``: the first page, the page after ``after``, the page
    before ``before``, or the last page (``last=True``).

    ``span``: how much time the page before ``after`` covered, a hint for how far ahead the next
    ``limit`` events lie. A top-N over everything after a key reads whole row groups of every
    column before it can stop (~20 ms at 10M events on a small machine); bounded to a time
    window, DuckDB reads the few row groups of that window (~8 ms). The page is the same either
    way: a window is widened until it holds the page, the last try has no bound."""
    for c in columns:
        if c not in EVENT_COLUMN_NAMES:
            raise BrowseError(f"no event field {c!r}")
    cols = tuple(dict.fromkeys((*columns, "ts", "source_file", "line_no")))
    where, params = filter_sql(case, flt)
    # The raw lines are read after the LIMIT, for the page's rows only: in the same SELECT DuckDB
    # unpacks the line of every event the filter keeps before its top-N (an incident of 80,000
    # events: 112 ms for its first page, against 23 ms).
    late_raw = "raw" in cols and "raw" not in filter_columns(flt)
    source = events_relation(((set(cols) - {"raw"}) if late_raw else set(cols)) | filter_columns(flt), blocks=late_raw)
    inner = (_select_list(tuple(c for c in cols if c != "raw")) + ", source_id, raw_block" if late_raw
             else _select_list(cols))
    outer = ", ".join(f"{rawblocks.raw_sql('q')} AS raw" if c == "raw" else f'q."{c}"' for c in cols)
    limit = max(1, int(limit))
    con = case.con

    def run(cond: str, p: dict, order: str, n: int) -> list[dict]:
        sql = f"SELECT {inner} FROM {source} WHERE ({where}) AND {cond} ORDER BY {order} LIMIT {n}"
        if late_raw:
            sql = f"SELECT {outer} FROM ({sql}) q ORDER BY {order}"
        cur = con.execute(sql, {**params, **p})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    asc_t, asc_n = "ts, source_file, line_no", "source_file, line_no"

    def forward(cond: str, p: dict, lower: datetime, n: int) -> list[dict]:
        if span is not None:
            width = max(2 * span, timedelta(seconds=1))
            for _ in range(FORWARD_PROBES):
                # Every event up to the window's end (ties included) comes before any after it,
                # so a window that holds n rows holds the first n.
                found = run(f"ts <= $hi AND {cond}", {**p, "hi": lower + width}, asc_t, n)
                if len(found) >= n:
                    return found
                width *= 8
        return run(cond, p, asc_t, n)

    desc_t, desc_n = "ts DESC, source_file DESC, line_no DESC", "source_file DESC, line_no DESC"
    backward = before is not None or last
    if not backward:
        rows: list[dict] = []
        if after is None or after.ts is not None:
            if after is None:
                rows = run("ts IS NOT NULL", {}, asc_t, limit + 1)
            else:
                rows = forward("ts >= $kt AND (ts, source_file, line_no) > ($kt, $kf, $kl)",
                               {"kt": after.ts, "kf": after.source_file, "kl": after.line_no}, after.ts, limit + 1)
        if len(rows) <= limit:
            if after is not None and after.ts is None:
                rows += run("ts IS NULL AND (source_file, line_no) > ($kf, $kl)",
                            {"kf": after.source_file, "kl": after.line_no}, asc_n, limit + 1 - len(rows))
            else:
                rows += run("ts IS NULL", {}, asc_n, limit + 1 - len(rows))
        at_end = len(rows) <= limit
        rows = rows[:limit]
        return EventPage(columns, rows, at_start=after is None, at_end=at_end)
    # Backward: walk browse order in reverse, then flip the page. DuckDB prunes row groups for an
    # ascending top-N after a lower bound, not for a descending one, so the walk looks in time
    # windows before the key that grow eightfold until the page is full (each probe reads only the
    # row groups of its window); the last probe is unbounded.
    def backward(cond: str, p: dict, upper: datetime, n: int) -> list[dict]:
        found: list[dict] = []
        width = timedelta(seconds=60)
        lower = upper
        for _ in range(BACKWARD_PROBES):
            lower = upper - width
            found = run(f"ts >= $lo AND {cond}", {**p, "lo": lower}, desc_t, n)
            if len(found) >= n:
                return found
            width *= 8
        return run(cond, p, desc_t, n)

    rows = []
    key = before
    if last or (key is not None and key.ts is None):
        if last:
            rows = run("ts IS NULL", {}, desc_n, limit + 1)
        else:
            rows = run("ts IS NULL AND (source_file, line_no) < ($kf, $kl)",
                       {"kf": key.source_file, "kl": key.line_no}, desc_n, limit + 1)
        if len(rows) <= limit:
            # Over the filter's own columns only: without the join behind source_file DuckDB takes
            # max(ts) from its statistics or a single column (10 ms, not 100, at 10M events).
            narrow = events_relation(filter_columns(flt) | {"ts"})
            top = con.execute(f"SELECT max(ts) FROM {narrow} WHERE ({where})", params).fetchall()[0][0]
            if top is not None:
                rows += backward("ts <= $kt", {"kt": top}, top, limit + 1 - len(rows))
    else:
        rows = backward("ts <= $kt AND (ts, source_file, line_no) < ($kt, $kf, $kl)",
                        {"kt": key.ts, "kf": key.source_file, "kl": key.line_no}, key.ts, limit + 1)
    at_start = len(rows) <= limit
    rows = rows[:limit]
    rows.reverse()
    return EventPage(columns, rows, at_start=at_start, at_end=last)


def count_events(case: Case, flt: EventFilter) -> int:
    where, params = filter_sql(case, flt)
    if where == "TRUE":
        return case.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    return case.con.execute(f"SELECT count(*) FROM {events_relation(filter_columns(flt))} WHERE {where}",
                            params).fetchall()[0][0]


def event_detail(case: Case, key: PageKey) -> dict[str, Any] | None:
    """Every field of one event."""
    cols = _select_list(EVENT_COLUMN_NAMES)
    if key.ts is None:
        cur = case.con.execute(f"SELECT {cols} FROM events WHERE ts IS NULL AND source_file = $f AND line_no = $l "
                               "LIMIT 1", {"f": key.source_file, "l": key.line_no})
    else:
        cur = case.con.execute(f"SELECT {cols} FROM events WHERE ts = $t AND source_file = $f AND line_no = $l "
                               "LIMIT 1", {"t": key.ts, "f": key.source_file, "l": key.line_no})
    row = next(iter(cur.fetchall()), None)
    return dict(zip(EVENT_COLUMN_NAMES, row)) if row else None


# --- incidents --------------------------------------------------------------------------------


def incident_rows(case: Case, run_id: str | None = None) -> list[dict[str, Any]]:
    """The incidents of a run (the latest by default) with their triage verdict and note."""
    run_id = run_id or queries.latest_run_id(case)
    if run_id is None:
        return []
    cur = case.con.execute(
        "SELECT i.id, i.key, i.category, i.severity, i.risk, i.first_seen, i.last_seen, i.src_ips, i.users, "
        "i.hosts, i.sessions, i.events, i.techniques, i.rules, i.top_features, i.summary, i.summary_source, "
        "coalesce(i.compromised, false) AS compromised, i.compromised_login, t.status AS triage_status, t.note AS triage_note FROM incidents i "
        "LEFT JOIN triage t ON t.incident_key = i.key WHERE i.run_id = $run ORDER BY i.id",
        {"run": run_id},
    )
    names = [d[0] for d in cur.description]
    out = []
    for r in cur.fetchall():
        d = dict(zip(names, r))
        for k in ("src_ips", "users", "hosts", "techniques", "rules"):
            d[k] = list(d[k] or [])
        d["top_features"] = json.loads(d["top_features"] or "[]")
        out.append(d)
    known = queries.geo(case, list({ip for d in out for ip in d["src_ips"]}))
    for d in out:
        d["geo"] = {ip: known[ip] for ip in d["src_ips"] if ip in known}
    return out


def incident_id_for_key(case: Case, key: str, run_id: str | None = None) -> str | None:
    """The id (INC-0007) the incident with this stable key has in a run (the latest by default)."""
    run_id = run_id or queries.latest_run_id(case)
    row = next(iter(case.con.execute("SELECT id FROM incidents WHERE run_id = $r AND key = $k ORDER BY id LIMIT 1",
                           {"r": run_id, "k": key}).fetchall()), None)
    return row[0] if row else None


def events_export_sql(case: Case, flt: EventFilter) -> tuple[str, dict[str, Any]]:
    """The query exporting every event of ``flt`` in browse order (all columns)."""
    where, params = filter_sql(case, flt)
    return (f"SELECT {_select_list(EVENT_COLUMN_NAMES)} FROM events WHERE {where} "
            "ORDER BY ts NULLS LAST, source_file, line_no"), params


def span_text(first: datetime | None, last: datetime | None) -> str:
    """'2026-11-01 00:00 → 2026-11-06 18:53 (5 days)' for headers."""
    if first is None or last is None:
        return "no timestamps"
    secs = max(0.0, (last - first).total_seconds())
    d = timedelta(seconds=secs)
    if d.days >= 2:
        # 2026-11-13 08:00 -> 2026-11-20 07:59 is 7 days, not 6: round, with a tenth where it matters.
        days = secs / 86400
        span = f"{round(days)} days" if abs(days - round(days)) < 0.05 else f"{days:.1f} days"
    elif secs >= 3600:
        span = f"{secs / 3600:.1f} h"
    elif secs >= 60:
        span = f"{secs / 60:.0f} min"
    else:
        span = f"{secs:.0f} s"
    return f"{first:%Y-%m-%d %H:%M} → {last:%Y-%m-%d %H:%M} UTC ({span})"
