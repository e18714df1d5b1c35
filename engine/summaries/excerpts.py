"""Raw-line selection for the prompt: a few of the incident's log lines, chosen for variety."""

from __future__ import annotations

from datetime import datetime, timezone

from engine import config
from engine.summaries.facts import Span, _name


def _scope(spans: tuple[Span, ...]) -> tuple[list[str], dict]:
    """The SQL conditions (OR-ed) and parameters selecting the member spans' events."""
    from store.queries import _KIND_FILTER  # the same per-kind filters the incident queries use

    by_kind: dict[str, tuple[set[str], datetime, datetime]] = {}
    for sp in spans:
        if sp.src_ip is None or sp.kind not in _KIND_FILTER:
            continue
        ips, lo, hi = by_kind.get(sp.kind, (set(), sp.first, sp.last))
        ips.add(sp.src_ip)
        by_kind[sp.kind] = (ips, min(lo, sp.first), max(hi, sp.last))
    parts, params = [], {}
    for k, (kind, (ips, lo, hi)) in enumerate(sorted(by_kind.items())):
        parts.append(f"({_KIND_FILTER[kind]} AND src_ip IN (SELECT unnest($ips{k})) AND ts BETWEEN $lo{k} AND $hi{k})")
        params.update({f"ips{k}": sorted(ips), f"lo{k}": lo, f"hi{k}": hi})
    return parts, params


def representative_lines(con, spans: tuple[Span, ...], n: int = config.SUMMARY_RAW_LINES,
                         chars: int = config.SUMMARY_RAW_LINE_CHARS) -> list[str]:
    """A few raw lines of the incident, in time order: the first of each (action, outcome, status
    class), then the second of each..., so the sample shows the variety, not 8 copies of one line."""
    parts, params = _scope(spans)
    if not parts or n <= 0:
        return []
    rows = con.execute(
        "SELECT ts, line FROM (SELECT ts, source_file, line_no, "
        f"substr(coalesce(raw, message, ''), 1, {int(chars) * 2}) AS line, "
        "row_number() OVER (PARTITION BY action, outcome, status // 100 ORDER BY ts, source_file, line_no) AS rn "
        f"FROM events WHERE {' OR '.join(parts)}) WHERE line <> '' ORDER BY rn, ts, source_file, line_no "
        f"LIMIT {int(n)}", params,
    ).fetchall()
    rows.sort(key=lambda r: (r[0] is None, r[0] or datetime.min.replace(tzinfo=timezone.utc)))
    return [_name(line, chars) for _, line in rows]


def attacker_commands(con, spans: tuple[Span, ...], n: int = config.SUMMARY_MAX_COMMANDS,
                      chars: int = config.SUMMARY_RAW_LINE_CHARS) -> list[str]:
    """The commands an incident's attackers ran and the files they fetched (``store.queries.commands_sql``),
    in time order, escaped and cut: attacker text, for the fenced part of the prompt only."""
    parts, params = _scope(spans)
    if not parts or n <= 0:
        return []
    from store.queries import commands_sql

    rows = con.execute(
        f"SELECT ts, src_ip, command, url, file_hash FROM ({commands_sql(' OR '.join(parts))}) "
        f"ORDER BY ts, source_file, line_no LIMIT {int(n)}", params,
    ).fetchall()
    out = []
    for _ts, ip, command, url, sha in rows:
        what = f"$ {command}" if command is not None else f"fetched {url}" + (f" sha256 {sha}" if sha else "")
        out.append(_name(f"{ip}: {what}", chars))
    return out
