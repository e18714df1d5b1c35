"""The case store's schema migrations, on a real DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb

from engine.formats.base import parse_lines
from engine.ingest import ingest
from store.case import Case
from store.schema import MIGRATIONS, SCHEMA_VERSION

ACCESS = (
    '203.0.113.9 - - [21/Nov/2026:10:00:00 +0000] "GET /wp-login.php HTTP/1.1" 404 153 "-" "sqlmap/1.7"\n'
    '198.51.100.4 - - [21/Nov/2026:10:00:01 +0000] "GET / HTTP/1.1" 200 512 "-" "Mozilla/5.0"\n'
)


def _case_at_version(path: Path, version: int) -> None:
    """A case file as a vedette of schema ``version`` left it: only the migrations up to it."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    for migration in MIGRATIONS:
        if migration.version > version:
            break
        for statement in migration.statements:
            con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', $v)", {"v": str(version)})
    con.close()


def test_migrations_5_and_12_keep_every_event_and_its_raw_line(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    _case_at_version(db, 4)
    rows = parse_lines("access", ACCESS.splitlines())
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO sources (id, path, format, fingerprint, fp_len) VALUES (nextval('sources_id_seq'), '/var/log/nginx/access.log', 'access', 'f', 1)")
    for r in rows:
        con.execute(
            "INSERT INTO ev_web (source_id, ts, line_no, action, src_ip, method, path, status, user_agent, raw) "
            "VALUES (1, $ts, $line_no, $action, $src_ip, $method, $path, $status, $user_agent, $raw)",
            {k: r[k] for k in ("ts", "line_no", "action", "src_ip", "method", "path", "status", "user_agent", "raw")},
        )
    con.close()

    with Case.open(db) as case:
        assert case.schema_version() == SCHEMA_VERSION >= 5
        got = case.con.execute(
            "SELECT source_file, line_no, src_ip, status, user_agent, raw FROM events ORDER BY line_no"
        ).fetchall()
        assert got == [
            ("/var/log/nginx/access.log", 1, "203.0.113.9", 404, "sqlmap/1.7", ACCESS.splitlines()[0]),
            ("/var/log/nginx/access.log", 2, "198.51.100.4", 200, "Mozilla/5.0", ACCESS.splitlines()[1]),
        ]
        # Migration 12 moved the lines into compressed blocks: the table has no raw column left.
        columns = {r[0] for r in case.con.execute("DESCRIBE ev_web").fetchall()}
        assert "raw" not in columns and "raw_block" in columns
        assert case.con.execute("SELECT count(*) FROM raw_blocks").fetchall() == [(1,)]
        # New lines land beside them, in blocks of their own file.
        log = tmp_path / "access.log"
        log.write_text(ACCESS.replace("21/Nov", "22/Nov") * 2000)
        ingest(case, [log], tz="UTC")
        assert case.con.execute("SELECT count(*) FROM events").fetchone()[0] == 2 + 4000
        lines = log.read_text().splitlines()
        got = case.con.execute("SELECT line_no, raw FROM events WHERE source_file = $p ORDER BY line_no",
                               {"p": str(log)}).fetchall()
        assert got == [(i, line) for i, line in enumerate(lines, 1)]


def test_migration_6_adds_the_accounts_logged_in_and_keeps_old_sessions(tmp_path: Path) -> None:
    from engine.summaries import offline, stored_facts

    db = tmp_path / "old.duckdb"
    _case_at_version(db, 5)
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO runs (run_id, finished_at, status) VALUES ('r1', TIMESTAMPTZ '2026-11-21 10:00:00+00', "
                "'complete')")
    con.execute(
        "INSERT INTO sessions VALUES ('r1', 'S-1', 'ssh_source', '203.0.113.99', ['admin', 'deploy'], ['web1'], "
        "TIMESTAMPTZ '2026-11-21 09:00:00+00', TIMESTAMPTZ '2026-11-21 09:05:00+00', 8, "
        "'{\"successes\": 1, \"failures_before_success\": 6}', 0.7, 90, 'critical', 'suspicious_login', "
        "['ssh.success_after_failures'], ['T1078'], '[]', 'INC-0001')")
    con.execute(
        "INSERT INTO incidents (run_id, id, category, severity, risk, first_seen, last_seen, src_ips, users, hosts, "
        "sessions, events, techniques, rules, top_features) VALUES ('r1', 'INC-0001', 'suspicious_login', 'critical', "
        "90, TIMESTAMPTZ '2026-11-21 09:00:00+00', TIMESTAMPTZ '2026-11-21 09:05:00+00', ['203.0.113.99'], "
        "['admin', 'deploy'], ['web1'], 1, 8, ['T1078'], ['ssh.success_after_failures'], '[]')")
    con.close()

    with Case.open(db) as case:
        assert case.schema_version() == SCHEMA_VERSION >= 6
        row = case.con.execute("SELECT session_id, users, logins FROM sessions").fetchall()
        assert row == [("S-1", ["admin", "deploy"], None)]  # kept; who logged in was not recorded then
        facts = stored_facts(case.con, "INC-0001", "r1")
        assert facts.logins == ()
        # Without the record, the summary names the accounts the source used, as before.
        assert offline(facts).text.startswith("A successful login to admin and deploy ")


def test_every_session_kind_says_which_events_are_its_own() -> None:
    # An incident's events are found per member kind; a kind missing here shows no events.
    from engine.sessions import KINDS
    from store.queries import _KIND_FILTER

    assert set(KINDS) <= set(_KIND_FILTER)


def test_migration_11_adds_why_incidents_were_grouped_and_keeps_old_ones(tmp_path: Path) -> None:
    from engine.analyze import load_incidents

    db = tmp_path / "old.duckdb"
    _case_at_version(db, 6)
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO runs (run_id, finished_at, status) VALUES ('r1', TIMESTAMPTZ '2026-11-21 10:00:00+00', "
                "'complete')")
    con.execute(
        "INSERT INTO incidents (run_id, id, category, severity, risk, first_seen, last_seen, src_ips, users, hosts, "
        "sessions, events, techniques, rules, top_features) VALUES ('r1', 'INC-0001', 'brute_force', 'high', "
        "75, TIMESTAMPTZ '2026-11-21 09:00:00+00', TIMESTAMPTZ '2026-11-21 09:05:00+00', ['203.0.113.66'], "
        "['root'], ['web1'], 1, 300, ['T1110.001'], ['ssh.brute_force_heavy'], '[]')")
    con.close()

    with Case.open(db) as case:
        assert case.schema_version() == SCHEMA_VERSION >= 11
        run_id, incidents = load_incidents(case)
        assert run_id == "r1" and [i["id"] for i in incidents] == ["INC-0001"]
        assert incidents[0]["grouped_by"] == ""  # not recorded before version 11
        assert incidents[0]["src_ips"] == ["203.0.113.66"]
