"""Whole-case operations behind the command line: ingest into a case file, analyse it, read its
incidents, score them against ground truth, read-only SQL, PDF reports, containment plans and the demo.

Each takes a case file's path, opens and closes the case itself, and returns plain results; bad
input raises ``CaseInputError`` (one line for a person). Nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from engine.ingest import IngestError, IngestProgress, IngestResult, ingest
from store.case import Case

if TYPE_CHECKING:  # the analysis and export import scikit-learn, scipy, pyarrow.dataset: ~0.7 s that
    # an ingest alone does not need, so they are imported where they are used
    from engine.analyze import AnalysisResult, StageProgress
    from engine.export import ExportResult

REPO_ROOT = Path(__file__).resolve().parents[1]


class CaseInputError(Exception):
    """Bad input (no events yet, no run yet, failing SQL...): one line for a person, exit code 1."""


@dataclass(frozen=True)
class IngestRun:
    """An ingest and how long it took (wall clock, for the lines-per-second figure)."""

    result: IngestResult
    seconds: float
    export: ExportResult | None = None  # with ingest --parquet: the event partitions re-written


@dataclass(frozen=True)
class CaseRun:
    """What ``open_paths`` / ``run_demo`` did: the ingest (None when no paths) and the analysis."""

    db: str
    ingest: IngestRun | None
    analysis: AnalysisResult
    logs: Path | None = None  # the sample logs the demo read


@dataclass(frozen=True)
class QueryResult:
    """A read-only query's column names and rows."""

    names: list[str]
    rows: list[tuple]


def ingest_case(db: str, paths: Sequence[str], *, format_name: str | None = None, tz: str | None = None,
                progress: Callable[[IngestProgress], None] | None = None, parquet: str | None = None) -> IngestRun:
    """Ingest ``paths`` into the case file ``db`` (created if missing); with ``parquet``, the event
    partitions the ingest added to are written there too (``engine.export``)."""
    start = time.perf_counter()
    exported = None
    with Case.open(db) as case:
        if parquet:
            from engine.export import ExportError, export_new_events, ingest_mark
        mark = ingest_mark(case) if parquet else None
        try:
            result = ingest(case, paths, format_name=format_name, tz=tz, progress=progress)
        except IngestError as exc:
            raise CaseInputError(str(exc)) from None
        if parquet:
            try:
                exported = export_new_events(case, parquet, mark)
            except ExportError as exc:
                raise CaseInputError(str(exc)) from None
    return IngestRun(result, time.perf_counter() - start, exported)


def analyse_case(db: str, *, llm="auto", progress: Callable[[StageProgress], None] | None = None,
                 geoip: str | None = None, engine: str = "duckdb", parquet: str | None = None,
                 spark_master: str | None = None) -> AnalysisResult:
    """A new analysis run over the case's events (sessions -> scores -> incidents -> summaries);
    ``geoip``: a folder of MaxMind .mmdb files to enrich addresses with.

    ``engine="spark"`` computes sessions and features on Spark from the Parquet folder ``parquet``
    (``vedette export``) and stores the run in the case as usual; the case need not hold the events.
    """
    from engine.analyze import analyze
    from engine.enrich import EnrichError, geo_data

    try:
        geo_data(geoip)  # a bad --geoip folder is the user's to fix, before any work
    except EnrichError as exc:
        raise CaseInputError(str(exc)) from None
    backend = None
    if engine == "spark":
        from engine.spark import SparkSessions, SparkUnavailable, check_available

        if not parquet:
            raise CaseInputError("--engine spark reads the events from Parquet: give --parquet DIR "
                                 f"(written by vedette export --parquet DIR --db {db})")
        try:
            check_available()
        except SparkUnavailable as exc:
            raise CaseInputError(str(exc)) from None
        backend = SparkSessions(parquet, spark_master)
    elif parquet or spark_master:
        raise CaseInputError("--parquet and --spark-master go with --engine spark")
    with Case.open(db) as case:
        if backend is None and case.con.execute("SELECT count(*) FROM events").fetchall()[0][0] == 0:
            raise CaseInputError(f"case {db} holds no events: ingest logs first (vedette ingest PATH --db {db})")
        if backend is None:
            return analyze(case, llm=llm, progress=progress, geoip=geoip)
        try:
            return analyze(case, llm=llm, progress=progress, geoip=geoip, sessions_backend=backend)
        except SparkUnavailable as exc:
            raise CaseInputError(str(exc)) from None


def export_case(db: str, parquet: str) -> ExportResult:
    """The case's events, sessions and incidents as Hive-partitioned Parquet under ``parquet``."""
    from engine.export import ExportError, export_parquet

    with Case.open(db, read_only=True) as case:
        try:
            return export_parquet(case, parquet)
        except ExportError as exc:
            raise CaseInputError(str(exc)) from None


def respond_case(db: str, incident_id: str, *, firewall: str = "nft"):
    """The ``engine.respond.Plan`` for one incident of the latest run (text to review; never run)."""
    from engine.respond import RespondError, plan

    with Case.open(db, read_only=True) as case:
        try:
            return plan(case, incident_id, firewall=firewall)
        except RespondError as exc:
            raise CaseInputError(str(exc)) from None


def latest_incidents(db: str, run_id: str | None = None) -> tuple[str, list[dict]]:
    """The run id and incidents (the contract's JSON shape) of ``run_id``, by default the latest run."""
    from engine.analyze import load_incidents

    with Case.open(db, read_only=True) as case:
        found, incidents = load_incidents(case, run_id)
    if found is None:
        raise CaseInputError(f"case {db} has not been analysed yet: run vedette analyze --db {db}")
    return found, incidents


def evaluate_case(db: str, truth_path: str):
    """The latest run's id and its ``engine.evaluate.Evaluation`` against a ground-truth file."""
    from engine.evaluate import evaluate, load_truth

    try:
        truth = load_truth(truth_path)
    except ValueError as exc:
        raise CaseInputError(str(exc)) from None
    run_id, incidents = latest_incidents(db)
    return run_id, evaluate(incidents, truth)


def query_case(db: str, sql: str) -> QueryResult | None:
    """Run ``sql`` read-only over the case; None for a statement that returns no rows."""
    import duckdb

    with Case.open(db, read_only=True) as case:
        try:
            # Read-only means read-only: no writing files through COPY or ATTACH either.
            case.con.execute("SET enable_external_access = false")
            cur = case.con.execute(sql)
        except duckdb.Error as exc:
            raise CaseInputError(f"query failed: {str(exc).strip().splitlines()[0]}") from None
        if cur.description is None:
            return None
        return QueryResult([d[0] for d in cur.description], cur.fetchall())


def write_reports(db: str, out: str, *, incident_id: str | None = None, every: bool = False,
                  min_severity: str = "medium") -> list:
    """Write one incident's PDF (``out`` a file, or a folder to name it in), or with ``every`` one PDF
    per incident of the latest run at or above ``min_severity`` into the folder ``out``; their
    ``ReportInfo``s."""
    from engine.report import ReportError, report_filename, write_all_reports, write_incident_report

    with Case.open(db, read_only=True) as case:
        try:
            if every:
                return write_all_reports(case, out, min_severity=min_severity)
            target = Path(out)
            if target.is_dir():
                target = target / report_filename(incident_id)
            return [write_incident_report(case, incident_id, target)]
        except ReportError as exc:
            raise CaseInputError(str(exc)) from None


def open_paths(db: str, paths: Sequence[str], *, tz: str | None = None,
               ingest_progress: Callable[[IngestProgress], None] | None = None,
               analysis_progress: Callable[[StageProgress], None] | None = None,
               ingested: Callable[[IngestRun], None] | None = None, llm="auto", geoip: str | None = None) -> CaseRun:
    """Ingest ``paths`` (if any) then analyse the case: ``vedette PATH ...``. ``ingested`` hears the
    ingest's outcome before the analysis starts (so a person sees it while they wait)."""
    from engine.analyze import preload_models

    run = None
    if paths:
        preload_models()  # the model libraries import while the ingest runs
        run = ingest_case(db, paths, tz=tz, progress=ingest_progress)
        if ingested:
            ingested(run)
    return CaseRun(db, run, analyse_case(db, llm=llm, progress=analysis_progress, geoip=geoip))


def sample_logs_dir() -> Path:
    """The bundled sample logs: next to the sources, else in the current folder."""
    for candidate in (REPO_ROOT / "sample_logs", Path.cwd() / "sample_logs"):
        if candidate.is_dir():
            return candidate
    raise CaseInputError("sample_logs/ not found next to the vedette sources or in the current folder")


DEMO_SKIP = frozenset({"gen", "__pycache__"})


def demo_folders(db: str) -> tuple[Path, list[str]]:
    """The demo's case ``db`` removed (it is made afresh) and the sample logs' host folders to
    ingest into it: not the generator's package, README and truth.json beside them."""
    logs = sample_logs_dir()
    for stale in (Path(db), Path(db + ".wal")):
        if stale.exists():
            stale.unlink()
    return logs, [str(p) for p in sorted(logs.iterdir()) if p.is_dir() and p.name not in DEMO_SKIP]


def run_demo(db: str, *, ingest_progress: Callable[[IngestProgress], None] | None = None,
             analysis_progress: Callable[[StageProgress], None] | None = None,
             ingested: Callable[[IngestRun], None] | None = None) -> CaseRun:
    """The sample logs into a fresh case ``db`` (an old one is replaced), analysed."""
    logs, folders = demo_folders(db)
    # The sample logs are written in UTC; the reader's zone must not shift them.
    run = open_paths(db, folders, tz="UTC", ingest_progress=ingest_progress,
                     analysis_progress=analysis_progress, ingested=ingested)
    return CaseRun(db, run.ingest, run.analysis, logs)
