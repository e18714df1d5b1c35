"""Web login sessions: one source's credential submissions over HTTP, and how they were answered.

Form logins (POSTs to ``config.LOGIN_PATHS``) and basic auth (any path answered ``401``) become
failures and successes by their answers; runs of failures before a success, the same small answer
again and again, and login endpoints that many sources fail on at once are the features. SQL only.
"""

from __future__ import annotations

import duckdb

from engine import config
from engine.sessions import _run, _windowed

# Every request with its endpoint (host and path without the query) and whether it is a form
# login: a POST to a login-like path.
_LOGIN_REQUESTS = (
    "SELECT event_id AS eid, ts, host, src_ip, \"user\", method, status, bytes, user_agent, "
    "coalesce(host, '') || ' ' || regexp_replace(coalesce(path, ''), '[?#].*$', '') AS endpoint, "
    "(method = 'POST' AND regexp_matches(regexp_replace(coalesce(path, ''), '[?#].*$', ''), $login_re)) AS form "
    "FROM events WHERE action = 'http_request' AND ts IS NOT NULL AND src_ip IS NOT NULL"
)


def build(con: duckdb.DuckDBPyConnection, events: str = "events") -> None:
    """Fill ``feat_web_login``: one row per source's window of credential submissions over HTTP (from
    ``events``, or from a relation of its rows)."""
    # Credential submissions: form logins, and every request of a (source, endpoint) pair that was
    # answered 401 at least once (basic auth: the challenges, the failures, and the request that got in).
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE _wl AS
    WITH r AS MATERIALIZED ({_LOGIN_REQUESTS}),
    basic AS (SELECT DISTINCT src_ip, endpoint FROM r WHERE status = 401)
    SELECT r.* FROM r LEFT JOIN basic b USING (src_ip, endpoint) WHERE r.form OR b.src_ip IS NOT NULL
    """, events)
    # A form that answers successes with a redirect re-renders itself (a 200 of its usual size) on
    # a failure. A source told the same thing again and again, fast, is failing too, even where no
    # one ever got in to show what success looks like.
    width = int(config.WEB_CAMPAIGN_BUCKET_S)
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE _wl_ev AS
    WITH ep AS (
        SELECT endpoint, count(*) FILTER (list_contains($redirects, status)) AS redirects,
               mode(bytes) FILTER (status = 200) AS form_size
        FROM _wl WHERE form GROUP BY endpoint
    ), w AS (
        SELECT *, status::VARCHAR || ':' || coalesce(bytes, -1)::VARCHAR AS answer
        FROM ({_windowed('SELECT * FROM _wl', 'src_ip', '$login_gap')})
    ), ans AS (
        SELECT src_ip, win, endpoint, answer, count(*) AS k, min(ts) AS t0, max(ts) AS t1
        FROM w WHERE form GROUP BY ALL
    ), grp AS (
        SELECT src_ip, win, endpoint, arg_max(answer, k) AS top_answer,
               sum(k) >= $repeat_min AND max(k) >= $repeat_share * sum(k)
               AND sum(k) / greatest(epoch(max(t1)) - epoch(min(t0)), 60) * 60 >= $repeat_rate AS repeated
        FROM ans GROUP BY ALL
    ), cls AS (
        SELECT w.*, (w.form AND w.answer = g.top_answer) AS same_answer,
               (list_contains($fail_statuses, w.status)
                OR (w.form AND w.status = 200 AND ((ep.redirects > 0 AND w.bytes = ep.form_size)
                                                  OR (g.repeated AND w.answer = g.top_answer)))) AS is_fail
        FROM w LEFT JOIN ep USING (endpoint) LEFT JOIN grp g USING (src_ip, win, endpoint)
    ), succ AS (
        SELECT *, coalesce(NOT is_fail AND (list_contains($redirects, status) OR status BETWEEN 200 AND 299), false)
                  AS is_success
        FROM cls
    ), seg AS (
        -- a success closes a run of failures: number each run by the successes before it
        SELECT *, sum(is_success::INT) OVER (PARTITION BY src_ip, win, endpoint ORDER BY ts, eid
                                             ROWS UNBOUNDED PRECEDING) - is_success::INT AS run
        FROM succ
    )
    SELECT *, count(*) FILTER (is_fail) OVER (PARTITION BY src_ip, win, endpoint, run) AS run_failures FROM seg
    """, events)
    # Login endpoints under a distributed attack: in a time bucket many more sources fail on the
    # endpoint than it usually sees, and most of its answers are failures (as for SSH accounts:
    # two bucketings, the second shifted by half a bucket).
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE _wl_campaign AS
    WITH a AS (SELECT endpoint, src_ip, epoch(ts) AS t, is_fail FROM _wl_ev WHERE is_fail OR is_success
    ), b AS (
        SELECT endpoint, shift, floor((t + shift) / {width}) AS bucket,
               count(DISTINCT src_ip) FILTER (is_fail) AS sources, count(*) FILTER (is_fail) AS failures,
               avg(is_fail::INT) AS fail_share
        FROM a, (VALUES (0), ({width // 2})) s(shift) GROUP BY ALL
    ), span AS (
        SELECT greatest(1, ceil((max(t) - min(t)) / {width}) + 1) AS buckets FROM a
    ), mean AS (
        SELECT endpoint, shift, sum(sources) / any_value(span.buckets) AS per_bucket FROM b, span GROUP BY ALL
    )
    SELECT b.endpoint, b.shift, b.bucket, b.sources, b.failures / b.sources AS per_source
    FROM b JOIN mean USING (endpoint, shift)
    WHERE b.sources >= $campaign_sources AND b.sources >= $campaign_surge * mean.per_bucket
      AND b.fail_share >= $campaign_fail_share
    """, events)
    _run(con, f"""
    CREATE OR REPLACE TEMP TABLE feat_web_login AS
    WITH ev AS (
        SELECT e.*,
               CASE WHEN e.is_fail THEN greatest(coalesce(c0.sources, 0), coalesce(c1.sources, 0)) ELSE 0 END AS csrc,
               CASE WHEN e.is_fail THEN CASE WHEN coalesce(c0.sources, 0) >= coalesce(c1.sources, 0)
                                             THEN c0.per_source ELSE c1.per_source END END AS cper
        FROM _wl_ev e
        LEFT JOIN _wl_campaign c0 ON c0.shift = 0 AND c0.endpoint = e.endpoint
                                 AND c0.bucket = floor(epoch(e.ts) / {width})
        LEFT JOIN _wl_campaign c1 ON c1.shift = {width // 2} AND c1.endpoint = e.endpoint
                                 AND c1.bucket = floor((epoch(e.ts) + {width // 2}) / {width})
    ), agg AS (
        SELECT src_ip, win, min(ts) AS first_ts, max(ts) AS last_ts, count(*) AS events,
               count(*) FILTER (is_fail OR is_success) AS attempts,
               count(*) FILTER (is_fail) AS failures, count(*) FILTER (is_success) AS successes,
               coalesce(max(run_failures) FILTER (is_success), 0) AS before_success,
               avg(same_answer::INT) FILTER (form) AS same_answer_share,
               count(DISTINCT endpoint) AS endpoints, count(DISTINCT user_agent) AS agents,
               count(DISTINCT "user") AS users_n, count(*) FILTER (status = 401) AS basic_failures,
               max(csrc) AS campaign_sources, arg_max(cper, csrc) AS campaign_per_source,
               list(DISTINCT "user") FILTER ("user" IS NOT NULL) AS users,
               list(DISTINCT "user") FILTER ("user" IS NOT NULL AND is_success) AS logins,
               list(DISTINCT host) FILTER (host IS NOT NULL) AS hosts,
               list(DISTINCT endpoint) FILTER (csrc > 0) AS targets,
               arg_max(coalesce("user", ''), run_failures) FILTER (is_success AND run_failures > 0) AS login_user,
               arg_max(ts, run_failures) FILTER (is_success AND run_failures > 0) AS login_ts
        FROM ev GROUP BY src_ip, win
    )
    SELECT 'L-' || md5(src_ip || '#' || win::VARCHAR)[:12] AS session_id, 'web_login' AS kind, src_ip,
           users, logins, hosts, first_ts, last_ts, events, targets, nullif(login_user, '') AS login_user, login_ts,
           attempts::DOUBLE AS login_attempts, failures::DOUBLE AS login_failures,
           (failures / greatest(attempts, 1))::DOUBLE AS login_fail_share,
           (failures / greatest(epoch(last_ts) - epoch(first_ts), 60) * 60)::DOUBLE AS login_failures_per_min,
           successes::DOUBLE AS login_successes,
           (before_success > 0)::INT::DOUBLE AS success_after_failures,
           before_success::DOUBLE AS failures_before_success,
           coalesce(same_answer_share, 0)::DOUBLE AS same_answer_share,
           endpoints::DOUBLE AS distinct_endpoints, agents::DOUBLE AS distinct_user_agents,
           users_n::DOUBLE AS distinct_users, basic_failures::DOUBLE AS basic_auth_failures,
           coalesce(campaign_sources, 0)::DOUBLE AS campaign_sources,
           coalesce(campaign_per_source, 0)::DOUBLE AS campaign_failures_per_source,
           ((epoch(last_ts) - epoch(first_ts)) / 60.0)::DOUBLE AS duration_min
    FROM agg
    """, events)
