"""What a log format is: a name, how to recognise it, and the SQL that turns lines into events.

A format never loops over lines in Python. ``build_sql`` returns one DuckDB SELECT over the
relation ``_lines(line_no BIGINT, line VARCHAR)`` (one chunk of a file, blank and over-long lines
already taken out by the ingest core) and named parameters for it. The SELECT yields one row per
input line with:

- ``line_no`` and ``raw`` (the line as read: ``line AS raw``);
- any of the event columns of ``store.schema.EVENT_COLUMNS`` (missing ones become NULL);
- ``_reject``: NULL for an event, else the reason the line is not one (it goes to ``rejects``);
- ``_skip``: NULL, or the reason the line is skipped by design (Suricata ``stats``, Zeek ``#`` lines).

Every input line must come out exactly once: the ingest core checks the counts add up.
``fixups`` are statements run after the rows are materialised in the temp table ``_parsed``
(e.g. an UPDATE that fills a field from an earlier line of the same connection): work that needs
other rows of the chunk, done once on the stored rows rather than inside the SELECT. They may
read ``_prior``: the events already stored from earlier chunks of the same file (empty for the
first chunk), with the columns of the format's event table.
``samples`` are literal lines with the fields they must give; ``tests/engine`` checks them all.

A *binary* format (``record_bytes`` > 0: wtmp/btmp) has fixed-size records instead of lines.
``detect_bytes(head, file_name)`` says how sure it is of a file's first bytes; ``parse_records``
turns a run of whole records (plus, at the end of a file, one truncated record) into an Arrow
table with ``line_no`` = the 1-based record number, without a Python loop per record; its
``build_sql`` then reads the relation ``_records`` (that table) instead of ``_lines``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class FileContext:
    """What a format may know about the file besides its lines.

    path: absolute path of the file.
    mtime_year / mtime_month: the file's modification time, for year-less syslog timestamps.
    tz: IANA zone name used for timestamps that carry no offset.
    head_lines: the first lines of the file (decoded like the rest), for header-driven formats
        such as Zeek TSV; always the start of the file, even when ingest resumes mid-file.
    """

    path: str
    mtime_year: int
    mtime_month: int
    tz: str = "UTC"
    head_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sample:
    """A literal line and the fields its event must have (``_reject``/``_skip`` allowed)."""

    line: str
    expect: Mapping[str, Any]
    mtime_year: int = 2026
    mtime_month: int = 12


@dataclass(frozen=True)
class LogFormat:
    """A log format as data.

    name: the ``--format`` name and the ``events.format`` value.
    title: one line for humans.
    detect: confidence 0..1 that these first non-blank lines are this format.
    build_sql: (sql, params) for one chunk, see the module docstring.
    samples: literal lines with the events they must give.
    priority: breaks detection ties, higher wins.
    fixups: SQL statements run on ``_parsed`` once the chunk's rows are in it.
    record_bytes: the size of one record of a binary format; 0 for text formats.
    detect_bytes: (head bytes, file name) -> confidence, for binary formats.
    parse_records: (whole records, first record number, context) -> Arrow table, for binary formats.
    """

    name: str
    title: str
    detect: Callable[[Sequence[str]], float]
    build_sql: Callable[[FileContext], tuple[str, dict[str, Any]]]
    samples: tuple[Sample, ...] = field(default=())
    priority: int = 0
    fixups: tuple[str, ...] = ()
    record_bytes: int = 0
    detect_bytes: Callable[[bytes, str], float] | None = None
    parse_records: Callable[[bytes, int, FileContext], pa.Table] | None = None


def json_object(line: str) -> dict[str, Any] | None:
    """The JSON object on a line, or None (for detection, which looks at a few lines in Python)."""
    s = line.strip()
    if not s.startswith("{"):
        return None
    try:
        obj = json.loads(s)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def decode_lines(data: bytes, first_line_no: int) -> pa.Table:
    """Split a chunk of whole lines into an Arrow table ``(line_no, line)`` without a Python loop.

    Invalid UTF-8 becomes ``\\xNN`` escapes and NUL bytes ``\\x00`` (kept visible, never lost);
    trailing CR/LF are dropped (CRLF files). ``data`` holds complete lines; a final line without
    a newline is still a line. The bytes go into Arrow as they are (no Python string per line):
    the newline positions found by numpy become the offsets of a string array.
    """
    if b"\x00" in data:
        data = data.replace(b"\x00", b"\\x00")
    if not data.isascii():  # ASCII is valid UTF-8; isascii() is ten times cheaper than decoding
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            data = data.decode("utf-8", "backslashreplace").encode("utf-8")
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    ends = newlines + 1
    if len(data) and (not len(ends) or ends[-1] != len(data)):
        ends = np.append(ends, len(data))
    offsets = np.concatenate(([0], ends)).astype(np.int64)
    n = len(offsets) - 1
    # Arrays are built from buffers: pa.array()/pa.table() would import pandas (0.3 s a process).
    raw = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    # (Removing the newlines with bytes.replace and shifting the offsets measured slower.)
    lines = pc.utf8_rtrim(raw, "\r\n")
    line_nos = pa.Array.from_buffers(
        pa.int64(), n, [None, pa.py_buffer(np.arange(first_line_no, first_line_no + n, dtype=np.int64))]
    )
    table = pa.Table.from_arrays([line_nos, lines], names=["line_no", "line"])
    # Many record batches, so DuckDB parses them on every core (one batch is one thread).
    return pa.Table.from_batches(table.to_batches(max_chunksize=1 << 16), table.schema)


_COLUMNS: dict[str, tuple[str, ...]] = {}


def _output_columns(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The column names of a format's SELECT, so its rows are cast to the event types and
    materialised once. Binding a format's SQL takes tens of milliseconds and every chunk of a
    file has the same SQL, so the names are kept per SQL text."""
    cols = _COLUMNS.get(sql)
    if cols is None:
        cur = con.execute(f"SELECT * FROM ({sql}) LIMIT 0", params or None)
        cols = tuple(d[0] for d in cur.description)
        if len(_COLUMNS) > 64:
            _COLUMNS.clear()
        _COLUMNS[sql] = cols
    return cols


def run_format(
    con: duckdb.DuckDBPyConnection,
    fmt: LogFormat,
    ctx: FileContext,
    chunk: pa.Table,
    max_line_chars: int,
    prior: str | None = None,
    keep_raw: bool = False,
) -> None:
    """Parse ``chunk`` with ``fmt`` into the temp table ``_parsed`` on ``con``.

    ``_parsed`` holds every line of the chunk once: the format's rows, plus rows the core
    decides itself (blank lines skipped, over-long lines rejected with only their start kept).
    ``prior`` is a SELECT of the events already stored from earlier chunks of the same file; the
    fixups see it as ``_prior`` (empty when there is none) to carry state across chunk edges.

    A text format's ``raw`` is its line, which ingest keeps in raw blocks straight from the
    chunk: ``_parsed`` then holds ``raw`` only for rejects (their own evidence), unless
    ``keep_raw`` or a fixup reads it. A binary format's ``raw`` (what its SQL renders of a
    record) is always kept.
    """
    binary = fmt.record_bytes > 0
    con.register("_records" if binary else "_chunk", chunk)
    limit = int(max_line_chars)
    if not binary:
        # strlen (bytes) and a one-character regex are far cheaper than length (characters) and trim.
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW _lines AS SELECT line_no, line::VARCHAR AS line FROM _chunk "
            f"WHERE strlen(line) <= {limit} AND regexp_matches(line, '[^ \t\r\n]')"
        )
    sql, params = fmt.build_sql(ctx)
    cols = _output_columns(con, sql, params)
    for needed in ("line_no", "raw", "_reject", "_skip"):
        if needed not in cols:
            raise ValueError(f"format {fmt.name!r}: its SQL must produce a {needed!r} column")
    from store.schema import EVENT_COLUMN_TYPES

    unknown = [c for c in cols if c not in EVENT_COLUMN_TYPES and c not in ("_reject", "_skip")]
    if unknown:
        raise ValueError(f"format {fmt.name!r}: unknown output columns {unknown}")
    keep_raw = keep_raw or binary or any("raw" in f for f in fmt.fixups)
    casts = ", ".join(
        f'"{c}"::{EVENT_COLUMN_TYPES[c]} AS "{c}"' if keep_raw or c != "raw"
        else 'CASE WHEN _reject IS NOT NULL THEN "raw" END::VARCHAR AS "raw"'
        for c in cols if c in EVENT_COLUMN_TYPES)
    if binary:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _parsed AS SELECT {casts}, _reject::VARCHAR AS _reject, "
            f"_skip::VARCHAR AS _skip FROM ({sql}) _fmt",
            params or None,
        )
    else:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _parsed AS
            SELECT {casts}, _reject::VARCHAR AS _reject, _skip::VARCHAR AS _skip FROM ({sql}) _fmt
            UNION ALL BY NAME
            SELECT line_no, left(line, 4096) AS raw,
                   'line is ' || strlen(line) || ' bytes, over the ' || {limit} ||
                   ' limit; only its first 4096 characters are kept' AS _reject, NULL AS _skip
            FROM _chunk WHERE strlen(line) > {limit}
            UNION ALL BY NAME
            SELECT line_no, line::VARCHAR AS raw, NULL AS _reject, 'blank line' AS _skip
            FROM _chunk WHERE strlen(line) <= {limit} AND NOT regexp_matches(line, '[^ \t\r\n]')""",
            params or None,
        )
    if fmt.fixups:
        con.execute(f"CREATE OR REPLACE TEMP VIEW _prior AS {prior or 'SELECT * FROM _parsed WHERE false'}")
        for statement in fmt.fixups:
            con.execute(statement)
        con.execute("DROP VIEW _prior")
    con.unregister("_records" if binary else "_chunk")


def parse_lines(
    fmt: LogFormat | str,
    lines: Sequence[str],
    *,
    path: str = "/var/log/test.log",
    mtime_year: int = 2026,
    mtime_month: int = 12,
    tz: str = "UTC",
    max_line_chars: int = 1 << 20,
) -> list[dict[str, Any]]:
    """Parse literal lines with a format, as ingest would, and return one dict per line.

    For tests and for checking a format's samples; ``source_file``/``format`` are filled in.
    """
    from engine.formats import get_format

    if isinstance(fmt, str):
        fmt = get_format(fmt)
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape") if lines else b""
    chunk = decode_lines(data, 1)
    ctx = FileContext(
        path=path,
        mtime_year=mtime_year,
        mtime_month=mtime_month,
        tz=tz,
        head_lines=tuple(chunk.column("line").to_pylist()[:64]),
    )
    return _parsed_rows(fmt, ctx, chunk, max_line_chars)


def _parsed_rows(fmt: LogFormat, ctx: FileContext, chunk: Any, max_line_chars: int) -> list[dict[str, Any]]:
    """Run ``fmt`` over one chunk in a scratch DuckDB, as ingest would, and return its rows as dicts."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        run_format(con, fmt, ctx, chunk, max_line_chars, keep_raw=True)
        cur = con.execute("SELECT * FROM _parsed ORDER BY line_no")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()
    for r in rows:
        r.setdefault("source_file", ctx.path)
        r["format"] = fmt.name
    return rows


def parse_bytes(fmt: LogFormat | str, data: bytes, *, path: str = "/var/log/wtmp", tz: str = "UTC") -> list[dict[str, Any]]:
    """Parse the bytes of a binary format's file, as ingest would, and return one dict per record."""
    from engine.formats import get_format

    if isinstance(fmt, str):
        fmt = get_format(fmt)
    if fmt.parse_records is None:
        raise ValueError(f"format {fmt.name!r} is not a binary format")
    ctx = FileContext(path=path, mtime_year=2026, mtime_month=12, tz=tz)
    return _parsed_rows(fmt, ctx, fmt.parse_records(data, 1, ctx), 1 << 20)
