"""A case: one DuckDB file holding everything about one investigation.

``Case.open(path)`` opens (and, read-write, creates and migrates) the file; ``read_only=True`` is
for commands that only look. DuckDB allows one writer process per file: a case held by another
process raises ``CaseLocked`` with a one-line message instead of DuckDB's error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from store import rawblocks
from store.schema import MIGRATIONS, SCHEMA_VERSION, events_view_sql

DEFAULT_DB = "vedette.duckdb"

# DuckDB's own memory ceiling for a case connection; it spills to disk beyond it.
MEMORY_LIMIT = "1GB"


class CaseError(Exception):
    """A problem with the case file the user should read as one line (exit code 1)."""


class CaseLocked(CaseError):
    pass


class CaseMissing(CaseError):
    pass


class Case:
    """An open case. ``con`` is the DuckDB connection; use ``close()`` or ``with``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only

    @classmethod
    def open(cls, path: str | Path = DEFAULT_DB, *, read_only: bool = False) -> Case:
        path = str(path)
        p = Path(path)
        if path != ":memory:":
            if read_only and not p.exists():
                raise CaseMissing(f"no case at {path}: ingest logs into it first (vedette ingest PATH --db {path})")
            if p.is_dir():
                raise CaseError(f"{path} is a directory, not a case file")
            if not read_only and not p.parent.exists():
                raise CaseError(f"cannot create case {path}: folder {p.parent} does not exist")
        try:
            con = duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            raise _explain_io_error(path, exc) from None
        except duckdb.Error as exc:
            raise CaseError(f"cannot open case {path}: {_first_line(exc)}") from None
        case = cls(con, path, read_only)
        try:
            # The `events` view reads raw lines out of their compressed blocks with this function.
            rawblocks.register(con)
            con.execute("SET TimeZone = 'UTC'")
            # DuckDB draws its own progress bar on long queries; ours (or the TUI's) is the one to show.
            con.execute("SET enable_progress_bar = false")
            con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            case._check_or_migrate()
        except BaseException:
            con.close()
            raise
        return case

    def close(self) -> None:
        try:
            self.con.close()
        except duckdb.Error:
            pass

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema ---------------------------------------------------------------------------

    def schema_version(self) -> int:
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta' AND table_schema = 'main'"
        ).fetchall()[0][0]
        if not exists:
            return 0
        row = next(iter(self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()), None)
        return int(row[0]) if row else 0

    def _check_or_migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise CaseError(
                f"case {self.path} has schema version {version}, newer than this vedette understands "
                f"({SCHEMA_VERSION}); upgrade vedette"
            )
        if version == SCHEMA_VERSION:
            if not self.read_only:
                # The view is code, not data: keep it in step with this version of vedette.
                self.con.execute(events_view_sql())
            return
        if self.read_only:
            if version == 0:
                raise CaseError(f"{self.path} is not a vedette case (no schema); ingest logs into it first")
            raise CaseError(
                f"case {self.path} has schema version {version}; open it once read-write "
                f"(e.g. vedette ingest) to upgrade it to {SCHEMA_VERSION}"
            )
        if version == 0 and self._has_foreign_tables():
            raise CaseError(f"{self.path} is a DuckDB file but not a vedette case; use another --db")
        for migration in MIGRATIONS:
            if migration.version <= version:
                continue
            self.con.execute("BEGIN TRANSACTION")
            try:
                if migration.version == 1:
                    self.con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
                for statement in migration.statements:
                    self.con.execute(statement)
                if migration.run is not None:
                    migration.run(self.con)
                self.con.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', $v)", {"v": str(migration.version)}
                )
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise

    def _has_foreign_tables(self) -> bool:
        n = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()[0][0]
        return n > 0

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def _explain_io_error(path: str, exc: BaseException) -> CaseError:
    text = str(exc)
    if "lock" in text.lower():
        m = re.search(r"held in (.+?) \(PID (\d+)\)", text)
        who = f" by {Path(m.group(1)).name} (PID {m.group(2)})" if m else ""
        return CaseLocked(
            f"case {path} is in use{who}: another vedette is writing it; wait for it to finish or use another --db"
        )
    return CaseError(f"cannot open case {path}: {_first_line(exc)}")
