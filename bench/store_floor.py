#!/usr/bin/env python3
"""The least a line store costs: a log's lines into a DuckDB table, nothing parsed.

    python bench/store_floor.py FILE DB [--zstd | --blocks]
    python bench/store_floor.py --rows CASE DB

Reads FILE in the chunks `vedette ingest` uses, turns each into Arrow with Vedette's own decoder
(invalid UTF-8 and NUL kept visible) and inserts ``(line_no, raw)`` into a table of a new DuckDB
file, one transaction per chunk: what any ingest that keeps the lines in the case must pay before
it extracts a single field. ``--blocks`` stores them the way Vedette does since issue 16:
compressed blocks of consecutive lines (``store.rawblocks``).
``--rows CASE`` times another floor: the event rows a real ``vedette ingest`` made of the file
(read from the case CASE into memory first, not timed) inserted into the same event table of a new
case, one transaction: what storing the parsed columns costs, whatever the parser.
``bench/ingest.py`` runs it as a whole process beside ``vedette
ingest``, lnav and GoAccess.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", nargs="?")
    ap.add_argument("db")
    ap.add_argument("--rows", metavar="CASE", help="time storing the event rows of CASE (see above)")
    ap.add_argument("--zstd", action="store_true", help="store the lines as VARCHAR with DuckDB's zstd")
    ap.add_argument("--blocks", action="store_true", help="store the lines as Vedette's raw blocks")
    args = ap.parse_args()

    import duckdb

    from engine import config
    from engine.formats.base import decode_lines

    db = Path(args.db)
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    if args.rows:
        return _rows(args.rows, db)
    if not args.file:
        ap.error("FILE is needed unless --rows is given")
    con = duckdb.connect(str(db))
    if args.blocks:
        return _blocks(con, args.file)
    zstd = " USING COMPRESSION zstd" if args.zstd else ""
    con.execute(f"CREATE TABLE lines (source_id INTEGER, line_no BIGINT, raw VARCHAR{zstd})")
    line_no = 1
    for chunk in _chunks(args.file, config.INGEST_CHUNK_BYTES):
        table = decode_lines(chunk, line_no)
        line_no += table.num_rows
        con.register("_chunk", table)
        con.execute("BEGIN")
        con.execute("INSERT INTO lines SELECT 1, line_no, line::VARCHAR FROM _chunk")
        con.execute("COMMIT")
        con.unregister("_chunk")
    con.close()
    print(line_no - 1)
    return 0


def _chunks(path: str, size: int):
    with open(path, "rb") as f:
        while True:
            chunk = f.read(size)
            if not chunk:
                return
            yield chunk + f.readline()  # whole lines only


def _blocks(con, path: str) -> int:
    from engine import config
    from engine.formats.base import decode_lines
    from store import rawblocks

    con.execute(rawblocks.RAW_BLOCKS_DDL)
    line_no, base = 1, 0
    for chunk in _chunks(path, config.INGEST_CHUNK_BYTES):
        table = decode_lines(chunk, line_no)
        blocks = rawblocks.pack(table.column("line"), line_no)
        line_no += table.num_rows
        con.execute("BEGIN")
        rawblocks.insert_blocks(con, 1, base, blocks)
        con.execute("COMMIT")
        base += len(blocks)
    con.close()
    print(line_no - 1)
    return 0


def _rows(case_path: str, db: Path) -> int:
    """Seconds (printed) to insert the event rows of ``case_path`` into a new case's own tables."""
    import time

    from store.case import Case
    from store.schema import EVENT_TABLES

    with Case.open(case_path, read_only=True) as src:
        tables = {t: src.con.sql(f"SELECT * FROM {t}").to_arrow_table() for t in EVENT_TABLES}
    rows = 0
    with Case.open(db) as case:
        start = time.perf_counter()
        with case.transaction():
            for t, table in tables.items():
                if table.num_rows:
                    case.con.register("_rows_in", table)
                    case.con.execute(f"INSERT INTO {t} BY NAME SELECT * FROM _rows_in")
                    case.con.unregister("_rows_in")
                    rows += table.num_rows
        secs = time.perf_counter() - start
    print(f"{rows} {secs:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
