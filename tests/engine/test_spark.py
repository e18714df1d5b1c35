"""The Spark engine: the sample logs analysed with --engine spark give the DuckDB path's sessions and
incidents. Skipped, saying why, where pyspark or a Java runtime is absent; one SparkSession
(local[2]) for the module. The "what to install" messages are tested everywhere."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from engine import config, spark as spark_mod
from engine.analyze import analyze
from engine.export import export_parquet
from engine.ingest import ingest
from store.case import Case
from tui.cli import main

SAMPLE_LOGS = Path(__file__).resolve().parents[2] / "sample_logs"


def _spark_missing() -> str | None:
    try:
        spark_mod.check_available()
    except spark_mod.SparkUnavailable as exc:
        return str(exc)
    return None


def test_without_pyspark_a_one_line_message_says_what_to_install(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
    with pytest.raises(spark_mod.SparkUnavailable, match=r"pip install 'vedette\[spark\]'"):
        spark_mod.check_available()
    code = main(["analyze", "--engine", "spark", "--parquet", str(tmp_path), "--db", str(tmp_path / "c.duckdb")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "pyspark" in err and "Java" in err


def test_without_java_a_one_line_message_says_what_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    pytest.importorskip("pyspark", reason="pyspark is not installed (the message then names pyspark first)")
    with pytest.raises(spark_mod.SparkUnavailable, match="Java runtime.*default-jre-headless"):
        spark_mod.check_available()


# --- parity with the DuckDB path (needs pyspark and Java) ---------------------------------------

@pytest.fixture(scope="module")
def both_paths(tmp_path_factory):
    why = _spark_missing()
    if why:
        pytest.skip(f"Spark engine not available here: {why}")
    tmp = tmp_path_factory.mktemp("spark")
    duck = Case.open(tmp / "duck.duckdb")
    ingest(duck, [SAMPLE_LOGS], tz="UTC")
    duck_result = analyze(duck, llm=None)
    root = tmp / "pq"
    export_parquet(duck, root, tables=("events",))
    # The Spark run goes into a case that holds no events: they are only in the Parquet.
    old = config.SPARK_SHUFFLE_PARTITIONS
    config.SPARK_SHUFFLE_PARTITIONS = 2
    try:
        spark_case = Case.open(tmp / "spark.duckdb")
        backend = spark_mod.SparkSessions(root, "local[2]")
        spark_result = analyze(spark_case, llm=None, sessions_backend=backend)
    finally:
        config.SPARK_SHUFFLE_PARTITIONS = old
    yield duck, duck_result, spark_case, spark_result
    duck.close()
    spark_case.close()
    active = spark_mod.spark_session()
    active.stop()


def _sessions(case: Case) -> list[tuple]:
    return case.con.execute(
        "SELECT kind, session_id, src_ip, list_sort(coalesce(users, [])), first_ts, last_ts, events "
        "FROM sessions ORDER BY kind, session_id").fetchall()


@pytest.mark.spark
def test_spark_gives_the_same_sessions(both_paths) -> None:
    duck, duck_result, spark_case, spark_result = both_paths
    assert spark_result.session_counts == duck_result.session_counts
    assert sum(spark_result.session_counts.values()) > 1000
    assert _sessions(spark_case) == _sessions(duck)


@pytest.mark.spark
def test_spark_gives_the_same_features(both_paths) -> None:
    duck, _, spark_case, _ = both_paths
    q = "SELECT session_id, features FROM sessions ORDER BY session_id"
    want, got = duck.con.execute(q).fetchall(), spark_case.con.execute(q).fetchall()
    assert [w[0] for w in want] == [g[0] for g in got]
    for (sid, w), (_, g) in zip(want, got):
        w, g = json.loads(w), json.loads(g)
        assert w.keys() == g.keys(), sid
        for k in w:
            # Times are doubles of ~1.7e9 seconds on both sides, each rounded its own way: a
            # difference of the two ends agrees to a few 1e-7 s, no closer.
            if w[k] is None:
                assert g[k] is None, (sid, k)
            else:
                assert g[k] == pytest.approx(w[k], rel=1e-6, abs=1e-6), (sid, k)


@pytest.mark.spark
def test_spark_gives_the_same_incidents(both_paths) -> None:
    duck, duck_result, spark_case, spark_result = both_paths

    def shape(result):
        return [(i.id, i.category, i.severity, i.risk, sorted(i.src_ips), sorted(i.users), i.sessions, i.events,
                 i.first_seen, i.last_seen) for i in result.incidents]

    assert len(duck_result.incidents) >= 5
    assert shape(spark_result) == shape(duck_result)
    # The summaries quoted the Parquet events; afterwards the case shows its own (empty) events again.
    assert spark_case.con.execute("SELECT count(*) FROM events").fetchall()[0][0] == 0
    runs = spark_case.con.execute("SELECT counts FROM runs").fetchall()
    assert json.loads(runs[0][0])["events"] == duck.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
