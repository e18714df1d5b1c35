"""The TUI's one door to the engine and the store.

``Backend`` wraps an open case and exposes, as plain blocking methods returning plain data, what
the screens need. The app receives it through its constructor, so tests can hand it a fake, and
calls it only from thread workers. Each call runs on its own DuckDB cursor (a connection to the
same database, safe to use from its thread); a call made under a ``slot`` name can be interrupted
from another thread with ``interrupt(slot)`` (DuckDB's ``interrupt()``), which is how a newer
filter cancels the count of an older one and how the SQL console's cancel works.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from store import browse, console, overview, queries, triage
from store.case import Case


class BackendError(Exception):
    """Something the analyst should read as one line (a bad filter, a refused statement...)."""


class Cancelled(Exception):
    """The caller cancelled the job; what was committed before stays."""


class Backend:
    """An open case and the operations the TUI performs on it. Every method blocks."""

    def __init__(self, case: Case, *, llm: object = "auto", geoip: str | None = None,
                 tz: str | None = None) -> None:
        self.case = case
        # Who writes incident summaries on analysis: "auto" (the configured model, else offline),
        # None (offline only); see engine.analyze.analyze.
        self.llm = llm
        # A folder of MaxMind .mmdb files to enrich addresses with (None: configured or bundled).
        self.geoip = geoip
        # The zone of timestamps without an offset in what this console ingests (None: the system's).
        self.tz = tz
        self._lock = threading.Lock()
        self._slots: dict[str, duckdb.DuckDBPyConnection] = {}

    @classmethod
    def open(cls, path: str | Path, *, llm: object = "auto", geoip: str | None = None,
             tz: str | None = None) -> Backend:
        return cls(Case.open(path), llm=llm, geoip=geoip, tz=tz)

    @property
    def path(self) -> str:
        return self.case.path

    def close(self) -> None:
        self.case.close()

    @contextmanager
    def _session(self, slot: str | None = None) -> Iterator[Case]:
        """A Case on a fresh cursor of the case's database, registered under ``slot``."""
        cur = self.case.con.cursor()
        if slot:
            with self._lock:
                old = self._slots.get(slot)
                self._slots[slot] = cur
            if old is not None:
                _interrupt(old)
        try:
            yield Case(cur, self.case.path, self.case.read_only)
        except duckdb.InterruptException:
            raise Cancelled() from None
        except browse.BrowseError as exc:
            raise BackendError(str(exc)) from None
        except triage.TriageError as exc:
            raise BackendError(str(exc)) from None
        finally:
            if slot:
                with self._lock:
                    if self._slots.get(slot) is cur:
                        del self._slots[slot]
            try:
                cur.close()
            except duckdb.Error:
                pass

    def interrupt(self, slot: str) -> None:
        """Stop the query running under ``slot`` (if any); its call raises ``Cancelled``."""
        with self._lock:
            cur = self._slots.get(slot)
        if cur is not None:
            _interrupt(cur)

    # --- overview -------------------------------------------------------------------------

    def totals(self) -> overview.CaseTotals:
        with self._session() as c:
            return overview.case_totals(c)

    def incident_breakdown(self) -> dict[str, dict[str, int]]:
        with self._session() as c:
            return overview.incident_breakdown(c)

    def activity(self, by: str = "source_file", buckets: int = 60) -> overview.Activity:
        with self._session("activity:" + by) as c:
            return overview.activity(c, by, buckets)

    def top_sources(self, limit: int = 8) -> list[dict]:
        with self._session("top_sources") as c:
            return overview.top_sources(c, limit)

    def top_accounts(self, limit: int = 8) -> list[dict]:
        with self._session("top_accounts") as c:
            return overview.top_accounts(c, limit)

    def web_panels(self, limit: int = 25):
        """GoAccess-style panels of the case's web requests (``store.web.WebPanels``)."""
        from store.web import web_panels

        with self._session("web_panels") as c:
            return web_panels(c, limit)

    def sources(self) -> list[dict]:
        with self._session() as c:
            return overview.sources(c)

    def reject_reasons(self) -> list[tuple[str, int]]:
        with self._session() as c:
            return overview.reject_reasons(c)

    def rejects(self, offset: int = 0, limit: int = 500) -> list[dict]:
        with self._session() as c:
            return overview.rejects(c, offset=offset, limit=limit)

    # --- incidents ------------------------------------------------------------------------

    def incidents(self) -> list[dict]:
        with self._session() as c:
            return browse.incident_rows(c)

    def incident(self, incident_id: str) -> dict | None:
        with self._session() as c:
            return queries.incident(c, incident_id)

    def incident_id_for_key(self, key: str) -> str | None:
        with self._session() as c:
            return browse.incident_id_for_key(c, key)

    def incident_sessions(self, incident_id: str) -> list[dict]:
        with self._session() as c:
            return queries.incident_sessions(c, incident_id)

    def incident_commands(self, incident_id: str) -> list[dict]:
        with self._session() as c:
            return queries.incident_commands(c, incident_id)

    def incident_timeline(self, incident_id: str, buckets: int | None = None) -> list[tuple[Any, int]]:
        """Events per slice of the incident's span: the PDF's slices (``config.TIMELINE_BUCKETS``)."""
        from engine.config import TIMELINE_BUCKETS

        with self._session() as c:
            return queries.incident_timeline(c, incident_id, buckets=buckets or TIMELINE_BUCKETS)

    def incident_auth_counts(self, incident_id: str):
        """Failed attempts and the log lines behind them (``engine.counts.AuthCounts``)."""
        from engine.counts import incident_auth_counts

        with self._session() as c:
            return incident_auth_counts(c, incident_id)

    # --- events ---------------------------------------------------------------------------

    def parse_filter(self, text: str, incident_id: str | None = None) -> browse.EventFilter:
        return browse.parse_filter(text, incident_id=incident_id)

    def events_page(self, flt: browse.EventFilter, *, after: browse.PageKey | None = None,
                    before: browse.PageKey | None = None, last: bool = False, limit: int = 200,
                    slot: str | None = None, span: timedelta | None = None) -> browse.EventPage:
        with self._session(slot) as c:
            return browse.events_page(c, flt, after=after, before=before, last=last, limit=limit, span=span)

    def count_events(self, flt: browse.EventFilter, slot: str | None = None) -> int:
        with self._session(slot) as c:
            return browse.count_events(c, flt)

    def event_detail(self, key: browse.PageKey) -> dict | None:
        with self._session() as c:
            return browse.event_detail(c, key)

    # --- triage ---------------------------------------------------------------------------

    def set_triage(self, incident_key: str, status: str) -> triage.Triage:
        with self._session() as c:
            return triage.set_status(c, incident_key, status)

    def set_note(self, incident_key: str, note: str) -> triage.Triage:
        with self._session() as c:
            return triage.set_note(c, incident_key, note)

    def clear_triage(self, incident_key: str) -> None:
        with self._session() as c:
            triage.clear(c, incident_key)

    def suppress(self, kind: str, value: str, note: str | None = None) -> triage.Suppression:
        with self._session() as c:
            return triage.add_suppression(c, kind, value, note)

    def suppressions(self) -> list[triage.Suppression]:
        with self._session() as c:
            return triage.suppressions(c)

    def unsuppress(self, suppression_id: int) -> bool:
        with self._session() as c:
            return triage.remove_suppression(c, suppression_id)

    # --- SQL console and export -----------------------------------------------------------

    def schema(self) -> dict[str, list[tuple[str, str]]]:
        """Tables and their (column, type)s, for the SQL console."""
        with self._session() as c:
            return queries.case_schema(c)

    def run_sql(self, sql: str, max_rows: int = 10_000) -> console.QueryResult:
        with self._session("sql") as c:
            return console.run_read_only(c, sql, max_rows)

    def export_events(self, flt: browse.EventFilter, out: str, fmt: str) -> int:
        with self._session("export") as c:
            sql, params = browse.events_export_sql(c, flt)
            return console.export(c, out, fmt, sql=sql, params=params)

    def export_rows(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], out: str, fmt: str) -> int:
        import pyarrow as pa

        names: list[str] = []
        for name in columns:  # SELECT a, a: Arrow needs distinct names
            unique, n = str(name), 1
            while unique in names:
                n += 1
                unique = f"{name}_{n}"
            names.append(unique)
        cols = {name: [r[i] for r in rows] for i, name in enumerate(names)}
        try:
            table = pa.table({n: pa.array(v) for n, v in cols.items()})
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # Mixed types in a column: export the text of each value.
            table = pa.table({n: pa.array([None if x is None else str(x) for x in v], pa.string())
                              for n, v in cols.items()})
        with self._session("export") as c:
            return console.export(c, out, fmt, table=table)

    def write_report(self, incident_id: str, out: str) -> str:
        """The incident's PDF report through ``engine.report`` (raises BackendError if that
        module is not installed in this build)."""
        try:
            from engine import report
        except ImportError:
            raise BackendError("PDF reports are not available in this build (engine.report is missing)") from None
        with self._session() as c:
            report.write_incident_report(c, incident_id, out)
        return out

    def containment_plan(self, incident_id: str, firewall: str = "nft") -> str:
        """The incident's containment plan as ``vedette respond`` prints it (text to review)."""
        from engine import respond

        with self._session() as c:
            try:
                return respond.render_sh(respond.plan(c, incident_id, firewall=firewall))
            except respond.RespondError as exc:
                raise BackendError(str(exc)) from None

    # --- jobs -----------------------------------------------------------------------------

    def ingest(self, paths: Sequence[str], progress: Callable[[float, str], None] | None = None,
               cancelled: Callable[[], bool] | None = None):
        """Ingest ``paths`` into the case. ``progress(fraction, text)``, called once a chunk (or a
        file) is committed, so readers on other cursors see the events it reported."""
        from engine import config
        from engine.ingest import IngestError, ingest

        def on_progress(p) -> None:
            if progress:
                frac = p.bytes_done / p.bytes_total if p.bytes_total else 0.0
                progress(frac, f"{Path(p.path).name} ({p.files_done}/{p.files_total} files)")

        with self._session("ingest") as c:
            try:
                return ingest(c, list(paths), tz=self.tz, progress=on_progress, cancelled=cancelled,
                              chunk_bytes=config.INGEST_CHUNK_BYTES)
            except IngestError as exc:
                raise BackendError(str(exc)) from None

    def follower(self, paths: Sequence[str], on_event: Callable[[Any], None]):
        """An ``engine.follow.Follower`` of ``paths`` into this case (its ``run()`` blocks: call it
        from a worker; ``stop()`` from anywhere). It works on cursors of its own."""
        from engine.follow import Follower

        return Follower(self.case, list(paths), on_event, llm=self.llm)

    def analyze(self, progress: Callable[[float, str], None] | None = None,
                cancelled: Callable[[], bool] | None = None):
        """A new analysis run. Raises ``Cancelled`` when cancelled between stages."""
        from engine.analyze import AnalysisCancelled, analyze

        def on_progress(p) -> None:
            if progress:
                progress(p.index / p.total, f"{p.stage} ({p.index + 1}/{p.total})")

        with self._session("analyze") as c:
            if c.con.execute("SELECT count(*) FROM events").fetchall()[0][0] == 0:
                raise BackendError("the case holds no events yet: ingest logs first (I)")
            try:
                return analyze(c, progress=on_progress, cancelled=cancelled, llm=self.llm, geoip=self.geoip)
            except AnalysisCancelled:
                raise Cancelled() from None


def _interrupt(cur: duckdb.DuckDBPyConnection) -> None:
    try:
        cur.interrupt()
    except duckdb.Error:
        pass
