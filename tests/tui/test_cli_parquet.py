"""The command line of the Parquet export and the Spark engine: vedette export, ingest --parquet,
analyze --engine spark's usage errors."""

from __future__ import annotations

import json

from tui.cli import main


def test_spark_flags_without_spark_engine_are_a_usage_error(tmp_path, capsys) -> None:
    assert main(["analyze", "--parquet", str(tmp_path), "--db", str(tmp_path / "c.duckdb")]) == 1
    assert "--engine spark" in capsys.readouterr().err
    assert main(["analyze", "--engine", "spark", "--db", str(tmp_path / "c.duckdb")]) == 1
    assert "--parquet DIR" in capsys.readouterr().err


def test_export_command_writes_the_partitions(tmp_path, capsys) -> None:
    db = str(tmp_path / "c.duckdb")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "auth.log").write_text(
        "2026-11-10T03:10:00+00:00 bastion sshd[4100]: Failed password for root from 45.155.205.233 port 1 ssh2\n")
    assert main(["ingest", str(logs), "--db", db, "--parquet", str(tmp_path / "live"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["events"] == 1 and out["parquet"]["tables"]["events"] == {"rows": 1, "partitions": 1}
    assert main(["export", "--parquet", str(tmp_path / "pq"), "--db", db, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tables"]["events"] == {"rows": 1, "partitions": 1}
    assert list((tmp_path / "pq" / "events" / "day=2026-11-10" / "format=syslog").glob("*.parquet"))
