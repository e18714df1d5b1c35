"""engine.counts against the sessions on host and honeypot records: the sample logs' app1 (auth.log
with auditd, btmp and wtmp beside it) and honeypot/ (Cowrie) in, and each incident's failed attempts
equal to the number its summary states."""

from __future__ import annotations

import re
from pathlib import Path

from engine.analyze import analyze
from engine.counts import incident_auth_counts
from engine.ingest import ingest
from store.browse import incident_rows
from store.case import Case

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"


def test_attempts_match_the_summaries_on_host_and_honeypot_records(tmp_path):
    with Case.open(tmp_path / "case.duckdb") as case:
        ingest(case, [str(SAMPLES / "app1"), str(SAMPLES / "honeypot")])
        analyze(case, llm=None)
        checked = 0
        formats = set()
        for inc in incident_rows(case):
            stated = re.search(r"(\d[\d,]*) failed attempts", inc["summary"] or "")
            if not stated:
                continue
            counts = incident_auth_counts(case, inc["id"])
            assert counts.attempts == int(stated.group(1).replace(",", "")), (inc["id"], inc["summary"], counts)
            assert counts.failure_lines >= counts.attempt_lines >= counts.attempts
            where = " OR ".join(f"src_ip = '{ip}'" for ip in inc["src_ips"])
            formats |= {f for (f,) in case.con.execute(f"SELECT DISTINCT format FROM events WHERE {where}").fetchall()}
            checked += 1
        assert checked >= 2 and {"cowrie", "auditd"} <= formats
