"""The SQL console's editor with completion of table and column names (Tab), and the schema
(tables and their columns) shown beside it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import Static, TextArea

from tui.widgets.cells import plain

# The identifier (or table.column) being typed just before the cursor.
_WORD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*\.)?([A-Za-z_][A-Za-z0-9_]*)$")


def completions(before: str, schema: dict[str, list[tuple[str, str]]]) -> tuple[str, list[str]]:
    """(the prefix typed, the names it may complete to) for the text ``before`` the cursor:
    after ``table.``, that table's columns; else table names and every column name. Names are
    matched in any case; an empty prefix completes nothing."""
    m = _WORD.search(before)
    if not m:
        return "", []
    table, prefix = m.group(1), m.group(2)
    low = prefix.lower()
    if table:
        names = [c for c, _ in schema.get(table[:-1], schema.get(table[:-1].lower(), []))]
    else:
        names = list(schema) + sorted({c for cols in schema.values() for c, _ in cols} - set(schema))
    return prefix, [n for n in names if n.lower().startswith(low) and n.lower() != low]


def quoted(name: str) -> str:
    """A name as SQL wants it (``"user"`` is a keyword; odd characters need quotes)."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name not in _RESERVED else '"' + name.replace('"', '""') + '"'


# Column names of the case that are SQL keywords (they need quotes).
_RESERVED = {"user", "end", "from", "to", "order", "group", "select", "where", "table", "default", "check"}


class SqlEditor(TextArea):
    """A TextArea where Tab completes the table or column name before the cursor (Tab with
    nothing to complete moves focus as usual); several candidates post ``Candidates``."""

    @dataclass
    class Candidates(Message):
        prefix: str
        names: list[str]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.schema: dict[str, list[tuple[str, str]]] = {}

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "tab" and self.complete():
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    def complete(self) -> bool:
        """Complete the name before the cursor; False when there is nothing to complete."""
        row, col = self.cursor_location
        before = self.document.get_line(row)[:col]
        prefix, names = completions(before, self.schema)
        if not names:
            return False
        common = os.path.commonprefix([n.lower() for n in names])
        if len(names) == 1:
            self.replace(quoted(names[0]), (row, col - len(prefix)), (row, col))
        elif len(common) > len(prefix):
            self.insert(names[0][len(prefix):len(common)])
        self.post_message(self.Candidates(prefix, names))
        return True


def schema_text(schema: dict[str, list[tuple[str, str]]]) -> Text:
    """Tables (bold) and their columns with types (dim), for the pane beside the editor."""
    t = Text(no_wrap=True, overflow="ellipsis")
    for table, cols in schema.items():
        t.append(plain(table) + "\n", style="bold")
        for name, typ in cols:
            t.append("  " + plain(name))
            t.append(" " + plain(typ).lower() + "\n", style="dim")
    return t


class SchemaPane(Static):
    """The case's tables and columns."""

    def show(self, schema: dict[str, list[tuple[str, str]]]) -> None:
        self.update(schema_text(schema) if schema else Text("no tables", style="dim"))
