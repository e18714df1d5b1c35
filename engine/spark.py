"""Sessions and features on Spark SQL over a Parquet export: the DuckDB SQL of engine.sessions, transpiled.

``SparkSessions(parquet_dir, master)`` is a sessions backend for ``engine.analyze.analyze``: it
runs ``engine.sessions.build`` against a connection that carries each statement to Spark
(``engine.sqlport``), reads ``DIR/events`` (written by ``engine.export``), brings the feature
rows back into the case's DuckDB as the ``feat_<kind>`` tables the later stages read, and for
the rest of the run shows the Parquet events as the case's ``events`` (summaries quote them).
Scoring, explanations, incidents, summaries and the stored run are the DuckDB path's own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

from engine import config, sessions
from engine.export import parquet_glob
from engine.sqlport import SparkTranslator, event_columns
from store.case import Case
from store.schema import EVENT_COLUMN_NAMES

INSTALL_HINT = ("install the Spark extra and a Java runtime (17 or later): pip install 'vedette[spark]' "
                "and e.g. apt-get install default-jre-headless")
_LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")


class SparkUnavailable(Exception):
    """pyspark or Java is missing, or Spark would not start: one line saying what to install."""


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def check_available() -> None:
    """Raise ``SparkUnavailable`` (what to install) unless pyspark imports and Java is found."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable(f"the Spark engine needs pyspark, which is not installed: {INSTALL_HINT}") from None
    if _java() is None:
        raise SparkUnavailable(f"the Spark engine needs a Java runtime, none found (java, $JAVA_HOME): {INSTALL_HINT}")


def spark_session(master: str | None = None):
    """The process's SparkSession, started on ``master`` (``config.SPARK_MASTER``) if none runs yet."""
    check_available()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    warehouse = tempfile.mkdtemp(prefix="vedette-spark-")
    java_opts = f"-Dlog4j2.configurationFile=file:{_LOG_CONFIG}"
    # pyspark checks the pandas version when it first converts to Arrow; vedette uses no pandas there.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    builder = (
        SparkSession.builder.master(master or config.SPARK_MASTER).appName("vedette")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", config.SPARK_DRIVER_MEMORY)
        .config("spark.driver.extraJavaOptions", java_opts)
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.sql.shuffle.partitions", str(config.SPARK_SHUFFLE_PARTITIONS))
        # DuckDB's semantics: x / 0 is NULL, a failed cast is an error only where DuckDB's is.
        .config("spark.sql.ansi.enabled", "false")
        # day=2026-10-12 stays text, as DuckDB wrote it.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    )
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: wrong Java, no memory, ...
        text = str(exc).strip().splitlines()
        raise SparkUnavailable(f"Spark did not start ({text[0] if text else type(exc).__name__}): {INSTALL_HINT}") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class SparkConnection:
    """The part of a DuckDB connection ``engine.sessions.build`` uses, running on Spark.

    ``CREATE TEMP TABLE x AS q`` becomes a temp view over ``q``'s rows, computed once (DuckDB
    materialises its temp tables; a plain view would recompute the chain each time it is read).
    Other queries return rows.
    """

    def __init__(self, spark) -> None:
        self.spark = spark
        self.translator = SparkTranslator({"events": event_columns()})
        self.views: list[str] = []
        self._rows: list[tuple] = []

    def execute(self, sql: str, params: dict | None = None) -> SparkConnection:
        st = self.translator.translate(sql, params)
        self._rows = []
        if st is None:
            return self
        if st.target is not None:
            # Checkpointed, not cached: a cached view still drags the whole plan it came from
            # into every query that reads it, and Spark plans those again and again.
            frame = self.spark.sql(st.query).localCheckpoint(eager=True)
            frame.createOrReplaceTempView(st.target)
            self.translator.schema[st.target.lower()] = list(frame.columns)
            if st.target not in self.views:
                self.views.append(st.target)
        else:
            self._rows = [tuple(r) for r in self.spark.sql(st.query).collect()]
        return self

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple]:
        return list(self._rows)

    def release(self) -> None:
        # Dependents first: a view cannot be read (nor uncached) once one it reads is dropped.
        for view in reversed(self.views):
            self.spark.table(view).unpersist()
            self.spark.catalog.dropTempView(view)
        self.views.clear()


def _has_events(root: Path) -> bool:
    return any(root.joinpath("events").glob("*/*/*.parquet"))


class SparkSessions:
    """Sessions backend for ``analyze``: sessions and features computed by Spark from ``parquet_dir``."""

    name = "spark"

    def __init__(self, parquet_dir: str | Path, master: str | None = None) -> None:
        self.root = Path(parquet_dir).resolve()
        self.master = master
        self.seconds: dict[str, float] = {}  # start, sql, collect: where the sessions stage went

    def build(self, case: Case) -> sessions.SessionCounts:
        if not _has_events(self.root):
            raise SparkUnavailable(f"no events under {self.root}/events: write them first "
                                   f"(vedette export --parquet {self.root})")
        t = time.perf_counter()
        spark = spark_session(self.master)
        # hour() and the day of a time must be read in the zone the DuckDB path reads them in.
        zone = case.con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
        spark.conf.set("spark.sql.session.timeZone", zone)
        events = spark.read.option("basePath", str(self.root / "events")).parquet(str(self.root / "events"))
        # The case view's columns, in its order (`day` is the export's, not the case's).
        events.select(*event_columns()).createOrReplaceTempView("events")
        self.seconds["start"] = time.perf_counter() - t

        t = time.perf_counter()
        con = SparkConnection(spark)
        try:
            counts = sessions.build(con)
            self.seconds["sql"] = time.perf_counter() - t
            t = time.perf_counter()
            for kind in counts.by_kind:
                table = spark.table(f"feat_{kind}").toArrow()
                case.con.register("_spark_feat", table)
                try:
                    case.con.execute(f"CREATE OR REPLACE TEMP TABLE feat_{kind} AS SELECT * FROM _spark_feat")
                finally:
                    case.con.unregister("_spark_feat")
        finally:
            con.release()
            spark.catalog.dropTempView("events")
        self._show_parquet_events(case)
        self.seconds["collect"] = time.perf_counter() - t
        return counts

    def _show_parquet_events(self, case: Case) -> None:
        # A temp view shadows the case's own `events` for this connection until finish().
        cols = ", ".join(f'"{c}"' for c in ("event_id", "source_id", *EVENT_COLUMN_NAMES))
        path = parquet_glob(self.root, "events").replace("'", "''")
        case.con.execute(
            f"CREATE OR REPLACE TEMP VIEW events AS SELECT {cols} FROM read_parquet('{path}', "
            "hive_partitioning = true, hive_types = {'day': VARCHAR, 'format': VARCHAR})"
        )

    def finish(self, case: Case) -> None:
        case.con.execute("DROP VIEW IF EXISTS temp.events")

