"""Writing events that did not come through ingest (tests, benchmarks, imports).

Events live in per-family tables behind the ``events`` view (see ``store.schema``); this puts
rows given as columns into the right table under a ``sources`` row for their file.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from store import rawblocks
from store.schema import DERIVED_EVENT_COLUMNS, EVENT_COLUMN_TYPES, EVENT_TABLES, event_table_for


def source_id_for(con: duckdb.DuckDBPyConnection, path: str, format_name: str) -> int:
    """The id of the ``sources`` row for (path, format), made if needed (fingerprint 'external')."""
    rows = con.execute("SELECT id FROM sources WHERE path = $p AND format = $f", {"p": path, "f": format_name}).fetchall()
    if rows:
        return int(rows[0][0])
    sid = int(con.execute("SELECT nextval('sources_id_seq')").fetchall()[0][0])
    con.execute(
        "INSERT INTO sources (id, path, format, fingerprint, fp_len, status, note, first_ingested_at, ingested_at) "
        "VALUES ($id, $p, $f, 'external', 0, 'complete', 'written directly, not ingested', now(), now())",
        {"id": sid, "p": path, "f": format_name},
    )
    return sid


def append_events(con: duckdb.DuckDBPyConnection, path: str, format_name: str, columns: dict[str, Any]) -> int:
    """Append events of one file and format; ``columns`` maps event column names to equal-length
    lists or Arrow arrays (``line_no`` and ``raw`` required: the lines go to raw blocks). Returns
    the source id."""
    table_name = event_table_for(format_name)
    stored = EVENT_TABLES[table_name]
    unknown = [c for c in columns if c not in stored and c not in DERIVED_EVENT_COLUMNS and c != "raw"]
    if unknown:
        raise ValueError(f"{format_name} events are stored in {table_name}, which has no column(s) {unknown}")
    if "raw" not in columns or "line_no" not in columns:
        raise ValueError("append_events needs line_no and raw")
    cols = [c for c in stored if c in columns]
    data = pa.table({c: columns[c] if isinstance(columns[c], pa.Array) else pa.array(columns[c]) for c in cols})
    sid = source_id_for(con, path, format_name)
    raw = columns["raw"] if isinstance(columns["raw"], pa.Array) else pa.array(columns["raw"], pa.large_string())
    line_nos = np.asarray(data.column("line_no").to_numpy(zero_copy_only=False), dtype=np.int64)
    blocks = rawblocks.pack_sparse(line_nos, raw)
    base = rawblocks.next_block_no(con, sid)
    rawblocks.insert_blocks(con, sid, base, blocks)
    data = data.append_column("raw_block", pa.array(rawblocks.block_numbers(line_nos, blocks, base), pa.int32()))
    cols.append("raw_block")
    types = {**EVENT_COLUMN_TYPES, "raw_block": "INTEGER"}
    select = ", ".join(f'"{c}"::{types[c]}' for c in cols)
    quoted = ", ".join(f'"{c}"' for c in cols)
    con.register("_append_events", data)
    try:
        con.execute(f"INSERT INTO {table_name} (source_id, {quoted}) SELECT $sid, {select} FROM _append_events",
                    {"sid": sid})
    finally:
        con.unregister("_append_events")
    con.execute(
        "UPDATE sources SET events = events + $n, lines_read = lines_read + $n WHERE id = $sid",
        {"n": data.num_rows, "sid": sid},
    )
    return sid
