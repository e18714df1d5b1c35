"""Making hostile log text safe to show.

Log lines are written by attackers as much as by servers. Before text reaches a terminal, a
widget, a PDF or an LLM prompt, control characters (C0, DEL, C1: ESC, BEL, CSI/OSC starts...) are
replaced by visible escapes, so a line can neither retitle a window nor plant a hyperlink. Rich
markup is not a concern here: callers render with ``rich.text.Text`` / ``markup=False``.
"""

from __future__ import annotations

_ESCAPES = {i: f"\\x{i:02x}" for i in list(range(0x00, 0x20)) + [0x7F] + list(range(0x80, 0xA0))}
_ESCAPES[0x09] = "\\t"
_ESCAPES[0x0A] = "\\n"
_ESCAPES[0x0D] = "\\r"
# Unicode bidi overrides and isolates can reorder what a reader sees ("Trojan Source").
for _cp in (0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069):
    _ESCAPES[_cp] = f"\\u{_cp:04x}"
_TABLE = str.maketrans(_ESCAPES)


def visible(text: object) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\n``...)."""
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    return s.translate(_TABLE)
