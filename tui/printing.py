"""What the command line prints for a person: tables fitted to the width that never cut an id, a
severity, a category or a count, JSON, progress on stderr and one-line errors.

Width: a terminal's own (or $COLUMNS); into a file or pipe, $COLUMNS when set, else as wide as
the table needs. Log text goes through ``visible`` and ``rich.text.Text``, never markup.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import json
import os
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.textsafe import visible
from tui.widgets.cells import SEVERITY_STYLE

GAP = 2  # spaces between columns
TEXT_WIDTH = 80  # free text (summaries) into a file or pipe without $COLUMNS
WORD_MAX = 24  # a wrapped column is never narrower than its longest word, up to this


def err(msg: str) -> None:
    """One line on stderr, control characters made visible."""
    print(f"vedette: {visible(msg)}", file=sys.stderr)


def print_json(obj: object, *, ensure_ascii: bool = False) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=ensure_ascii))


# --- width and fitting ------------------------------------------------------------------------


def output_width() -> int | None:
    """The width to fit: the terminal's, else $COLUMNS, else None (as wide as the content)."""
    if sys.stdout.isatty():
        return Console().width  # Rich: $COLUMNS, else the terminal's size
    cols = os.environ.get("COLUMNS", "")
    return int(cols) if cols.isdigit() and int(cols) > 0 else None


@dataclass(frozen=True)
class Column:
    """A printed column. ``keep`` columns (ids, severities, categories, counts, times) are never cut;
    the others are free text that wraps (``shorten="wrap"``) or loses its middle (``"middle"``, for
    paths: the distinguishing end stays). ``drop`` > 0: may be left out when even the kept columns
    and the free text's minimum do not fit (highest first)."""

    header: str
    justify: str = "left"
    keep: bool = True
    shorten: str = "wrap"
    min_width: int = 8
    drop: int = 0


def shorten_middle(text: str, width: int) -> str:
    """``text`` in ``width`` cells, its middle replaced by an ellipsis; the end (a file name, a
    rotation number) is kept whole, cut at a ``/`` where one falls in reach."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    tail = text
    while cell_len(tail) > width - 1:
        tail = tail[1:]
    slash = tail.find("/")
    if 0 < slash and cell_len(tail) - slash >= width // 2:
        tail = tail[slash:]
    head = text[: len(text) - len(tail)]
    room = width - 1 - cell_len(tail)
    while cell_len(head) > room:
        head = head[:-1]
    return head + "…" + tail


def _plain(cell: str | Text) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def fit_widths(columns: Sequence[Column], rows: Sequence[Sequence[str | Text]],
               width: int | None) -> tuple[list[int], list[int]]:
    """(indexes of the columns shown, their content widths) for ``width`` (None: natural widths)."""
    natural, least = [], []
    for i, col in enumerate(columns):
        cells = [_plain(r[i]) for r in rows]
        nat = max([cell_len(col.header), *(cell_len(line) for c in cells for line in (c.splitlines() or [""]))])
        natural.append(nat)
        if col.keep:
            least.append(nat)
        elif col.shorten == "wrap":
            word = max([0, *(cell_len(w) for c in cells for w in c.split())])
            least.append(min(nat, max(col.min_width, cell_len(col.header), min(word, WORD_MAX))))
        else:
            least.append(min(nat, max(col.min_width, cell_len(col.header))))
    shown = list(range(len(columns)))
    if width is None:
        return shown, [natural[i] for i in shown]

    def need(idx: list[int]) -> int:
        return sum(least[i] for i in idx) + GAP * (len(idx) - 1)

    while need(shown) > width and any(columns[i].drop for i in shown):
        shown.remove(max((i for i in shown if columns[i].drop), key=lambda i: columns[i].drop))
    widths = {i: least[i] for i in shown}
    spare = width - need(shown)
    while spare > 0:
        wanting = [i for i in shown if widths[i] < natural[i]]
        if not wanting:
            break
        share = max(1, spare // len(wanting))
        for i in wanting:
            give = min(share, natural[i] - widths[i], spare)
            widths[i] += give
            spare -= give
            if spare == 0:
                break
    return shown, [widths[i] for i in shown]


def print_table(columns: Sequence[Column], rows: Sequence[Sequence[str | Text]], *, title: str | None = None,
                console_file=None) -> None:
    """Print ``rows`` under ``columns`` fitted to the output width (see the module docstring)."""
    width = output_width()
    shown, widths = fit_widths(columns, rows, width)
    table = Table(box=None, pad_edge=False, padding=(0, GAP // 2), title=Text(title) if title else None,
                  title_justify="left",
                  show_edge=False)
    for i, w in zip(shown, widths):
        col = columns[i]
        table.add_column(Text(col.header), justify=col.justify, width=w, no_wrap=col.keep or col.shorten == "middle",  # type: ignore[arg-type]
                         overflow="fold")
    for r in rows:
        cells = []
        for i, w in zip(shown, widths):
            c = r[i]
            if columns[i].shorten == "middle" and not columns[i].keep and cell_len(_plain(c)) > w:
                c = Text(shorten_middle(_plain(c), w), style=c.style if isinstance(c, Text) else "")
            cells.append(c if isinstance(c, Text) else Text(c))
        table.add_row(*cells)
    table_width = sum(widths) + GAP * (len(widths) - 1)
    console = Console(file=console_file, highlight=False, width=max(table_width, width or 0),
                      soft_wrap=False)
    console.print(table)
    left_out = [columns[i].header for i in range(len(columns)) if i not in shown]
    if left_out:
        text_console().print(Text(f"({', '.join(left_out)} left out at {width} columns; --json has every field)",
                                  style="dim"))


def text_console(stderr: bool = False) -> Console:
    """A console for free text (it wraps at words): the output's width, or TEXT_WIDTH."""
    if stderr:
        return Console(stderr=True, highlight=False)
    return Console(highlight=False, width=output_width() or TEXT_WIDTH)


# --- progress on stderr -----------------------------------------------------------------------


class IngestBar:
    """A progress callback for ``ingest``: a bar on stderr, shown once the run is big enough."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("ingest"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                            TextColumn("{task.fields[name]}", markup=False), console=Console(stderr=True),
                            transient=True)
        self.task = None

    def __call__(self, p) -> None:
        from engine import config

        if p.bytes_total < config.PROGRESS_MIN_BYTES:
            return
        if self.task is None:
            self.task = self.bar.add_task("ingest", total=p.bytes_total, name="")
            self.bar.start()
        self.bar.update(self.task, completed=p.bytes_done, total=p.bytes_total,
                        name=visible(os.path.basename(p.path))[:40])

    def stop(self) -> None:
        self.bar.stop()


@contextlib.contextmanager
def ingest_progress() -> Iterator[IngestBar | None]:
    """An ``IngestBar`` on a terminal (stopped on leaving), else None."""
    if not sys.stderr.isatty():
        yield None
        return
    bar = IngestBar()
    try:
        yield bar
    finally:
        bar.stop()


@contextlib.contextmanager
def analysis_progress() -> Iterator:
    """A progress callback for ``analyze``: a spinner with the stage on stderr (terminal only)."""
    if not sys.stderr.isatty():
        yield None
        return
    with Console(stderr=True).status("analysing") as status:
        yield lambda p: status.update(f"analysing: {p.stage} ({p.index + 1}/{p.total})")


# --- ingest -----------------------------------------------------------------------------------

INGEST_COLUMNS = (
    Column("file", keep=False, shorten="middle", min_width=24),
    Column("format"), Column("lines", "right"), Column("events", "right"), Column("rejected", "right"),
    Column("skipped", "right"), Column("status", keep=False, min_width=8),
)


def print_ingest(run) -> None:
    """The per-file table of an ``IngestRun`` and its totals (nothing for a run that read no file)."""
    result, elapsed = run.result, run.seconds
    if not result.files:
        return
    rows = [(Text(visible(relative(f.path))), f.format, f"{f.lines:,}", f"{f.events:,}", f"{f.rejected:,}",
             f"{f.skipped:,}", Text(visible(f.status + (f" ({f.note})" if f.note else ""))))
            for f in result.files]
    print_table(INGEST_COLUMNS, rows)
    lines = sum(f.lines for f in result.files)
    rate = f", {lines / elapsed:,.0f} lines/s" if elapsed > 0 and lines else ""
    console = text_console()
    console.print(Text(f"{len(result.files)} file(s): {result.events:,} events, {result.rejected:,} rejected, "
                       f"{result.skipped:,} skipped in {elapsed:.2f}s{rate}"))
    if result.rejected:
        console.print(Text("rejected lines and their reasons: vedette query \"SELECT * FROM rejects\""))


def print_export(result) -> None:
    """What an ``ExportResult`` wrote: rows and partitions per table, and where."""
    parts = [f"{t.rows:,} {name} in {len(t.partitions):,} partition(s)" for name, t in result.tables.items()]
    text_console().print(Text(f"parquet: {', '.join(parts)} under {visible(result.root)} in {result.seconds:.2f}s"))


def print_ingest_problems(result, *, as_json: bool) -> None:
    """The paths the user named that could not be read (one line each), and a note on files a
    directory walk left out."""
    for p in result.errors:
        err(f"{p.path}: {p.reason}")
    ignored = [p for p in result.problems if not p.explicit]
    if ignored and not as_json:
        err(f"{len(ignored)} file(s) found in directories were not logs and were left out "
            f"(e.g. {ignored[0].path}: {ignored[0].reason}); --json lists them")


def relative(path: str) -> str:
    """``path`` from the current folder when it lies below it, else as it is."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


# --- analysis and incidents -------------------------------------------------------------------

INCIDENT_COLUMNS = (
    Column("id"), Column("severity"), Column("risk", "right"), Column("category"),
    Column("sources", keep=False, min_width=15, drop=1), Column("accounts", keep=False, min_width=8, drop=3),
    Column("first seen (UTC)", drop=2), Column("sessions", "right"), Column("events", "right"),
)
SUMMARIES_SHOWN = 5


def _listing(items: list[str], shown: int) -> str:
    return ", ".join(items[:shown]) + (f" +{len(items) - shown}" if len(items) > shown else "")


def print_summary_problem(stats) -> None:
    """One line when the model failed or is misconfigured (every incident still has its offline
    summary: the model failing is not the analysis failing)."""
    if stats is not None and (stats.errors or stats.note.startswith("LLM configuration")):
        done = f"{stats.by_model} by {stats.model}, {stats.cached} cached, " if stats.model else ""
        err(f"summaries: {done}{stats.offline} offline; {(stats.errors or (stats.note,))[0]}")


def print_incidents(incidents: list[dict], run_id: str, analysis=None) -> None:
    """The incidents table, the analysis timings (when given) and the first summaries."""
    rows = [(inc["id"], Text(inc["severity"], style=SEVERITY_STYLE.get(inc["severity"], "")), str(inc["risk"]),
             inc["category"], Text(visible(_listing(inc["src_ips"], 2))), Text(visible(_listing(inc["users"], 3))),
             inc["first_seen"][:16].replace("T", " "), f"{inc['sessions']:,}", f"{inc['events']:,}")
            for inc in incidents]
    print_table(INCIDENT_COLUMNS, rows, title=f"Incidents of run {run_id}")
    console = text_console()
    if analysis is not None:
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in analysis.stage_seconds.items())
        console.print(Text(f"{len(incidents)} incident(s) in {analysis.seconds:.2f}s ({stages})", style="dim"))
    for inc in incidents[:SUMMARIES_SHOWN]:
        console.print(Text.assemble((f"\n{inc['id']} ", "bold"), (inc["severity"], SEVERITY_STYLE.get(inc["severity"], "")),
                                    f" {inc['category']}: ", visible(inc["summary"] or "")))
    if len(incidents) > SUMMARIES_SHOWN:
        console.print(Text(f"\n... and {len(incidents) - SUMMARIES_SHOWN} more: vedette incidents --json", style="dim"))


def print_demo_next(db: str, logs) -> None:
    text_console().print(Text(
        f"\nCase: {db}. Next: vedette incidents --db {db} --json | vedette query \"SELECT * FROM events LIMIT 20\" "
        f"--db {db} | vedette eval {logs / 'truth.json'} --db {db}", style="dim"))


# --- eval -------------------------------------------------------------------------------------

EVAL_COLUMNS = (
    Column("attack"), Column("category"), Column("detected"), Column("as", keep=False, min_width=8),
    Column("severity (min)"), Column("incidents", keep=False, min_width=8),
)


def print_eval(ev, run_id: str, truth_path: str) -> None:
    ok = {True: Text("yes", style="green"), False: Text("NO", style="bold red")}
    rows = [(a.id, a.category, ok[a.detected], Text(", ".join(a.categories) or "-", style="" if a.category_ok else "red"),
             Text(f"{a.severity or '-'} ({a.expected_severity})", style="" if a.severity_ok else "red"),
             ", ".join(a.incidents) or "-") for a in ev.attacks]
    print_table(EVAL_COLUMNS, rows, title=f"Run {run_id} against {visible(truth_path)}")
    j = ev.as_json()
    text_console().print(Text(
        f"detected {j['detected']}/{j['total']}, right category {j['category_ok']}/{j['total']}, "
        f"severity at least expected {j['severity_ok']}/{j['total']}; {len(ev.false_incidents)} false incident(s)"
        + (f" ({', '.join(ev.false_incidents)})" if ev.false_incidents else "")
        + f", {len(ev.benign_only_incidents)} made only of benign sources; {ev.incident_count} incidents in all"))


# --- query ------------------------------------------------------------------------------------


def print_query(result, out_format: str) -> None:
    """A ``QueryResult`` as a table (row count on stderr), CSV or JSON."""
    names, rows = result.names, result.rows
    if out_format == "json":
        print_json([dict(zip(names, (jsonable(v) for v in r))) for r in rows])
    elif out_format == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(names)
        for r in rows:
            w.writerow(["" if v is None else _text(v) for v in r])
    else:
        # Values of any column may be ids or counts: each wraps at words, never narrower than its
        # longest word (up to WORD_MAX), so a short value is never cut.
        columns = [Column(visible(n), keep=False, min_width=4) for n in names]
        cells = [[Text(visible(_text(v)) if v is not None else "NULL", style="dim" if v is None else "") for v in r]
                 for r in rows]
        print_table(columns, cells)
        text_console(stderr=True).print(Text(f"{len(rows)} row(s)", style="dim"))


def _text(v: object) -> str:
    if isinstance(v, dt.datetime):
        return v.isoformat()
    return str(v)


def jsonable(v: object) -> object:
    """A DuckDB value as JSON can hold it."""
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", "backslashreplace")
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    return v


# --- report -----------------------------------------------------------------------------------


def print_reports(infos: list, *, every: bool, min_severity: str) -> None:
    for info in infos:
        print(f"{info.incident_id}: {info.path} ({info.pages} pages, {info.seconds:.1f}s)")
    if every and not infos:
        print(f"no incident at or above {min_severity} in the latest run; nothing written")


def print_follow_event(event, *, as_json: bool, stats: bool = False) -> None:
    """One report of ``vedette follow``. ``--json``: one JSON line per new or changed incident on
    stdout (the contract's incident plus ``change``); ``stats``: every report as a JSON line on
    stderr (ingests with their lag, notices, analyses), for tools that watch the follow itself."""
    if stats:
        rec = {"kind": event.kind, "at": round(event.at, 3)}
        if event.path:
            rec["path"] = event.path
        if event.kind == "ingested":
            rec.update(lines=event.lines, events=event.events, lag_s=event.lag_s, rate=round(event.rate, 1))
        elif event.message:
            rec["message"] = event.message
        if event.update is not None:
            u = event.update
            rec.update(run_id=u.run_id, mode=u.mode, incidents=u.incidents, seconds=round(u.seconds, 3),
                       sessions_recomputed=u.sessions_recomputed, changes=len(u.changes))
        print(json.dumps(rec, ensure_ascii=True), file=sys.stderr, flush=True)
    if event.kind == "analysis" and event.update is not None:
        for change in event.update.changes:
            if as_json:
                print(json.dumps(jsonable(change.as_json()), ensure_ascii=True), flush=True)
            else:
                inc = change.incident
                was = f" (was {change.previous_severity})" if change.change == "severity_up" else ""
                ips = ", ".join(inc["src_ips"][:3]) + (" …" if len(inc["src_ips"]) > 3 else "")
                print(visible(f"{dt.datetime.now():%H:%M:%S} {change.change:<11} {inc['id']} {inc['severity']}{was} "
                              f"{inc['category']} risk {inc['risk']} {ips} ({inc['events']:,} events)"), flush=True)
    elif event.kind in ("notice", "error") and not stats:
        where = f"{relative(event.path)}: " if event.path else ""
        err(visible(f"follow: {where}{event.message}"))
    elif event.kind == "started" and not as_json and not stats:
        err(visible(f"following {event.message} (ctrl-c stops)"))
