"""The ``vedette`` command line (the contract is in DESIGN.md; keep it stable).

Exit codes: 0 ok, 1 bad input or usage (one line on stderr), 2 internal error.
Headless commands never import Textual, so they start fast.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import decimal
import json
import os
import sys
import time
import uuid
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

EXIT_OK, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2
COMMANDS = ("ingest", "analyze", "incidents", "query", "eval", "demo", "report", "tui")
REPO_ROOT = Path(__file__).resolve().parents[1]


class UsageError(Exception):
    """Bad input or usage: printed as one line, exit code 1."""


def _version() -> str:
    try:
        return metadata.version("vedette")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _err(msg: str) -> None:
    from engine.textsafe import visible

    print(f"vedette: {visible(msg)}", file=sys.stderr)


# --- parsers ----------------------------------------------------------------------------------


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vedette",
        description=(
            "Keyboard-driven console for security analysts: loads auth/syslog, journald, nginx/apache, "
            "Zeek and Suricata logs into a DuckDB case file."
        ),
        epilog="Run 'vedette COMMAND --help' for a command's options. Exit codes: 0 ok, 1 bad input, 2 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"vedette {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="load log files into the case", description="Load log files into the case. "
                       "PATHs may be files, directories (walked) or globs; .gz/.bz2 are read transparently and a "
                       "rotated set is read oldest first. Re-running adds only what is new.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    _add_db(p)
    p.add_argument("--format", dest="format_name", metavar="NAME", help="skip detection and read every file as NAME")
    p.add_argument("--tz", metavar="ZONE", help="time zone for timestamps without an offset (default: the system's)")
    p.add_argument("--json", action="store_true", help="print the per-file report as JSON")

    p = sub.add_parser("open", help=argparse.SUPPRESS, description="Ingest PATHs (if any), analyse, show incidents.")
    p.add_argument("paths", nargs="*", metavar="PATH")
    _add_db(p)
    p.add_argument("--tz", metavar="ZONE", help="time zone for timestamps without an offset")

    p = sub.add_parser("analyze", help="sessions -> scores -> incidents (a new run)",
                       description="Group events into sessions, score them (ATT&CK rules + IsolationForest), explain "
                       "them (SHAP), cluster them into incidents (HDBSCAN) and summarise them (the LLM configured by "
                       "VEDETTE_LLM_URL/VEDETTE_LLM_MODEL or config.toml for medium severity and up, else offline); "
                       "stored as a new run.")
    _add_db(p)
    p.add_argument("--json", action="store_true", help="print the incidents as JSON")
    p.add_argument("--no-llm", action="store_true", help="write every summary offline; do not ask the model")

    p = sub.add_parser("incidents", help="list the incidents of the latest run")
    _add_db(p)
    p.add_argument("--json", action="store_true", help="print the incidents as JSON")

    p = sub.add_parser("eval", help="score the latest run against a ground-truth file",
                       description="Compare the latest run's incidents with a ground-truth file (as written by "
                       "sample_logs/generate.py): per attack detected / category / severity, and false incidents.")
    p.add_argument("truth", metavar="TRUTH.json")
    _add_db(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("query", help="run read-only SQL over the case", description="Run read-only SQL over the "
                       "case (tables: events, rejects, sources).")
    p.add_argument("sql", metavar="SQL")
    _add_db(p)
    p.add_argument("--format", dest="out_format", choices=("table", "csv", "json"), default="table")

    p = sub.add_parser("report", help="write incident PDF reports",
                       description="Write the PDF report of one incident of the latest run (--out FILE.pdf), or "
                       "with --all one report per incident at or above --min-severity (--out DIR/, INC-....pdf each).")
    p.add_argument("incident_id", nargs="?", metavar="INCIDENT_ID")
    _add_db(p)
    p.add_argument("--out", required=True, metavar="FILE.pdf|DIR/", help="the PDF to write; a folder with --all")
    p.add_argument("--all", action="store_true", help="every incident of the latest run at or above --min-severity")
    p.add_argument("--min-severity", choices=("info", "low", "medium", "high", "critical"), metavar="SEVERITY",
                   help="with --all: info, low, medium (default), high or critical")

    p = sub.add_parser("demo", help="load the bundled sample logs into a fresh case and summarise them",
                       description="Load sample_logs/ into a fresh case (default vedette-demo.duckdb), analyse "
                       "it and print the incidents.")
    p.add_argument("--db", default="vedette-demo.duckdb", metavar="FILE", help="case file to (re)create")
    p.add_argument("--headless", action="store_true",
                   help="print the incidents instead of opening the console (also when stdout is not a terminal)")

    p = sub.add_parser("tui", help="open the interactive console on an existing case",
                       description="Open the keyboard-driven console (overview, incidents, events, SQL) on a case.")
    _add_db(p)
    return parser


def _add_db(p: argparse.ArgumentParser) -> None:
    from store.case import DEFAULT_DB

    p.add_argument("--db", default=os.environ.get("VEDETTE_DB", DEFAULT_DB), metavar="FILE",
                   help=f"case file (default ./{DEFAULT_DB}, or $VEDETTE_DB)")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser()
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        # `vedette PATH ...`: ingest the paths, analyse, show the incidents.
        argv = ["open", *argv]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage and the reason
        return EXIT_OK if exc.code in (0, None) else EXIT_USAGE
    if not args.command:
        # Plain `vedette` on a terminal opens the case in this folder, if there is one.
        from store.case import DEFAULT_DB

        db = os.environ.get("VEDETTE_DB", DEFAULT_DB)
        if _interactive() and Path(db).exists():
            argv = ["tui", "--db", db]
            args = parser.parse_args(argv)
        else:
            parser.print_help()
            return EXIT_OK
    try:
        handler = {"open": cmd_open, "ingest": cmd_ingest, "analyze": cmd_analyze, "incidents": cmd_incidents, "query": cmd_query,
                   "eval": cmd_eval, "demo": cmd_demo, "report": cmd_report, "tui": cmd_tui}[args.command]
        return handler(args)
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted; everything committed so far is kept, run the same command again to finish")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # the user gets one line; VEDETTE_DEBUG=1 shows where
        from store.case import CaseError

        if isinstance(exc, CaseError):
            _err(str(exc))
            return EXIT_USAGE
        if os.environ.get("VEDETTE_DEBUG"):
            raise
        _err(f"internal error: {exc.__class__.__name__}: {exc} (set VEDETTE_DEBUG=1 for details)")
        return EXIT_INTERNAL


# --- ingest -----------------------------------------------------------------------------------


def _run_ingest(db: str, paths: Sequence[str], format_name: str | None, tz: str | None, quiet: bool = False):
    from engine import config
    from engine.ingest import IngestError, expand_paths, ingest
    from store.case import Case

    case = Case.open(db)
    try:
        progress = None
        bar = None
        if not quiet and sys.stderr.isatty():
            files, _ = expand_paths(paths)
            if sum(f.size for f in files) >= config.PROGRESS_MIN_BYTES:
                from rich.console import Console
                from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

                bar = Progress(TextColumn("ingest"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                               TextColumn("{task.fields[name]}", markup=False),
                               console=Console(stderr=True), transient=True)
                task = bar.add_task("ingest", total=None, name="")

                def progress(p, _bar=bar, _task=task):
                    _bar.update(_task, completed=p.bytes_done, total=p.bytes_total, name=Path(p.path).name[:40])

                bar.start()
        try:
            result = ingest(case, paths, format_name=format_name, tz=tz, progress=progress)
        except IngestError as exc:
            raise UsageError(str(exc)) from None
        finally:
            if bar is not None:
                bar.stop()
    finally:
        case.close()
    return result


def cmd_ingest(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    result = _run_ingest(args.db, args.paths, args.format_name, args.tz)
    elapsed = time.perf_counter() - start
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
    else:
        _print_ingest_table(result, elapsed)
    for p in result.errors:
        _err(f"{p.path}: {p.reason}")
    ignored = [p for p in result.problems if not p.explicit]
    if ignored and not args.json:
        _err(f"{len(ignored)} file(s) found in directories were not logs and were left out "
             f"(e.g. {ignored[0].path}: {ignored[0].reason}); --json lists them")
    return EXIT_USAGE if result.errors else EXIT_OK


def _print_ingest_table(result, elapsed: float) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from engine.textsafe import visible

    table = Table(title=None, box=None, pad_edge=False)
    for name, justify in (("file", "left"), ("format", "left"), ("lines", "right"), ("events", "right"),
                          ("rejected", "right"), ("skipped", "right"), ("status", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in result.files:
        status = f.status + (f" ({f.note})" if f.note else "")
        table.add_row(Text(visible(_short(f.path))), f.format, f"{f.lines:,}", f"{f.events:,}",
                      f"{f.rejected:,}", f"{f.skipped:,}", Text(visible(status)))
    console = Console(highlight=False)
    console.print(table)
    lines = sum(f.lines for f in result.files)
    rate = f", {lines / elapsed:,.0f} lines/s" if elapsed > 0 and lines else ""
    console.print(Text(f"{len(result.files)} file(s): {result.events:,} events, {result.rejected:,} rejected, "
                       f"{result.skipped:,} skipped in {elapsed:.2f}s{rate}"))
    if result.rejected:
        console.print(Text("rejected lines and their reasons: vedette query \"SELECT * FROM rejects\""))


def _short(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


# --- analyze / incidents / eval ---------------------------------------------------------------


def _run_analysis(db: str, llm="auto"):
    from engine.analyze import STAGES, analyze
    from store.case import Case

    case = Case.open(db)
    try:
        if case.con.execute("SELECT count(*) FROM events").fetchone()[0] == 0:
            raise UsageError(f"case {db} holds no events: ingest logs first (vedette ingest PATH --db {db})")
        if sys.stderr.isatty():
            from rich.console import Console

            console = Console(stderr=True)
            with console.status("analysing") as status:
                return analyze(case, llm=llm, progress=lambda p: status.update(
                    f"analysing: {p.stage} ({p.index + 1}/{len(STAGES)})"))
        return analyze(case, llm=llm)
    finally:
        case.close()


def cmd_analyze(args: argparse.Namespace) -> int:
    result = _run_analysis(args.db, llm=None if args.no_llm else "auto")
    stats = result.summary_stats
    # The model failing is not the analysis failing: every incident still has its offline summary.
    if stats is not None and (stats.errors or stats.note.startswith("LLM configuration")):
        done = f"{stats.by_model} by {stats.model}, {stats.cached} cached, " if stats.model else ""
        _err(f"summaries: {done}{stats.offline} offline; {(stats.errors or (stats.note,))[0]}")
    return _show_incidents(args.db, args.json, result)


def cmd_incidents(args: argparse.Namespace) -> int:
    return _show_incidents(args.db, args.json, None)


def _preload_models() -> None:
    """The analysis follows the ingest: its model libraries import meanwhile."""
    from engine.analyze import preload_models

    preload_models()


def cmd_open(args: argparse.Namespace) -> int:
    code = EXIT_OK
    if args.paths:
        _preload_models()
        start = time.perf_counter()
        result = _run_ingest(args.db, args.paths, None, args.tz)
        _print_ingest_table(result, time.perf_counter() - start)
        for p in result.errors:
            _err(f"{p.path}: {p.reason}")
        code = EXIT_USAGE if result.errors else EXIT_OK
    analysis = _run_analysis(args.db)
    if _interactive():
        return _open_tui(args.db) or code
    _show_incidents(args.db, False, analysis)
    return code


def _show_incidents(db: str, as_json: bool, result) -> int:
    from engine.analyze import load_incidents
    from store.case import Case

    with Case.open(db, read_only=True) as case:
        run_id, incidents = load_incidents(case, result.run_id if result else None)
    if run_id is None:
        raise UsageError(f"case {db} has not been analysed yet: run vedette analyze --db {db}")
    if as_json:
        print(json.dumps({"run_id": run_id, "incidents": incidents}, indent=2, ensure_ascii=False))
        return EXIT_OK
    print_incidents_table(incidents, run_id, result)
    return EXIT_OK


SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan",
                  "info": "dim"}


def print_incidents_table(incidents: list[dict], run_id: str, result=None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from engine.textsafe import visible

    console = Console(highlight=False)
    table = Table(box=None, pad_edge=False, title=f"Incidents of run {run_id}", title_justify="left")
    for col, justify in (("id", "left"), ("severity", "left"), ("risk", "right"), ("category", "left"),
                         ("sources", "left"), ("accounts", "left"), ("first seen (UTC)", "left"),
                         ("sessions", "right"), ("events", "right")):
        table.add_column(col, justify=justify, no_wrap=col != "accounts")  # type: ignore[arg-type]
    for inc in incidents:
        ips = inc["src_ips"]
        srcs = ", ".join(ips[:2]) + (f" +{len(ips) - 2}" if len(ips) > 2 else "")
        users = inc["users"]
        accts = ", ".join(users[:3]) + (f" +{len(users) - 3}" if len(users) > 3 else "")
        table.add_row(inc["id"], Text(inc["severity"], style=SEVERITY_STYLE.get(inc["severity"], "")),
                      str(inc["risk"]), inc["category"], Text(visible(srcs)), Text(visible(accts)),
                      inc["first_seen"][:16].replace("T", " "), f"{inc['sessions']:,}", f"{inc['events']:,}")
    console.print(table)
    if result is not None:
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in result.stage_seconds.items())
        console.print(Text(f"{len(incidents)} incident(s) in {result.seconds:.2f}s ({stages})", style="dim"))
    for inc in incidents[:5]:
        console.print(Text.assemble((f"\n{inc['id']} ", "bold"), (inc["severity"], SEVERITY_STYLE.get(inc["severity"], "")),
                                    f" {inc['category']}: ", visible(inc["summary"] or "")))
    if len(incidents) > 5:
        console.print(Text(f"\n... and {len(incidents) - 5} more: vedette incidents --json", style="dim"))


def cmd_eval(args: argparse.Namespace) -> int:
    from engine.analyze import load_incidents
    from engine.evaluate import evaluate, load_truth
    from store.case import Case

    try:
        truth = load_truth(args.truth)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with Case.open(args.db, read_only=True) as case:
        run_id, incidents = load_incidents(case)
    if run_id is None:
        raise UsageError(f"case {args.db} has not been analysed yet: run vedette analyze --db {args.db}")
    ev = evaluate(incidents, truth)
    if args.json:
        print(json.dumps({"run_id": run_id, **ev.as_json()}, indent=2))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    ok = {True: Text("yes", style="green"), False: Text("NO", style="bold red")}
    table = Table("attack", "category", "detected", "as", "severity (min)", "incidents", box=None, pad_edge=False,
                  title=f"Run {run_id} against {args.truth}", title_justify="left")
    for a in ev.attacks:
        cat = Text(", ".join(a.categories) or "-", style="" if a.category_ok else "red")
        sev = Text(f"{a.severity or '-'} ({a.expected_severity})", style="" if a.severity_ok else "red")
        table.add_row(a.id, a.category, ok[a.detected], cat, sev, ", ".join(a.incidents) or "-")
    console = Console(highlight=False)
    console.print(table)
    j = ev.as_json()
    console.print(Text(
        f"detected {j['detected']}/{j['total']}, right category {j['category_ok']}/{j['total']}, "
        f"severity at least expected {j['severity_ok']}/{j['total']}; {len(ev.false_incidents)} false incident(s)"
        + (f" ({', '.join(ev.false_incidents)})" if ev.false_incidents else "")
        + f", {len(ev.benign_only_incidents)} made only of benign sources; {ev.incident_count} incidents in all"))
    return EXIT_OK


# --- query ------------------------------------------------------------------------------------


def cmd_query(args: argparse.Namespace) -> int:
    import duckdb

    from store.case import Case

    case = Case.open(args.db, read_only=True)
    try:
        try:
            # Read-only means read-only: no writing files through COPY or ATTACH either.
            case.con.execute("SET enable_external_access = false")
            cur = case.con.execute(args.sql)
        except duckdb.Error as exc:
            raise UsageError(f"query failed: {str(exc).strip().splitlines()[0]}") from None
        if cur.description is None:
            return EXIT_OK
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    finally:
        case.close()
    if args.out_format == "json":
        print(json.dumps([dict(zip(names, (_jsonable(v) for v in r))) for r in rows], indent=2, ensure_ascii=False))
    elif args.out_format == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(names)
        for r in rows:
            w.writerow(["" if v is None else _text(v) for v in r])
    else:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        from engine.textsafe import visible

        table = Table(*names, box=None, pad_edge=False)
        for r in rows:
            table.add_row(*(Text(visible(_text(v)) if v is not None else "NULL", style="dim" if v is None else "")
                            for v in r))
        Console(highlight=False).print(table)
        Console(stderr=True, highlight=False).print(Text(f"{len(rows)} row(s)", style="dim"))
    return EXIT_OK


def _text(v: object) -> str:
    if isinstance(v, dt.datetime):
        return v.isoformat()
    return str(v)


def _jsonable(v: object) -> object:
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
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v


# --- report -----------------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    from engine.report import ReportError, report_filename, write_all_reports, write_incident_report
    from store.case import Case

    if args.all == bool(args.incident_id):
        raise UsageError("give one INCIDENT_ID or --all: vedette report INC-0001 --out FILE.pdf, "
                         "vedette report --all --out DIR/")
    if args.min_severity and not args.all:
        raise UsageError("--min-severity goes with --all")
    with Case.open(args.db, read_only=True) as case:
        try:
            if args.all:
                infos = write_all_reports(case, args.out, min_severity=args.min_severity or "medium")
            else:
                out = Path(args.out)
                if out.is_dir():
                    out = out / report_filename(args.incident_id)
                infos = [write_incident_report(case, args.incident_id, out)]
        except ReportError as exc:
            raise UsageError(str(exc)) from None
    for info in infos:
        print(f"{info.incident_id}: {info.path} ({info.pages} pages, {info.seconds:.1f}s)")
    if args.all and not infos:
        print(f"no incident at or above {args.min_severity or 'medium'} in the latest run; nothing written")
    return EXIT_OK


# --- demo -------------------------------------------------------------------------------------


def sample_logs_dir() -> Path:
    for candidate in (REPO_ROOT / "sample_logs", Path.cwd() / "sample_logs"):
        if candidate.is_dir():
            return candidate
    raise UsageError("sample_logs/ not found next to the vedette sources or in the current folder")


def cmd_demo(args: argparse.Namespace) -> int:
    logs = sample_logs_dir()
    db = Path(args.db)
    for stale in (db, Path(str(db) + ".wal")):
        if stale.exists():
            stale.unlink()
    _preload_models()
    start = time.perf_counter()
    result = _run_ingest(str(db), [str(logs)], None, "UTC")
    _print_ingest_table(result, time.perf_counter() - start)
    print()
    analysis = _run_analysis(str(db))
    if not args.headless and _interactive():
        return _open_tui(str(db)) or (EXIT_USAGE if result.errors else EXIT_OK)
    _show_incidents(str(db), False, analysis)
    from rich.console import Console
    from rich.text import Text

    Console(highlight=False).print(Text(
        f"\nCase: {db}. Next: vedette incidents --db {db} --json | vedette query \"SELECT * FROM events LIMIT 20\" "
        f"--db {db} | vedette eval {logs / 'truth.json'} --db {db}", style="dim"))
    return EXIT_USAGE if result.errors else EXIT_OK


# --- the interactive console ------------------------------------------------------------------


def _interactive() -> bool:
    """Open the console only for a person at a terminal; scripts and CI get printed output."""
    return sys.stdout.isatty() and sys.stdin.isatty()


def _open_tui(db: str) -> int:
    from tui.app import run

    return run(db)


def cmd_tui(args: argparse.Namespace) -> int:
    if not Path(args.db).is_file():
        raise UsageError(f"no case at {args.db}: ingest logs first (vedette ingest PATH --db {args.db}) "
                         f"or open one with --db FILE")
    if not _interactive():
        raise UsageError("vedette tui needs a terminal (for scripts: vedette incidents / vedette query)")
    return _open_tui(args.db)


if __name__ == "__main__":
    sys.exit(main())
