"""The report's fonts (bundled in ``engine/fonts``) and Unicode fallback: which font draws which
character, log text made printable, and monospaced wrapping that knows wide characters."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from engine.report.data import ReportError
from engine.textsafe import visible

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
# Debian's fonts-dejavu-core and fonts-droid-fallback, where a package unbundles ours.
SYSTEM_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts-droid-fallback/truetype"),
)
FONTS = {  # family -> file; bold comes from its own file
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
    "cjk": "DroidSansFallback.ttf",
    "emoji": "NotoEmoji-Regular.ttf",
}


def _font_path(fname: str, required: bool = True) -> str | None:
    """A bundled font, or the same file where a distribution that unbundles fonts puts it."""
    for folder in (FONT_DIR, *SYSTEM_FONT_DIRS):
        if (folder / fname).is_file():
            return str(folder / fname)
    if required:
        raise ReportError(f"font {fname} is missing from {FONT_DIR}: reinstall vedette")
    return None


# Joiners and variation selectors inside emoji sequences: invisible, and never worth an escape.
_ZERO_WIDTH_OK = frozenset({0x200D, 0xFE0E, 0xFE0F})


def safe(text: object, limit: int | None = None, cover: frozenset[int] | None = None) -> str:
    """Log text as the PDF prints it: control characters as escapes, cut to ``limit`` characters
    with the rest counted, and (given the fonts' ``cover``) characters no font has as ``\\uXXXX``."""
    s = visible(text)
    if limit is not None and len(s) > limit:
        s = s[:limit] + f"… (+{len(s) - limit:,} characters)"
    if cover is None or all(ord(c) in cover for c in s):
        return s
    return "".join(c if (ord(c) in cover or ord(c) in _ZERO_WIDTH_OK)
                   else (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}") for c in s)


def _columns(ch: str, mono: frozenset[int]) -> int:
    """How many monospaced cells a character takes: wide (CJK, emoji) and fallback glyphs two."""
    if unicodedata.combining(ch) or ord(ch) in _ZERO_WIDTH_OK:
        return 0
    if ord(ch) in mono and unicodedata.east_asian_width(ch) not in ("W", "F"):
        return 1
    return 2


def wrap_mono(text: str, cols: int, mono: frozenset[int]) -> list[str]:
    """Hard-wrap ``text`` at ``cols`` monospaced cells (log lines have no word boundaries worth
    keeping, and fpdf2's general line breaker costs a second per hundred long lines)."""
    lines: list[str] = []
    cur: list[str] = []
    used = 0
    for ch in text:
        w = _columns(ch, mono)
        if used + w > cols and cur:
            lines.append("".join(cur))
            cur, used = [], 0
        cur.append(ch)
        used += w
    if cur or not lines:
        lines.append("".join(cur))
    return lines


def load_fonts(pdf, texts: list[str]) -> tuple[frozenset[int], frozenset[int]]:
    """Register the fonts on ``pdf``, with the CJK and emoji fallbacks only where ``texts`` need
    them; returns the characters some font covers and those the monospaced font covers."""
    pdf.add_font("sans", "", _font_path(FONTS["sans"]))
    pdf.add_font("sans", "B", _font_path(FONTS["sans-bold"]))
    pdf.add_font("mono", "", _font_path(FONTS["mono"]))
    mono_cover = frozenset(pdf.fonts["mono"].cmap)
    cover = frozenset(pdf.fonts["sans"].cmap) | mono_cover
    # The fallbacks load only when the text needs them: the CJK font costs a second.
    missing = {ord(c) for t in texts for c in visible(t)} - cover - _ZERO_WIDTH_OK
    fallbacks = ["sans"]
    for family in ("cjk", "emoji"):
        if not missing:
            break
        path = _font_path(FONTS[family], required=False)
        if path is None:  # without it those characters are printed as escapes
            continue
        pdf.add_font(family, "", path)
        have = frozenset(pdf.fonts[family].cmap)
        if missing & have:
            fallbacks.append(family)
            cover |= have
            missing -= have
    # exact_match=False: bold text falls back to the regular CJK/emoji faces (there is no bold).
    pdf.set_fallback_fonts(fallbacks, exact_match=False)
    return cover, mono_cover
