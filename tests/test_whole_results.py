"""DuckDB 2 refuses ``register()`` and ``sql()`` on a connection whose last ``execute()`` result
was only partly fetched (``fetchone()`` of a one-row result still counts as unfinished). The
raw-block functions and the ingest register tables and run ``sql()`` on the case's connection,
so product code fetches whole results and never calls ``fetchone()``."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_a_half_read_result_blocks_register_and_sql_on_that_connection() -> None:
    con = duckdb.connect()
    con.execute("SELECT count(*) FROM range(10)").fetchone()
    with pytest.raises(duckdb.Error, match="unfinished result"):
        con.register("_t", pa.table({"a": [1]}))
    con.execute("SELECT count(*) FROM range(10)").fetchall()
    con.register("_t", pa.table({"a": [1]}))  # a whole result leaves the connection free
    assert con.sql("SELECT a FROM _t").fetchall() == [(1,)]


def test_product_code_never_leaves_a_result_half_read() -> None:
    offenders = []
    for folder in ("engine", "store", "tui", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for no, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"\.fetchone\(", line):
                    offenders.append(f"{path.relative_to(ROOT)}:{no}")
    assert not offenders, f"fetchone() leaves the result unfinished; use fetchall(): {offenders}"
