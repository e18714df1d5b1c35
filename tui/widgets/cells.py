"""Turning values from the case into safe, compact Rich text.

Everything from a log (and from an LLM) is hostile: it goes through ``engine.textsafe.visible``
(control characters become visible escapes) and into ``rich.text.Text`` (never parsed as markup).
No other path from data to the screen exists in the TUI.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.text import Text

from engine.textsafe import visible

SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan",
                  "info": "dim"}
TRIAGE_STYLE = {"true_positive": "bold red", "benign": "green", "needs_review": "yellow"}
TRIAGE_WORDS = {"true_positive": "true positive", "benign": "benign", "needs_review": "needs review"}
NULL = Text("·", style="dim")


def plain(value: Any, *, limit: int | None = None) -> str:
    """A value as one line of display text (control characters escaped)."""
    if value is None:
        return ""
    if isinstance(value, str):
        s = value
    elif isinstance(value, datetime):
        s = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, date):
        s = value.isoformat()
    elif isinstance(value, float):
        s = f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    elif isinstance(value, Decimal):
        s = str(value)
    elif isinstance(value, (list, tuple)):
        s = ", ".join(plain(v) for v in value)
    elif isinstance(value, bool):
        s = "true" if value else "false"
    elif isinstance(value, bytes):
        s = value.decode("utf-8", "backslashreplace")
    else:
        s = str(value)
    if not s.isprintable():  # control and bidi characters are not printable: only then is there anything to escape
        s = visible(s)
    if limit is not None and len(s) > limit:
        s = s[: max(1, limit - 1)] + "…"
    return s


def cell(value: Any, style: str = "", *, limit: int | None = 200) -> Text:
    """A DataTable cell: safe text; NULL as a dim dot; numbers right-aligned."""
    if value is None:
        return NULL
    justify = "right" if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else "left"
    if isinstance(value, int) and not isinstance(value, bool):
        return Text(str(value), style=style, justify=justify)
    return Text(plain(value, limit=limit), style=style, justify=justify, no_wrap=True)


def count(value: Any, style: str = "") -> Text:
    """A count: thousands separated (ports, pids and line numbers go through ``cell``)."""
    if value is None:
        return NULL
    return Text(f"{int(value):,}", style=style, justify="right")


def listing_text(items: list | None, shown: int = 2, *, limit: int = 60) -> str | None:
    """'a, b +3' for a list of sources / accounts (safe text; None for an empty list)."""
    items = list(items or [])
    if not items:
        return None
    text = ", ".join(plain(x, limit=40) for x in items[:shown])
    more = f" +{len(items) - shown}" if len(items) > shown else ""
    if len(text) + len(more) > limit:
        text = text[: max(1, limit - len(more) - 1)] + "…"
    return text + more
