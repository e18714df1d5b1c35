"""One count, one story (issue 19): literal sshd and PAM lines of a guessed password in, and the
same numbers out of the summary, the SHAP labels, the incident pane, the PDF and a SQL query.

sshd and PAM both log each refused password, "Invalid user" and "[preauth]" lines add to them:
the 8 tries below are 14 attempt lines and 16 lines whose outcome is failure.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.tui.conftest import settle

ATTACKER = "185.220.101.129"
START = datetime(2026, 11, 19, 2, 14, tzinfo=timezone.utc)


def _lines() -> list[str]:
    out: list[tuple[datetime, str]] = []

    def log(seconds: float, pid: int, text: str) -> None:
        out.append((START + timedelta(seconds=seconds), f"web1 sshd[{pid}]: {text}"))

    pam = f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ATTACKER}"
    # A baseline: 25 users log in with keys from their own addresses, three days running.
    for day in range(3):
        for k in range(25):
            log(-86400 * (day + 1) + k * 60, 2000 + day * 100 + k,
                f"Accepted publickey for user{k} from 198.18.{k}.10 port 50{k:03d} ssh2: ED25519 SHA256:abc")
    # Connection 1: an account that does not exist, three passwords.
    log(1, 5000, f"Invalid user admin from {ATTACKER} port 37604")
    log(1.5, 5000, "pam_unix(sshd:auth): check pass; user unknown")
    log(1.6, 5000, pam)
    for k in range(3):
        log(4 + 3 * k, 5000, f"Failed password for invalid user admin from {ATTACKER} port 37604 ssh2")
    log(10.5, 5000, f"PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={ATTACKER}")
    log(10.6, 5000, f"Connection closed by invalid user admin {ATTACKER} port 37604 [preauth]")
    # Connection 2: three wrong passwords for deploy.
    log(40, 5001, pam + " user=deploy")
    for k in range(3):
        log(43 + 2.5 * k, 5001, f"Failed password for deploy from {ATTACKER} port 21193 ssh2")
    log(49.6, 5001, f"Connection closed by authenticating user deploy {ATTACKER} port 21193 [preauth]")
    log(49.7, 5001, f"PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={ATTACKER} "
                    "user=deploy")
    # Connection 3: two more, then the password works.
    log(120, 5002, pam + " user=deploy")
    for k in range(2):
        log(122 + 4 * k, 5002, f"Failed password for deploy from {ATTACKER} port 46628 ssh2")
    log(136, 5002, f"Accepted password for deploy from {ATTACKER} port 46628 ssh2")
    log(136.1, 5002, "pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)")
    out.sort()
    return [f"{t.isoformat()} {text}" for t, text in out]


@pytest.fixture(scope="module")
def counted_case(tmp_path_factory) -> Path:
    from engine.analyze import analyze
    from engine.ingest import ingest
    from store.case import Case

    root = tmp_path_factory.mktemp("counts")
    log = root / "auth.log"
    log.write_text("\n".join(_lines()) + "\n", encoding="utf-8")
    path = root / "case.duckdb"
    with Case.open(path) as case:
        ingest(case, [str(log)])
        analyze(case, llm=None)
        case.con.execute("CHECKPOINT")
    return path


def _incident_of(case, ip: str) -> dict:
    from store.browse import incident_rows

    return next(i for i in incident_rows(case) if ip in i["src_ips"])


def test_attempts_are_tries_and_failure_lines_are_lines(counted_case):
    """The definition (engine.counts) against plain SQL over the literal lines."""
    from engine.counts import incident_auth_counts
    from store.case import Case

    with Case.open(counted_case, read_only=True) as case:
        inc = _incident_of(case, ATTACKER)
        counts = incident_auth_counts(case, inc["id"])
        sql = case.con.execute(
            "SELECT count(*) FILTER (action = 'auth_password' AND outcome = 'failure'), "
            "count(*) FILTER (action = 'pam_auth_failure'), count(*) FILTER (outcome = 'failure') "
            "FROM events WHERE src_ip = $ip", {"ip": ATTACKER}).fetchone()
    assert sql == (8, 5, 16)
    assert (counts.attempts, counts.attempt_lines, counts.failure_lines, counts.successes) == (8, 14, 16, 1)
    assert inc["category"] == "brute_force" and inc["compromised"] and inc["severity"] == "critical"
    # The summary and the SHAP inputs count tries, not lines.
    assert "8 failed attempts for admin" in inc["summary"]
    values = {f["name"]: f["value"] for f in inc["top_features"]}
    for name in ("failed_attempts", "failures_before_success"):
        if name in values:
            assert values[name] == 8


async def test_incident_pane_pdf_and_sql_agree(counted_case, tmp_path, make_app):
    """The detail pane, the PDF's text and the SQL console's count say 8 attempts and 16 lines."""
    from engine.explain import plain
    from store.case import Case
    from tui.screens.incident import IncidentScreen

    case_path = tmp_path / "case.duckdb"
    shutil.copy(counted_case, case_path)
    with Case.open(case_path, read_only=True) as case:
        inc = _incident_of(case, ATTACKER)
    assert plain("failed_attempts") == "failed attempts"
    assert plain("failures_before_success") == "failed attempts before the success"

    app = make_app(case_path, start="incidents")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        row = next(i for i, r in enumerate(screen.shown) if r["id"] == inc["id"])
        screen.table.move_cursor(row=row)
        await pilot.press("enter")
        await settle(app, pilot)
        detail = app.screen
        assert isinstance(detail, IncidentScreen)
        pane = str(detail.query_one("#auth-counts").content)
        assert "8 failed attempts, 1 successful login" in pane
        assert "14 log lines record the 8 attempts" in pane and "16 failure lines in all" in pane
        summary = str(detail.query_one("#summary-text").content)
        assert "8 failed attempts for admin" in summary
        timeline = detail.query_one("#timeline")
        tui_peak = max(n for _, n in timeline.slices)
        tui_slices = len(timeline.slices)

        # The SQL console, on the same case.
        await pilot.press("4")
        await settle(app, pilot)
        sql = app.screen
        sql.query_one("#sql-editor").text = (
            f"SELECT count(*) AS failure_lines FROM events WHERE src_ip = '{ATTACKER}' AND outcome = 'failure'")
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert sql.result is not None and sql.result.rows == [(16,)]

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pdf = tmp_path / "inc.pdf"
    app.backend.write_report(inc["id"], str(pdf))  # what P in the detail does, on the app's case
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.split())
    assert "8 failed attempts and 1 successful login(s); 14 log lines record the attempts" in flat
    assert "16 lines in all are marked as failures" in flat
    row = next(line.split() for line in text.splitlines() if line.strip().startswith(ATTACKER))
    # Source, where, events, failed attempts, failure lines, logins, accounts, first and last seen.
    numbers = [t for t in row[1:] if t.isdigit()]
    assert numbers[1:4] == ["8", "16", "1"], row
    assert f"{tui_slices} slices of" in flat and f"Peak {tui_peak} per slice" in flat
