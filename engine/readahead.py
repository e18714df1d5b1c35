"""Reading ahead: on a thread of its own, the next chunk of a file is read, decompressed and
split into lines while DuckDB parses and commits the one before, and a chunk's raw blocks are
packed while DuckDB parses it (DuckDB and zstd let go of the GIL, so the two cores work at
once); and the gates that keep files which start
alike (a copy, a rotated file) one after the other when an ingest reads files in parallel."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from engine import config
from engine.formats import FileContext, LogFormat
from engine.formats.base import decode_lines
from engine.logfiles import READ_ERRORS, Candidate, open_stream
from store import rawblocks


class Gates:
    """A lock per key, made when first asked for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gates: dict[bytes, threading.Lock] = {}

    @contextlib.contextmanager
    def hold(self, key: bytes) -> Iterator[None]:
        with self._lock:
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:
            yield


SAME_START = Gates()


def start_key(cand: Candidate) -> bytes:
    """The first bytes of a file (decompressed), which a copy or a rotated file shares."""
    try:
        stream, _ = open_stream(cand.path)
        with stream:
            return stream.read(64) or os.fsencode(str(cand.path))
    except (OSError, *READ_ERRORS):
        return os.fsencode(str(cand.path))


def pack_lines(table: pa.Table, first_line: int, limit: int) -> list[rawblocks.Block]:
    """The chunk's lines as raw blocks; an over-long line (a reject, which keeps its own start) is
    stored empty."""
    lines = table.column("line")
    too_long = pc.greater(pc.binary_length(lines), limit)
    if pc.any(too_long).as_py():
        lines = pc.if_else(too_long, "", lines)
    return rawblocks.pack(lines, first_line)


def prepared(chunks: Iterator[tuple[bytes, str | None]], fmt: LogFormat | None, ctx: FileContext,
             line_no: int) -> Iterator[tuple[int, str | None, pa.Table | None, Future | None]]:
    """Each chunk's size in bytes, its lines as an Arrow table and, for text, a future of its raw
    blocks (a binary format's raw is what its SQL renders of a record: packed after the parse).

    The blocks are packed after the chunk is handed over, when this generator is next resumed
    (by ``ahead``'s thread, at once): DuckDB starts parsing a chunk without waiting for them."""
    for chunk, error in chunks:
        table = None
        blocks: Future | None = None
        if chunk and fmt is not None:
            if fmt.parse_records is not None:
                table = fmt.parse_records(chunk, line_no, ctx)
            else:
                table = decode_lines(chunk, line_no)
                blocks = Future()
        first = line_no
        if table is not None:
            line_no += table.num_rows
        # The chunk's size, not its bytes: the table holds what is needed of them, and a 64 MiB
        # bytes object kept beside the table of the chunk before was a quarter of peak memory.
        size = len(chunk)
        del chunk
        yield size, error, table, blocks
        if blocks is not None:
            try:
                blocks.set_result(pack_lines(table, first, config.MAX_LINE_CHARS))
            except BaseException as exc:  # the caller's result() raises it
                blocks.set_exception(exc)
        table = None


_T = TypeVar("_T")


def ahead(items: Iterator[_T]) -> Iterator[_T]:
    """``items``, each made on a thread of its own while the caller works on the one before.

    At most two items are alive at once (the caller's and the next), so memory stays bounded
    by two chunks. Closing this generator stops the thread before the stream it reads closes."""
    out: queue.Queue = queue.Queue()
    slots = threading.Semaphore(2)
    stop = threading.Event()

    def run() -> None:
        try:
            while True:
                while not slots.acquire(timeout=0.05):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                try:
                    item = next(items)
                except StopIteration:
                    out.put(("done", None))
                    return
                out.put(("item", item))
        except BaseException as exc:  # handed to the caller, which raises it
            out.put(("error", exc))

    thread = threading.Thread(target=run, name="vedette-read", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = out.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
            slots.release()
    finally:
        stop.set()
        thread.join()
