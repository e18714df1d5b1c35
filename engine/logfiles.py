"""Finding log files (files, walked folders, globs; rotated sets oldest first) and reading them.

Plain, .gz (members, truncated tails kept), .bz2 and .xz are read by magic number, in chunks of
whole lines or of fixed-size binary records; ``engine.ingest`` parses and stores what is read.
"""

from __future__ import annotations

import bz2
import glob
import io
import lzma
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from engine import config


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


@dataclass
class Candidate:
    path: Path
    explicit: bool
    size: int = 0


# --- finding files ----------------------------------------------------------------------------

_COMPRESSED = (".gz", ".bz2", ".xz")
_ROTATION_NUM = re.compile(r"^(?P<base>.+?)\.(?P<n>\d{1,4})$")
_ROTATION_DATE = re.compile(r"^(?P<base>.+?)[-.](?P<d>(?:19|20)\d{6}(?:\d{2})?)$")


def rotation_key(path: Path) -> tuple[str, str, int, str]:
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
) -> tuple[list[Candidate], list[FileProblem]]:
    """Files named by ``paths`` (files, directories walked, globs), each rotated set oldest first.

    ``exclude``: files never to read (the case file itself and its WAL, when a walk meets them).
    """
    found: dict[Path, Candidate] = {}
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
    files = sorted((c for c in found.values() if c.path not in skip), key=lambda c: rotation_key(c.path))
    return files, problems


def _add_path(p: Path, explicit: bool, found: dict[Path, Candidate], problems: list[FileProblem]) -> None:
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
        found[key] = Candidate(key, explicit, p.stat().st_size)
    elif explicit:
        found[key].explicit = True


# --- reading ----------------------------------------------------------------------------------


def open_stream(path: Path) -> tuple[BinaryIO, str | None]:
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


READ_ERRORS = (EOFError, zlib.error, OSError, lzma.LZMAError, ValueError)


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


def read_head(stream: BinaryIO) -> tuple[bytes, str | None]:
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
    except READ_ERRORS as exc:
        return b"".join(parts), describe_read_error(exc)
    return b"".join(parts), None


def describe_read_error(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "compressed file is truncated (ended before the end-of-stream marker)"
    if isinstance(exc, zlib.error):
        return f"compressed data is corrupt ({exc})"
    return f"read error: {exc}"


def looks_binary(head: bytes) -> float | None:
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


def iter_chunks(stream: BinaryIO, chunk_bytes: int, growing: bool = False,
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
        except READ_ERRORS as exc:
            data, error = b"", describe_read_error(exc)
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
        data = b""  # not kept while the chunk is worked on
        cut = pending.rfind(b"\n")
        if cut < 0:
            if len(pending) > 2 * chunk_bytes:
                pending = pending[: config.MAX_LINE_CHARS + 4096]
                overlong = True
            continue
        yield pending[: cut + 1], None
        pending = pending[cut + 1 :]


def iter_records(stream: BinaryIO, chunk_bytes: int, record: int) -> Iterator[tuple[bytes, str | None]]:
    """Chunks of whole fixed-size records; at the end of the file, a truncated last record too
    (the format rejects it with its reason). A read error keeps the whole records read so far."""
    size = max(record, chunk_bytes // record * record)
    pending = b""
    while True:
        try:
            data = stream.read(size)
        except READ_ERRORS as exc:
            whole = len(pending) // record * record
            yield pending[:whole], describe_read_error(exc)
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
