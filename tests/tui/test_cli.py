"""The printed command line on the demo case: into a file or pipe, at $COLUMNS unset, 80 and 200,
no table cuts an incident id, a severity, a category or a count, and rotated files stay apart;
errors come before (or instead of) a table; --help shows no hidden command."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import main
from tui.printing import Column, fit_widths, shorten_middle

REPO = Path(__file__).resolve().parents[2]
WIDTHS = (None, 80, 200)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, str, list[dict]]:
    """The demo case, built once: (case file, what `demo --headless` printed, its incidents)."""
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    proc = subprocess.run([sys.executable, "-m", "tui.cli", "demo", "--headless", "--db", str(db)], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([sys.executable, "-m", "tui.cli", "incidents", "--db", str(db), "--json"], cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=True)
    incidents = json.loads(out.stdout)["incidents"]
    assert len(incidents) >= 5
    return db, proc.stdout, incidents


@pytest.fixture
def case(demo, tmp_path) -> Path:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo[0], path)
    return path


def run(monkeypatch, columns: int | None, *argv: str) -> tuple[int, str, str]:
    """main(argv) with stdout and stderr captured (not a terminal) at $COLUMNS ``columns``."""
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(columns))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def assert_incident_rows(text: str, incidents: list[dict]) -> None:
    """Each incident has a line holding its id, severity and category, each whole."""
    for inc in incidents:
        pattern = rf"(^|\s){re.escape(inc['id'])}\s+{inc['severity']}\s+\d+\s+{inc['category']}(\s|$)"
        assert re.search(pattern, text, re.M), (inc["id"], inc["severity"], inc["category"], text)
    assert "IN…" not in text and "…" not in text.split("\n\n")[0]


def test_demo_headless_into_a_file_cuts_nothing(demo):
    _, printed, incidents = demo
    assert_incident_rows(printed, incidents)
    for n in range(1, 8):
        assert f"sample_logs/web1/auth.log.{n}" in printed
    assert re.search(r"sample_logs/bastion/auth\.log\.2\.gz\s+syslog\s+[\d,]+", printed)


@pytest.mark.parametrize("columns", WIDTHS)
def test_incidents_table_keeps_ids_severities_categories_and_counts(demo, monkeypatch, columns):
    db, _, incidents = demo
    code, out, err = run(monkeypatch, columns, "incidents", "--db", str(db))
    assert code == 0, err
    assert_incident_rows(out, incidents)
    table = out.split("\n\n")[0].splitlines()
    for inc in incidents:
        row = next(line for line in table if line.startswith(inc["id"] + " "))
        assert re.search(rf"\s{inc['sessions']:,}\s+{inc['events']:,}\s*$", row), row
    if columns is not None:
        assert max(len(line.rstrip()) for line in table) <= columns
    if columns == 200:
        assert any("first seen (UTC)" in line for line in table)


@pytest.mark.parametrize("columns", WIDTHS)
def test_ingest_table_tells_rotated_files_apart(demo, case, monkeypatch, columns):
    code, out, err = run(monkeypatch, columns, "ingest", str(REPO / "sample_logs"), "--db", str(case))
    assert code == 0, err
    rows = [line for line in out.splitlines() if "unchanged" in line]
    assert len(rows) >= 20
    for n in range(2, 8):
        hits = [r for r in rows if f"web1/auth.log.{n}.gz " in r]
        assert len(hits) == 1, (n, rows)
        assert re.search(r"\ssyslog\s+0\s+0\s+0\s+0\s+unchanged", hits[0]), hits[0]
    assert len({r.split()[0] for r in rows}) == len(rows), "every file's name is told apart"
    if columns is not None:
        assert max(len(line.rstrip()) for line in out.splitlines() if "unchanged" in line) <= columns


@pytest.mark.parametrize("columns", WIDTHS)
def test_eval_and_query_tables_keep_ids_and_categories(demo, monkeypatch, columns):
    db, _, incidents = demo
    truth = json.loads((REPO / "sample_logs" / "truth.json").read_text())
    code, out, err = run(monkeypatch, columns, "eval", str(REPO / "sample_logs" / "truth.json"), "--db", str(db))
    assert code == 0, err
    for attack in truth["attacks"]:
        assert re.search(rf"^{attack['id']}\s+{attack['category']}\s", out, re.M), (attack["id"], out)
    code, out, err = run(monkeypatch, columns, "query", "SELECT id, severity, category, summary, sessions FROM incidents "
                         "WHERE run_id = (SELECT max(run_id) FROM incidents) ORDER BY id", "--db", str(db))
    assert code == 0, err
    for inc in incidents:
        assert re.search(rf"^{inc['id']}\s+{inc['severity']}\s+{inc['category']}\s", out, re.M), (inc["id"], out)
    assert err.strip() == f"{len(incidents)} row(s)"


def test_json_is_unchanged_by_the_width(demo, monkeypatch):
    db, _, incidents = demo
    code, out, _ = run(monkeypatch, 40, "incidents", "--db", str(db), "--json")
    assert code == 0 and json.loads(out)["incidents"] == incidents


def test_middle_shortening_keeps_the_distinguishing_end():
    assert shorten_middle("sample_logs/web1/auth.log.2.gz", 20) == "…/web1/auth.log.2.gz"
    assert shorten_middle("sample_logs/web1/auth.log.2.gz", 24) == "samp…/web1/auth.log.2.gz"
    for width in (12, 16, 20, 24):
        s = shorten_middle("sample_logs/web1/nginx/access.log.2.gz", width)
        assert len(s) <= width and "…" in s and s.endswith("log.2.gz")
    assert shorten_middle("short", 10) == "short"
    assert shorten_middle("/var/log/web1/auth.log.2.gz", 21).endswith("/web1/auth.log.2.gz")


def test_fit_drops_optional_columns_before_cutting_kept_ones():
    cols = (Column("id"), Column("note", keep=False, min_width=6, drop=1), Column("category"))
    rows = [("INC-0001", "a long free text note", "credential_stuffing")]
    shown, widths = fit_widths(cols, rows, 40)
    assert shown == [0, 1, 2] and widths[0] == 8 and widths[2] == 19
    shown, widths = fit_widths(cols, rows, 30)
    assert shown == [0, 2] and widths == [8, 19]
    assert fit_widths(cols, rows, None) == ([0, 1, 2], [8, 21, 19])


def test_help_lists_commands_without_a_hidden_one(monkeypatch):
    code, out, _ = run(monkeypatch, 100, "--help")
    assert code == 0
    assert "SUPPRESS" not in out and not re.search(r"^\s+open\b", out, re.M)
    for name in ("ingest", "analyze", "incidents", "query", "eval", "demo", "report", "tui"):
        assert re.search(rf"^\s+{name}\b", out, re.M), name


def test_ingest_of_a_missing_path_prints_the_error_alone(tmp_path, monkeypatch):
    db = tmp_path / "c.duckdb"
    code, out, err = run(monkeypatch, None, "ingest", str(tmp_path / "nonexistent"), "--db", str(db))
    assert code == 1
    assert out == "" and err.count("\n") == 1 and "no such file" in err and "nonexistent" in err


def test_ingest_of_a_binary_file_puts_the_error_first(tmp_path, monkeypatch):
    db = tmp_path / "c.duckdb"
    binary = tmp_path / "blob.log"
    binary.write_bytes(bytes(range(256)) * 40)
    code, out, err = run(monkeypatch, None, "ingest", str(binary), "--db", str(db))
    assert code == 1 and out == "" and err.count("\n") == 1 and "binary" in err
    good = tmp_path / "auth.log"
    good.write_text("Mar  3 10:00:01 h sshd[77]: Failed password for root from 203.0.113.5 port 40000 ssh2\n")
    both = io.StringIO()
    monkeypatch.delenv("COLUMNS", raising=False)
    with contextlib.redirect_stdout(both), contextlib.redirect_stderr(both):
        code = main(["ingest", str(binary), str(good), "--db", str(db), "--tz", "UTC"])
    lines = both.getvalue().splitlines()
    assert code == 1
    assert "binary" in lines[0] and lines[1].split()[:2] == ["file", "format"]
    assert any("auth.log" in line and " 1 " in f" {line} " for line in lines[2:])


def test_a_path_without_a_command_still_ingests_then_analyses(tmp_path, monkeypatch):
    code, out, err = run(monkeypatch, None, str(tmp_path / "nothing-here"), "--db", str(tmp_path / "c.duckdb"))
    assert code == 1 and out.strip() == ""
    assert err.splitlines()[0].endswith("no such file or directory") and "holds no events" in err.splitlines()[-1]


def test_headless_cli_modules_do_not_import_textual():
    code = "import sys, tui.cli, tui.printing, engine.casework; sys.exit(1 if 'textual' in sys.modules else 0)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_respond_prints_a_reviewable_plan_for_a_demo_incident(demo, monkeypatch):
    db, _, incidents = demo
    brute = next(i for i in incidents if i["category"] == "brute_force")
    code, out, err = run(monkeypatch, 80, "respond", brute["id"], "--db", str(db))
    assert code == 0 and not err
    assert out.startswith("#!/bin/sh\n") and "exit 1  # remove this line" in out
    assert f"nft add element inet vedette vedette_block '{{ {brute['src_ips'][0]} }}'" in out
    bash = shutil.which("bash")
    assert subprocess.run([bash, "-n"], input=out, text=True).returncode == 0
    code, out, _ = run(monkeypatch, 80, "respond", brute["id"], "--db", str(db), "--format", "json",
                       "--firewall", "fail2ban")
    plan = json.loads(out)
    assert code == 0 and plan["firewall"] == "fail2ban"
    assert plan["steps"][0]["commands"][0]["argv"] == ["fail2ban-client", "set", "sshd", "banip", *brute["src_ips"]]
    code, out, err = run(monkeypatch, 80, "respond", "INC-9999", "--db", str(db))
    assert code == 1 and not out and err.count("\n") == 1 and "no incident INC-9999" in err


def test_incidents_json_carries_geo_per_address(demo):
    located = 0
    for inc in demo[2]:
        assert set(inc["geo"]) == set(inc["src_ips"])   # every source is an address in the demo
        for g in inc["geo"].values():
            assert set(g) == {"country", "asn", "org", "scope"}
            if g["scope"] != "global":
                assert g["country"] is None and g["org"] is None
            located += g["country"] is not None
    assert located >= 100


def test_version_names_the_geoip_data_and_its_date(monkeypatch):
    code, out, _ = run(monkeypatch, 80, "--version")
    assert code == 0 and out.startswith("vedette ") and "geoip2fast" in out and "data of 2024-06-18" in out


def test_analyze_with_a_bad_geoip_folder_is_a_usage_error(case, tmp_path, monkeypatch):
    code, out, err = run(monkeypatch, 80, "analyze", "--db", str(case), "--geoip", str(tmp_path / "nope"))
    assert code == 1 and "not a folder" in err
