"""Ingest: files in, ``events`` and ``rejects`` out, nothing lost.

The pipeline for one file: open it (plain, .gz or .bz2, read transparently) -> look at its first
bytes (binary? which format? which fingerprint?) -> find where an earlier ingest of the same
content stopped -> read the rest in chunks of whole lines (the next chunk read, split and its raw
lines packed into compressed blocks on another thread: ``engine.readahead``) -> parse each chunk
IN DUCKDB with the format's SQL -> commit events, raw blocks, rejects and the new byte offset in
one transaction. The files of one ingest are read two at a time, each on its own connection.

Because every chunk commits together with the offset it reached, an ingest killed at any moment
leaves a consistent case, and running it again resumes at the last committed chunk: appended
lines arrive exactly once, an unchanged file adds nothing, and a file renamed by log rotation
(``auth.log`` -> ``auth.log.1`` -> ``auth.log.2.gz``) is recognised by its content.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from engine import config
from engine.formats import FileContext, LogFormat, all_formats, detect_binary_format, detect_format, get_format
from engine.formats.base import decode_lines, run_format
from engine.logfiles import (  # noqa: F401  (FileProblem and expand_paths: part of this API)
    READ_ERRORS, FileProblem, Candidate, describe_read_error, iter_chunks, iter_records, looks_binary,
    open_stream, read_head, expand_paths,
)
from engine.readahead import SAME_START, ahead, prepared, start_key
from store import rawblocks
from store.case import Case
from store.schema import DERIVED_EVENT_COLUMNS, EVENT_COLUMN_NAMES, EVENT_TABLES, event_table_for


class IngestError(Exception):
    """Bad usage (unknown format name and the like): one line, exit code 1."""


@dataclass(frozen=True)
class FileReport:
    """What one ingest did with one file.

    lines = events + rejected + skipped for the lines read in this run; ``status`` is
    ``ingested`` (read from the start), ``appended`` (read from where an earlier ingest stopped),
    ``unchanged`` (nothing new), ``partial`` (stopped early: cancelled or a truncated archive).
    """

    path: str
    format: str
    lines: int
    events: int
    rejected: int
    skipped: int
    status: str
    note: str | None = None

    def as_json(self) -> dict:
        d = {
            "path": self.path,
            "format": self.format,
            "lines": self.lines,
            "events": self.events,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "status": self.status,
        }
        if self.note:
            d["note"] = self.note
        return d


@dataclass(frozen=True)
class IngestResult:
    files: tuple[FileReport, ...]
    problems: tuple[FileProblem, ...] = ()
    cancelled: bool = False

    @property
    def events(self) -> int:
        return sum(f.events for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files)

    @property
    def errors(self) -> tuple[FileProblem, ...]:
        """Problems with paths the user named (exit code 1)."""
        return tuple(p for p in self.problems if p.explicit)

    def as_json(self) -> dict:
        return {
            "files": [f.as_json() for f in self.files],
            "events": self.events,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "errors": [p.as_json() for p in self.problems if p.explicit],
            "ignored": [p.as_json() for p in self.problems if not p.explicit],
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True)
class IngestProgress:
    """Reported after each chunk: the file being read and bytes done/total over the whole run."""

    path: str
    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int


def _binary_format(head: bytes, path: str, forced: LogFormat | None, source: _Source | None) -> LogFormat | None:
    """The binary format (wtmp/btmp...) a file is in: named, remembered for it, or detected from
    its first bytes and name. None for text files."""
    if forced is not None:
        return forced if forced.record_bytes else None
    if source is not None:
        fmt = all_formats().get(source.format)
        return fmt if fmt is not None and fmt.record_bytes else None
    return detect_binary_format(head, os.path.basename(path)) if head else None


# --- the store side ---------------------------------------------------------------------------


@dataclass
class _Source:
    id: int
    path: str
    format: str
    byte_offset: int
    lines_read: int


def _find_source(case: Case, path: str, head: bytes) -> _Source | None:
    """The source row whose fingerprint the file's start matches (same path preferred)."""
    lens = [r[0] for r in case.con.execute("SELECT DISTINCT fp_len FROM sources").fetchall()]
    best: _Source | None = None
    for n in sorted(lens, reverse=True):
        if n > len(head):
            continue
        fp = hashlib.sha256(head[:n]).hexdigest()
        rows = case.con.execute(
            "SELECT id, path, format, byte_offset, lines_read FROM sources WHERE fp_len = $n AND fingerprint = $fp "
            "ORDER BY (path = $path) DESC, id",
            {"n": n, "fp": fp, "path": path},
        ).fetchall()
        for row in rows:
            src = _Source(*row)
            # A short prefix identifies little: only trust it for the same path.
            if n < 64 and src.path != path:
                continue
            if src.path == path:
                return src
            best = best or src
        if best:
            return best
    return best


def default_timezone() -> str:
    """The zone naive syslog timestamps are read in: $VEDETTE_TZ, $TZ, the system's, else UTC."""
    for var in ("VEDETTE_TZ", "TZ"):
        value = os.environ.get(var, "").lstrip(":")
        if value and "/" in value or value in ("UTC", "GMT"):
            return value
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    try:
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    except OSError:
        pass
    return "UTC"


# --- ingest -----------------------------------------------------------------------------------


def ingest(
    case: Case,
    paths: Sequence[str | os.PathLike],
    *,
    format_name: str | None = None,
    tz: str | None = None,
    progress: Callable[[IngestProgress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    chunk_bytes: int = config.INGEST_CHUNK_BYTES,
    growing: bool = False,
) -> IngestResult:
    """Ingest ``paths`` into ``case``; see the module docstring.

    ``growing`` (what a follow passes for files written moments ago): a torn last line is left
    for the next read, and a compressed file whose start does not decompress yet (its writer is
    still at it) is not read at all, rather than read as a truncated archive.
    """
    forced: LogFormat | None = None
    if format_name:
        try:
            forced = get_format(format_name)
        except KeyError as exc:
            raise IngestError(str(exc.args[0])) from None
    tz = tz or default_timezone()
    _check_timezone(case, tz)
    exclude = [case.path, case.path + ".wal"] if case.path != ":memory:" else []
    candidates, problems = expand_paths(paths, exclude)
    total = sum(c.size for c in candidates)
    lanes = max(1, min(config.INGEST_FILES_AT_ONCE, len(candidates)))
    # Files in parallel each read chunks of half the size: two files at once hold what one did.
    chunk = chunk_bytes if lanes == 1 else max(1024, chunk_bytes // lanes)
    stopping = threading.Event()
    lock = threading.Lock()
    reading: dict[int, int] = {}  # bytes read so far of the files being read
    state = {"done": 0, "files": 0}

    def stop_now() -> bool:
        if cancelled and cancelled():
            stopping.set()
        return stopping.is_set()

    def tell(path: str) -> None:
        if progress:
            with lock:
                at = IngestProgress(path, min(state["done"] + sum(reading.values()), total), total, state["files"],
                                    len(candidates))
            progress(at)

    def one(i: int, cand: Candidate) -> FileReport | FileProblem | None:
        if stop_now():
            return None
        path = str(cand.path)

        def on_chunk(nbytes: int) -> None:
            with lock:
                reading[i] = nbytes
            tell(path)

        own = case if lanes == 1 else Case(case.con.cursor(), case.path, case.read_only)
        try:
            # Files that start alike (a copy, a rotated file) one after the other: the second
            # must see the first's source to be recognised as the same content.
            with SAME_START.hold(start_key(cand)):
                outcome = _ingest_file(own, cand, forced, tz, chunk, on_chunk, stop_now, growing)
        finally:
            if own is not case:
                own.con.close()
        with lock:
            reading.pop(i, None)
            state["done"] += cand.size
            state["files"] += 1
        if isinstance(outcome, FileReport) and outcome.status == "partial" and outcome.note == "cancelled":
            stopping.set()
        tell(path)
        return outcome

    if lanes == 1:
        outcomes = []
        for i, cand in enumerate(candidates):
            outcomes.append(one(i, cand))
            if stopping.is_set():
                break
    else:
        with ThreadPoolExecutor(lanes, thread_name_prefix="vedette-ingest") as pool:
            outcomes = list(pool.map(one, range(len(candidates)), candidates))
    reports: list[FileReport] = []
    for outcome in outcomes:
        if isinstance(outcome, FileProblem):
            problems.append(outcome)
        elif outcome is not None:
            reports.append(outcome)
    stop = stopping.is_set()
    return IngestResult(tuple(reports), tuple(problems), cancelled=stop)


def _check_timezone(case: Case, tz: str) -> None:
    try:
        case.con.execute("SELECT timezone($tz, TIMESTAMP '2000-01-01 00:00:00')", {"tz": tz}).fetchall()
    except Exception:
        raise IngestError(f"unknown time zone {tz!r} (use an IANA name such as Europe/Paris or UTC)") from None


def _ingest_file(
    case: Case,
    cand: Candidate,
    forced: LogFormat | None,
    tz: str,
    chunk_bytes: int,
    on_chunk: Callable[[int], None],
    cancelled: Callable[[], bool] | None,
    growing: bool = False,
) -> FileReport | FileProblem:
    path = str(cand.path)
    try:
        stream, compression = open_stream(cand.path)
    except OSError as exc:
        return FileProblem(path, f"cannot open: {exc.strerror or exc}", cand.explicit)
    with stream:
        head, head_error = read_head(stream)
        if growing and compression and head_error:
            # Its head may be shorter than the fingerprint that would recognise it: wait.
            return FileProblem(path, "compressed file is still being written", False)
        if not head:
            if head_error:
                return FileProblem(path, head_error, cand.explicit)
        source = _find_source(case, path, head) if head else None
        binary = _binary_format(head, path, forced, source)
        share = None if binary else looks_binary(head)
        if share is not None:
            what = "decompressed bytes" if compression else "bytes"
            return FileProblem(
                path, f"looks binary, not a text log ({share:.0%} control or invalid bytes in its first {what})",
                cand.explicit,
            )
        head_lines = () if binary else tuple(decode_lines(head, 1).column("line").to_pylist()[:200])
        fmt = binary or forced
        if fmt is None and source is not None:
            fmt = all_formats().get(source.format)
        if fmt is None:
            sample = [ln for ln in head_lines if ln.strip()][: config.DETECT_LINES]
            if not sample:
                fmt = None
            else:
                fmt, score = detect_format(sample)
                if fmt is None:
                    first = sample[0][:80]
                    return FileProblem(
                        path, f"log format not recognised (first line: {first!r}); name one with --format", cand.explicit
                    )
        try:
            st = os.stat(path)
        except OSError as exc:
            return FileProblem(path, f"cannot stat: {exc.strerror or exc}", cand.explicit)
        mtime = datetime.fromtimestamp(st.st_mtime, timezone.utc).astimezone()
        ctx = FileContext(path=path, mtime_year=mtime.year, mtime_month=mtime.month, tz=tz, head_lines=head_lines)
        fp_len = min(len(head), config.FINGERPRINT_BYTES)
        fingerprint = hashlib.sha256(head[:fp_len]).hexdigest()
        fmt_name = fmt.name if fmt else (source.format if source else "unknown")

        offset = source.byte_offset if source else 0
        line_no = (source.lines_read if source else 0) + 1
        if compression is None and source is not None and st.st_size < offset:
            return FileProblem(
                path,
                f"file is shorter ({st.st_size} bytes) than what was already read from it ({offset} bytes); "
                "it was truncated or rewritten",
                cand.explicit,
            )
        # Position the stream: the head was already read from it.
        try:
            if offset <= len(head):
                rest: BinaryIO = _Prefixed(head[offset:], stream)
            else:
                stream.seek(offset)
                rest = stream
        except READ_ERRORS as exc:
            return FileProblem(path, describe_read_error(exc), cand.explicit)

        counts = {"lines": 0, "events": 0, "rejected": 0, "skipped": 0}
        status = "appended" if source else "ingested"
        note = None
        source_id = source.id if source else None
        read_any = False
        # A file being written is read up to its size now: what its writer adds meanwhile is the
        # next read's, so one busy file does not hold the reader (and the other files) forever.
        plain_growing = growing and compression is None
        limit = max(0, st.st_size - offset) if plain_growing else None
        chunks = (iter_records(rest, chunk_bytes, fmt.record_bytes) if binary
                  else iter_chunks(rest, chunk_bytes, plain_growing, limit))
        # The next chunk is read, decompressed, split and its lines packed on another thread
        # while DuckDB parses and commits this one.
        with contextlib.closing(ahead(prepared(chunks, fmt, ctx, line_no))) as ready:
            for nbytes, error, table, blocks in ready:
                if nbytes:
                    if fmt is None:
                        return FileProblem(path, "log format not recognised; name one with --format", cand.explicit)
                    source_id = _commit_chunk(
                        case, source_id, path, fmt, fmt_name, ctx, nbytes, table, blocks, offset, line_no,
                        fingerprint, fp_len, compression, st, counts,
                    )
                    read_any = True
                    n = counts["_last_lines"]
                    offset += nbytes
                    line_no += n
                    on_chunk(min(offset, st.st_size) if compression is None else 0)
                if error:
                    status, note = "partial", error
                    break
                if cancelled and cancelled():
                    status, note = "partial", "cancelled"
                    break
        counts.pop("_last_lines", None)
        if source_id is None:
            # Nothing new to read (or an empty file): remember the file all the same.
            source_id = _register_empty(case, path, fmt_name, fingerprint, fp_len, compression, st)
        final = "complete" if status in ("ingested", "appended") else status
        case.con.execute(
            "UPDATE sources SET status = $s, note = $note, fingerprint = $fp, fp_len = $fl, size = $size, "
            "mtime = $mtime, path = $path WHERE id = $id",
            {"s": final, "note": note, "fp": fingerprint, "fl": fp_len, "size": st.st_size,
             "mtime": st.st_mtime, "path": path, "id": source_id},
        )
        if source is not None and not read_any and status != "partial":
            status = "unchanged"
        return FileReport(path, fmt_name, counts["lines"], counts["events"], counts["rejected"],
                          counts["skipped"], status, note)


class _Prefixed(io.RawIOBase):
    """Bytes already read (the head) followed by the rest of a stream."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._prefix = prefix
        self._stream = stream

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        if self._prefix:
            if n < 0 or n >= len(self._prefix):
                out, self._prefix = self._prefix, b""
                more = self._stream.read(n - len(out) if n >= 0 else -1) if n != len(out) else b""
                return out + more
            out, self._prefix = self._prefix[:n], self._prefix[n:]
            return out
        return self._stream.read(n)

    def readable(self) -> bool:
        return True


def _register_empty(case, path, fmt_name, fingerprint, fp_len, compression, st) -> int:
    with case.transaction() as con:
        sid = con.execute("SELECT nextval('sources_id_seq')").fetchall()[0][0]
        con.execute(
            "INSERT INTO sources (id, path, format, fingerprint, fp_len, compression, size, mtime, status, "
            "first_ingested_at, ingested_at) VALUES ($id, $path, $fmt, $fp, $fl, $c, $size, $mtime, 'complete', now(), now())",
            {"id": sid, "path": path, "fmt": fmt_name, "fp": fingerprint, "fl": fp_len, "c": compression,
             "size": st.st_size, "mtime": st.st_mtime},
        )
    return sid


def _commit_chunk(
    case: Case, source_id: int | None, path: str, fmt: LogFormat, fmt_name: str, ctx: FileContext,
    nbytes: int, table: pa.Table, blocks: Future | None, offset: int, line_no: int,
    fingerprint: str, fp_len: int, compression: str | None, st: os.stat_result, counts: dict,
) -> int:
    n = table.num_rows
    con = case.con
    with case.transaction():
        if source_id is None:
            source_id = con.execute("SELECT nextval('sources_id_seq')").fetchall()[0][0]
            con.execute(
                "INSERT INTO sources (id, path, format, fingerprint, fp_len, compression, size, mtime, "
                "first_ingested_at, ingested_at) VALUES ($id, $path, $fmt, $fp, $fl, $c, $size, $mtime, now(), now())",
                {"id": source_id, "path": path, "fmt": fmt_name, "fp": fingerprint, "fl": fp_len,
                 "c": compression, "size": st.st_size, "mtime": st.st_mtime},
            )
        target = event_table_for(fmt_name)
        prior = f"SELECT * FROM {target} WHERE source_id = {int(source_id)}" if line_no > 1 else None
        run_format(con, fmt, ctx, table, config.MAX_LINE_CHARS, prior)
        present = {r[0] for r in con.execute("DESCRIBE _parsed").fetchall()}
        stored = EVENT_TABLES[target]
        lost = sorted(c for c in present if c in EVENT_COLUMN_NAMES and c not in stored
                      and c not in DERIVED_EVENT_COLUMNS and c != "raw")
        if lost:
            raise RuntimeError(f"format {fmt_name} yields {lost}, which table {target} does not store")
        cols = [c for c in stored if c in present]
        quoted = ", ".join(f'"{c}"' for c in cols)
        # The raw lines go to blocks (a binary format's raw is what its SQL rendered of a record).
        if blocks is not None:
            blocks = blocks.result()  # packed on the read-ahead thread while DuckDB parsed
        else:
            rendered = con.sql("SELECT raw FROM _parsed ORDER BY line_no").to_arrow_table().column(0)
            blocks = rawblocks.pack(rendered, line_no)
        base = rawblocks.next_block_no(con, source_id) if line_no > 1 else 0
        rawblocks.insert_blocks(con, source_id, base, blocks)
        con.execute(
            f"INSERT INTO {target} (source_id, raw_block, {quoted}) "
            f"SELECT $sid, ($base + (line_no - $first) // {rawblocks.BLOCK_LINES})::INTEGER, {quoted} "
            "FROM _parsed WHERE _reject IS NULL AND _skip IS NULL",
            {"sid": source_id, "base": base, "first": line_no},
        )
        con.execute(
            "INSERT INTO rejects SELECT $sid, $path, line_no, _reject, raw FROM _parsed WHERE _reject IS NOT NULL "
            "ORDER BY line_no",
            {"sid": source_id, "path": path},
        )
        total, ev, rej, skip = con.execute(
            "SELECT count(*), count(*) FILTER (_reject IS NULL AND _skip IS NULL), "
            "count(*) FILTER (_reject IS NOT NULL), count(*) FILTER (_reject IS NULL AND _skip IS NOT NULL) FROM _parsed"
        ).fetchall()[0]
        if total != n or ev + rej + skip != n:
            raise RuntimeError(
                f"format {fmt.name} returned {total} rows for {n} lines of {path} from line {line_no}: lines would be lost"
            )
        con.execute(
            "UPDATE sources SET byte_offset = byte_offset + $nb, lines_read = lines_read + $n, "
            "events = events + $ev, rejected = rejected + $rej, skipped = skipped + $skip, "
            "ingested_at = now() WHERE id = $id",
            {"nb": nbytes, "n": n, "ev": ev, "rej": rej, "skip": skip, "id": source_id},
        )
        con.execute("DROP TABLE _parsed")
    counts["lines"] += n
    counts["events"] += ev
    counts["rejected"] += rej
    counts["skipped"] += skip
    counts["_last_lines"] = n
    return source_id
