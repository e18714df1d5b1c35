"""Web-log panels for the overview, GoAccess-style: requests and visitors, top paths, status codes
and user agents with their counts, from one aggregation in DuckDB."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from store.browse import events_relation
from store.case import Case

# The columns the panels read (so the query reads no other column of the events).
_COLUMNS = {"action", "path", "status", "user_agent", "src_ip", "bytes"}


@dataclass(frozen=True)
class WebPanels:
    """``requests`` HTTP requests from ``visitors`` client addresses (``bytes`` sent in all);
    ``paths`` / ``statuses`` / ``agents``: the busiest first, each a dict with ``hits`` and
    ``visitors`` (and the value under ``path`` / ``status`` / ``user_agent``)."""

    requests: int = 0
    visitors: int = 0
    bytes: int = 0
    paths: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    agents: list[dict[str, Any]] = field(default_factory=list)


def web_panels(case: Case, limit: int = 25) -> WebPanels:
    """The panels of every HTTP request of the case (one scan: grouping sets over the requests);
    an empty ``WebPanels`` when there are none."""
    rel = events_relation(_COLUMNS)
    limit = max(1, int(limit))
    # Most cases without web logs: a probe that stops at the first request saves the grouping.
    if not case.con.execute(f"SELECT 1 FROM {rel} WHERE action = 'http_request' LIMIT 1").fetchall():
        return WebPanels()
    rows = case.con.execute(
        f"""
        WITH web AS (SELECT path, status, user_agent, src_ip, bytes FROM {rel} WHERE action = 'http_request'),
        g AS (
            SELECT grouping(path, status, user_agent) AS g, path, status, user_agent,
                   count(*) AS hits, count(DISTINCT src_ip) AS visitors, coalesce(sum(bytes), 0) AS bytes
            FROM web GROUP BY GROUPING SETS ((path), (status), (user_agent), ())
        )
        SELECT * FROM g
        QUALIFY g = 7 OR row_number() OVER (PARTITION BY g ORDER BY hits DESC, path, status, user_agent) <= {limit}
        ORDER BY g, hits DESC, path, status, user_agent
        """
    ).fetchall()
    # grouping(): a bit set per column left out of the set (path 4, status 2, user_agent 1).
    total = next((r for r in rows if r[0] == 7), None)
    if total is None or not total[4]:
        return WebPanels()

    def part(g: int, name: str, index: int) -> list[dict[str, Any]]:
        return [{name: r[index], "hits": int(r[4]), "visitors": int(r[5])} for r in rows if r[0] == g]

    return WebPanels(int(total[4]), int(total[5]), int(total[6]), part(3, "path", 1), part(5, "status", 2),
                     part(6, "user_agent", 3))
