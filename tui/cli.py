"""The ``vedette`` command line (the contract is in DESIGN.md; keep it stable): a table of commands,
each a small handler that calls one engine function (``engine.casework``) and prints (``tui.printing``).

Exit codes: 0 ok, 1 bad input or usage (one line on stderr), 2 internal error.
Headless commands never import Textual, so they start fast. To add a command: one ``Command`` in
``COMMANDS`` and its handler.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

EXIT_OK, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2
SEVERITIES = ("info", "low", "medium", "high", "critical")


class UsageError(Exception):
    """Bad input or usage: printed as one line, exit code 1."""


@dataclass(frozen=True)
class Arg:
    """One argparse argument: its flags (or positional name) and ``add_argument`` keywords."""

    flags: tuple[str, ...]
    options: dict = field(default_factory=dict)


def arg(*flags: str, **options) -> Arg:
    return Arg(flags, options)


@dataclass(frozen=True)
class Command:
    """A sub-command: ``vedette NAME ARGS``; ``handler(args)`` returns the exit code."""

    name: str
    help: str
    handler: Callable[[argparse.Namespace], int]
    args: tuple[Arg, ...] = ()
    description: str | None = None


# --db: the default is read when the command runs ($VEDETTE_DB may be set by then).
DB = arg("--db", default=None, metavar="FILE", help="case file (default ./vedette.duckdb, or $VEDETTE_DB)")
JSON = "--json"


# --- handlers: parse nothing, decide nothing; one engine call, then print ---------------------


def cmd_ingest(args: argparse.Namespace) -> int:
    from engine.casework import ingest_case
    from tui import printing

    with printing.ingest_progress() as progress:
        run = ingest_case(args.db, args.paths, format_name=args.format_name, tz=args.tz, progress=progress,
                          parquet=args.parquet)
    # The paths that could not be read come first: a person reads why before the (maybe empty) table.
    printing.print_ingest_problems(run.result, as_json=args.json)
    if args.json:
        out = run.result.as_json()
        if run.export is not None:
            out["parquet"] = run.export.as_json()
        printing.print_json(out, ensure_ascii=True)
    else:
        printing.print_ingest(run)
        if run.export is not None:
            printing.print_export(run.export)
    return EXIT_USAGE if run.result.errors else EXIT_OK


def cmd_analyze(args: argparse.Namespace) -> int:
    from engine.casework import analyse_case
    from tui import printing

    with printing.analysis_progress() as progress:
        result = analyse_case(args.db, llm=None if args.no_llm else "auto", progress=progress, geoip=args.geoip,
                              engine=args.engine, parquet=args.parquet, spark_master=args.spark_master)
    printing.print_summary_problem(result.summary_stats)
    return _show_incidents(args.db, args.json, result)


def cmd_export(args: argparse.Namespace) -> int:
    from engine.casework import export_case
    from tui import printing

    result = export_case(args.db, args.parquet)
    if args.json:
        printing.print_json(result.as_json(), ensure_ascii=True)
    else:
        printing.print_export(result)
    return EXIT_OK


def cmd_incidents(args: argparse.Namespace) -> int:
    return _show_incidents(args.db, args.json, None)


def _show_incidents(db: str, as_json: bool, analysis) -> int:
    from engine.casework import latest_incidents
    from tui import printing

    run_id, incidents = latest_incidents(db, analysis.run_id if analysis else None)
    if as_json:
        printing.print_json({"run_id": run_id, "incidents": incidents})
    else:
        printing.print_incidents(incidents, run_id, analysis)
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from engine.casework import evaluate_case
    from tui import printing

    run_id, ev = evaluate_case(args.db, args.truth)
    if args.json:
        printing.print_json({"run_id": run_id, **ev.as_json()}, ensure_ascii=True)
    else:
        printing.print_eval(ev, run_id, args.truth)
    return EXIT_OK


def cmd_query(args: argparse.Namespace) -> int:
    from engine.casework import query_case
    from tui import printing

    result = query_case(args.db, args.sql)
    if result is not None:
        printing.print_query(result, args.out_format)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from engine.casework import write_reports
    from tui import printing

    if args.all == bool(args.incident_id):
        raise UsageError("give one INCIDENT_ID or --all: vedette report INC-0001 --out FILE.pdf, "
                         "vedette report --all --out DIR/")
    if args.min_severity and not args.all:
        raise UsageError("--min-severity goes with --all")
    min_severity = args.min_severity or "medium"
    infos = write_reports(args.db, args.out, incident_id=args.incident_id, every=args.all, min_severity=min_severity)
    printing.print_reports(infos, every=args.all, min_severity=min_severity)
    return EXIT_OK


def cmd_respond(args: argparse.Namespace) -> int:
    from engine.casework import respond_case
    from engine.respond import render_sh
    from tui import printing

    plan = respond_case(args.db, args.incident_id, firewall=args.firewall)
    if args.plan_format == "json":
        printing.print_json(plan.as_json())
    else:
        sys.stdout.write(render_sh(plan))
    return EXIT_OK


def cmd_follow(args: argparse.Namespace) -> int:
    """``vedette follow PATH ...``: ingest and analyse as the logs grow and rotate, until ctrl-c."""
    import signal
    import threading

    from engine.follow import follow_case
    from tui import printing

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())  # the follow ends its chunk or run, then returns
    follow_case(args.db, args.paths, lambda e: printing.print_follow_event(e, as_json=args.json, stats=args.stats),
                stop=stop, format_name=args.format_name, tz=args.tz, llm=None if args.no_llm else "auto",
                geoip=args.geoip)
    return EXIT_OK


def cmd_open(args: argparse.Namespace) -> int:
    """``vedette PATH ...``: ingest, analyse, then the console (or the printed incidents).

    At a terminal the console opens at once and ingests, then analyses, in its job bar (the
    overview and the events browser fill as chunks commit); named paths it could not read are
    printed once it closes, and make the exit code 1 as before. Only when the PATHs name no file
    at all does the ingest run first, so a mistyped path is said on the terminal, not in an
    empty console."""
    from engine.casework import open_paths

    if args.follow:
        if not _interactive():
            raise UsageError("--follow opens the console; without a terminal use: vedette follow PATH ... --json")
        from tui.app import run

        return run(args.db, follow=list(args.paths), bell=args.bell)  # the follow ingests and analyses first

    if _interactive() and _names_files(args.paths):
        from tui.app import run

        return run(args.db, ingest=list(args.paths), tz=args.tz, geoip=args.geoip)
    run = _with_progress(open_paths, args.db, args.paths, tz=args.tz, geoip=args.geoip)
    code = EXIT_USAGE if run.ingest and run.ingest.result.errors else EXIT_OK
    if _interactive():
        return _open_tui(args.db) or code
    _show_incidents(args.db, False, run.analysis)
    return code


def cmd_demo(args: argparse.Namespace) -> int:
    """``vedette demo``: the sample logs into a fresh case. At a terminal the console opens at once
    and ingests them (in UTC, as they were written), then analyses, in its job bar."""
    from engine.casework import demo_folders, run_demo
    from tui import printing

    if not args.headless and _interactive():
        from tui.app import run as run_app

        _, folders = demo_folders(args.db)
        return run_app(args.db, ingest=folders, tz="UTC")
    run = _with_progress(run_demo, args.db)
    code = EXIT_USAGE if run.ingest.result.errors else EXIT_OK
    _show_incidents(args.db, False, run.analysis)
    printing.print_demo_next(args.db, run.logs)
    return code


def _names_files(paths: Sequence[str]) -> bool:
    """Whether ``paths`` (files, folders, globs) lead to at least one file to read."""
    from engine.logfiles import expand_paths

    return bool(paths) and bool(expand_paths(paths)[0])


def _with_progress(engine_call, *args, **kwargs):
    """Run ``open_paths``/``run_demo`` with progress on stderr, printing the ingest as it ends."""
    from tui import printing

    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(printing.ingest_progress())
        spinner: list = []

        def ingested(run) -> None:
            if bar:
                bar.stop()
            printing.print_ingest_problems(run.result, as_json=False)
            printing.print_ingest(run)
            print()

        def analysing(p) -> None:
            # The spinner starts with the analysis, after the ingest's table is out.
            if not spinner:
                spinner.append(stack.enter_context(printing.analysis_progress()))
            if spinner[0]:
                spinner[0](p)

        return engine_call(*args, ingest_progress=bar, ingested=ingested, analysis_progress=analysing, **kwargs)


def cmd_tui(args: argparse.Namespace) -> int:
    if not Path(args.db).is_file():
        raise UsageError(f"no case at {args.db}: ingest logs first (vedette ingest PATH --db {args.db}) "
                         f"or open one with --db FILE")
    if not _interactive():
        raise UsageError("vedette tui needs a terminal (for scripts: vedette incidents / vedette query)")
    return _open_tui(args.db)


def _interactive() -> bool:
    """Open the console only for a person at a terminal; scripts and CI get printed output."""
    return sys.stdout.isatty() and sys.stdin.isatty()


def _open_tui(db: str) -> int:
    from tui.app import run

    return run(db)


# --- the table of commands --------------------------------------------------------------------

TZ_HELP = "time zone for timestamps without an offset (default: the system's)"
GEOIP = arg("--geoip", metavar="DIR", help="a folder of MaxMind GeoLite2/GeoIP2 .mmdb files to enrich addresses "
            "with (default: $VEDETTE_GEOIP, [enrich] geoip in config.toml, else the bundled data)")

COMMANDS: tuple[Command, ...] = (
    Command("ingest", "load log files into the case", cmd_ingest, (
        arg("paths", nargs="+", metavar="PATH"), DB,
        arg("--format", dest="format_name", metavar="NAME", help="skip detection and read every file as NAME"),
        arg("--tz", metavar="ZONE", help=TZ_HELP),
        arg(JSON, action="store_true", help="print the per-file report as JSON"),
        arg("--parquet", metavar="DIR", help="also write the event partitions this ingest added to as Parquet in DIR"),
    ), "Load log files into the case. PATHs may be files, directories (walked) or globs; .gz/.bz2 are read "
       "transparently and a rotated set is read oldest first. Re-running adds only what is new."),
    Command("analyze", "sessions -> scores -> incidents (a new run)", cmd_analyze, (
        DB, arg(JSON, action="store_true", help="print the incidents as JSON"),
        arg("--no-llm", action="store_true", help="write every summary offline; do not ask the model"), GEOIP,
        arg("--engine", choices=("duckdb", "spark"), default="duckdb",
            help="where sessions and features are computed (spark: from --parquet DIR; needs vedette[spark] + Java)"),
        arg("--parquet", metavar="DIR", help="with --engine spark: the Parquet folder written by vedette export"),
        arg("--spark-master", metavar="URL", help="with --engine spark: the Spark master (default local[*])"),
    ), "Group events into sessions, score them (ATT&CK rules + IsolationForest), explain them (SHAP), cluster "
       "them into incidents (HDBSCAN) and summarise them (the LLM configured by VEDETTE_LLM_URL/VEDETTE_LLM_MODEL "
       "or config.toml for medium severity and up, else offline); stored as a new run."),
    Command("export", "write the case as Hive-partitioned Parquet", cmd_export, (
        arg("--parquet", required=True, metavar="DIR", help="the folder to write (created if missing)"), DB,
        arg(JSON, action="store_true", help="print what was written as JSON"),
    ), "Write the case's events (DIR/events/day=YYYY-MM-DD/format=NAME/), sessions and incidents as zstd "
       "Parquet. Exporting again replaces the partitions the case holds and never duplicates rows."),
    Command("incidents", "list the incidents of the latest run", cmd_incidents, (
        DB, arg(JSON, action="store_true", help="print the incidents as JSON"),
    )),
    Command("eval", "score the latest run against a ground-truth file", cmd_eval, (
        arg("truth", metavar="TRUTH.json"), DB, arg(JSON, action="store_true"),
    ), "Compare the latest run's incidents with a ground-truth file (as written by sample_logs/generate.py): "
       "per attack detected / category / severity, and false incidents."),
    Command("query", "run read-only SQL over the case", cmd_query, (
        arg("sql", metavar="SQL"), DB,
        arg("--format", dest="out_format", choices=("table", "csv", "json"), default="table"),
    ), "Run read-only SQL over the case (tables: events, rejects, sources)."),
    Command("report", "write incident PDF reports", cmd_report, (
        arg("incident_id", nargs="?", metavar="INCIDENT_ID"), DB,
        arg("--out", required=True, metavar="FILE.pdf|DIR/", help="the PDF to write; a folder with --all"),
        arg("--all", action="store_true", help="every incident of the latest run at or above --min-severity"),
        arg("--min-severity", choices=SEVERITIES, metavar="SEVERITY",
            help="with --all: info, low, medium (default), high or critical"),
    ), "Write the PDF report of one incident of the latest run (--out FILE.pdf), or with --all one report per "
       "incident at or above --min-severity (--out DIR/, INC-....pdf each)."),
    Command("respond", "print a containment plan for an incident, to review (never run)", cmd_respond, (
        arg("incident_id", metavar="INCIDENT_ID"), DB,
        arg("--format", dest="plan_format", choices=("sh", "json"), default="sh",
            help="a commented shell script (default) or the steps as JSON"),
        arg("--firewall", choices=("nft", "iptables", "ufw", "fail2ban"), default="nft",
            help="which tool the block steps use (default nft)"),
    ), "Print a containment plan built from the incident's facts: block its sources, lock and review an account "
       "that logged in, end its sessions, the web server's deny rule. Vedette never runs it: review it, then run "
       "what you agree with. Private, loopback, link-local and documentation addresses, $SSH_CLIENT, addresses "
       "that logged in normally before and $VEDETTE_ALLOWLIST / [respond] allowlist are never blocked."),
    Command("demo", "load the bundled sample logs into a fresh case and summarise them", cmd_demo, (
        arg("--db", default="vedette-demo.duckdb", metavar="FILE", help="case file to (re)create"),
        arg("--headless", action="store_true",
            help="print the incidents instead of opening the console (also when stdout is not a terminal)"),
    ), "Load sample_logs/ into a fresh case (default vedette-demo.duckdb), analyse it and print the incidents."),
    Command("follow", "keep ingesting and analysing as logs grow and rotate", cmd_follow, (
        arg("paths", nargs="+", metavar="PATH"), DB,
        arg("--format", dest="format_name", metavar="NAME", help="skip detection and read every file as NAME"),
        arg("--tz", metavar="ZONE", help=TZ_HELP),
        arg(JSON, action="store_true", help="one JSON line per new or changed incident (the incident plus change)"),
        arg("--stats", action="store_true", help="every ingest, notice and analysis as a JSON line on stderr"),
        arg("--no-llm", action="store_true", help="write every summary offline; do not ask the model"), GEOIP,
    ), "Ingest PATHs and analyse them, then keep following them: appended lines within about a second, "
       "rotation (rename, copytruncate, later compression) with each line read once, files created later in "
       "folders and globs. Incidents are updated from the sessions new events touch; ctrl-c stops."),
    Command("tui", "open the interactive console on an existing case", cmd_tui, (DB,),
            "Open the keyboard-driven console (overview, incidents, events, SQL) on a case."),
)

# `vedette PATH ...` (no command name): a parser of its own, so no hidden entry shows in --help.
OPEN = Command("open", "ingest PATHs, analyse, open the console", cmd_open, (
    arg("paths", nargs="*", metavar="PATH"), DB, arg("--tz", metavar="ZONE", help=TZ_HELP), GEOIP,
    arg("--follow", action="store_true", help="keep following the PATHs in the console (LIVE)"),
    arg("--bell", action="store_true", help="with --follow: ring the terminal bell on a new or rising incident"),
), "Ingest PATHs (if any), analyse, show incidents.")

DESCRIPTION = ("Keyboard-driven console for security analysts: loads auth/syslog, journald, nginx/apache, "
               "Zeek, Suricata, Cowrie honeypot, audit and wtmp/btmp logs into a DuckDB case file.")
EPILOG = "Run 'vedette COMMAND --help' for a command's options. Exit codes: 0 ok, 1 bad input, 2 internal error."


def _version() -> str:
    try:
        return metadata.version("vedette")
    except metadata.PackageNotFoundError:
        return "0+unknown"


class _Version(argparse.Action):
    """``--version``: the package version and the enrichment data's name and date (loaded only here)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from engine.enrich import data_info

        print(f"vedette {_version()}\n{data_info()}")
        parser.exit()


def _add_args(p: argparse.ArgumentParser, command: Command) -> None:
    for a in command.args:
        p.add_argument(*a.flags, **a.options)
    p.set_defaults(handler=command.handler)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command in ``COMMANDS``."""
    parser = argparse.ArgumentParser(prog="vedette", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and the GeoIP data's date")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        _add_args(sub.add_parser(command.name, help=command.help, description=command.description or None),
                  command)
    return parser


def build_open_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vedette", description=OPEN.description, epilog=EPILOG)
    _add_args(parser, OPEN)
    return parser


def _parse(argv: list[str]) -> argparse.Namespace | None:
    names = {c.name for c in COMMANDS}
    if argv and not argv[0].startswith("-") and argv[0] not in names:
        return build_open_parser().parse_args(argv)  # `vedette PATH ...`
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command:
        return args
    # Plain `vedette` on a terminal opens the case in this folder, if there is one.
    if _interactive() and Path(_default_db()).exists():
        return parser.parse_args(["tui"])
    parser.print_help()
    return None


def _default_db() -> str:
    from store.case import DEFAULT_DB

    return os.environ.get("VEDETTE_DB", DEFAULT_DB)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parse(argv)
    except SystemExit as exc:  # argparse already printed usage and the reason
        return EXIT_OK if exc.code in (0, None) else EXIT_USAGE
    if args is None:
        return EXIT_OK
    if getattr(args, "db", "") is None:
        args.db = _default_db()
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from tui.printing import err

    try:
        return args.handler(args)
    except UsageError as exc:
        err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        err("interrupted; everything committed so far is kept, run the same command again to finish")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # the user gets one line; VEDETTE_DEBUG=1 shows where
        from engine.casework import CaseInputError
        from store.case import CaseError

        if isinstance(exc, (CaseInputError, CaseError)):
            err(str(exc))
            return EXIT_USAGE
        if os.environ.get("VEDETTE_DEBUG"):
            raise
        err(f"internal error: {exc.__class__.__name__}: {exc} (set VEDETTE_DEBUG=1 for details)")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
