"""The sessions SQL carried to Spark: every statement transpiles and parses as Spark SQL, and the
rewrites keep DuckDB's meaning (checked by running the rewritten form back in DuckDB)."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from engine import config, sessions
from engine.sqlport import PortError, SparkTranslator, _rewrite, spark_statements


def translated() -> list[tuple[str, object]]:
    return spark_statements()


def test_every_session_and_feature_statement_parses_as_spark_sql() -> None:
    pairs = translated()
    targets = {st.target for _, st in pairs if st is not None}
    # Every session kind's feature table is among them: a new kind is carried with no edit here.
    assert {f"feat_{k}" for k in sessions.FEATURES} | {"feat_ssh_conn", "feat_ssh_user"} <= targets
    for duck, st in pairs:
        if st is None:  # a macro: expanded where it is used
            assert "MACRO" in duck.upper()
            continue
        tree = sqlglot.parse_one(st.sql, read="spark")
        assert tree is not None
        text = st.sql.upper()
        for duckdb_only in ("ASOF JOIN", "::", "MATERIALIZED", "EPOCH(", "TRY(", "_DECODED("):
            assert duckdb_only not in text, (duckdb_only, st.sql[:200])
        assert not list(tree.find_all(exp.Placeholder)), st.sql[:200]
        assert not [j for j in tree.find_all(exp.Join) if str(j.args.get("method") or "").upper() == "ASOF"]


def test_parameters_become_literals_that_keep_their_backslashes() -> None:
    st = SparkTranslator().translate("SELECT regexp_matches(path, $re) AS hit, $gap AS g, list_contains($states, s) "
                                     "FROM t", {"re": config.INJECTION_RE, "gap": 3600, "states": ["S0", "REJ"]})
    tree = sqlglot.parse_one(st.sql, read="spark")
    literals = [lit.this for lit in tree.find_all(exp.Literal) if lit.is_string]
    assert config.INJECTION_RE in literals
    assert "3600" in st.sql and "ARRAY_CONTAINS(ARRAY('S0', 'REJ'), s)" in st.sql


def test_epoch_keeps_microseconds_and_slices_become_substring() -> None:
    st = SparkTranslator().translate("SELECT epoch(ts) - epoch(t0) AS d, 'S-' || md5(k)[:12] AS id FROM t")
    assert "UNIX_MICROS(ts) / 1E6" in st.sql
    assert "SUBSTRING(MD5(k), 1, 12)" in st.sql


def test_ctes_stay_where_they_are_so_equal_names_do_not_clash() -> None:
    st = SparkTranslator().translate("SELECT * FROM (WITH _b AS (SELECT 1 AS x) SELECT * FROM _b) a "
                                     "JOIN (WITH _b AS (SELECT 2 AS x) SELECT * FROM _b) b USING (x)")
    assert st.sql.count("WITH _b AS") == 2 and not st.sql.startswith("WITH")


def test_star_exclude_and_union_by_name_are_spelled_out() -> None:
    tr = SparkTranslator({"t": ["a", "b", "_rank"], "u": ["b", "c"]})
    st = tr.translate("WITH h AS (SELECT a, b, _rank FROM t) SELECT * EXCLUDE (_rank) FROM (SELECT * FROM h) "
                      "UNION ALL BY NAME SELECT c, b FROM u")
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS a, 2 AS b, 3 AS _rank")
    con.execute("CREATE TABLE u AS SELECT 5 AS b, 6 AS c")
    want = con.execute("WITH h AS (SELECT a, b, _rank FROM t) SELECT * EXCLUDE (_rank) FROM (SELECT * FROM h) "
                       "UNION ALL BY NAME SELECT c, b FROM u").fetchall()
    assert "EXCLUDE" not in st.sql and "BY NAME" not in st.sql
    # The spelled-out form, read back as DuckDB, gives DuckDB's rows in DuckDB's column order.
    assert con.execute(sqlglot.transpile(st.sql, read="spark", write="duckdb")[0]).fetchall() == want
    with pytest.raises(PortError, match="columns of v unknown"):
        tr.translate("SELECT * EXCLUDE (x) FROM v")


def test_create_temp_table_becomes_a_named_query() -> None:
    st = SparkTranslator().translate("CREATE OR REPLACE TEMP TABLE _x AS SELECT 1 AS a")
    assert st.target == "_x" and st.query == "SELECT 1 AS a"
    assert st.sql == "CREATE OR REPLACE TEMPORARY VIEW _x AS SELECT 1 AS a"


def test_macros_are_expanded_where_they_are_called() -> None:
    tr = SparkTranslator()
    assert tr.translate("CREATE OR REPLACE TEMP MACRO _decoded(p) AS coalesce(try(url_decode(p)), p)") is None
    st = tr.translate("SELECT count(*) FILTER (regexp_matches(_decoded(_decoded(path)), 'x')) FROM t")
    # the outer call holds its argument twice, as DuckDB expands it
    assert st.sql.count("TRY_URL_DECODE(") == 3 and "_decoded" not in st.sql


def test_what_cannot_be_carried_says_so() -> None:
    with pytest.raises(PortError, match="try"):
        SparkTranslator().translate("SELECT try(strptime(x, '%d')) FROM t")
    with pytest.raises(PortError, match=r"\$missing"):
        SparkTranslator().translate("SELECT $missing FROM t", {})


@pytest.fixture
def asof_tables() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    # Left rows with NULL keys and times; right rows with NULL keys and NULL values; no two right
    # rows share a (key, time), where ASOF's pick would be arbitrary.
    con.execute("CREATE TABLE l AS SELECT i AS id, CASE WHEN i % 7 = 0 THEN NULL ELSE i % 3 END AS k, "
                "CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7) % 50 END AS t FROM range(60) t(i)")
    con.execute("CREATE TABLE r AS SELECT i AS v, CASE WHEN i % 5 = 0 THEN NULL ELSE i END AS w, "
                "CASE WHEN i % 4 = 0 THEN NULL ELSE i % 3 END AS k, (i * 11) % 50 AS t FROM range(25) t(i)")
    return con


@pytest.mark.parametrize("query", [
    "SELECT l.id, r.v AS rv, r.w, r.t AS rt FROM l ASOF JOIN r ON l.k IS NOT DISTINCT FROM r.k AND l.t >= r.t",
    "SELECT l.id, r.v AS rv, r.w FROM l ASOF JOIN r ON l.k = r.k AND l.t > r.t",
    "SELECT l.id, r.w FROM l AS l ASOF JOIN (SELECT * FROM r WHERE v > 3) r ON r.k = l.k AND r.t <= l.t",
])
def test_asof_join_rewrite_gives_duckdbs_rows(asof_tables: duckdb.DuckDBPyConnection, query: str) -> None:
    rewritten = _rewrite(sqlglot.parse_one(query, read="duckdb"))
    assert "ASOF JOIN" not in rewritten.sql("spark").upper()
    want = sorted(asof_tables.execute(query).fetchall(), key=str)
    got = sorted(asof_tables.execute(rewritten.sql("duckdb")).fetchall(), key=str)
    assert len(want) > 20 and got == want


def test_the_windowed_sessions_statement_keeps_its_window_ids() -> None:
    # The per-source window of engine.sessions, on a few literal events: the rewrite gives each
    # event the same window id (its window's first event) as DuckDB's ASOF JOIN.
    con = duckdb.connect()
    con.execute("CREATE TABLE ev AS SELECT * FROM (VALUES (1, 'a', TIMESTAMPTZ '2026-11-10 08:00:00+00'), "
                "(2, 'a', TIMESTAMPTZ '2026-11-10 08:10:00+00'), (3, 'a', TIMESTAMPTZ '2026-11-10 11:00:00+00'), "
                "(4, 'b', TIMESTAMPTZ '2026-11-10 08:05:00+00'), (5, 'a', TIMESTAMPTZ '2026-11-10 11:00:00.5+00'))"
                " v(eid, src_ip, ts)")
    sql = sessions._windowed("SELECT * FROM ev", "src_ip", "3600")
    want = sorted(con.execute(sql).fetchall())
    assert [w[-1] for w in want] == [1, 1, 3, 4, 3]
    got = sorted(con.execute(_rewrite(sqlglot.parse_one(sql, read="duckdb")).sql("duckdb")).fetchall())
    assert got == want
