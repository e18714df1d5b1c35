"""The SQL console's read-only statements, and export of a query or table as CSV, JSON or Parquet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from store.browse import BrowseError
from store.case import Case

# --- SQL console ------------------------------------------------------------------------------

# Statement kinds the console runs; everything else (INSERT, COPY, ATTACH, SET, PRAGMA, CALL...)
# is refused before it runs, and what runs runs inside a transaction that is rolled back.
READ_ONLY_STATEMENTS = ("SELECT", "EXPLAIN")


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: list[tuple]
    truncated: bool
    seconds: float


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    """The statements of ``sql`` if every one only reads; raises BrowseError otherwise."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise BrowseError(_first_line(exc)) from None
    if not statements:
        raise BrowseError("nothing to run")
    for st in statements:
        kind = str(st.type).rsplit(".", 1)[-1]
        if kind not in READ_ONLY_STATEMENTS:
            raise BrowseError(f"the console only reads: {kind} statements are refused (SELECT, EXPLAIN, "
                              "DESCRIBE, SUMMARIZE, SHOW are fine)")
    return [st.query for st in statements]


def run_read_only(case: Case, sql: str, max_rows: int = 10_000) -> QueryResult:
    """Run read-only SQL; the result of the last statement, at most ``max_rows`` rows."""
    import time

    con = case.con
    statements = check_read_only(con, sql)
    start = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    try:
        cur = None
        for st in statements:
            cur = con.execute(st)
        if cur is None or cur.description is None:
            return QueryResult((), [], False, time.perf_counter() - start)
        columns = tuple(d[0] for d in cur.description)
        rows = cur.fetchmany(max_rows + 1)
    except duckdb.Error as exc:
        raise BrowseError(_first_line(exc)) from None
    finally:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
    return QueryResult(columns, rows[:max_rows], len(rows) > max_rows, time.perf_counter() - start)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else exc.__class__.__name__


# --- export -----------------------------------------------------------------------------------

EXPORT_FORMATS: tuple[str, ...] = ("csv", "json", "parquet")


def export(case: Case, out_path: str | Path, fmt: str, *, sql: str | None = None, params: dict | None = None,
           table: Any = None) -> int:
    """Write a query's result (``sql`` + ``params``) or an Arrow ``table`` to ``out_path`` as CSV,
    JSON (an array of objects) or Parquet, through DuckDB's COPY. Returns the rows written."""
    fmt = fmt.lower()
    if fmt not in EXPORT_FORMATS:
        raise BrowseError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")
    out = Path(out_path).expanduser()
    if not out.parent.is_dir():
        raise BrowseError(f"folder {out.parent} does not exist")
    con = case.con
    options = {"csv": "FORMAT csv, HEADER true", "json": "FORMAT json, ARRAY true", "parquet": "FORMAT parquet"}[fmt]
    target = "'" + str(out).replace("'", "''") + "'"
    name = "_vedette_export"
    if table is not None:
        con.register(name, table)
        source = f"SELECT * FROM {name}"
        params = {}
    elif sql is not None:
        source = sql
    else:
        raise BrowseError("nothing to export")
    try:
        con.execute(f"COPY ({source}) TO {target} ({options})", params or {})
        if table is not None:
            return int(table.num_rows)
        return int(con.execute(f"SELECT count(*) FROM ({source})", params or {}).fetchall()[0][0])
    except duckdb.Error as exc:
        raise BrowseError(f"export failed: {_first_line(exc)}") from None
    finally:
        if table is not None:
            con.unregister(name)

