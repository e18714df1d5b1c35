"""The case as Hive-partitioned Parquet: events by day and format, sessions and incidents beside them.

``export_parquet(case, DIR)`` writes ``DIR/events/day=YYYY-MM-DD/format=NAME/*.parquet`` (zstd;
``day`` is the UTC date of ``ts``, ``__HIVE_DEFAULT_PARTITION__`` where it has none), and
``DIR/sessions/day=/kind=/`` and ``DIR/incidents/day=/`` from the latest state of the case. It
is what Spark, or any Parquet reader, works on past one machine (``engine.spark``).

Each partition is written whole into a staging folder under ``DIR`` and then put in place of
the old one, so exporting again replaces partitions and never duplicates rows. Partitions the
case does not hold (another case's days) are left as they are. ``export_new_events`` is the
``ingest --parquet`` half: it re-writes only the partitions an ingest added events to.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from engine import config
from store.case import Case
from store.schema import EVENT_COLUMN_NAMES

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # the partition of rows whose key is NULL (Hive's, Spark's, Arrow's)
_BATCH_ROWS = 1 << 17


@dataclass(frozen=True)
class ParquetTable:
    """One table of the export: the query that gives its rows and the columns it is split by."""

    name: str
    query: str  # a SELECT giving the table's columns plus the partition columns
    partition_by: tuple[str, ...]
    events_like: bool = False  # partitions replaced one by one (True) or the whole table at once


def _utc_day(col: str) -> str:
    return f"strftime(timezone('UTC', {col}), '%Y-%m-%d')"


_EVENT_COLS = ", ".join(f'"{c}"' for c in EVENT_COLUMN_NAMES if c != "format")

TABLES: dict[str, ParquetTable] = {
    "events": ParquetTable(
        "events",
        f"SELECT event_id, source_id, {_EVENT_COLS}, {_utc_day('ts')} AS day, format FROM events",
        ("day", "format"), events_like=True,
    ),
    # Sessions of the latest run, incidents of every run; JSON columns as text, which every
    # Parquet reader takes.
    "sessions": ParquetTable(
        "sessions",
        "SELECT * REPLACE (features::VARCHAR AS features, top_features::VARCHAR AS top_features), "
        f"{_utc_day('first_ts')} AS day FROM sessions",
        ("day", "kind"),
    ),
    "incidents": ParquetTable(
        "incidents",
        f"SELECT * REPLACE (top_features::VARCHAR AS top_features), {_utc_day('first_seen')} AS day FROM incidents",
        ("day",),
    ),
}


@dataclass(frozen=True)
class TableExport:
    rows: int
    partitions: tuple[tuple[str, ...], ...]  # the partition values written, e.g. ("2026-10-12", "syslog")


@dataclass(frozen=True)
class ExportResult:
    root: str
    tables: dict[str, TableExport] = field(default_factory=dict)
    seconds: float = 0.0

    def as_json(self) -> dict:
        return {"root": self.root, "seconds": round(self.seconds, 3),
                "tables": {n: {"rows": t.rows, "partitions": len(t.partitions)} for n, t in self.tables.items()}}


class ExportError(Exception):
    """A problem with the export folder the user should read as one line (exit code 1)."""


def export_parquet(case: Case, root: str | Path, *, tables: tuple[str, ...] = tuple(TABLES)) -> ExportResult:
    """Write ``tables`` of the case under ``root`` (created if missing), replacing what was there."""
    t0 = time.perf_counter()
    out: dict[str, TableExport] = {}
    with _staging(root) as (base, stage):
        for name in tables:
            out[name] = _export_table(case, TABLES[name], base, stage)
    return ExportResult(str(base), out, time.perf_counter() - t0)


def ingest_mark(case: Case) -> pa.Table:
    """How far each source was read before an ingest (pass it to ``export_new_events`` after)."""
    rows = case.con.execute("SELECT id, lines_read FROM sources").fetchall()
    return pa.table({"id": pa.array([r[0] for r in rows], pa.int32()),
                     "lines_read": pa.array([r[1] for r in rows], pa.int64())})


def export_new_events(case: Case, root: str | Path, mark: pa.Table) -> ExportResult:
    """Re-write the event partitions holding events added since ``mark`` (none: nothing written)."""
    t0 = time.perf_counter()
    con = case.con
    con.register("_export_mark", mark)
    try:
        rows = con.execute(
            f"SELECT DISTINCT {_utc_day('e.ts')} AS day, e.format FROM events e "
            "LEFT JOIN _export_mark m ON m.id = e.source_id WHERE m.id IS NULL OR e.line_no > m.lines_read"
        ).fetchall()
    finally:
        con.unregister("_export_mark")
    touched = pa.table({"day": pa.array([r[0] for r in rows], pa.string()),
                        "format": pa.array([r[1] for r in rows], pa.string())})
    if touched.num_rows == 0:
        return ExportResult(str(Path(root).resolve()), {"events": TableExport(0, ())}, time.perf_counter() - t0)
    with _staging(root) as (base, stage):
        result = _export_table(case, TABLES["events"], base, stage, only=touched)
    return ExportResult(str(base), {"events": result}, time.perf_counter() - t0)


@contextmanager
def _staging(root: str | Path) -> Iterator[tuple[Path, Path]]:
    base = Path(root).resolve()
    if base.exists() and not base.is_dir():
        raise ExportError(f"{root} is a file, not a folder for Parquet")
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {root}: {exc.strerror or exc}") from exc
    # Inside the export folder, so putting a partition in place is a rename; Spark, DuckDB and
    # Arrow skip names starting with a dot.
    stage = base / f".staging-{uuid.uuid4().hex[:12]}"
    stage.mkdir()
    try:
        yield base, stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _export_table(case: Case, table: ParquetTable, base: Path, stage: Path, only: pa.Table | None = None) -> TableExport:
    # A cursor of its own: the Arrow stream is read to its end by pyarrow, and the case's
    # connection stays free for whatever comes next.
    con = case.con.cursor()
    staged = stage / table.name
    query = table.query
    if only is not None:
        # Only the touched partitions, each whole.
        con.register("_export_only", only)
        query = (f"SELECT q.* FROM ({query}) q SEMI JOIN _export_only o "
                 "ON q.day IS NOT DISTINCT FROM o.day AND q.format = o.format")
    # pyarrow writes the partitions from DuckDB's Arrow stream: several times faster here than
    # DuckDB's own partitioned COPY (which buffers every partition's rows).
    rows = 0

    def written(f) -> None:
        nonlocal rows
        rows += f.metadata.num_rows if f.metadata is not None else 0

    try:
        rel = con.sql(query)
        reader = (rel.to_arrow_reader(_BATCH_ROWS) if hasattr(rel, "to_arrow_reader")
                  else rel.fetch_arrow_reader(_BATCH_ROWS))
        ds.write_dataset(
            reader, str(staged), format="parquet",
            partitioning=ds.partitioning(pa.schema([(k, pa.string()) for k in table.partition_by]), flavor="hive"),
            file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
            max_rows_per_group=int(config.PARQUET_ROW_GROUP_ROWS),
            min_rows_per_group=min(int(config.PARQUET_ROW_GROUP_ROWS), _BATCH_ROWS),
            basename_template="part-{i}.parquet", existing_data_behavior="overwrite_or_ignore",
            file_visitor=written,
        )
    finally:
        con.close()
    depth = len(table.partition_by)
    written = sorted(p for p in staged.glob("/".join(["*"] * depth)) if p.is_dir()) if staged.exists() else []
    target = base / table.name
    trash = stage / ".old"
    trash.mkdir(exist_ok=True)
    if table.events_like:
        for part in written:
            dest = target / part.relative_to(staged)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                os.replace(dest, trash / uuid.uuid4().hex)
            os.replace(part, dest)
    else:
        if target.exists():
            os.replace(target, trash / uuid.uuid4().hex)
        if staged.exists():
            os.replace(staged, target)
        else:
            target.mkdir()
    values = tuple(tuple(seg.split("=", 1)[1] for seg in p.relative_to(staged).parts) for p in written)
    return TableExport(rows, values)


def parquet_glob(root: str | Path, table: str) -> str:
    return str(Path(root) / table / ("/".join(["*"] * len(TABLES[table].partition_by)) + "/*.parquet"))
