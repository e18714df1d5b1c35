"""Ingest: files in, ``events`` and ``rejects`` out, nothing lost.

The pipeline for one file: open it (plain, .gz or .bz2, read transparently) -> look at its first
bytes (binary? which format? which fingerprint?) -> find where an earlier ingest of the same
content stopped -> read the rest in chunks of whole lines -> parse each chunk IN DUCKDB with the
format's SQL -> commit events, rejects and the new byte offset in one transaction.

Because every chunk commits together with the offset it reached, an ingest killed at any moment
leaves a consistent case, and running it again resumes at the last committed chunk: appended
lines arrive exactly once, an unchanged file adds nothing, and a file renamed by log rotation
(``auth.log`` -> ``auth.log.1`` -> ``auth.log.2.gz``) is recognised by its content.
"""

from __future__ import annotations

import bz2
import glob
import hashlib
import io
import lzma
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from engine import config
from engine.formats import FileContext, LogFormat, all_formats, detect_binary_format, detect_format, get_format
from engine.formats.base import decode_lines, run_format
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
class FileProblem:
    """A path that could not be ingested (missing, binary, unknown format...).

    ``explicit`` is False for files met while walking a directory: those are reported but are
    not errors (a /var/log walk meets wtmp and friends).
    """

    path: str
    reason: str
    explicit: bool = True

    def as_json(self) -> dict:
        return {"path": self.path, "reason": self.reason}


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


@dataclass
class _Candidate:
    path: Path
    explicit: bool
    size: int = 0


# --- finding files ----------------------------------------------------------------------------

_COMPRESSED = (".gz", ".bz2", ".xz")
_ROTATION_NUM = re.compile(r"^(?P<base>.+?)\.(?P<n>\d{1,4})$")
_ROTATION_DATE = re.compile(r"^(?P<base>.+?)[-.](?P<d>(?:19|20)\d{6}(?:\d{2})?)$")


def _rotation_key(path: Path) -> tuple[str, str, int, str]:
    """Sort key putting a rotated set oldest first: auth.log.3.gz, auth.log.2.gz, auth.log.1, auth.log.

    Numbered rotations are older the higher the number; dated ones (auth.log-20261101) are older
    the earlier the date; the live file comes last.
    """
    name = path.name
    for ext in _COMPRESSED:
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    m = _ROTATION_NUM.match(name)
    if m:
        return (str(path.parent), m.group("base"), -int(m.group("n")), "")
    m = _ROTATION_DATE.match(name)
    if m:
        return (str(path.parent), m.group("base"), -(10**9), m.group("d"))
    return (str(path.parent), name, 0, "")


def expand_paths(
    paths: Sequence[str | os.PathLike], exclude: Iterable[str | os.PathLike] = ()
) -> tuple[list[_Candidate], list[FileProblem]]:
    """Files named by ``paths`` (files, directories walked, globs), each rotated set oldest first.

    ``exclude``: files never to read (the case file itself and its WAL, when a walk meets them).
    """
    found: dict[Path, _Candidate] = {}
    problems: list[FileProblem] = []
    for raw in paths:
        text = os.fspath(raw)
        if any(ch in text for ch in "*?[") and not os.path.exists(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                problems.append(FileProblem(text, "no file matches this pattern"))
            for m in matches:
                _add_path(Path(m), True, found, problems)
            continue
        p = Path(text)
        if not p.exists():
            problems.append(FileProblem(text, "no such file or directory"))
            continue
        _add_path(p, True, found, problems)
    skip = {Path(p).resolve() for p in exclude}
    files = sorted((c for c in found.values() if c.path not in skip), key=lambda c: _rotation_key(c.path))
    return files, problems


def _add_path(p: Path, explicit: bool, found: dict[Path, _Candidate], problems: list[FileProblem]) -> None:
    if p.is_dir():
        for root, dirs, names in os.walk(p):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith("."):
                    continue
                _add_path(Path(root) / name, False, found, problems)
        return
    if not p.is_file():
        problems.append(FileProblem(str(p), "not a regular file", explicit))
        return
    if not os.access(p, os.R_OK):
        problems.append(FileProblem(str(p), "permission denied", explicit))
        return
    key = p.resolve()
    if key not in found:
        found[key] = _Candidate(key, explicit, p.stat().st_size)
    elif explicit:
        found[key].explicit = True


# --- reading ----------------------------------------------------------------------------------


def _open_stream(path: Path) -> tuple[BinaryIO, str | None]:
    """The file's decompressed bytes, by magic number rather than by name."""
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic.startswith(b"\x1f\x8b"):
        return _GzipStream(open(path, "rb")), "gzip"
    if magic.startswith(b"BZh"):
        return bz2.open(path, "rb"), "bzip2"
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.open(path, "rb"), "xz"
    return open(path, "rb"), None


_READ_ERRORS = (EOFError, zlib.error, OSError, lzma.LZMAError, ValueError)


class _GzipStream(io.RawIOBase):
    """Streaming gzip (multi-member) that hands out every byte it could decompress.

    ``gzip.GzipFile`` raises at a truncated end and loses what its last read had decompressed;
    here a damaged archive yields all its readable data first, then ``EOFError``.
    """

    _BLOCK = 1 << 20

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._d = zlib.decompressobj(wbits=31)
        self._buf = bytearray()
        self._pos = 0
        self._error: BaseException | None = None
        self._done = False

    def _fill(self, want: int) -> None:
        while len(self._buf) < want and not self._done:
            block = self._raw.read(self._BLOCK)
            if not block:
                if not self._d.eof:
                    self._error = EOFError("truncated gzip")
                self._done = True
                break
            try:
                out = self._d.decompress(block)
                self._buf += out
                while self._d.eof and self._d.unused_data:
                    rest = self._d.unused_data
                    self._d = zlib.decompressobj(wbits=31)
                    self._buf += self._d.decompress(rest)
            except zlib.error as exc:
                self._error = exc
                self._done = True

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        self._fill(n if n >= 0 else 1 << 62)
        if not self._buf and self._error is not None:
            err, self._error = self._error, None
            raise err
        take = len(self._buf) if n < 0 else min(n, len(self._buf))
        out = bytes(self._buf[:take])
        del self._buf[:take]
        self._pos += take
        return out

    def seek(self, offset: int, whence: int = 0) -> int:  # forward only: what resuming needs
        if whence != 0 or offset < self._pos:
            raise ValueError("gzip stream seeks forward only")
        while self._pos < offset:
            if not self.read(min(self._BLOCK * 8, offset - self._pos)):
                break
        return self._pos

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()
        super().close()


def _read_head(stream: BinaryIO) -> tuple[bytes, str | None]:
    """Up to HEAD_BYTES from the start, and the reason reading stopped early, if it did."""
    parts: list[bytes] = []
    size = 0
    try:
        while size < config.HEAD_BYTES:
            data = stream.read(config.HEAD_BYTES - size)
            if not data:
                break
            parts.append(data)
            size += len(data)
    except _READ_ERRORS as exc:
        return b"".join(parts), _describe_read_error(exc)
    return b"".join(parts), None


def _describe_read_error(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "compressed file is truncated (ended before the end-of-stream marker)"
    if isinstance(exc, zlib.error):
        return f"compressed data is corrupt ({exc})"
    return f"read error: {exc}"


def _looks_binary(head: bytes) -> float | None:
    """Share of non-text bytes in the head when it says "binary", else None.

    Text logs hold printable bytes, tabs, newlines and mostly valid UTF-8; a few NULs or stray
    bytes do not make a file binary (those lines are kept with visible escapes), but a file whose
    start is full of control bytes or invalid UTF-8 is data, not a log.
    """
    sample = head[:8192]
    if not sample:
        return None
    controls = sum(sample.count(bytes([b])) for b in range(32) if b not in (9, 10, 13, 27))
    invalid = sample.decode("utf-8", "replace").count("\ufffd")
    share = (controls + invalid) / len(sample)
    if controls / len(sample) > config.BINARY_CONTROL_SHARE or share > 2 * config.BINARY_CONTROL_SHARE:
        return share
    return None


def _iter_chunks(stream: BinaryIO, chunk_bytes: int, growing: bool = False,
                 limit: int | None = None) -> Iterator[tuple[bytes, str | None]]:
    """Chunks of whole lines; the last element may carry the reason reading stopped early.

    ``growing``: the file is still being written, so a last line without its newline is torn
    (its writer is mid-line) and is left unread for the next read to take whole. ``limit``: read
    no more than this many bytes (a file still being written ends, for this read, where it was).

    A line longer than two chunks is cut to its start plus a marker, so memory stays bounded;
    the line is then rejected as over-long by the parser.
    """
    pending = b""
    overlong = False
    while True:
        error = None
        want = chunk_bytes if limit is None else min(chunk_bytes, limit)
        try:
            data = stream.read(want) if want > 0 else b""
            if limit is not None:
                limit -= len(data)
        except _READ_ERRORS as exc:
            data, error = b"", _describe_read_error(exc)
        if not data:
            if error:
                # A damaged or still-growing archive: keep its whole lines, leave the torn last
                # one unread so that a later ingest of the complete file picks it up whole.
                cut = pending.rfind(b"\n")
                yield (pending[: cut + 1] if cut >= 0 else b""), error
            elif pending and not growing:
                yield pending, None
            return
        if overlong:
            cut = data.find(b"\n")
            if cut < 0:
                continue
            pending += data[cut:]
            data = b""
            overlong = False
        else:
            pending += data
        cut = pending.rfind(b"\n")
        if cut < 0:
            if len(pending) > 2 * chunk_bytes:
                pending = pending[: config.MAX_LINE_CHARS + 4096]
                overlong = True
            continue
        yield pending[: cut + 1], None
        pending = pending[cut + 1 :]


def _iter_records(stream: BinaryIO, chunk_bytes: int, record: int) -> Iterator[tuple[bytes, str | None]]:
    """Chunks of whole fixed-size records; at the end of the file, a truncated last record too
    (the format rejects it with its reason). A read error keeps the whole records read so far."""
    size = max(record, chunk_bytes // record * record)
    pending = b""
    while True:
        try:
            data = stream.read(size)
        except _READ_ERRORS as exc:
            whole = len(pending) // record * record
            yield pending[:whole], _describe_read_error(exc)
            return
        if not data:
            if pending:
                yield pending, None
            return
        pending += data
        whole = len(pending) // record * record
        if whole >= size:
            yield pending[:whole], None
            pending = pending[whole:]


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
    reports: list[FileReport] = []
    total = sum(c.size for c in candidates)
    done = 0
    stop = False
    for i, cand in enumerate(candidates):
        if cancelled and cancelled():
            stop = True
            break

        def on_chunk(nbytes: int, _path: str = str(cand.path), _i: int = i) -> None:
            if progress:
                progress(IngestProgress(_path, min(done + nbytes, total), total, _i, len(candidates)))

        outcome = _ingest_file(case, cand, forced, tz, chunk_bytes, on_chunk, cancelled, growing)
        done += cand.size
        if isinstance(outcome, FileProblem):
            problems.append(outcome)
        else:
            reports.append(outcome)
            if outcome.status == "partial" and outcome.note == "cancelled":
                stop = True
                break
        if progress:
            progress(IngestProgress(str(cand.path), done, total, i + 1, len(candidates)))
    return IngestResult(tuple(reports), tuple(problems), cancelled=stop)


def _check_timezone(case: Case, tz: str) -> None:
    try:
        case.con.execute("SELECT timezone($tz, TIMESTAMP '2000-01-01 00:00:00')", {"tz": tz}).fetchone()
    except Exception:
        raise IngestError(f"unknown time zone {tz!r} (use an IANA name such as Europe/Paris or UTC)") from None


def _ingest_file(
    case: Case,
    cand: _Candidate,
    forced: LogFormat | None,
    tz: str,
    chunk_bytes: int,
    on_chunk: Callable[[int], None],
    cancelled: Callable[[], bool] | None,
    growing: bool = False,
) -> FileReport | FileProblem:
    path = str(cand.path)
    try:
        stream, compression = _open_stream(cand.path)
    except OSError as exc:
        return FileProblem(path, f"cannot open: {exc.strerror or exc}", cand.explicit)
    with stream:
        head, head_error = _read_head(stream)
        if growing and compression and head_error:
            # Its head may be shorter than the fingerprint that would recognise it: wait.
            return FileProblem(path, "compressed file is still being written", False)
        if not head:
            if head_error:
                return FileProblem(path, head_error, cand.explicit)
        source = _find_source(case, path, head) if head else None
        binary = _binary_format(head, path, forced, source)
        share = None if binary else _looks_binary(head)
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
        except _READ_ERRORS as exc:
            return FileProblem(path, _describe_read_error(exc), cand.explicit)

        counts = {"lines": 0, "events": 0, "rejected": 0, "skipped": 0}
        status = "appended" if source else "ingested"
        note = None
        source_id = source.id if source else None
        read_any = False
        # A file being written is read up to its size now: what its writer adds meanwhile is the
        # next read's, so one busy file does not hold the reader (and the other files) forever.
        plain_growing = growing and compression is None
        limit = max(0, st.st_size - offset) if plain_growing else None
        chunks = (_iter_records(rest, chunk_bytes, fmt.record_bytes) if binary
                  else _iter_chunks(rest, chunk_bytes, plain_growing, limit))
        for chunk, error in chunks:
            if chunk:
                if fmt is None:
                    return FileProblem(path, "log format not recognised; name one with --format", cand.explicit)
                source_id = _commit_chunk(
                    case, source_id, path, fmt, fmt_name, ctx, chunk, offset, line_no,
                    fingerprint, fp_len, compression, st, counts,
                )
                read_any = True
                n = counts["_last_lines"]
                offset += len(chunk)
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
        sid = con.execute("SELECT nextval('sources_id_seq')").fetchone()[0]
        con.execute(
            "INSERT INTO sources (id, path, format, fingerprint, fp_len, compression, size, mtime, status, "
            "first_ingested_at, ingested_at) VALUES ($id, $path, $fmt, $fp, $fl, $c, $size, $mtime, 'complete', now(), now())",
            {"id": sid, "path": path, "fmt": fmt_name, "fp": fingerprint, "fl": fp_len, "c": compression,
             "size": st.st_size, "mtime": st.st_mtime},
        )
    return sid


def _commit_chunk(
    case: Case, source_id: int | None, path: str, fmt: LogFormat, fmt_name: str, ctx: FileContext,
    chunk: bytes, offset: int, line_no: int, fingerprint: str, fp_len: int, compression: str | None,
    st: os.stat_result, counts: dict,
) -> int:
    table = fmt.parse_records(chunk, line_no, ctx) if fmt.parse_records else decode_lines(chunk, line_no)
    n = table.num_rows
    con = case.con
    with case.transaction():
        if source_id is None:
            source_id = con.execute("SELECT nextval('sources_id_seq')").fetchone()[0]
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
                      and c not in DERIVED_EVENT_COLUMNS)
        if lost:
            raise RuntimeError(f"format {fmt_name} yields {lost}, which table {target} does not store")
        cols = [c for c in stored if c in present]
        quoted = ", ".join(f'"{c}"' for c in cols)
        con.execute(
            f"INSERT INTO {target} (source_id, {quoted}) SELECT $sid, {quoted} "
            "FROM _parsed WHERE _reject IS NULL AND _skip IS NULL",
            {"sid": source_id},
        )
        con.execute(
            "INSERT INTO rejects SELECT $sid, $path, line_no, _reject, raw FROM _parsed WHERE _reject IS NOT NULL "
            "ORDER BY line_no",
            {"sid": source_id, "path": path},
        )
        total, ev, rej, skip = con.execute(
            "SELECT count(*), count(*) FILTER (_reject IS NULL AND _skip IS NULL), "
            "count(*) FILTER (_reject IS NOT NULL), count(*) FILTER (_reject IS NULL AND _skip IS NOT NULL) FROM _parsed"
        ).fetchone()
        if total != n or ev + rej + skip != n:
            raise RuntimeError(
                f"format {fmt.name} returned {total} rows for {n} lines of {path} from line {line_no}: lines would be lost"
            )
        con.execute(
            "UPDATE sources SET byte_offset = byte_offset + $nb, lines_read = lines_read + $n, "
            "events = events + $ev, rejected = rejected + $rej, skipped = skipped + $skip, "
            "ingested_at = now() WHERE id = $id",
            {"nb": len(chunk), "n": n, "ev": ev, "rej": rej, "skip": skip, "id": source_id},
        )
        con.execute("DROP TABLE _parsed")
    counts["lines"] += n
    counts["events"] += ev
    counts["rejected"] += rej
    counts["skipped"] += skip
    counts["_last_lines"] = n
    return source_id
