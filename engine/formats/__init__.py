"""Log formats, one module each; every module that defines ``FORMAT`` is registered.

See ``engine.formats.base`` for what a format is.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence

from engine.formats.base import FileContext, LogFormat, Sample, parse_lines

__all__ = ["FileContext", "LogFormat", "Sample", "parse_lines", "all_formats", "get_format", "detect_format",
           "detect_binary_format"]

_REGISTRY: dict[str, LogFormat] | None = None

# Below this confidence nothing is claimed: the file is reported as of unknown format.
DETECT_MIN_CONFIDENCE = 0.5


def all_formats() -> dict[str, LogFormat]:
    global _REGISTRY
    if _REGISTRY is None:
        found: dict[str, LogFormat] = {}
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if info.name == "base" or info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            fmt = getattr(module, "FORMAT", None)
            if isinstance(fmt, LogFormat):
                found[fmt.name] = fmt
        _REGISTRY = found
    return _REGISTRY


def get_format(name: str) -> LogFormat:
    formats = all_formats()
    if name not in formats:
        raise KeyError(f"unknown format {name!r}; known: {', '.join(sorted(formats))}")
    return formats[name]


def detect_format(head_lines: Sequence[str]) -> tuple[LogFormat | None, float]:
    """The most likely format for the first lines of a file, with its confidence."""
    best: tuple[LogFormat | None, float] = (None, 0.0)
    for fmt in all_formats().values():
        score = float(fmt.detect(head_lines))
        cur_fmt, cur_score = best
        if score > cur_score or (score == cur_score and cur_fmt is not None and fmt.priority > cur_fmt.priority):
            best = (fmt, score)
    if best[1] < DETECT_MIN_CONFIDENCE:
        return None, best[1]
    return best


def detect_binary_format(head: bytes, file_name: str) -> LogFormat | None:
    """The binary format (fixed-size records) a file's first bytes and name say it is, or None."""
    best: tuple[LogFormat | None, float] = (None, 0.0)
    for fmt in all_formats().values():
        if fmt.detect_bytes is not None:
            score = float(fmt.detect_bytes(head, file_name))
            if score > best[1]:
                best = (fmt, score)
    return best[0] if best[1] >= DETECT_MIN_CONFIDENCE else None
