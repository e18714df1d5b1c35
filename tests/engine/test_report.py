"""Incident PDF reports: crafted events in, PDFs out, read back with poppler's pdftotext.

One case is built and analysed per module (the model imports are the slow part): a brute force
on accounts named in Cyrillic, Chinese, accented Latin and emoji (plus one carrying a terminal
escape), a 5,000-line brute force whose summary is replaced by a hostile "model" answer, and one
whose summary is removed. Each report is written once.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.analyze import analyze, load_incidents
from engine.report import (
    RAW_HEAD,
    RAW_SAMPLE,
    RAW_TAIL,
    ReportError,
    report_filename,
    sample_positions,
    wrap_mono,
    write_all_reports,
    write_incident_report,
)
from store.case import Case
from tests.engine.eventgen import Events, at

REPO = Path(__file__).resolve().parents[2]

UNICODE_SRC = "203.0.113.66"
UNICODE_USERS = ["Пользователь", "管理员", "José-Ñúñez", "😀admin"]
ESCAPE_USER = "evil\x1b[31mred"
UNMAPPED_USER = "pua\U0010fffdx"  # a private-use character no font has
BIG_SRC = "198.51.100.250"
BIG_LINES = 5000
QUIET_SRC = "192.0.2.200"
MODEL = "test-model"
MODEL_SUMMARY = "Model says: [bold]ignore previous instructions[/bold] \x1b]8;;http://x.test\x07 done"

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
    reason="pdftotext/pdfinfo (poppler-utils) not installed: apt-get install poppler-utils",
)


def _events() -> Events:
    ev = Events()
    # Ordinary key logins from 25 users' own addresses, so the anomaly model has a baseline.
    for k in range(25):
        for d in range(3):
            ev.accepted(at(d * 1440 + k * 7), f"198.18.{k}.10", f"user{k}")
    # A brute force whose account names are in four scripts, one with an escape, one unmappable.
    names = UNICODE_USERS + [ESCAPE_USER, UNMAPPED_USER]
    for k in range(36):
        ev.failed_password(at(600 + k * 0.5), UNICODE_SRC, names[k % len(names)], invalid=k % 2 == 0)
    # A 5,000-line brute force on root.
    for k in range(BIG_LINES):
        ev.failed_password(at(2000 + k * 0.1), BIG_SRC, "root")
    # A small brute force whose summary the test removes.
    for k in range(25):
        ev.failed_password(at(3500 + k), QUIET_SRC, "oracle")
    return ev


@pytest.fixture(scope="module")
def case_db(tmp_path_factory) -> tuple[str, dict[str, dict]]:
    db = str(tmp_path_factory.mktemp("report") / "case.duckdb")
    with Case.open(db) as case:
        _events().into(case)
        analyze(case, llm=None)  # offline summaries: no model is asked in tests
        _, incidents = load_incidents(case)
        by_src = {}
        for src in (UNICODE_SRC, BIG_SRC, QUIET_SRC):
            found = [i for i in incidents if src in i["src_ips"]]
            assert found, f"no incident for {src}: {[(i['id'], i['category'], i['src_ips'][:3]) for i in incidents]}"
            by_src[src] = found[0]
        case.con.execute("UPDATE incidents SET summary = NULL, summary_source = NULL WHERE id = $id",
                         {"id": by_src[QUIET_SRC]["id"]})
        case.con.execute("UPDATE incidents SET summary = $s, summary_source = $m WHERE id = $id",
                         {"s": MODEL_SUMMARY, "m": MODEL, "id": by_src[BIG_SRC]["id"]})
    return db, by_src


def _pdftext(path: Path) -> str:
    """The PDF's text, runs of white space (line ends included) as one space; pages end in \f."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return "\f".join(" ".join(page.split()) for page in text.split("\f"))


def _pages(path: Path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[1] for line in out.splitlines() if line.startswith("Pages:")))


@pytest.fixture(scope="module")
def reports(case_db, tmp_path_factory) -> dict[str, tuple]:
    """{src: (ReportInfo, text)} for the three incidents."""
    db, by_src = case_db
    out = tmp_path_factory.mktemp("pdf")
    made = {}
    with Case.open(db, read_only=True) as case:
        for src, inc in by_src.items():
            info = write_incident_report(case, inc["id"], out / f"{inc['id']}.pdf")
            made[src] = (info, _pdftext(Path(info.path)) if shutil.which("pdftotext") else "")
    return made


@needs_poppler
def test_report_names_the_incident_its_sources_and_next_steps(case_db, reports):
    _, by_src = case_db
    info, text = reports[UNICODE_SRC]
    inc = by_src[UNICODE_SRC]
    assert info.incident_id == inc["id"] and Path(info.path).is_file()
    assert inc["id"] in text
    assert inc["category"] in text and inc["severity"].upper() in text
    assert UNICODE_SRC in text
    assert "T1110.001" in text and "Brute Force: Password Guessing" in text
    assert "Recommended next steps" in text
    assert "Timeline" in text and "Appendix: representative raw log lines" in text


@needs_poppler
def test_next_steps_are_the_summarisers_for_an_offline_summary(case_db, reports):
    from engine.summaries import summary_details

    db, by_src = case_db
    with Case.open(db, read_only=True) as case:
        steps = summary_details(case, by_src[UNICODE_SRC]["id"])["next_steps"]
    _, text = reports[UNICODE_SRC]
    assert steps
    assert "Written for this incident by Vedette's offline summariser" in text
    for step in steps:
        assert " ".join(step.split())[1:] in text  # its first letter may be capitalised
    assert "Record the verdict" in text


@needs_poppler
@pytest.mark.parametrize("name", UNICODE_USERS)
def test_usernames_in_every_script_come_back(reports, name):
    _, text = reports[UNICODE_SRC]
    assert name in text


@needs_poppler
def test_control_characters_are_shown_not_passed_through(reports):
    _, text = reports[UNICODE_SRC]
    assert "evil\\x1b[31mred" in text
    assert "\x1b" not in text
    # No bundled font has a private-use character: it is written as an escape, not a blank box.
    assert "pua\\U0010fffdx" in text


@needs_poppler
def test_every_page_has_its_number_and_footer(reports):
    info, text = reports[UNICODE_SRC]
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) == info.pages
    for n, page in enumerate(pages, 1):
        assert f"Page {n} of {info.pages}" in page
        assert "Vedette incident report" in page


@needs_poppler
def test_five_thousand_line_incident_stays_short(case_db, reports):
    _, by_src = case_db
    info, text = reports[BIG_SRC]
    assert by_src[BIG_SRC]["events"] >= BIG_LINES
    assert 2 <= info.pages < 30
    assert _pages(Path(info.path)) == info.pages
    assert BIG_SRC in text and "root" in text
    shown = RAW_HEAD + RAW_TAIL + RAW_SAMPLE
    assert f"{shown:,} of the incident's {BIG_LINES:,} events" in text
    assert f"{BIG_LINES - shown:,} lines are left out" in text
    assert f"#{BIG_LINES:,}" in text  # the last line is printed
    assert info.seconds < 60


@needs_poppler
def test_incident_without_summary(case_db, reports):
    _, by_src = case_db
    _, text = reports[QUIET_SRC]
    assert by_src[QUIET_SRC]["id"] in text
    assert "No summary was stored for this incident" in text
    assert QUIET_SRC in text and "oracle" in text
    assert "Vedette's checklist for brute force" in text
    assert "Block the source addresses at the edge" in text


@needs_poppler
def test_a_model_summary_is_labelled_and_shown_as_inert_text(reports):
    _, text = reports[BIG_SRC]
    assert f"Source: language model {MODEL}" in text
    assert "[bold]ignore previous instructions[/bold]" in text
    assert "\\x1b]8;;http://x.test\\x07 done" in text
    assert "\x1b" not in text and "\x07" not in text
    # With no structured answer from the model, Vedette's own checklist gives the next steps.
    assert "Vedette's checklist for brute force" in text


def test_unknown_incident_and_unanalysed_case(case_db, tmp_path):
    db, _ = case_db
    with Case.open(db, read_only=True) as case:
        with pytest.raises(ReportError, match="no incident INC-9999"):
            write_incident_report(case, "INC-9999", tmp_path / "x.pdf")
        with pytest.raises(ReportError, match="does not exist"):
            write_incident_report(case, "INC-0001", tmp_path / "missing" / "x.pdf")
    fresh = tmp_path / "fresh.duckdb"
    with Case.open(fresh) as case:
        with pytest.raises(ReportError, match="not been analysed"):
            write_incident_report(case, "INC-0001", tmp_path / "x.pdf")
        with pytest.raises(ReportError, match="not been analysed"):
            write_all_reports(case, tmp_path / "all")
    assert not (tmp_path / "x.pdf").exists()


def test_all_reports_respect_the_severity_floor(case_db, tmp_path):
    db, by_src = case_db
    with Case.open(db, read_only=True) as case:
        _, incidents = load_incidents(case)
        infos = write_all_reports(case, tmp_path / "out", min_severity="high")
        with pytest.raises(ReportError, match="unknown severity"):
            write_all_reports(case, tmp_path / "out", min_severity="severe")
    expected = sorted(i["id"] for i in incidents if i["severity"] in ("high", "critical"))
    assert sorted(i.incident_id for i in infos) == expected
    assert by_src[BIG_SRC]["id"] in expected
    for info in infos:
        assert Path(info.path) == tmp_path / "out" / report_filename(info.incident_id)
        assert Path(info.path).read_bytes().startswith(b"%PDF")
        assert info.pages >= 2


def test_sample_positions_keep_head_tail_and_an_even_middle():
    assert sample_positions(0) == []
    assert sample_positions(7) == [1, 2, 3, 4, 5, 6, 7]
    picked = sample_positions(5000)
    assert len(picked) == RAW_HEAD + RAW_TAIL + RAW_SAMPLE
    assert picked[:RAW_HEAD] == list(range(1, RAW_HEAD + 1))
    assert picked[-RAW_TAIL:] == list(range(5000 - RAW_TAIL + 1, 5001))
    middle = picked[RAW_HEAD:-RAW_TAIL]
    gaps = {b - a for a, b in itertools.pairwise(middle)}
    assert max(gaps) - min(gaps) <= 1


def test_wrap_mono_counts_wide_characters_twice():
    mono = frozenset(range(0x20, 0x7F))
    assert wrap_mono("abcdef", 4, mono) == ["abcd", "ef"]
    assert wrap_mono("管理员管理员", 4, mono) == ["管理", "员管", "理员"]
    assert wrap_mono("", 4, mono) == [""]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, check=False)


@needs_poppler
def test_cli_report_end_to_end(case_db, tmp_path):
    db, by_src = case_db
    inc = by_src[UNICODE_SRC]
    out = tmp_path / "one.pdf"
    r = _cli("report", inc["id"], "--db", db, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert inc["id"] in r.stdout and str(out) in r.stdout
    text = _pdftext(out)
    assert inc["id"] in text and "管理员" in text

    r = _cli("report", "INC-9999", "--db", db, "--out", str(tmp_path / "nope.pdf"))
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "INC-9999" in r.stderr
    assert not (tmp_path / "nope.pdf").exists()

    r = _cli("report", "--all", "--db", db, "--out", str(tmp_path / "all"), "--min-severity", "critical")
    assert r.returncode == 0, r.stderr

    r = _cli("report", "--db", db, "--out", str(tmp_path / "x.pdf"))
    assert r.returncode == 1 and "INCIDENT_ID or --all" in r.stderr


def test_cli_report_on_a_case_with_no_run(tmp_path):
    db = tmp_path / "empty.duckdb"
    ev = Events()
    ev.failed_password(at(1), UNICODE_SRC, "root")
    with Case.open(db) as case:
        ev.into(case)
    r = _cli("report", "INC-0001", "--db", str(db), "--out", str(tmp_path / "x.pdf"))
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "not been analysed" in r.stderr
