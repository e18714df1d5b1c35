"""Raw lines as compressed blocks: the evidence stays in the case, out of the ingest's hot path.

Storing every line as a DuckDB VARCHAR cost an auth.log ingest half a second per million lines
and most of the case file. Instead the lines of a file are kept in blocks of up to
``BLOCK_LINES`` consecutive lines, each one zstd frame in ``raw_blocks(source_id, block_no,
first_line, n, data)``; an event points at its block with ``raw_block`` (the block's number in
its source) and its line number (its index is ``line_no - first_line``).

A block's frame holds ``n`` little-endian uint32 lengths, then the lines' UTF-8 bytes back to
back (lines never hold a newline; ``decode_lines`` already made invalid UTF-8 and NUL visible).
Every line of the range is stored, events or not, except over-long lines (rejects, which keep
their own start in ``rejects.raw``): those are stored empty.

Three readers:

- SQL: ``vedette_raw(source_id, raw_block, line_no)`` (a vectorised Python function every Vedette
  connection registers) is the ``events`` view's ``raw``: an expression, so a query that does not
  read ``raw`` never calls it, and one that reads a few rows' unpacks only their blocks.
  ``vedette_raw_has(data, n, text)`` (may this block hold the text?) and ``vedette_raw_lines(data,
  n)`` (the block as a ``VARCHAR[]``) serve the full-text search (``matching_events_sql``).
- ``RawLines``: fills ``raw`` for rows that carry their block (reports do, and ``vedette_raw`` is
  one), unpacking each block once and keeping the last few.
- ``pack``/``unpack`` themselves, for ingest, migrations and tests.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import zstandard

# Lines per block. DuckDB hands a Python function 2,048 blocks at a time, so this bounds what one
# call unpacks (about 1M lines, 100-250 MB for web logs); a page of the TUI unpacks a few blocks.
BLOCK_LINES = 512
# zstd level 3: ~10x on syslog, at ~150 ms per million lines on one core (done beside the parse).
LEVEL = 3
UDF_NAME = "vedette_raw_lines"
RAW_UDF = "vedette_raw"
HAS_UDF = "vedette_raw_has"

RAW_BLOCKS_DDL = """CREATE TABLE raw_blocks (
    source_id INTEGER NOT NULL,
    block_no INTEGER NOT NULL,     -- 0, 1, 2... within its source, in line order
    first_line BIGINT NOT NULL,    -- line_no of its first line
    n INTEGER NOT NULL,            -- lines first_line .. first_line + n - 1
    data BLOB NOT NULL             -- zstd frame: n uint32 lengths, then the lines' bytes
)"""


def raw_sql(alias: str = "e") -> str:
    """The raw line of the rows of ``alias`` (which carry source_id, raw_block and line_no). An
    expression, so a query that does not read it never calls it."""
    return f"{RAW_UDF}({alias}.source_id, {alias}.raw_block, {alias}.line_no)"


def matching_events_sql(pattern_param: str, needle_param: str) -> str:
    """A subquery of the event ids (``(source_id << 40) + line_no``, as the ``events`` view has
    them) whose raw line is ILIKE the ``pattern_param`` (a ``%text%`` pattern of the literal
    ``needle_param``). Each block is first asked, in Python, whether it may hold the text at all
    (``vedette_raw_has``: no strings cross into DuckDB); only the blocks that may are split into
    lines for DuckDB's ILIKE, which decides."""
    like = f"ILIKE ${pattern_param} ESCAPE '\\'"
    return (
        "(SELECT (source_id::BIGINT << 40) + line_no FROM ("
        "SELECT source_id, first_line - 1 + generate_subscripts(_l, 1) AS line_no, unnest(_l) AS raw FROM ("
        f"SELECT source_id, first_line, {UDF_NAME}(data, n) AS _l FROM raw_blocks "
        f"WHERE {HAS_UDF}(data, n, ${needle_param}))) WHERE raw {like})"
    )


_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    # A zstd context is not safe to share between threads; each thread keeps its own.
    c = getattr(_local, "c", None)
    if c is None:
        c = _local.c = zstandard.ZstdCompressor(level=LEVEL)
    return c


def _decompressor() -> zstandard.ZstdDecompressor:
    d = getattr(_local, "d", None)
    if d is None:
        d = _local.d = zstandard.ZstdDecompressor()
    return d


def _offsets_and_data(lines: pa.Array) -> tuple[np.ndarray, memoryview]:
    arr = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    if arr.null_count:
        arr = arr.fill_null("")
    _, off_buf, data_buf = arr.buffers()
    off = np.frombuffer(off_buf, dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    data = memoryview(data_buf) if data_buf is not None else memoryview(b"")
    return off, data


@dataclass(frozen=True)
class Block:
    first_line: int
    n: int
    data: bytes


def _frame(lens: np.ndarray, body: memoryview) -> bytes:
    """One block's zstd frame: its lines' lengths as little-endian uint32, then their bytes."""
    return _compressor().compress(b"".join((lens.astype("<u4").tobytes(), body)))


def pack(lines: pa.Array, first_line: int, block_lines: int = BLOCK_LINES) -> list[Block]:
    """Blocks of the consecutive lines ``first_line, first_line + 1, ...`` (NULL stored empty)."""
    off, data = _offsets_and_data(lines)
    out = []
    for a in range(0, len(off) - 1, block_lines):
        b = min(a + block_lines, len(off) - 1)
        out.append(Block(first_line + a, b - a, _frame(np.diff(off[a: b + 1]), data[off[a]: off[b]])))
    return out


def pack_sparse(line_nos: np.ndarray, lines: pa.Array, block_lines: int = BLOCK_LINES) -> list[Block]:
    """Blocks for lines at arbitrary distinct ``line_nos`` (any order): each block spans at most
    ``block_lines`` line numbers, the ones not given stored empty."""
    order = np.argsort(line_nos, kind="stable")
    nos = np.asarray(line_nos, dtype=np.int64)[order]
    if len(nos) and np.any(nos[1:] == nos[:-1]):
        raise ValueError("two lines with the same line number")
    taken = lines.take(pa.array(order))
    off, data = _offsets_and_data(taken)
    out = []
    i = 0
    while i < len(nos):
        first = int(nos[i])
        j = int(np.searchsorted(nos, first + block_lines, side="left"))
        span = int(nos[j - 1]) - first + 1
        lens = np.zeros(span, dtype=np.int64)
        lens[nos[i:j] - first] = np.diff(off[i: j + 1])
        out.append(Block(first, span, _frame(lens, data[off[i]: off[j]])))
        i = j
    return out


def block_numbers(line_nos: np.ndarray, blocks: Sequence[Block], base: int) -> np.ndarray:
    """For each line number, the number (``base`` + position) of the block that holds it."""
    firsts = np.array([b.first_line for b in blocks], dtype=np.int64)
    return base + np.searchsorted(firsts, np.asarray(line_nos, dtype=np.int64), side="right") - 1


def _int_array(values: np.ndarray, typ: pa.DataType) -> pa.Array:
    # From buffers: pa.array() of Python values imports pandas (0.3 s a process).
    arr = np.ascontiguousarray(values, dtype=np.int32 if typ == pa.int32() else np.int64)
    return pa.Array.from_buffers(typ, len(arr), [None, pa.py_buffer(arr)])


def blocks_table(source_id: int, base: int, blocks: Sequence[Block]) -> pa.Table:
    """``blocks`` as rows of ``raw_blocks``, numbered from ``base``."""
    k = len(blocks)
    sizes = np.fromiter((len(b.data) for b in blocks), dtype=np.int64, count=k)
    offsets = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    data = pa.LargeBinaryArray.from_buffers(pa.large_binary(), k, [None, pa.py_buffer(offsets),
                                            pa.py_buffer(b"".join(b.data for b in blocks))])
    return pa.Table.from_arrays([
        _int_array(np.full(k, source_id), pa.int32()),
        _int_array(np.arange(base, base + k), pa.int32()),
        _int_array(np.fromiter((b.first_line for b in blocks), dtype=np.int64, count=k), pa.int64()),
        _int_array(np.fromiter((b.n for b in blocks), dtype=np.int32, count=k), pa.int32()),
        data,
    ], names=["source_id", "block_no", "first_line", "n", "data"])


def insert_blocks(con: duckdb.DuckDBPyConnection, source_id: int, base: int, blocks: Sequence[Block]) -> None:
    """Append ``blocks`` of source ``source_id`` to ``raw_blocks`` as numbers ``base``, ``base + 1``..."""
    if not blocks:
        return
    con.register("_raw_blocks_in", blocks_table(source_id, base, blocks))
    try:
        con.execute("INSERT INTO raw_blocks SELECT source_id, block_no, first_line, n, data::BLOB FROM _raw_blocks_in")
    finally:
        con.unregister("_raw_blocks_in")


def next_block_no(con: duckdb.DuckDBPyConnection, source_id: int) -> int:
    return int(con.execute("SELECT coalesce(max(block_no) + 1, 0) FROM raw_blocks WHERE source_id = $s",
                           {"s": source_id}).fetchall()[0][0])


def unpack(data: bytes, n: int) -> pa.LargeStringArray:
    """The ``n`` lines of one block, as an Arrow array."""
    raw = _decompressor().decompress(data)
    lens = np.frombuffer(raw, dtype="<u4", count=n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    body = pa.py_buffer(raw)[4 * n:]
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), body)


def _unpack_many(data: pa.Array, n: pa.Array) -> pa.Array:
    """The SQL function: one ``VARCHAR[]`` per block."""
    datas = data.to_pylist()
    ns = n.to_pylist()
    children = []
    list_offsets = np.zeros(len(datas) + 1, dtype=np.int64)
    for i, (d, k) in enumerate(zip(datas, ns)):
        k = int(k or 0)
        children.append(unpack(d, k) if d is not None and k else pa.array([], pa.large_string()))
        list_offsets[i + 1] = list_offsets[i] + k
    child = pa.concat_arrays(children) if children else pa.array([], pa.large_string())
    offsets = pa.Array.from_buffers(pa.int64(), len(list_offsets), [None, pa.py_buffer(list_offsets)])
    return pa.LargeListArray.from_arrays(offsets, child)


def _blocks_may_hold(data: pa.Array, n: pa.Array, needle: pa.Array) -> pa.Array:
    """The SQL function ``vedette_raw_has``: whether each block may hold ``needle`` in any case.

    ASCII letters are folded here; a block with any non-ASCII byte, or a needle with one, is
    always a candidate (Unicode case folding is left to DuckDB's ILIKE, which decides after)."""
    dec = _decompressor()
    text = needle[0].as_py() if len(needle) else ""
    key = text.encode("utf-8").lower()
    ascii_needle = key.isascii()
    out = np.zeros(len(data), dtype=bool)
    for i, (d, k) in enumerate(zip(data.to_pylist(), n.to_pylist())):
        if d is None:
            continue
        body = memoryview(dec.decompress(d))[4 * int(k or 0):].tobytes()
        out[i] = not ascii_needle or not body.isascii() or key in body.lower()
    return pa.Array.from_buffers(pa.bool_(), len(out), [None, pa.py_buffer(np.packbits(out, bitorder="little"))])


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Make ``vedette_raw_lines`` and ``vedette_raw`` known to ``con`` (and its cursors).

    ``vedette_raw(source_id, raw_block, line_no)`` reads the blocks through a cursor of its own
    (a connection to the same database: it sees what is committed), with a ``RawLines`` cache."""
    reader = RawLines()
    cursor = con.cursor()

    def raw(source_id: pa.Array, raw_block: pa.Array, line_no: pa.Array) -> pa.Array:
        arrays = [a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in (source_id, raw_block, line_no)]
        valid = np.ones(len(arrays[2]), dtype=bool)
        for a in arrays:
            if a.null_count:
                valid &= ~np.asarray(a.is_null().to_numpy(zero_copy_only=False))
        # The values buffers as they are (what a NULL slot holds does not matter: ``valid``);
        # fill_null() would build a pa.scalar, which imports pandas.
        cols = [np.frombuffer(a.buffers()[1], dtype=np.int32 if a.type == pa.int32() else np.int64)
                [a.offset: a.offset + len(a)].astype(np.int64) for a in arrays]
        return reader.gather(cursor, *cols, valid)

    for name, fn, args, result in ((UDF_NAME, _unpack_many, ["BLOB", "INTEGER"], "VARCHAR[]"),
                                   (HAS_UDF, _blocks_may_hold, ["BLOB", "INTEGER", "VARCHAR"], "BOOLEAN"),
                                   (RAW_UDF, raw, ["INTEGER", "INTEGER", "BIGINT"], "VARCHAR")):
        try:
            con.create_function(name, fn, args, result, type="arrow", side_effects=False, null_handling="special")
        except duckdb.Error as exc:
            if "already" not in str(exc).lower():
                raise


class RawLines:
    """Raw lines out of their blocks for rows that carry ``source_id``, ``raw_block`` and
    ``line_no``: each block is fetched and unpacked once and the ``keep`` most recently used are
    kept; a missing block is fetched with the ``ahead`` blocks after it (a scan in line order
    then asks the case once per few thousand lines)."""

    def __init__(self, keep: int = 64, ahead: int = 15) -> None:
        self._keep = keep
        self._ahead = ahead
        self._blocks: OrderedDict[int, tuple[int, pa.LargeStringArray]] = OrderedDict()
        self._lock = threading.Lock()

    def _load(self, con: duckdb.DuckDBPyConnection, keys: np.ndarray) -> None:
        missing = [int(k) for k in keys if int(k) not in self._blocks]
        if missing:
            want = np.unique(np.concatenate([np.asarray(missing, dtype=np.int64) + d for d in range(self._ahead + 1)]))
            sids, bnos = want >> 32, want & 0xFFFFFFFF
            # The ranges let DuckDB skip the row groups of other sources and blocks unread.
            found = con.execute(
                "SELECT source_id, block_no, first_line, n, data FROM raw_blocks "
                "WHERE source_id BETWEEN $s0 AND $s1 AND block_no BETWEEN $b0 AND $b1 "
                "AND ((source_id::BIGINT << 32) + block_no) IN (SELECT unnest($k))",
                {"k": want.tolist(), "s0": int(sids.min()), "s1": int(sids.max()),
                 "b0": int(bnos.min()), "b1": int(bnos.max())},
            ).fetchall()
            for sid, bno, first, n, data in found:
                self._blocks[(int(sid) << 32) + int(bno)] = (int(first), unpack(data, n))
        for k in keys:
            if int(k) in self._blocks:
                self._blocks.move_to_end(int(k))
        while len(self._blocks) > max(self._keep, len(keys)):
            self._blocks.popitem(last=False)

    def gather(self, con: duckdb.DuckDBPyConnection, source_id: np.ndarray, raw_block: np.ndarray,
               line_no: np.ndarray, valid: np.ndarray) -> pa.LargeStringArray:
        """The line of each row (NULL where ``valid`` is false or no block holds it), vectorised."""
        n = len(line_no)
        key = (source_id.astype(np.int64) << 32) + raw_block.astype(np.int64)
        uniq = np.unique(key[valid])
        if not len(uniq):
            return pa.nulls(n, pa.large_string())
        with self._lock:
            self._load(con, uniq)
            got = [self._blocks.get(int(k)) for k in uniq]
        present = np.array([g is not None for g in got])
        arrays = [g[1] if g is not None else pa.array([], pa.large_string()) for g in got]
        firsts = np.array([g[0] if g is not None else 0 for g in got], dtype=np.int64)
        sizes = np.array([len(a) for a in arrays], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        pos = np.searchsorted(uniq, key).clip(0, len(uniq) - 1)
        offset = line_no.astype(np.int64) - firsts[pos]
        ok = valid & (uniq[pos] == key) & present[pos] & (offset >= 0) & (offset < sizes[pos])
        # From buffers (pa.array() of numpy with a mask imports pandas: 0.3 s the first time).
        values = np.ascontiguousarray(np.where(ok, starts[pos] + offset, 0), dtype=np.int64)
        validity = pa.py_buffer(np.packbits(ok, bitorder="little"))
        index = pa.Array.from_buffers(pa.int64(), n, [validity, pa.py_buffer(values)])
        return pa.concat_arrays(arrays).take(index)

    def lines(self, con: duckdb.DuckDBPyConnection, refs: Sequence[tuple[int, int, int]]) -> list[str | None]:
        """The raw line of each (source_id, raw_block, line_no); None where none is stored."""
        valid = np.array([all(v is not None for v in r) for r in refs], dtype=bool)
        cols = [np.array([int(r[i]) if ok else 0 for r, ok in zip(refs, valid)], dtype=np.int64) for i in range(3)]
        return self.gather(con, *cols, valid).to_pylist() if refs else []

    def fill(self, con: duckdb.DuckDBPyConnection, rows: list[dict]) -> list[dict]:
        """Set ``raw`` in each row dict from its ``source_id``/``raw_block``/``line_no``."""
        got = self.lines(con, [(r.get("source_id"), r.get("raw_block"), r.get("line_no")) for r in rows])
        for r, raw in zip(rows, got):
            r["raw"] = raw
        return rows
