"""The case schema: the `events` table of DESIGN.md and the tables around it.

Schema changes are migrations: append a new ``Migration`` to ``MIGRATIONS`` and never edit an
old one. ``store.case.Case`` applies the missing ones when it opens a case read-write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from store.rawblocks import RAW_BLOCKS_DDL

# (name, DuckDB type, what it holds). Order is the column order of `events`.
EVENT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("ts", "TIMESTAMPTZ", "when it happened (NULL only where the log masks the time)"),
    ("host", "VARCHAR", "the machine that logged it (syslog host, journald _HOSTNAME, sensor)"),
    ("source_file", "VARCHAR", "absolute path of the file the line came from"),
    ("line_no", "BIGINT", "1-based line number in that file"),
    ("format", "VARCHAR", "the log format name (syslog, journald, access, zeek, suricata, ...)"),
    ("program", "VARCHAR", "syslog program / identifier (sshd, sudo, CRON, nginx, ...)"),
    ("pid", "BIGINT", "process id where logged"),
    ("action", "VARCHAR", "small vocabulary: auth_password, invalid_user, http_request, conn, alert, ..."),
    ("outcome", "VARCHAR", "'success', 'failure' or NULL"),
    ("src_ip", "VARCHAR", "the remote address or host name, as logged"),
    ("src_port", "INTEGER", "remote port"),
    ("dst_ip", "VARCHAR", "local / responder address"),
    ("dst_port", "INTEGER", "local / responder port"),
    ("user", "VARCHAR", "account named in the event"),
    ("auth_method", "VARCHAR", "password, publickey, keyboard-interactive, hostbased, none, ..."),
    ("method", "VARCHAR", "HTTP method"),
    ("path", "VARCHAR", "HTTP request path (with query)"),
    ("status", "INTEGER", "HTTP status code"),
    ("bytes", "BIGINT", "bytes sent to the source (HTTP body, flow responder bytes)"),
    ("src_bytes", "BIGINT", "bytes sent by the source (flow originator bytes)"),
    ("referrer", "VARCHAR", "HTTP referrer"),
    ("user_agent", "VARCHAR", "HTTP user agent"),
    ("proto", "VARCHAR", "transport or application protocol"),
    ("service", "VARCHAR", "application protocol detected on a flow (ssh, http, dns, ...)"),
    ("conn_state", "VARCHAR", "flow state (Zeek conn_state, Suricata flow state)"),
    ("duration", "DOUBLE", "seconds, for flows and timed requests"),
    ("signature", "VARCHAR", "IDS signature text (Suricata alert)"),
    ("sig_id", "BIGINT", "IDS signature id"),
    ("sig_category", "VARCHAR", "IDS signature category"),
    ("sig_severity", "INTEGER", "IDS severity (1 = highest)"),
    ("session", "VARCHAR", "the logging program's own session/connection id (Cowrie session, audit ses, utmp tty)"),
    ("password", "VARCHAR", "password tried, where a honeypot logs it (Cowrie): intelligence, shown escaped"),
    ("command", "VARCHAR", "command line run (Cowrie input, audit EXECVE args / USER_CMD cmd)"),
    ("url", "VARCHAR", "URL of a file downloaded or uploaded in a session (Cowrie)"),
    ("file_hash", "VARCHAR", "SHA-256 of that file (Cowrie shasum)"),
    ("hassh", "VARCHAR", "HASSH fingerprint of the SSH client's key exchange (Cowrie client.kex)"),
    ("message", "VARCHAR", "the message part of the line"),
    ("raw", "VARCHAR", "the line as read (invalid UTF-8 as \\xNN escapes, NUL as \\x00)"),
)
EVENT_COLUMN_NAMES: tuple[str, ...] = tuple(c[0] for c in EVENT_COLUMNS)
EVENT_COLUMN_TYPES: dict[str, str] = {c[0]: c[1] for c in EVENT_COLUMNS}


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
    # Work SQL alone cannot do (compressing blocks), run on the connection after the statements,
    # in the same transaction.
    run: Callable[[Any], None] | None = None


def _events_ddl() -> str:
    cols = ",\n    ".join(f'"{name}" {typ}' for name, typ, _ in EVENT_COLUMNS)
    return f"CREATE TABLE events (\n    source_id INTEGER,\n    {cols}\n)"


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "events, sources, rejects",
        (
            """CREATE TABLE sources (
                id INTEGER PRIMARY KEY,
                path VARCHAR NOT NULL,
                format VARCHAR NOT NULL,
                fingerprint VARCHAR NOT NULL,
                fp_len INTEGER NOT NULL,
                compression VARCHAR,
                size BIGINT,
                mtime DOUBLE,
                lines_read BIGINT NOT NULL DEFAULT 0,
                byte_offset BIGINT NOT NULL DEFAULT 0,
                events BIGINT NOT NULL DEFAULT 0,
                rejected BIGINT NOT NULL DEFAULT 0,
                skipped BIGINT NOT NULL DEFAULT 0,
                status VARCHAR NOT NULL DEFAULT 'partial',
                note VARCHAR,
                first_ingested_at TIMESTAMPTZ,
                ingested_at TIMESTAMPTZ
            )""",
            "CREATE SEQUENCE sources_id_seq START 1",
            _events_ddl(),
            """CREATE TABLE rejects (
                source_id INTEGER,
                source_file VARCHAR,
                line_no BIGINT,
                reason VARCHAR,
                raw VARCHAR
            )""",
        ),
    ),
)

MIGRATIONS += (
    Migration(
        2,
        "analysis runs, sessions, incidents",
        (
            """CREATE TABLE runs (
                run_id VARCHAR PRIMARY KEY,
                started_at TIMESTAMPTZ,
                finished_at TIMESTAMPTZ,
                seconds DOUBLE,
                status VARCHAR,
                params JSON,
                feature_set JSON,
                model JSON,
                counts JSON,
                stage_seconds JSON
            )""",
            # Sessions of the latest run only (a new run replaces them); incidents keep every run.
            """CREATE TABLE sessions (
                run_id VARCHAR,
                session_id VARCHAR,
                kind VARCHAR,
                src_ip VARCHAR,
                users VARCHAR[],
                hosts VARCHAR[],
                first_ts TIMESTAMPTZ,
                last_ts TIMESTAMPTZ,
                events BIGINT,
                features JSON,
                anomaly DOUBLE,
                risk INTEGER,
                severity VARCHAR,
                category VARCHAR,
                rules VARCHAR[],
                techniques VARCHAR[],
                top_features JSON,
                incident_id VARCHAR
            )""",
            """CREATE TABLE incidents (
                run_id VARCHAR,
                id VARCHAR,
                category VARCHAR,
                severity VARCHAR,
                risk INTEGER,
                first_seen TIMESTAMPTZ,
                last_seen TIMESTAMPTZ,
                src_ips VARCHAR[],
                users VARCHAR[],
                hosts VARCHAR[],
                sessions INTEGER,
                events BIGINT,
                techniques VARCHAR[],
                rules VARCHAR[],
                top_features JSON,
                summary VARCHAR,
                summary_source VARCHAR,
                PRIMARY KEY (run_id, id)
            )""",
        ),
    ),
)

MIGRATIONS += (
    Migration(
        3,
        "triage labels, suppressions, summary cache, stable incident keys",
        (
            # Incident ids (INC-0001) are stable within a run; `key` identifies the same incident
            # across runs (category, first source, first day) so triage survives re-analysis.
            "ALTER TABLE incidents ADD COLUMN key VARCHAR",
            """CREATE TABLE triage (
                incident_key VARCHAR PRIMARY KEY,
                status VARCHAR NOT NULL,          -- true_positive | benign | needs_review
                note VARCHAR,
                updated_at TIMESTAMPTZ
            )""",
            """CREATE TABLE suppressions (
                id INTEGER PRIMARY KEY,
                kind VARCHAR NOT NULL,            -- src_ip | user | cidr
                value VARCHAR NOT NULL,
                note VARCHAR,
                created_at TIMESTAMPTZ
            )""",
            "CREATE SEQUENCE suppressions_id_seq START 1",
            """CREATE TABLE summary_cache (
                cache_key VARCHAR PRIMARY KEY,    -- hash of the incident's facts and the model
                model VARCHAR,
                summary JSON,
                created_at TIMESTAMPTZ
            )""",
        ),
    ),
)

# --- physical storage of events ----------------------------------------------------------------
# DuckDB pays for every column of a row it appends, NULL or not (about 0.1 s per million rows per
# column): one 34-column table made an auth.log ingest spend most of its time writing NULLs. So
# events are stored in one narrow table per family of formats, and `events` is a view over them
# with every column of EVENT_COLUMNS. `source_file` and `format` come from `sources`;
# `event_id` identifies an event across the case (source id and line number).
_EVENT_TABLES_V11: dict[str, tuple[str, ...]] = {
    "ev_auth": ("ts", "host", "line_no", "program", "pid", "action", "outcome", "src_ip", "src_port", "dst_ip",
                "dst_port", "user", "auth_method", "message", "raw"),
    "ev_web": ("ts", "host", "line_no", "program", "pid", "action", "outcome", "src_ip", "src_port", "user",
               "method", "path", "status", "bytes", "referrer", "user_agent", "proto", "duration", "message", "raw"),
    "ev_net": ("ts", "host", "line_no", "program", "pid", "action", "outcome", "src_ip", "src_port", "dst_ip",
               "dst_port", "user", "auth_method", "method", "path", "status", "bytes", "src_bytes", "referrer",
               "user_agent", "proto", "service", "conn_state", "duration", "signature", "sig_id", "sig_category",
               "sig_severity", "message", "raw"),
    # Host and honeypot records: Cowrie, auditd, wtmp/btmp/utmp.
    "ev_host": ("ts", "host", "line_no", "program", "pid", "action", "outcome", "src_ip", "src_port", "dst_ip",
                "dst_port", "user", "auth_method", "user_agent", "proto", "duration", "session", "password",
                "command", "url", "file_hash", "hassh", "message", "raw"),
}
# Since version 12 the raw lines are kept as compressed blocks (store.rawblocks): an event table
# has every column above but ``raw``, plus ``raw_block``, the number of the block of its source
# that holds its line. The tables as they were before are kept for the migrations that made them.
EVENT_TABLES: dict[str, tuple[str, ...]] = {
    t: tuple(c for c in cols if c != "raw") for t, cols in _EVENT_TABLES_V11.items()
}
FORMAT_TABLE: dict[str, str] = {
    "syslog": "ev_auth", "journald": "ev_auth",
    "access": "ev_web", "apache_error": "ev_web",
    "zeek": "ev_net", "suricata": "ev_net",
    "cowrie": "ev_host", "auditd": "ev_host", "utmp": "ev_host",
}
# A format not named above is stored in the widest table.
DEFAULT_EVENT_TABLE = "ev_net"
DERIVED_EVENT_COLUMNS = ("source_file", "format")


def event_table_for(format_name: str) -> str:
    return FORMAT_TABLE.get(format_name, DEFAULT_EVENT_TABLE)


def _event_table_ddl(name: str, create_as: str | None = None, zstd: tuple[str, ...] = (),
                     layout: dict[str, tuple[str, ...]] | None = None) -> str:
    """CREATE TABLE for event table ``name`` as ``layout`` has it (default: this version's)."""
    current = layout is None
    layout = EVENT_TABLES if layout is None else layout
    cols = ",\n    ".join(
        f'"{c}" {EVENT_COLUMN_TYPES[c]}' + (" USING COMPRESSION zstd" if c in zstd else "") for c in layout[name]
    )
    block = "raw_block INTEGER,\n    " if current else ""
    return f"CREATE TABLE {create_as or name} (\n    source_id INTEGER,\n    {block}{cols}\n)"


def events_view_sql(tables: tuple[str, ...] | None = None, layout: dict[str, tuple[str, ...]] | None = None) -> str:
    """The ``events`` view over ``tables`` (default: every table of this version), laid out as
    ``layout`` (default: this version's, whose ``raw`` comes from the blocks)."""
    from store.rawblocks import raw_sql

    current = layout is None
    layout = EVENT_TABLES if layout is None else layout
    tables = tuple(layout) if tables is None else tables
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM {t}" for t in tables)
    select = []
    for name, typ, _ in EVENT_COLUMNS:
        if name == "source_file":
            select.append('s.path AS "source_file"')
        elif name == "format":
            select.append('s.format AS "format"')
        elif name == "raw" and current:
            select.append(f'{raw_sql("e")} AS "raw"')
        elif any(name in layout[t] for t in tables):
            select.append(f'e."{name}"::{typ} AS "{name}"')
        else:
            select.append(f'NULL::{typ} AS "{name}"')
    return (
        "CREATE OR REPLACE VIEW events AS SELECT (e.source_id::BIGINT << 40) + e.line_no AS event_id, e.source_id, "
        + ("e.raw_block, " if current else "")
        + ", ".join(select)
        + f" FROM ({union}) e LEFT JOIN sources s ON s.id = e.source_id"
    )


# The tables migration 4 made; later tables come with their own migration.
_V4_TABLES = ("ev_auth", "ev_web", "ev_net")


def _move_events_statements() -> tuple[str, ...]:
    out = [_event_table_ddl(t, layout=_EVENT_TABLES_V11) for t in _V4_TABLES]
    for table in _V4_TABLES:
        cols = _EVENT_TABLES_V11[table]
        formats = [f for f, t in FORMAT_TABLE.items() if t == table]
        if table == DEFAULT_EVENT_TABLE:
            where = "format NOT IN (" + ", ".join(f"'{f}'" for f in FORMAT_TABLE if FORMAT_TABLE[f] != table) + ")"
        else:
            where = "format IN (" + ", ".join(f"'{f}'" for f in formats) + ")"
        names = ", ".join(f'"{c}"' for c in cols)
        out.append(f"INSERT INTO {table} (source_id, {names}) SELECT source_id, {names} FROM events WHERE {where}")
    out.append("DROP TABLE events")
    out.append(events_view_sql(_V4_TABLES, _EVENT_TABLES_V11))
    return tuple(out)


MIGRATIONS += (
    Migration(4, "events stored per format family; `events` becomes a view", _move_events_statements()),
)

# The raw lines of access logs and JSON/TSV network logs are long (200-1,000 bytes): zstd stores
# them in half the time of DuckDB's default choice (it analyses every segment for FSST) and in a
# third of the space, and a text search over them reads no slower. Syslog lines are short and
# paged through most; they keep the default, which reads single rows faster.
ZSTD_COLUMNS: dict[str, tuple[str, ...]] = {"ev_web": ("raw",), "ev_net": ("raw",)}


def _zstd_statements() -> tuple[str, ...]:
    out = []
    for table, cols in ZSTD_COLUMNS.items():
        out.append(_event_table_ddl(table, f"{table}_zstd", cols, _EVENT_TABLES_V11))
        out.append(f"INSERT INTO {table}_zstd SELECT * FROM {table}")
        out.append(f"DROP TABLE {table}")
        out.append(f"ALTER TABLE {table}_zstd RENAME TO {table}")
    out.append(events_view_sql(_V4_TABLES, _EVENT_TABLES_V11))
    return tuple(out)


MIGRATIONS += (
    Migration(5, "raw lines of web and network events compressed with zstd", _zstd_statements()),
)

MIGRATIONS += (
    Migration(6, "sessions: the accounts that logged in", (
        # Of ``users`` (every account a session named), those with a successful login: a
        # summary must not say "logged in to admin and deploy" when admin only failed.
        "ALTER TABLE sessions ADD COLUMN logins VARCHAR[]",
    )),
)

MIGRATIONS += (
    Migration(7, "host and honeypot events (Cowrie, auditd, wtmp/btmp): sessions, passwords, commands, files", (
        _event_table_ddl("ev_host", zstd=("raw",), layout=_EVENT_TABLES_V11),
        events_view_sql(_V4_TABLES + ("ev_host",), _EVENT_TABLES_V11),
    )),
)

MIGRATIONS += (
    Migration(8, "geo: country, network and scope of every address a session names", (
        # One row per distinct address (engine.enrich): looked up once, kept across runs, and
        # looked up again only when the data behind it (``source``) changes.
        """CREATE TABLE geo (
            ip VARCHAR PRIMARY KEY,
            scope VARCHAR NOT NULL,           -- global | private | loopback | link_local | documentation | ...
            country VARCHAR,                  -- ISO 3166 alpha-2, NULL where unknown or not global
            asn INTEGER,                      -- autonomous system number, 0 where the data has none
            org VARCHAR,                      -- the network's organisation
            source VARCHAR NOT NULL           -- which data answered (name and date)
        )""",
    )),
)

MIGRATIONS += (
    Migration(10, "incidents: whether the attack got in, and the login that shows it", (
        # A brute force that succeeded stays a brute force (DESIGN.md): `compromised` says it got
        # in, `compromised_login` who logged in, from where and when ({"user", "src_ip", "ts"}).
        "ALTER TABLE incidents ADD COLUMN compromised BOOLEAN",
        "ALTER TABLE incidents ADD COLUMN compromised_login JSON",
    )),
)

MIGRATIONS += (
    Migration(11, "incidents: why their sessions were grouped", (
        # One sentence per incident (a campaign of sources behaving alike, one source, a /24...):
        # an analyst handed one incident for 10,000 sources must see why they are one.
        "ALTER TABLE incidents ADD COLUMN grouped_by VARCHAR",
    )),
)


def _raw_into_blocks(con: Any) -> None:
    """Migration 12: each event table's ``raw`` column into ``raw_blocks``, the events pointing at
    their block, the tables rebuilt without the column."""
    import numpy as np
    import pyarrow as pa

    from store import rawblocks

    for table in _EVENT_TABLES_V11:
        con.execute(
            "CREATE TEMP TABLE _blockmap (source_id INTEGER, line_no BIGINT, raw_block INTEGER)")
        sources = [r[0] for r in con.execute(f"SELECT DISTINCT source_id FROM {table} ORDER BY 1").fetchall()]
        for sid in sources:
            got = con.sql(
                f"SELECT line_no, any_value(raw) AS raw FROM {table} WHERE source_id = $s AND line_no IS NOT NULL "
                "GROUP BY line_no ORDER BY line_no", params={"s": sid}).to_arrow_table()
            nos = got.column("line_no").to_numpy()
            blocks = rawblocks.pack_sparse(nos, got.column("raw"))
            base = rawblocks.next_block_no(con, sid)
            rawblocks.insert_blocks(con, sid, base, blocks)
            nums = rawblocks.block_numbers(nos, blocks, base).astype(np.int32)
            mapping = pa.table({"line_no": pa.array(nos, pa.int64()), "raw_block": pa.array(nums, pa.int32())})
            con.register("_map_rows", mapping)
            con.execute("INSERT INTO _blockmap SELECT $s, line_no, raw_block FROM _map_rows", {"s": sid})
            con.unregister("_map_rows")
        cols = ", ".join(f'e."{c}"' for c in EVENT_TABLES[table])
        con.execute(_event_table_ddl(table, f"{table}_v12"))
        con.execute(f"INSERT INTO {table}_v12 SELECT e.source_id, m.raw_block, {cols} FROM {table} e "
                    "LEFT JOIN _blockmap m ON m.source_id = e.source_id AND m.line_no = e.line_no")
        con.execute(f"DROP TABLE {table}")
        con.execute(f"ALTER TABLE {table}_v12 RENAME TO {table}")
        con.execute("DROP TABLE _blockmap")
    con.execute(events_view_sql())


MIGRATIONS += (
    Migration(12, "raw lines kept as zstd blocks of consecutive lines; events point at their block", (
        RAW_BLOCKS_DDL,
    ), run=_raw_into_blocks),
)

SCHEMA_VERSION = MIGRATIONS[-1].version
