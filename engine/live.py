"""Live analysis for a follow: after one full run, re-analyse only the sessions that new events
touch, score them with the run's fitted models, and say which incidents are new, rose or changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from engine import config, enrich, explain, incidents as incidents_mod, scoring, sessions, summaries
from engine.analyze import (StageProgress, analyze, apply_suppressions, incident_key, load_incidents, new_run_id,
                            store_run)
from engine.incidents import Incident
from engine.rules import SEVERITY_RANK
from engine.scoring import KindScores
from store.case import Case

# Every feature table a run stores: the scored kinds and the two drill-down kinds.
ALL_KINDS = (*sessions.FEATURES, "ssh_conn", "ssh_user")
# What makes a session "touched" by new events: its key column among the new events' values.
_KEY = {kind: ("user", "_touched_user") if kind == "ssh_user" else ("src_ip", "_touched_ip") for kind in ALL_KINDS}


@dataclass(frozen=True)
class IncidentChange:
    """One incident that is ``new``, whose severity rose (``severity_up``), or that grew (``updated``).

    ``incident`` is the incident object of the DESIGN.md contract; ``previous_severity`` is None for new ones.
    """

    change: str
    incident: dict
    previous_severity: str | None = None

    def as_json(self) -> dict:
        return {**self.incident, "change": self.change}


@dataclass(frozen=True)
class LiveUpdate:
    """One analysis of a follow: ``mode`` is ``full`` (models fitted) or ``incremental``."""

    run_id: str
    mode: str
    changes: tuple[IncidentChange, ...]
    incidents: int
    sessions_recomputed: int
    seconds: float


class LiveAnalysis:
    """The analysis side of a follow. ``case`` must be a connection of its own (temp tables are
    its state); calls must not overlap (the follower runs them one at a time)."""

    def __init__(self, case: Case, *, llm=None, geoip: str | None = None,
                 refit_s: float = config.FOLLOW_REFIT_S) -> None:
        self.case = case
        self.llm = llm
        self.geoip = geoip
        self.refit_s = refit_s
        self._state: dict | None = None
        self._marks: dict[int, int] = {}  # source id -> lines read when the last analysis began
        self._known: dict[str, dict] = {}  # incident key -> contract dict of the last run
        self._ids: dict[str, str] = {}  # incident key -> the id it keeps across runs
        self._fitted_at = 0.0
        self._refit = False

    # --- what the follower asks -----------------------------------------------------------

    def request_refit(self) -> None:
        """Fit the models afresh at the next analysis (the analyst asked, or the case moved on)."""
        self._refit = True

    def has_new_events(self) -> bool:
        return self._source_marks() != self._marks

    def analyse(self, progress: Callable[[StageProgress], None] | None = None) -> LiveUpdate | None:
        """The next analysis: full the first time, when a refit is due or asked, else incremental.
        None when no event arrived since the last one."""
        due = self._state is None or self._refit or time.monotonic() - self._fitted_at >= self.refit_s
        if due:
            return self.full(progress)
        return self.incremental()

    # --- full run -------------------------------------------------------------------------

    def full(self, progress: Callable[[StageProgress], None] | None = None) -> LiveUpdate:
        t0 = time.perf_counter()
        marks = self._source_marks()
        state: dict = {}
        self._refit = False
        result = analyze(self.case, progress=progress, llm=self.llm, geoip=self.geoip, state=state,
                         name_incidents=self._name)
        con = self.case.con
        for kind in ALL_KINDS:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _live_feat_{kind} AS SELECT * FROM feat_{kind}")
        self._state = state
        self._marks = marks
        self._fitted_at = time.monotonic()
        total = sum(result.session_counts.values())
        return self._report(result.run_id, "full", list(result.incidents), total, time.perf_counter() - t0)

    # --- incremental run ------------------------------------------------------------------

    def incremental(self) -> LiveUpdate | None:
        t0 = time.perf_counter()
        started = datetime.now(timezone.utc)
        marks = self._source_marks()
        if marks == self._marks:
            return None
        con = self.case.con
        self._touched(self._marks, marks)
        self._marks = marks
        timings: dict[str, float] = {}
        t = time.perf_counter()
        # Every event of a touched source or account, and only those: their sessions come out
        # whole (a session of another source met through a touched account is partial: dropped).
        con.execute(
            "CREATE OR REPLACE TEMP VIEW _live_events AS SELECT * FROM events "
            "WHERE src_ip IN (SELECT v FROM _touched_ip) OR \"user\" IN (SELECT v FROM _touched_user)"
        )
        sessions.build(con, "_live_events")
        recomputed = 0
        dropped: dict[str, set[str]] = {}
        for kind in ALL_KINDS:
            col, touched = _KEY[kind]
            con.execute(f'DELETE FROM feat_{kind} WHERE "{col}" IS NULL OR "{col}" NOT IN (SELECT v FROM {touched})')
            dropped[kind] = {r[0] for r in con.execute(
                f'SELECT session_id FROM _live_feat_{kind} WHERE "{col}" IN (SELECT v FROM {touched})').fetchall()}
            con.execute(f'DELETE FROM _live_feat_{kind} WHERE "{col}" IN (SELECT v FROM {touched})')
            con.execute(f"INSERT INTO _live_feat_{kind} BY NAME SELECT * FROM feat_{kind}")
            recomputed += con.execute(f"SELECT count(*) FROM feat_{kind}").fetchall()[0][0]
        timings["sessions"] = time.perf_counter() - t
        t = time.perf_counter()
        enrich.enrich(con, enrich.geo_data(self.geoip))  # the addresses of the touched sessions
        timings["enrich"] = time.perf_counter() - t

        t = time.perf_counter()
        assert self._state is not None
        old: dict[str, KindScores] = self._state["scores"]
        fresh = scoring.score(con, models={k: ks.model for k, ks in old.items()})
        apply_suppressions(con, fresh)
        timings["scoring"] = time.perf_counter() - t
        t = time.perf_counter()
        fresh_expl = explain.explain(fresh)
        timings["explanations"] = time.perf_counter() - t

        merged = {kind: _merge(old[kind], fresh[kind], dropped[kind]) for kind in old}
        gone = set().union(*dropped.values())
        expl = {s: v for s, v in self._state["explanations"].items() if s not in gone}
        expl.update(fresh_expl)
        # The stages downstream read feat_<kind> row-aligned with the scores: the whole set again.
        for kind in ALL_KINDS:
            con.execute(f"CREATE OR REPLACE TEMP TABLE feat_{kind} AS SELECT * FROM _live_feat_{kind} ORDER BY session_id")

        t = time.perf_counter()
        flagged, background = incidents_mod.members_from_scores(con, merged, expl)
        found = incidents_mod.build(flagged, background)
        self._name(found)
        timings["incidents"] = time.perf_counter() - t
        t = time.perf_counter()
        summaries.summarise(con, found, llm=self.llm)
        timings["summaries"] = time.perf_counter() - t
        t = time.perf_counter()
        counts = {kind: con.execute(f"SELECT count(*) FROM feat_{kind}").fetchall()[0][0] for kind in ALL_KINDS}
        run_id = new_run_id()
        store_run(self.case, run_id, started, merged, expl, found, counts, timings)
        timings["store"] = time.perf_counter() - t
        self._state = {"scores": merged, "explanations": expl, "run_id": run_id}
        return self._report(run_id, "incremental", found, recomputed, time.perf_counter() - t0)

    # --- helpers --------------------------------------------------------------------------

    def _source_marks(self) -> dict[int, int]:
        return dict(self.case.con.execute("SELECT id, lines_read FROM sources").fetchall())

    def _touched(self, before: dict[int, int], now: dict[int, int]) -> None:
        """Temp tables ``_touched_ip`` / ``_touched_user``: the sources and accounts of the events
        that arrived between two marks (new lines of each source, by line number)."""
        ranges = [(int(sid), int(before.get(sid, 0)), int(n)) for sid, n in now.items() if n > before.get(sid, 0)]
        where = " OR ".join(f"(source_id = {sid} AND line_no > {lo} AND line_no <= {hi})" for sid, lo, hi in ranges)
        con = self.case.con
        con.execute(f'CREATE OR REPLACE TEMP TABLE _live_new AS SELECT src_ip, "user" FROM events WHERE {where or "false"}')
        con.execute("CREATE OR REPLACE TEMP TABLE _touched_ip AS SELECT DISTINCT src_ip AS v FROM _live_new "
                    "WHERE src_ip IS NOT NULL")
        con.execute('CREATE OR REPLACE TEMP TABLE _touched_user AS SELECT DISTINCT "user" AS v FROM _live_new '
                    'WHERE "user" IS NOT NULL')

    def _name(self, found: list[Incident]) -> None:
        """Keep each incident's id across runs (matched by ``incident_key``), new ones numbered on."""
        keys = _keys(found)
        if not self._ids:
            self._ids = {k: inc.id for k, inc in zip(keys, found)}
            return
        taken = set(self._ids.values())
        n = max((int(i.split("-")[1]) for i in taken if i.split("-")[-1].isdigit()), default=0)
        for key, inc in zip(keys, found):
            if key not in self._ids:
                n += 1
                while f"INC-{n:04d}" in taken:
                    n += 1
                self._ids[key] = f"INC-{n:04d}"
                taken.add(self._ids[key])
            inc.id = self._ids[key]
        found.sort(key=lambda inc: inc.id)

    def _report(self, run_id: str, mode: str, found: list[Incident], recomputed: int, seconds: float) -> LiveUpdate:
        _, rows = load_incidents(self.case, run_id)
        by_id = {d["id"]: d for d in rows}
        now: dict[str, dict] = {}
        changes: list[IncidentChange] = []
        for key, inc in zip(_keys(found), found):
            d = by_id[inc.id]
            now[key] = d
            prev = self._known.get(key)
            if prev is None:
                changes.append(IncidentChange("new", d))
            elif SEVERITY_RANK[d["severity"]] > SEVERITY_RANK[prev["severity"]]:
                changes.append(IncidentChange("severity_up", d, prev["severity"]))
            elif any(d.get(f) != prev.get(f) for f in _COMPARED):
                changes.append(IncidentChange("updated", d, prev["severity"]))
        self._known = now
        return LiveUpdate(run_id, mode, tuple(changes), len(found), recomputed, seconds)


# What "updated" looks at: the incident's extent and verdict, not its wording.
_COMPARED = ("category", "severity", "risk", "last_seen", "first_seen", "src_ips", "users", "hosts", "sessions",
             "events", "techniques", "compromised")


def _keys(found: list[Incident]) -> list[str]:
    """``incident_key`` of each, made unique within the run (a second one with the same key gets #2)."""
    seen: dict[str, int] = {}
    out = []
    for inc in found:
        k = incident_key(inc)
        seen[k] = seen.get(k, 0) + 1
        out.append(k if seen[k] == 1 else f"{k}#{seen[k]}")
    return out


def _merge(old: KindScores, new: KindScores, drop: set[str]) -> KindScores:
    """``old`` without the sessions in ``drop``, plus ``new``, ordered by session id like ``feat_<kind>``."""
    keep = np.array([i for i, s in enumerate(old.session_ids) if s not in drop], dtype=np.int64)
    ids = [old.session_ids[i] for i in keep] + list(new.session_ids)
    order = np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)

    def arr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = np.asarray(a)
        b = np.asarray(b)
        if a.ndim == 2 or b.ndim == 2:
            width = a.shape[1] if a.ndim == 2 else b.shape[1]
            a = a.reshape(-1, width)
            b = b.reshape(-1, width)
        joined = np.concatenate([a[keep] if len(a) else a[:0], b])
        return joined[order] if len(order) else joined

    def lst(a: list, b: list) -> list:
        joined = [a[i] for i in keep] + list(b)
        return [joined[i] for i in order]

    return KindScores(
        old.kind, [ids[i] for i in order], arr(old.raw, new.raw), arr(old.X, new.X), arr(old.anomaly, new.anomaly),
        lst(old.rules, new.rules), arr(old.background, new.background), arr(old.events, new.events),
        old.model, eligible=arr(old.eligible, new.eligible), risk=arr(old.risk, new.risk),
        severity=lst(old.severity, new.severity), category=lst(old.category, new.category),
        techniques=lst(old.techniques, new.techniques),
    )
