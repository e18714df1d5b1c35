"""Whole-pipeline conformance on real logs nobody here wrote (../shared/realdata, never copied here).

Each file goes through `engine.ingest.ingest` exactly as `vedette ingest` does it: detection,
decompression, chunking, parsing, the store. Zero rejects, and counts a reader can check by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.ingest import ingest
from store.case import Case

# (path under realdata, expected format, expected events or None)
REAL_LOGS = [
    ("loghub/OpenSSH/OpenSSH_2k.log", "syslog", 2000),
    ("loghub-2.0/OpenSSH/OpenSSH_2k.log", "syslog", 2000),
    ("loghub/Linux/Linux_2k.log", "syslog", 2000),
    ("loghub/Apache/Apache_2k.log", "apache_error", 2000),
    ("weblogs/elastic_examples_apache_logs.log", "access", 10000),
    ("weblogs/lnav_logfile_shop_access_log.0", "access", 1000),
    ("zeek/trickbot_conn.log", "zeek", 13001),
    ("zeek/zeek_testing_btest_Files_zeek-cut-logs_conn.log", "zeek", 5),
    ("zeek/zeek_Baseline_ssh.basic_conn.log", "zeek", None),
    ("zeek/zeek_Baseline_ssh.basic_ssh.log", "zeek", None),
    ("zeek/EvansWJ_conn.json.log", "zeek", 110),
    ("zeek/lnav_logfile_bro_conn.log.0", "zeek", None),
    ("zeek/lnav_logfile_bro_http.log.0", "zeek", None),
    ("suricata/SuricataLog_eve-2.json", "suricata", 2400),  # + 1 stats record, skipped
    ("suricata/SuricataLog_eve_udp_flow.json", "suricata", None),
    ("suricata/SuricataLog_eve_large.nostats.json.gz", "suricata", 19657),
    ("journald/lnav_logfile_journald.json", "journald", 2),
]


@pytest.mark.parametrize("rel,fmt,expected_events", REAL_LOGS, ids=[r[0] for r in REAL_LOGS])
def test_real_file_ingests_with_zero_rejects(realdata: Path, tmp_path: Path, rel: str, fmt: str,
                                             expected_events: int | None) -> None:
    with Case.open(tmp_path / "case.duckdb") as case:
        result = ingest(case, [realdata / rel], tz="UTC")
        assert not result.problems, result.as_json()
        (f,) = result.files
        assert f.format == fmt
        assert f.rejected == 0, case.con.execute("SELECT line_no, reason, left(raw, 120) FROM rejects LIMIT 5").fetchall()
        assert f.lines == f.events + f.skipped
        if expected_events is not None:
            assert f.events == expected_events


def test_openssh_2k_counts(realdata: Path, tmp_path: Path) -> None:
    with Case.open(tmp_path / "case.duckdb") as case:
        ingest(case, [realdata / "loghub/OpenSSH/OpenSSH_2k.log"], tz="UTC")
        q = case.con.execute
        assert q("SELECT count(DISTINCT src_ip) FROM events WHERE action = 'auth_password' AND outcome = 'failure'"
                 ).fetchone()[0] == 23
        assert q("SELECT count(*) FROM events WHERE outcome = 'success'").fetchone()[0] == 1
        assert q("SELECT count(*) FROM events WHERE action = 'auth_password' AND outcome = 'failure' "
                 "AND src_ip = '183.62.140.253'").fetchone()[0] == 286
        # December lines: the year comes from the file's mtime, never a future date.
        assert q("SELECT count(*) FROM events WHERE ts IS NULL OR month(ts) <> 12").fetchone()[0] == 0


def test_weblog_and_zeek_counts(realdata: Path, tmp_path: Path) -> None:
    with Case.open(tmp_path / "case.duckdb") as case:
        ingest(case, [realdata / "weblogs/elastic_examples_apache_logs.log", realdata / "zeek/trickbot_conn.log"],
               tz="UTC")
        q = case.con.execute
        assert q("SELECT count(*) FROM events WHERE status = 404").fetchone()[0] == 213
        assert q("SELECT count(*) FROM events WHERE action = 'conn'").fetchone()[0] == 13001


def test_suricata_large_bz2_stats_skipped_by_design(realdata: Path, tmp_path: Path) -> None:
    with Case.open(tmp_path / "case.duckdb") as case:
        result = ingest(case, [realdata / "suricata/SuricataLog_eve_large.json.bz2"], tz="UTC")
        (f,) = result.files
        assert (f.format, f.rejected) == ("suricata", 0)
        assert f.skipped == 20574 and f.events == 40231 - 20574
        q = case.con.execute
        assert q("SELECT count(*) FROM events WHERE action = 'alert'").fetchone()[0] == 1794
        assert q("SELECT count(*) FROM events WHERE signature = 'ET SCAN Potential SSH Scan'").fetchone()[0] == 696
