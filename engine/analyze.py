"""The analysis pipeline: sessions -> features -> scoring -> explanations -> incidents, as one run.

``analyze(case, progress=...)`` runs every stage over the case's events, stores the run
(parameters, feature set, model, counts, seconds per stage), its sessions and its incidents, and
returns an ``AnalysisResult``. The command line and the TUI call this same function.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

import pyarrow as pa

from engine import config, enrich, explain, incidents as incidents_mod, scoring, sessions, summaries
from engine.incidents import Incident
from store.case import Case

STAGES = ("sessions", "enrich", "scoring", "explanations", "incidents", "summaries", "store")


@dataclass(frozen=True)
class StageProgress:
    """Reported as each stage starts: its name and position among ``STAGES``."""

    stage: str
    index: int
    total: int


@dataclass(frozen=True)
class AnalysisResult:
    run_id: str
    incidents: tuple[Incident, ...]
    session_counts: dict[str, int]
    stage_seconds: dict[str, float]
    summary_stats: summaries.SummaryStats | None = None  # what the summaries stage did (model, cache, offline)

    @property
    def seconds(self) -> float:
        return sum(self.stage_seconds.values())


def _params() -> dict:
    return {k: v for k, v in vars(config).items() if k.isupper() and isinstance(v, (int, float, str, tuple))}


class SessionsBackend(Protocol):
    """Who builds the sessions stage: leaves the ``feat_<kind>`` tables in ``case.con``.

    Every later stage reads those tables (and ``events``) from the case's DuckDB connection, so
    a backend that computes them elsewhere (``engine.spark.SparkSessions``) copies them in;
    ``finish`` runs after the run, stored or not.
    """

    name: str

    def build(self, case: Case) -> sessions.SessionCounts: ...

    def finish(self, case: Case) -> None: ...


class DuckDBSessions:
    """The default: ``engine.sessions`` in the case's own DuckDB, over its ``events``."""

    name = "duckdb"

    def build(self, case: Case) -> sessions.SessionCounts:
        return sessions.build(case.con)

    def finish(self, case: Case) -> None:
        pass


def analyze(
    case: Case,
    *,
    progress: Callable[[StageProgress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    llm="auto",
    geoip: str | None = None,
    state: dict | None = None,
    name_incidents: Callable[[list[Incident]], None] | None = None,
    sessions_backend: SessionsBackend | None = None,
) -> AnalysisResult:
    """Run the whole analysis over ``case`` and store it as a new run.

    ``llm`` chooses who writes the summaries: ``"auto"`` the model configured by the environment
    or config file (offline when none is), an ``engine.llm.LLMClient`` / ``LLMSettings``, or
    None for offline only (see ``engine.summaries.summarise``). ``geoip`` is a folder of MaxMind
    .mmdb files to enrich addresses with (default: the configured one, else the bundled data).
    ``state``, when given, receives the run's ``scores`` (with the fitted models) and
    ``explanations``, and ``name_incidents`` may rename the incidents before they are summarised
    and stored: what a live follow (``engine.live``) needs to continue from this run.
    ``sessions_backend`` builds the sessions stage (``DuckDBSessions`` by default;
    ``engine.spark.SparkSessions`` on Spark).
    """
    backend = sessions_backend or DuckDBSessions()
    try:
        return _analyze(case, backend, progress, cancelled, llm, geoip, state, name_incidents)
    finally:
        backend.finish(case)


def _analyze(case: Case, backend: SessionsBackend, progress, cancelled, llm, geoip, state,
             name_incidents) -> AnalysisResult:
    con = case.con
    run_id = new_run_id()
    started = datetime.now(timezone.utc)
    timings: dict[str, float] = {}

    def stage(name: str) -> None:
        if cancelled and cancelled():
            raise AnalysisCancelled()
        if progress:
            progress(StageProgress(name, STAGES.index(name), len(STAGES)))

    t = time.perf_counter()
    stage("sessions")
    # DuckDB releases the GIL while it builds the sessions: the model imports go on meanwhile
    # (if a caller did not start them earlier, during its ingest).
    preload_models()
    counts = backend.build(case)
    _models_ready()
    timings["sessions"] = time.perf_counter() - t

    t = time.perf_counter()
    stage("enrich")
    # Before summaries and incidents' facts read it; committed at once (it is a cache of lookups,
    # valid whatever becomes of this run).
    enrich.enrich(con, enrich.geo_data(geoip))
    timings["enrich"] = time.perf_counter() - t

    t = time.perf_counter()
    stage("scoring")
    scores = scoring.score(con)
    apply_suppressions(con, scores)
    timings["scoring"] = time.perf_counter() - t

    t = time.perf_counter()
    stage("explanations")
    explanations = explain.explain(scores)
    timings["explanations"] = time.perf_counter() - t

    t = time.perf_counter()
    stage("incidents")
    flagged, background = incidents_mod.members_from_scores(con, scores, explanations)
    found = incidents_mod.build(flagged, background)
    if name_incidents:
        name_incidents(found)
    timings["incidents"] = time.perf_counter() - t

    t = time.perf_counter()
    stage("summaries")
    summary_stats = summaries.summarise(con, found, llm=llm, cancelled=cancelled)
    timings["summaries"] = time.perf_counter() - t

    t = time.perf_counter()
    stage("store")
    store_run(case, run_id, started, scores, explanations, found, counts.by_kind, timings)
    timings["store"] = time.perf_counter() - t
    if state is not None:
        state.update(scores=scores, explanations=explanations, run_id=run_id)
    return AnalysisResult(run_id, tuple(found), counts.by_kind, timings, summary_stats)


def apply_suppressions(con, scores: dict[str, scoring.KindScores]) -> int:
    """Fold sessions the analyst suppressed (an IP, a CIDR, an account such as a CI key) into benign.

    A suppressed session keeps its scores but loses its category, so it joins no incident; its
    rules list gains ``suppressed`` so the analyst can still find it. Returns how many.
    """
    rules = con.execute("SELECT kind, value FROM suppressions").fetchall()
    if not rules:
        return 0
    ips = {v for k, v in rules if k == "src_ip"}
    users = {v for k, v in rules if k == "user"}
    nets = []
    for k, v in rules:
        if k == "cidr":
            try:
                nets.append(ipaddress.ip_network(v, strict=False))
            except ValueError:
                continue
    n = 0
    for kind, ks in scores.items():
        if not any(ks.category):
            continue
        rows = con.execute(f"SELECT src_ip, coalesce(users, []) FROM feat_{kind} ORDER BY session_id").fetchall()
        for i, (ip, us) in enumerate(rows):
            if ks.category[i] is None:
                continue
            hit = ip in ips or (us and set(us) <= users)
            if not hit and nets and ip:
                try:
                    addr = ipaddress.ip_address(ip)
                    hit = any(addr in net for net in nets)
                except ValueError:
                    hit = False
            if hit:
                ks.category[i] = None
                ks.severity[i] = "info"
                ks.rules[i] = [*ks.rules[i], "suppressed"]
                n += 1
    return n


def _import_models() -> None:
    try:
        import hdbscan  # noqa: F401
        import shap  # noqa: F401
        import sklearn.ensemble  # noqa: F401
    except Exception:  # the stage that needs it reports the real error
        pass


_models_thread: threading.Thread | None = None
_models_lock = threading.Lock()


def preload_models() -> None:
    """Start importing scikit-learn, shap and hdbscan in a background thread.

    They take seconds of CPU to import. A caller that is about to ingest and then analyse (``vedette
    PATH``, ``vedette demo``) calls this first, so the imports use the core the ingest leaves idle.
    Calling it again does nothing.
    """
    global _models_thread
    with _models_lock:
        if _models_thread is None:
            _models_thread = threading.Thread(target=_import_models, name="vedette-import-models", daemon=True)
            _models_thread.start()


def _models_ready() -> None:
    preload_models()
    assert _models_thread is not None
    _models_thread.join()


class AnalysisCancelled(Exception):
    """Raised between stages when the caller cancelled; nothing of the run is stored."""


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def store_run(case: Case, run_id: str, started: datetime, scores: dict[str, scoring.KindScores],
           explanations: dict[str, list[dict]], found: list[Incident], counts: dict[str, int],
           timings: dict[str, float]) -> None:
    con = case.con
    incident_of = {m.session_id: inc.id for inc in found for m in inc.members}
    ids, anomaly, risk, severity, category, rules, techniques, tops, inc_ids = ([] for _ in range(9))
    for ks in scores.values():
        ids.extend(ks.session_ids)
        anomaly.extend(float(a) for a in ks.anomaly)
        risk.extend(int(r) for r in ks.risk)
        severity.extend(ks.severity)
        category.extend(ks.category)
        rules.extend(ks.rules)
        techniques.extend(ks.techniques)
        tops.extend(json.dumps(explanations[s]) if s in explanations else None for s in ks.session_ids)
        inc_ids.extend(incident_of.get(s) for s in ks.session_ids)
    scored = pa.table({
        "session_id": pa.array(ids, pa.string()),
        "anomaly": pa.array(anomaly, pa.float64()),
        "risk": pa.array(risk, pa.int32()),
        "severity": pa.array(severity, pa.string()),
        "category": pa.array(category, pa.string()),
        "rules": pa.array(rules, pa.list_(pa.string())),
        "techniques": pa.array(techniques, pa.list_(pa.string())),
        "top_features": pa.array(tops, pa.string()),
        "incident_id": pa.array(inc_ids, pa.string()),
    })
    con.register("_scored", scored)
    finished = datetime.now(timezone.utc)
    model = {kind: ({"type": "IsolationForest", "n_estimators": config.ISOLATION_TREES,
                     "max_samples": config.ISOLATION_MAX_SAMPLES, "random_state": config.RANDOM_SEED,
                     "fitted_on": len(ks.session_ids)} if ks.model is not None else None)
             for kind, ks in scores.items()}
    run_counts = {"sessions": counts, "incidents": len(found),
                  "suppressed_sessions": sum(1 for ks in scores.values() for r in ks.rules if "suppressed" in r),
                  "events": con.execute("SELECT count(*) FROM events").fetchall()[0][0],
                  "flagged_sessions": sum(1 for ks in scores.values() for c in ks.category
                                          if c not in (None, "background_noise"))}
    try:
        with case.transaction():
            con.execute("DELETE FROM sessions")
            # Scored kinds, plus the drill-down kinds: SSH connections and per-account windows.
            unscored = {"ssh_conn": ("attempts", "successes", "duration_s"), "ssh_user": ("distinct_sources",)}
            for kind in list(sessions.FEATURES) + list(unscored):
                names = sessions.FEATURES.get(kind) or unscored[kind]
                feats = ", ".join(f"'{n}', f.{n}" for n in names)
                scored_cols = (
                    "s.anomaly, s.risk, s.severity, s.category, s.rules, s.techniques, s.top_features::JSON, s.incident_id"
                    if kind in sessions.FEATURES else
                    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
                )
                join = "LEFT JOIN _scored s USING (session_id)" if kind in sessions.FEATURES else ""
                con.execute(
                    f"INSERT INTO sessions SELECT $run, f.session_id, '{kind}', f.src_ip, f.users, f.hosts, "
                    f"f.first_ts, f.last_ts, f.events, json_object({feats}), {scored_cols}, f.logins "
                    f"FROM feat_{kind} f {join}",
                    {"run": run_id},
                )
            # One statement for all incidents: a case can hold thousands, and a statement per
            # incident costs a millisecond or more each.
            con.register("_found", _incidents_table(run_id, found))
            try:
                con.execute(f"INSERT INTO incidents ({', '.join(_INCIDENT_COLUMNS)}) "
                            f"SELECT {', '.join(_INCIDENT_COLUMNS)} FROM _found")
            finally:
                con.unregister("_found")
            con.execute(
                "INSERT INTO runs VALUES ($run, $started, $finished, $secs, 'complete', $params, $features, $model, "
                "$counts, $stages)",
                {"run": run_id, "started": started, "finished": finished,
                 "secs": (finished - started).total_seconds(), "params": json.dumps(_params(), default=list),
                 "features": json.dumps(sessions.FEATURES), "model": json.dumps(model),
                 "counts": json.dumps(run_counts), "stages": json.dumps({k: round(v, 3) for k, v in timings.items()})},
            )
    finally:
        con.unregister("_scored")


def login_json(login: dict | None) -> dict | None:
    """The login that shows a compromise, JSON-ready (``ts`` as ISO 8601)."""
    if not login:
        return None
    ts = login.get("ts")
    return {"user": login.get("user"), "src_ip": login.get("src_ip"),
            "ts": ts.isoformat() if hasattr(ts, "isoformat") else ts}


_INCIDENT_COLUMNS = ("run_id", "id", "category", "severity", "risk", "first_seen", "last_seen", "src_ips", "users",
                     "hosts", "sessions", "events", "techniques", "rules", "top_features", "summary",
                     "summary_source", "key", "compromised", "compromised_login", "grouped_by")


def _incidents_table(run_id: str, found: list[Incident]) -> pa.Table:
    strings = pa.list_(pa.string())
    return pa.table({
        "run_id": pa.array([run_id] * len(found), pa.string()),
        "id": pa.array([i.id for i in found], pa.string()),
        "category": pa.array([i.category for i in found], pa.string()),
        "severity": pa.array([i.severity for i in found], pa.string()),
        "risk": pa.array([i.risk for i in found], pa.int32()),
        "first_seen": pa.array([i.first_seen for i in found], pa.timestamp("us", tz="UTC")),
        "last_seen": pa.array([i.last_seen for i in found], pa.timestamp("us", tz="UTC")),
        "src_ips": pa.array([i.src_ips for i in found], strings),
        "users": pa.array([i.users for i in found], strings),
        "hosts": pa.array([i.hosts for i in found], strings),
        "sessions": pa.array([i.sessions for i in found], pa.int32()),
        "events": pa.array([i.events for i in found], pa.int64()),
        "techniques": pa.array([i.techniques for i in found], strings),
        "rules": pa.array([i.rules for i in found], strings),
        "top_features": pa.array([json.dumps(i.top_features) for i in found], pa.string()),
        "summary": pa.array([i.summary for i in found], pa.string()),
        "summary_source": pa.array([i.summary_source for i in found], pa.string()),
        "key": pa.array([incident_key(i) for i in found], pa.string()),
        "compromised": pa.array([bool(i.compromised) for i in found], pa.bool_()),
        "compromised_login": pa.array([json.dumps(login_json(i.compromised_login)) if i.compromised_login else None
                                       for i in found], pa.string()),
        "grouped_by": pa.array([i.grouped_by for i in found], pa.string()),
    })


def incident_key(inc: Incident) -> str:
    """Identifies "the same incident" across runs: category, lowest source, first day."""
    first_src = min(inc.src_ips) if inc.src_ips else ""
    text = f"{inc.category}|{first_src}|{inc.first_seen.date().isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def latest_run_id(case: Case) -> str | None:
    row = next(iter(case.con.execute("SELECT run_id FROM runs ORDER BY finished_at DESC, run_id DESC LIMIT 1").fetchall()), None)
    return row[0] if row else None


def load_incidents(case: Case, run_id: str | None = None) -> tuple[str | None, list[dict]]:
    """The incidents of a run (the latest by default) as JSON-ready dicts in the contract's shape."""
    run_id = run_id or latest_run_id(case)
    if run_id is None:
        return None, []
    rows = case.con.execute(
        "SELECT id, category, severity, risk, first_seen, last_seen, src_ips, users, hosts, sessions, events, "
        "techniques, summary, summary_source, top_features, coalesce(compromised, false), compromised_login, "
        "grouped_by FROM incidents WHERE run_id = $run ORDER BY id",
        {"run": run_id},
    ).fetchall()
    out = []
    for r in rows:
        out.append({
            "id": r[0], "category": r[1], "severity": r[2], "risk": r[3],
            "first_seen": r[4].isoformat(), "last_seen": r[5].isoformat(),
            "src_ips": list(r[6] or []), "users": list(r[7] or []), "hosts": list(r[8] or []),
            "sessions": r[9], "events": r[10], "techniques": list(r[11] or []),
            "summary": r[12], "summary_source": r[13], "top_features": json.loads(r[14] or "[]"),
            "geo": enrich.geo_json(case.con, r[6] or []),
            "compromised": bool(r[15]), "compromised_login": json.loads(r[16]) if r[16] else None,
            "grouped_by": r[17] or "",
        })
    return run_id, out
