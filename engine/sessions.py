"""Sessions and their behavioural features, in SQL over ``events``.

A *session* is the unit the analysis scores. Kinds:

- ``ssh_source``: one source address's SSH activity (across users and hosts) until it falls
  silent for ``SSH_SOURCE_GAP_S``; brute force, spraying, stuffing and suspicious logins live here.
- ``ssh_conn``: one SSH connection (host + sshd pid, from connect to disconnect) with its auth
  attempts, users tried, success and duration; kept for the analyst's drill-down.
- ``ssh_user``: the failed attempts on one account across sources (``SSH_USER_GAP_S``). The
  "sources attacking the same account" feature of ``ssh_source`` (the mark of credential
  stuffing) counts sources per account in ``CAMPAIGN_BUCKET_S`` buckets where that count surges
  above the account's usual level.
- ``web``: one (client IP, user agent) pair with a 30-minute inactivity gap.
- ``web_login``: one source's credential submissions over HTTP (POSTs to login-like endpoints,
  basic-auth ``401`` answers and what followed them) until ``WEB_LOGIN_GAP_S`` of silence, whatever
  user agents it shows; brute force, spraying, stuffing and a login after failures over HTTP.
- ``flow``: one source's Zeek/Suricata flows until ``FLOW_GAP_S`` of silence.
- ``beacon``: one (source, destination, port) pair over the whole case, for periodicity.
- ``ids``: one source's Suricata alerts until ``FLOW_GAP_S`` of silence.

``build(con)`` fills temp tables ``feat_<kind>`` (one row per session: ``session_id``, ``kind``,
``src_ip``, ``users``, ``logins`` (of ``users``, those with a successful login), ``hosts``,
``first_ts``, ``last_ts``, ``events`` and numeric features named in ``FEATURES[kind]``). The kinds in
``LOGIN_KINDS`` also carry ``login_user`` / ``login_ts`` (the first login after a run of failures:
who got in, and when), those in ``TARGET_KINDS`` ``targets`` (what a campaign converged on: a login
endpoint, a flooded address and port). Everything is SQL: no Python loop touches an event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from engine import config, counts

# Numeric features per kind, in the order the model sees them; the names are what SHAP reports
# and what `engine.explain.PLAIN_NAMES` translates for people.
FEATURES: dict[str, tuple[str, ...]] = {
    "ssh_source": (
        "failed_attempts", "failed_per_min", "failed_auth_ratio", "distinct_users", "distinct_invalid_users",
        "distinct_hosts", "successes", "success_after_failures", "failures_before_success",
        "interval_mean_s", "interval_cv", "off_hours_share", "new_source_logins", "unusual_method_logins",
        "max_sources_per_user", "preauth_noise", "duration_min", "honeypot_logins", "commands", "downloads",
    ),
    "web": (
        "requests", "requests_per_min", "distinct_paths", "status_4xx_share", "status_5xx_share",
        "sensitive_path_hits", "injection_hits", "tool_user_agent", "crawler_user_agent", "empty_user_agent",
        "post_share", "duration_min",
    ),
    "web_login": (
        "login_attempts", "login_failures", "login_fail_share", "login_failures_per_min", "login_successes",
        "success_after_failures", "failures_before_success", "same_answer_share", "distinct_endpoints",
        "distinct_user_agents", "distinct_users", "basic_auth_failures", "campaign_sources",
        "campaign_failures_per_source", "duration_min",
    ),
    "flow": (
        "flows", "distinct_dst_ips", "distinct_dst_ports", "failed_conn_share", "src_mbytes", "dst_mbytes",
        "mean_duration_s", "duration_min", "syn_only_share", "peak_dst_per_min", "flood_conns", "flood_sources",
    ),
    "beacon": ("connections", "interval_mean_s", "interval_cv", "span_h", "src_mbytes"),
    "ids": ("alerts", "distinct_signatures", "max_severity", "bruteforce_alerts", "scan_alerts", "exploit_alerts",
            "trojan_alerts"),
}

KINDS = tuple(FEATURES)
# Kinds whose feature tables say who logged in after a run of failures, and when.
LOGIN_KINDS = ("ssh_source", "web_login")
# Kinds whose feature tables name what a distributed campaign converged on.
TARGET_KINDS = ("web_login", "flow")


@dataclass(frozen=True)
class SessionCounts:
    """How many sessions of each kind a build made (``ssh_conn`` and ``ssh_user`` included)."""

    by_kind: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


def _p() -> dict[str, object]:
    return {
        "ssh_gap": config.SSH_SOURCE_GAP_S,
        "user_gap": config.SSH_USER_GAP_S,
        "conn_gap": config.SSH_CONN_GAP_S,
        "web_gap": config.WEB_GAP_S,
        "flow_gap": config.FLOW_GAP_S,
        "sensitive": config.SENSITIVE_PATH_RE,
        "inject": config.INJECTION_RE,
        "tool_ua": config.TOOL_UA_RE,
        "crawler_ua": config.CRAWLER_UA_RE,
        "failed_states": list(config.FAILED_CONN_STATES),
        "off_share": config.OFF_HOURS_MAX_SHARE,
        "beacon_min": config.BEACON_MIN_CONNECTIONS,
        "login_gap": config.WEB_LOGIN_GAP_S,
        "login_re": config.LOGIN_PATH_RE,
        "redirects": list(config.LOGIN_REDIRECT_STATUSES),
        "fail_statuses": list(config.LOGIN_FAILURE_STATUSES),
        "repeat_min": config.WEB_LOGIN_REPEAT_MIN,
        "repeat_rate": config.WEB_LOGIN_REPEAT_MIN_RATE,
        "repeat_share": config.WEB_LOGIN_REPEAT_MIN_SHARE,
        "campaign_sources": config.WEB_CAMPAIGN_MIN_SOURCES,
        "campaign_surge": config.CAMPAIGN_SURGE,
        "campaign_fail_share": config.WEB_CAMPAIGN_MIN_FAIL_SHARE,
        "flood_rate": config.FLOOD_MIN_PER_MIN,
        "flood_surge": config.FLOOD_SURGE,
        "flood_edge": int(config.FLOOD_EDGE_MINUTES),
        "syn_states": list(config.SYN_ONLY_STATES),
    }


def _run(con: duckdb.DuckDBPyConnection, sql: str, events: str = "events") -> None:
    if events != "events":  # a live follow rebuilds the sessions of a subset of the events
        sql = re.sub(r"\bFROM events\b", f"FROM {events}", sql)
    params = _p()
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    con.execute(sql, used or None)


# A window id: a new window starts at the first event and after each gap longer than $gap. The
# windows run over a narrow projection (id, partition, time) joined back by id: sorting whole rows
# through the window passes cost more than the join. Two ways to number them, by the size of the
# partitions:
# - long partitions (a source's or an account's events: a brute force is 100,000s of them): the
#   breaks come from one lag(), and every event finds its window's first event with an ASOF join;
#   the window id is that event's id. A running sum over such partitions costs twice as much
#   (DuckDB builds a segment tree for it).
# - short partitions (one sshd connection's few lines, 100,000s of partitions): a running sum of
#   the breaks, which is cheap there, while the ASOF join pays per partition.
def _windowed(select_sql: str, part: str, gap: str, *, long_partitions: bool = True) -> str:
    keys = list(dict.fromkeys(p.strip() for p in part.split(",")))
    cols = ", ".join(dict.fromkeys(["eid", *keys, "ts"]))
    order = f"PARTITION BY {part} ORDER BY ts, eid"
    if long_partitions:
        same = " AND ".join(f"_b.{k} IS NOT DISTINCT FROM _s.{k}" for k in keys)
        numbered = f"""
        WITH _b AS MATERIALIZED (
            SELECT {cols}, lag(ts) OVER ({order}) AS _prev FROM ({select_sql}) _e
        )
        SELECT _b.eid, _s.eid AS win
        FROM _b ASOF JOIN (
            SELECT {cols} FROM _b WHERE _prev IS NULL OR epoch(ts) - epoch(_prev) > {gap}
        ) _s ON {same} AND _b.ts >= _s.ts"""
    else:
        numbered = f"""
        SELECT eid, sum(brk) OVER ({order} ROWS UNBOUNDED PRECEDING) AS win
        FROM (
            SELECT {cols}, CASE WHEN lag(ts) OVER ({order}) IS NULL
                               OR epoch(ts) - epoch(lag(ts) OVER ({order})) > {gap} THEN 1 ELSE 0 END AS brk
            FROM ({select_sql}) _e
        ) _n"""
    return f"""
    SELECT _t.*, _w.win FROM ({select_sql}) _t JOIN ({numbered}
    ) _w USING (eid)"""


def _source_head(prefix: str, kind: str, key: str) -> str:
    """The columns every per-source session starts with: id, kind, entities, span, size."""
    return f"""'{prefix}-' || md5({key} || '#' || win::VARCHAR)[:12] AS session_id, '{kind}' AS kind,
           src_ip, []::VARCHAR[] AS users, []::VARCHAR[] AS logins,
           list(DISTINCT host) FILTER (host IS NOT NULL) AS hosts,
           min(ts) AS first_ts, max(ts) AS last_ts, count(*) AS events"""


# What a failed try and a successful login are: one definition, in engine.counts.
_AUTH_FAIL = counts.AUTH_FAIL_LINE
_ATTEMPT = counts.ATTEMPT_LINE
_SUCCESS = counts.SUCCESS_LINE


def build_ssh(con: duckdb.DuckDBPyConnection, events: str = "events") -> None:
    # Every SSH event with a time; event_id is its identity in the case.
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE _ssh AS
    SELECT event_id AS eid, ts, host, pid, action, outcome, src_ip, "user", auth_method,
           -- sshd writes "Invalid user" / "invalid user" (and "Illegal"/"illegal" in old versions);
           -- contains() on the two spellings is several times cheaper than lower() of every message.
           (action = 'invalid_user' OR contains(message, 'nvalid user ') OR contains(message, 'llegal user ')
            ) AS invalid_flag, pid::VARCHAR AS conn, format
    FROM events
    WHERE ts IS NOT NULL AND program LIKE 'sshd%' AND format IN ('syslog', 'journald')
    UNION ALL BY NAME
    {host_ssh_events_sql()}
    """, events)
    # Hours of the day that are unusual for this case: few of its successful logins happen then.
    # A live follow's partial rebuild keeps the hours its last full build found (a case-wide fact).
    keep_hours = events != "events" and _has_temp(con, "_off_hours")
    _run(con, "SELECT 1" if keep_hours else """
    CREATE OR REPLACE TEMP TABLE _off_hours AS
    WITH base AS (
        SELECT hour(ts) AS h, count(*) AS n FROM _ssh WHERE outcome = 'success' GROUP BY 1
    ), tot AS (SELECT sum(n) AS t FROM base)
    SELECT h.h FROM range(24) h(h)
    LEFT JOIN base ON base.h = h.h, tot
    WHERE tot.t >= 20 AND coalesce(base.n, 0) < $off_share * tot.t
    """)
    # Each account's usual way in, and the first time each (account, source) succeeded.
    _run(con, """
    CREATE OR REPLACE TEMP TABLE _succ AS
    SELECT eid, "user", src_ip, ts, auth_method,
           min(ts) OVER (PARTITION BY "user") AS user_first,
           min(ts) OVER (PARTITION BY "user", src_ip) AS pair_first,
           mode(auth_method) OVER (PARTITION BY "user") AS usual_method,
           count(*) OVER (PARTITION BY "user") AS user_logins
    FROM _ssh WHERE outcome = 'success' AND action LIKE 'auth\\_%' ESCAPE '\\' AND "user" IS NOT NULL
    """)
    # One account's activity across sources (any account, root and invalid ones included).
    account_attempts = f"SELECT eid, ts, \"user\", src_ip, host FROM _ssh WHERE \"user\" IS NOT NULL AND {_ATTEMPT}"
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE _user_win AS
    {_windowed(account_attempts, '"user"', '$user_gap')}
    """)
    _run(con, """
    CREATE OR REPLACE TEMP TABLE feat_ssh_user AS
    SELECT 'U-' || md5("user" || '#' || win::VARCHAR)[:12] AS session_id, 'ssh_user' AS kind,
           "user", win, NULL::VARCHAR AS src_ip, list(DISTINCT src_ip) FILTER (src_ip IS NOT NULL) AS src_ips,
           [any_value("user")] AS users, []::VARCHAR[] AS logins,
           list(DISTINCT host) FILTER (host IS NOT NULL) AS hosts,
           min(ts) AS first_ts, max(ts) AS last_ts, count(*) AS events,
           count(DISTINCT src_ip)::DOUBLE AS distinct_sources
    FROM _user_win GROUP BY "user", win
    """)
    # Accounts under a distributed attack: in a time bucket, many more sources fail on the
    # account than it usually sees. Root and common names are tried by the whole internet all
    # the time, so "many" is relative to the account's own mean per bucket over the case.
    # Two bucketings, the second shifted by half a bucket, so a campaign that straddles a bucket
    # edge is still whole in one of them.
    width = int(config.CAMPAIGN_BUCKET_S)
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE _account_burst AS
    WITH a AS (
        SELECT "user", src_ip, epoch(ts) AS t FROM _ssh
        WHERE "user" IS NOT NULL AND src_ip IS NOT NULL AND {_ATTEMPT}
    ), b AS (
        SELECT "user", shift, floor((t + shift) / {width}) AS bucket, count(DISTINCT src_ip) AS sources
        FROM a, (VALUES (0), ({width // 2})) s(shift)
        GROUP BY ALL
    ), span AS (
        SELECT greatest(1, ceil((max(t) - min(t)) / {width}) + 1) AS buckets FROM a
    ), mean AS (
        SELECT "user", shift, sum(sources) / any_value(span.buckets) AS per_bucket FROM b, span GROUP BY ALL
    )
    SELECT b."user", b.shift, b.bucket, b.sources
    FROM b JOIN mean USING ("user", shift)
    WHERE b.sources >= {int(config.STUFFING_MIN_SOURCES)}
      AND b.sources >= {float(config.CAMPAIGN_SURGE)} * mean.per_bucket
    """)
    # Per-source windows with what each event knows about its account and hour.
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE _src_win AS
    SELECT w.*,
           (hour(w.ts) IN (SELECT h FROM _off_hours)) AS off_hours,
           (s.eid IS NOT NULL AND s.pair_first = s.ts AND s.user_first < s.ts) AS new_source_login,
           (s.eid IS NOT NULL AND s.user_logins >= 3 AND s.auth_method IS DISTINCT FROM s.usual_method) AS unusual_method,
           CASE WHEN {_ATTEMPT} THEN greatest(coalesce(b0.sources, 0), coalesce(b1.sources, 0)) ELSE 0 END
               AS user_sources
    FROM ({_windowed('SELECT * FROM _ssh WHERE src_ip IS NOT NULL', 'src_ip', '$ssh_gap')}) w
    LEFT JOIN _succ s ON s.eid = w.eid
    LEFT JOIN _account_burst b0
           ON b0.shift = 0 AND b0."user" = w."user" AND b0.bucket = floor(epoch(w.ts) / {width})
    LEFT JOIN _account_burst b1
           ON b1.shift = {width // 2} AND b1."user" = w."user" AND b1.bucket = floor((epoch(w.ts) + {width // 2}) / {width})
    """)
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE feat_ssh_source AS
    WITH ev0 AS (
        SELECT *, {_ATTEMPT} AS is_attempt, {_SUCCESS} AS is_success FROM _src_win
    ), fs AS (
        -- a group-by and a join: a window over the whole rows would sort them all
        SELECT src_ip, win, min(ts) AS first_success FROM ev0 WHERE is_success GROUP BY ALL
    ), ev AS (
        SELECT ev0.*, fs.first_success FROM ev0 LEFT JOIN fs USING (src_ip, win)
    ), gaps AS (
        SELECT src_ip, win, epoch(ts) - epoch(lag(ts) OVER (PARTITION BY src_ip, win ORDER BY ts, eid)) AS gap
        FROM ev WHERE is_attempt AND action <> 'invalid_user'
    ), g AS (
        SELECT src_ip, win, avg(gap) AS interval_mean_s,
               CASE WHEN count(gap) >= 3 AND avg(gap) > 0 THEN stddev_pop(gap) / avg(gap) ELSE 1.0 END AS interval_cv
        FROM gaps GROUP BY ALL
    ), agg AS (
        SELECT src_ip, win,
               min(ts) AS first_ts, max(ts) AS last_ts, count(*) AS events,
               {counts.attempts_sql()} AS failed_attempts,
               count(*) FILTER (is_success) AS successes,
               count(DISTINCT "user") FILTER (is_attempt) AS distinct_users,
               count(DISTINCT "user") FILTER (invalid_flag) AS distinct_invalid_users,
               count(DISTINCT host) AS distinct_hosts,
               {counts.attempts_sql('ts <= first_success')} AS failures_before_success,
               count(*) FILTER (is_success AND new_source_login) AS new_source_logins,
               count(*) FILTER (is_success AND unusual_method) AS unusual_method_logins,
               avg(off_hours::INT) AS off_hours_share,
               max(user_sources) AS max_sources_per_user,
               count(*) FILTER (action IN ('no_ident', 'bad_protocol', 'kex_error', 'negotiation_failed',
                                           'preauth_timeout', 'preauth_close')) AS preauth_noise,
               count(*) FILTER (is_success AND format = 'cowrie') AS honeypot_logins,
               count(*) FILTER (action = 'command_input') AS commands,
               count(*) FILTER (action IN ('session_file_download', 'session_file_upload')) AS downloads,
               list(DISTINCT "user") FILTER ("user" IS NOT NULL AND (is_attempt OR is_success)) AS users,
               list(DISTINCT "user") FILTER (is_success AND "user" IS NOT NULL) AS logins,
               list(DISTINCT host) FILTER (host IS NOT NULL) AS hosts,
               arg_min("user", ts) FILTER (is_success) AS login_user, min(ts) FILTER (is_success) AS login_ts
        FROM ev
        GROUP BY src_ip, win
    )
    SELECT 'S-' || md5(agg.src_ip || '#' || agg.win::VARCHAR)[:12] AS session_id, 'ssh_source' AS kind,
           agg.src_ip, agg.users, agg.hosts, agg.first_ts, agg.last_ts, agg.events, agg.logins,
           agg.login_user, agg.login_ts,
           agg.failed_attempts::DOUBLE AS failed_attempts,
           (agg.failed_attempts / greatest(epoch(agg.last_ts) - epoch(agg.first_ts), 60) * 60)::DOUBLE AS failed_per_min,
           (agg.failed_attempts / greatest(agg.failed_attempts + agg.successes, 1))::DOUBLE AS failed_auth_ratio,
           agg.distinct_users::DOUBLE AS distinct_users,
           agg.distinct_invalid_users::DOUBLE AS distinct_invalid_users,
           agg.distinct_hosts::DOUBLE AS distinct_hosts,
           agg.successes::DOUBLE AS successes,
           (agg.successes > 0 AND agg.failures_before_success > 0)::INT::DOUBLE AS success_after_failures,
           agg.failures_before_success::DOUBLE AS failures_before_success,
           coalesce(g.interval_mean_s, 0)::DOUBLE AS interval_mean_s,
           coalesce(g.interval_cv, 1.0)::DOUBLE AS interval_cv,
           coalesce(agg.off_hours_share, 0)::DOUBLE AS off_hours_share,
           agg.new_source_logins::DOUBLE AS new_source_logins,
           agg.unusual_method_logins::DOUBLE AS unusual_method_logins,
           coalesce(agg.max_sources_per_user, 0)::DOUBLE AS max_sources_per_user,
           agg.preauth_noise::DOUBLE AS preauth_noise,
           ((epoch(agg.last_ts) - epoch(agg.first_ts)) / 60.0)::DOUBLE AS duration_min,
           agg.honeypot_logins::DOUBLE AS honeypot_logins,
           agg.commands::DOUBLE AS commands,
           agg.downloads::DOUBLE AS downloads
    FROM agg LEFT JOIN g USING (src_ip, win)
    """)
    # SSH connections (host + sshd pid, or Cowrie's session id), for drill-down.
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE feat_ssh_conn AS
    SELECT 'C-' || md5(coalesce(host, '') || '#' || conn || '#' || win::VARCHAR)[:12] AS session_id,
           'ssh_conn' AS kind, any_value(src_ip) FILTER (src_ip IS NOT NULL) AS src_ip,
           list(DISTINCT "user") FILTER ("user" IS NOT NULL) AS users,
           list(DISTINCT "user") FILTER ({_SUCCESS} AND "user" IS NOT NULL) AS logins, [any_value(host)] AS hosts,
           min(ts) AS first_ts, max(ts) AS last_ts, count(*) AS events,
           count(*) FILTER ({_ATTEMPT}) AS attempts, count(*) FILTER ({_SUCCESS}) AS successes,
           epoch(max(ts)) - epoch(min(ts)) AS duration_s
    FROM ({_windowed_where_needed('SELECT * FROM _ssh WHERE conn IS NOT NULL', 'host', 'conn', '$conn_gap')})
    GROUP BY host, conn, win
    """)


# SSH activity from host and honeypot records, beside sshd's own lines:
# - Cowrie: every event of a honeypot connection (its session id is the connection); logins are
#   auth events, commands and downloads are counted per source.
# - auditd PAM authentication by sshd, btmp failed logins and wtmp remote logins mirror lines
#   auth.log also has: each is kept only where no sshd line (nor a record of a format ranked
#   before it) says the same thing (same user, source and outcome, host where both name one)
#   within HOST_RECORD_DEDUP_S, so one login is one fact however many logs saw it.
_HOST_SSH = (
    "SELECT event_id AS eid, ts, host, pid, "
    "CASE WHEN format = 'utmp' AND action = 'login' THEN 'auth_login' ELSE action END AS action, "
    "outcome, src_ip, \"user\", auth_method, false AS invalid_flag, format, "
    "CASE WHEN format = 'cowrie' THEN session END AS conn, "
    "CASE format WHEN 'auditd' THEN 1 WHEN 'utmp' THEN 2 ELSE 0 END AS _rank "
    "FROM events WHERE ts IS NOT NULL AND ("
    "format = 'cowrie' "
    "OR (format = 'auditd' AND action = 'auth_password' AND program LIKE 'sshd%') "
    "OR (format = 'utmp' AND action IN ('auth_failure', 'login') AND src_ip IS NOT NULL))"
)


def host_ssh_events_sql() -> str:
    """The SELECT of the SSH events host and honeypot records add to ``_ssh`` (see above)."""
    window = float(config.HOST_RECORD_DEDUP_S)
    return f"""
    SELECT * EXCLUDE (_rank) FROM (
        WITH h AS MATERIALIZED ({_HOST_SSH}),
        said AS (
            SELECT ts, host, src_ip, "user", outcome, 0 AS _rank FROM events
            WHERE ts IS NOT NULL AND program LIKE 'sshd%' AND format IN ('syslog', 'journald')
              AND action LIKE 'auth\\_%' ESCAPE '\\' AND src_ip IN (SELECT src_ip FROM h WHERE _rank > 0)
            UNION ALL SELECT ts, host, src_ip, "user", outcome, _rank FROM h WHERE _rank > 0
        ), dup AS (
            SELECT DISTINCT m.eid FROM h m JOIN said p ON p.src_ip = m.src_ip AND p.outcome = m.outcome
            WHERE m._rank > 0 AND p._rank < m._rank AND p."user" IS NOT DISTINCT FROM m."user"
              AND (p.host IS NULL OR m.host IS NULL OR p.host = m.host)
              AND abs(epoch(p.ts) - epoch(m.ts)) <= {window}
        )
        SELECT * FROM h WHERE eid NOT IN (SELECT eid FROM dup)
    )"""


def _windowed_where_needed(select_sql: str, key: str, key2: str, gap: str) -> str:
    """``_windowed(..., long_partitions=False)`` over the (key, key2) partitions that span more than
    ``gap``; every other partition is one window (numbered 1, as the running sum numbers it). Nearly
    every sshd connection lasts seconds: sorting a million lines through two window passes to find
    that out costs more than a group-by and a join."""
    same = f"_c.{key} IS NOT DISTINCT FROM _x.{key} AND _c.{key2} = _x.{key2}"
    return f"""
    WITH _c AS MATERIALIZED ({select_sql}),
    _x AS (SELECT {key}, {key2} FROM _c GROUP BY ALL HAVING epoch(max(ts)) - epoch(min(ts)) > {gap})
    SELECT _c.*, 1 AS win FROM _c ANTI JOIN _x ON {same}
    UNION ALL BY NAME
    SELECT * FROM ({_windowed(f'SELECT _c.* FROM _c SEMI JOIN _x ON {same}', f'{key}, {key2}', gap, long_partitions=False)})"""


# Digits out of the user agent for the session key: tools such as Nikto put a test number in it
# ("(Test:005172)"), and a browser update mid-session is the same visitor.
_WEB_EVENTS = (
    "SELECT event_id AS eid, ts, host, src_ip, regexp_replace(coalesce(user_agent, ''), '[0-9]+', '#', 'g') AS ua, "
    "user_agent, method, path, status "
    "FROM events WHERE action = 'http_request' AND ts IS NOT NULL AND src_ip IS NOT NULL"
)


def build_web(con: duckdb.DuckDBPyConnection, events: str = "events") -> None:
    # Percent-decoding that keeps the text as it was where it does not decode to UTF-8
    # ("..%c0%af.." overlong encodings are themselves an attack marker, matched raw).
    _run(con, "CREATE OR REPLACE TEMP MACRO _decoded(p) AS coalesce(try(url_decode(p)), p)")
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE feat_web AS
    WITH w AS ({_windowed(_WEB_EVENTS, 'src_ip, ua', '$web_gap')})
    SELECT {_source_head('W', 'web', "src_ip || '#' || ua")}, any_value(user_agent) AS user_agent,
           count(*)::DOUBLE AS requests,
           (count(*) / greatest(epoch(max(ts)) - epoch(min(ts)), 60) * 60)::DOUBLE AS requests_per_min,
           count(DISTINCT path)::DOUBLE AS distinct_paths,
           avg((status BETWEEN 400 AND 499)::INT)::DOUBLE AS status_4xx_share,
           avg((status >= 500)::INT)::DOUBLE AS status_5xx_share,
           count(*) FILTER (regexp_matches(coalesce(path, ''), $sensitive))::DOUBLE AS sensitive_path_hits,
           count(*) FILTER (regexp_matches(_decoded(_decoded(coalesce(path, ''))), $inject))::DOUBLE
               AS injection_hits,
           regexp_matches(any_value(ua), $tool_ua)::INT::DOUBLE AS tool_user_agent,
           (regexp_matches(any_value(ua), $crawler_ua) AND NOT regexp_matches(any_value(ua), $tool_ua))::INT::DOUBLE
               AS crawler_user_agent,
           (any_value(ua) IN ('', '-'))::INT::DOUBLE AS empty_user_agent,
           avg((method = 'POST')::INT)::DOUBLE AS post_share,
           ((epoch(max(ts)) - epoch(min(ts))) / 60.0)::DOUBLE AS duration_min
    FROM w GROUP BY src_ip, ua, win
    """, events)


_FLOW_EVENTS = (
    "SELECT event_id AS eid, ts, host, src_ip, dst_ip, dst_port, conn_state, src_bytes, bytes, duration "
    "FROM events WHERE ts IS NOT NULL AND src_ip IS NOT NULL AND "
    "((format = 'zeek' AND action = 'conn') OR (format = 'suricata' AND action = 'flow'))"
)


def build_flows(con: duckdb.DuckDBPyConnection, events: str = "events") -> None:
    # Minutes in which one destination (address and port) got a surge of connections: at least
    # $flood_rate, and $flood_surge times its mean per minute over the span of the case's flows
    # (and $flood_edge minutes either side, the flood's partial first and last minutes).
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE _flood AS
    WITH f AS (
        SELECT dst_ip, dst_port, floor(epoch(ts) / 60) AS minute, src_ip FROM ({_FLOW_EVENTS}) WHERE dst_ip IS NOT NULL
    ), m AS (
        SELECT dst_ip, dst_port, minute, count(*) AS n, count(DISTINCT src_ip) AS sources FROM f GROUP BY ALL
    ), span AS (
        SELECT greatest(1, max(minute) - min(minute) + 1) AS minutes FROM f
    ), mean AS (
        SELECT dst_ip, dst_port, sum(n) / any_value(span.minutes) AS per_min FROM m, span GROUP BY ALL
    )
    SELECT m.dst_ip, m.dst_port, m.minute + e.d AS minute, max(m.n) AS n, max(m.sources) AS sources
    FROM m JOIN mean USING (dst_ip, dst_port), range(-$flood_edge, $flood_edge + 1) e(d)
    WHERE m.n >= $flood_rate AND m.n >= $flood_surge * mean.per_min
    GROUP BY ALL
    """, events)
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE feat_flow AS
    WITH w AS (
        SELECT w.*, fl.n AS flood_n, fl.sources AS flood_src,
               CASE WHEN fl.n IS NOT NULL THEN w.dst_ip || ':' || coalesce(w.dst_port, -1)::VARCHAR END AS flood_target
        FROM ({_windowed(_FLOW_EVENTS, 'src_ip', '$flow_gap')}) w
        LEFT JOIN _flood fl ON fl.dst_ip = w.dst_ip AND fl.dst_port IS NOT DISTINCT FROM w.dst_port
                           AND fl.minute = floor(epoch(w.ts) / 60)
    ), peak AS (
        SELECT src_ip, win, max(n) AS peak_dst_per_min
        FROM (SELECT src_ip, win, count(*) AS n FROM w GROUP BY src_ip, win, dst_ip, dst_port, floor(epoch(ts) / 60))
        GROUP BY ALL
    )
    SELECT {_source_head('F', 'flow', 'src_ip')},
           list(DISTINCT flood_target) FILTER (flood_target IS NOT NULL) AS targets,
           count(*)::DOUBLE AS flows,
           count(DISTINCT dst_ip)::DOUBLE AS distinct_dst_ips,
           count(DISTINCT dst_port)::DOUBLE AS distinct_dst_ports,
           avg(list_contains($failed_states, conn_state)::INT)::DOUBLE AS failed_conn_share,
           (coalesce(sum(src_bytes), 0) / 1e6)::DOUBLE AS src_mbytes,
           (coalesce(sum(bytes), 0) / 1e6)::DOUBLE AS dst_mbytes,
           coalesce(avg(duration), 0)::DOUBLE AS mean_duration_s,
           ((epoch(max(ts)) - epoch(min(ts))) / 60.0)::DOUBLE AS duration_min,
           avg(list_contains($syn_states, conn_state)::INT)::DOUBLE AS syn_only_share,
           any_value(peak.peak_dst_per_min)::DOUBLE AS peak_dst_per_min,
           count(flood_n)::DOUBLE AS flood_conns,
           coalesce(max(flood_src), 0)::DOUBLE AS flood_sources
    FROM w JOIN peak USING (src_ip, win)
    GROUP BY src_ip, win
    """, events)
    # Periodic pairs: an internal host calling one outside address on a steady beat.
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE feat_beacon AS
    WITH f AS (
        SELECT *, epoch(ts) - epoch(lag(ts) OVER (PARTITION BY src_ip, dst_ip, dst_port ORDER BY ts, eid)) AS gap
        FROM ({_FLOW_EVENTS}) WHERE dst_ip IS NOT NULL
    )
    SELECT 'B-' || md5(src_ip || '#' || dst_ip || '#' || coalesce(dst_port, -1)::VARCHAR)[:12] AS session_id,
           'beacon' AS kind, src_ip, dst_ip, dst_port, []::VARCHAR[] AS users, []::VARCHAR[] AS logins,
           list(DISTINCT host) FILTER (host IS NOT NULL) AS hosts,
           min(ts) AS first_ts, max(ts) AS last_ts, count(*) AS events,
           count(*)::DOUBLE AS connections,
           coalesce(avg(gap), 0)::DOUBLE AS interval_mean_s,
           CASE WHEN avg(gap) > 0 THEN stddev_pop(gap) / avg(gap) ELSE 1.0 END::DOUBLE AS interval_cv,
           ((epoch(max(ts)) - epoch(min(ts))) / 3600.0)::DOUBLE AS span_h,
           (coalesce(sum(src_bytes), 0) / 1e6)::DOUBLE AS src_mbytes
    FROM f GROUP BY src_ip, dst_ip, dst_port
    HAVING count(*) >= $beacon_min
    """, events)


_IDS_EVENTS = (
        "SELECT event_id AS eid, ts, host, src_ip, dst_ip, signature, sig_severity, sig_category, "
        "CASE WHEN regexp_matches(coalesce(signature, ''), '(?i)brute.?force|\\bbrute\\b') THEN 'brute' "
        "     WHEN regexp_matches(coalesce(signature, ''), '(?i)\\bscan\\b|zmap|masscan|nmap') THEN 'scan' "
        "     WHEN regexp_matches(coalesce(signature, '') || ' ' || coalesce(sig_category, ''), "
        "          '(?i)trojan|malware|\\bcnc\\b|\\bc2\\b|command and control|botnet') THEN 'trojan' "
        "     WHEN regexp_matches(coalesce(signature, '') || ' ' || coalesce(sig_category, ''), "
        "          '(?i)exploit|attempted administrator|web application attack|log4j|cve-|injection') THEN 'exploit' "
        "END AS cls FROM events "
        "WHERE action = 'alert' AND ts IS NOT NULL AND src_ip IS NOT NULL"
)


def build_ids(con: duckdb.DuckDBPyConnection, events: str = "events") -> None:
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE feat_ids AS
    SELECT {_source_head('I', 'ids', 'src_ip')},
           list(DISTINCT signature) FILTER (signature IS NOT NULL) AS signatures,
           list(DISTINCT dst_ip) FILTER (dst_ip IS NOT NULL) AS dst_ips,
           count(*)::DOUBLE AS alerts,
           count(DISTINCT signature)::DOUBLE AS distinct_signatures,
           -- Suricata severity 1 is the most severe: turn it into 3 = high, 1 = low.
           (4 - coalesce(min(sig_severity), 3))::DOUBLE AS max_severity,
           -- One class per alert, first match wins: a scan signature that mentions brute force is
           -- brute force, a scan is a scan even when filed under "attempted admin".
           count(*) FILTER (cls = 'brute')::DOUBLE AS bruteforce_alerts,
           count(*) FILTER (cls = 'scan')::DOUBLE AS scan_alerts,
           count(*) FILTER (cls = 'exploit')::DOUBLE AS exploit_alerts,
           count(*) FILTER (cls = 'trojan')::DOUBLE AS trojan_alerts
    FROM ({_windowed(_IDS_EVENTS, 'src_ip', '$flow_gap')})
    GROUP BY src_ip, win
    """, events)


def _has_temp(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = $n", {"n": name}
    ).fetchall()[0][0])


def build(con: duckdb.DuckDBPyConnection, events: str = "events") -> SessionCounts:
    """Build every ``feat_<kind>`` temp table from ``events`` (or from a relation of its rows)."""
    from engine import web_login  # it builds on this module's helpers
    build_ssh(con, events)
    build_web(con, events)
    web_login.build(con, events)
    build_flows(con, events)
    build_ids(con, events)
    counts = {}
    for kind in ("ssh_source", "ssh_conn", "ssh_user", "web", "web_login", "flow", "beacon", "ids"):
        counts[kind] = con.execute(f"SELECT count(*) FROM feat_{kind}").fetchall()[0][0]
    return SessionCounts(counts)
