"""Network-log formats (access, apache_error, zeek, suricata) on real files nobody here wrote.

The files live in ../shared/realdata (see its SOURCES.md) and are never copied into this
repository; every test here skips where that folder is absent. Each file is turned into lines
exactly as the ingest core does it (``decode_lines``), parsed with its format, and must give
ZERO rejects; the counts asserted are ones a reader can check by hand with grep / awk / wc
(the command is next to each number).
"""

from __future__ import annotations

import bz2
import functools
import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from engine.formats import detect_format, get_format, parse_lines
from engine.formats.base import FileContext, decode_lines, run_format

pytestmark = pytest.mark.realdata

# (path under realdata, format)
NETWORK_FILES = [
    ("weblogs/elastic_examples_apache_logs.log", "access"),
    ("weblogs/lnav_logfile_shop_access_log.0", "access"),
    ("loghub/Apache/Apache_2k.log", "apache_error"),
    ("zeek/trickbot_conn.log", "zeek"),
    ("zeek/zeek_testing_btest_Files_zeek-cut-logs_conn.log", "zeek"),
    ("zeek/zeek_Baseline_ssh.basic_conn.log", "zeek"),
    ("zeek/zeek_Baseline_ssh.basic_ssh.log", "zeek"),
    ("zeek/lnav_logfile_bro_conn.log.0", "zeek"),
    ("zeek/lnav_logfile_bro_http.log.0", "zeek"),
    ("zeek/EvansWJ_conn.json.log", "zeek"),
    ("suricata/SuricataLog_eve-2.json", "suricata"),
    ("suricata/SuricataLog_eve_udp_flow.json", "suricata"),
    ("suricata/SuricataLog_eve_large.nostats.json.gz", "suricata"),
    ("suricata/SuricataLog_eve_large.json.bz2", "suricata"),
]
BIG = {"suricata/SuricataLog_eve_large.json.bz2"}

# Logs of other formats the network formats must not claim.
NOT_OURS = [
    "loghub/OpenSSH/OpenSSH_2k.log",
    "loghub-2.0/OpenSSH/OpenSSH_2k.log",
    "loghub/Linux/Linux_2k.log",
    "fail2ban_samples/sshd",
    "fail2ban_samples/sshd-journal",
    "journald/lnav_logfile_journald.json",
    "cowrie/kareiva_cowrie.json.2018-05-10",
]
OURS = ("access", "apache_error", "zeek", "suricata")


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".gz":
        return gzip.decompress(data)
    if path.suffix == ".bz2":
        return bz2.decompress(data)
    return data


def file_lines(path: Path) -> list[str]:
    return decode_lines(read_bytes(path), 1).column("line").to_pylist()


@functools.cache
def _parse_file(path: str, fmt: str) -> tuple[dict[str, Any], ...]:
    return tuple(parse_lines(fmt, file_lines(Path(path)), path=path, tz="UTC"))


def parse_file(realdata: Path, rel: str, fmt: str) -> list[dict[str, Any]]:
    """Parsed once per file and format for the whole module (the tests only read the rows)."""
    return list(_parse_file(str(realdata / rel), fmt))


def parse_into_duckdb(realdata: Path, rel: str, fmt: str) -> duckdb.DuckDBPyConnection:
    """For the big file: parse as ingest does and leave ``_parsed`` in DuckDB to count there."""
    path = realdata / rel
    chunk = decode_lines(read_bytes(path), 1)
    ctx = FileContext(path=str(path), mtime_year=2023, mtime_month=9, tz="UTC",
                      head_lines=tuple(chunk.column("line").slice(0, 64).to_pylist()))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    run_format(con, get_format(fmt), ctx, chunk, 1 << 20, keep_raw=True)
    return con


def events(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["_reject"] is None and r["_skip"] is None]


def head40(path: Path) -> list[str]:
    """The first 40 non-blank lines, reading only the start of the file (as detection does)."""
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix, open)
    with opener(path, "rb") as f:
        data = f.read(64 << 10)
    data = data[: data.rfind(b"\n") + 1] or data
    return [ln for ln in decode_lines(data, 1).column("line").to_pylist() if ln.strip()][:40]


# --- every file: zero rejects, every line accounted for, detected as its format -----------------

@pytest.mark.parametrize("rel,fmt", [f for f in NETWORK_FILES if f[0] not in BIG], ids=lambda v: str(v))
def test_zero_rejects(realdata: Path, rel: str, fmt: str) -> None:
    lines = file_lines(realdata / rel)
    rows = parse_file(realdata, rel, fmt)
    assert len(rows) == len(lines)
    assert [r["line_no"] for r in rows] == list(range(1, len(lines) + 1))
    rejects = [(r["line_no"], r["_reject"], r["raw"][:120]) for r in rows if r["_reject"] is not None]
    assert rejects == []
    assert all(r["action"] for r in events(rows))


@pytest.mark.parametrize("rel,fmt", NETWORK_FILES, ids=lambda v: str(v))
def test_detected_as_its_format(realdata: Path, rel: str, fmt: str) -> None:
    head = head40(realdata / rel)
    assert get_format(fmt).detect(head) >= 0.5
    found, score = detect_format(head)
    assert found is not None and found.name == fmt and score >= 0.5


@pytest.mark.parametrize("rel", NOT_OURS)
def test_other_logs_are_not_claimed(realdata: Path, rel: str) -> None:
    head = head40(realdata / rel)
    assert head
    for name in OURS:
        assert get_format(name).detect(head) < 0.5, name


# --- counts a reader can check by hand ------------------------------------------------------------

def test_elastic_apache_access_log(realdata: Path) -> None:
    rows = parse_file(realdata, "weblogs/elastic_examples_apache_logs.log", "access")
    ev = events(rows)
    assert len(ev) == 10000                                      # wc -l
    status = Counter(r["status"] for r in ev)                    # awk '{print $9}' | sort | uniq -c
    assert (status[200], status[404], status[304], status[301], status[500]) == (9126, 213, 445, 164, 3)
    assert len({r["src_ip"] for r in ev}) == 1753                # awk '{print $1}' | sort -u | wc -l
    assert sum(1 for r in ev if "wp-login" in (r["path"] or "")) == 12   # grep -c wp-login
    assert Counter(r["method"] for r in ev)["OPTIONS"] == 1
    assert all(r["proto"] in ("HTTP/1.0", "HTTP/1.1") for r in ev)
    assert min(r["ts"] for r in ev) == datetime(2015, 5, 17, 10, 5, 0, tzinfo=UTC)
    assert max(r["ts"] for r in ev) < datetime(2015, 5, 21, tzinfo=UTC)
    # the one line whose user agent lost its closing quote
    (odd,) = [r for r in ev if r["raw"].count('"') == 5]
    assert odd["user_agent"] == "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html"
    first = ev[0]
    assert (first["src_ip"], first["method"], first["status"], first["bytes"]) == ("83.149.9.216", "GET", 200, 203023)
    assert first["referrer"] == "http://semicomplete.com/presentations/logstash-monitorama-2013/"


def test_lnav_shop_nginx_log_with_extra_field(realdata: Path) -> None:
    ev = events(parse_file(realdata, "weblogs/lnav_logfile_shop_access_log.0", "access"))
    assert len(ev) == 1000
    status = Counter(r["status"] for r in ev)
    assert (status[200], status[404], status[302]) == (938, 24, 20)
    assert Counter(r["method"] for r in ev)["POST"] == 14        # grep -c '"POST '
    # [22/Jan/2019:03:56:14 +0330] is 00:26:14 UTC
    assert ev[0]["ts"] == datetime(2019, 1, 22, 0, 26, 14, tzinfo=UTC)
    assert ev[0]["user_agent"] == "Mozilla/5.0 (compatible; AhrefsBot/6.1; +http://ahrefs.com/robot/)"
    assert all(r["host"] is None for r in ev)                    # the extra field is "-" everywhere


def test_loghub_apache_error_log(realdata: Path) -> None:
    ev = events(parse_file(realdata, "loghub/Apache/Apache_2k.log", "apache_error"))
    assert len(ev) == 2000                                       # 1999 newlines + a last line without one
    levels = Counter(r["message"].split("]")[0] + "]" for r in ev)
    assert levels == {"[error]": 595, "[notice]": 1405}           # awk '{print $6}' | sort | uniq -c
    assert sum(1 for r in ev if r["src_ip"]) == 32               # grep -c '\[client '
    assert all(r["action"] == "http_error" for r in ev)
    assert ev[0]["ts"] == datetime(2005, 12, 4, 4, 47, 44, tzinfo=UTC)
    assert all(r["ts"].year == 2005 and r["ts"].month == 12 for r in ev)


def test_trickbot_zeek_conn_log(realdata: Path) -> None:
    rows = parse_file(realdata, "zeek/trickbot_conn.log", "zeek")
    ev = events(rows)
    assert len(ev) == 13001                                      # grep -vc '^#'
    assert sum(1 for r in rows if r["_skip"] == "zeek header") == 9   # grep -c '^#'
    assert all(r["action"] == "conn" for r in ev)
    states = Counter(r["conn_state"] for r in ev)                # awk -F'\t' '!/^#/{print $12}' | sort | uniq -c
    assert (states["SF"], states["RSTO"], states["S0"], states["RSTR"]) == (7199, 2734, 1381, 996)
    assert sum(1 for r in ev if r["dst_port"] in (447, 449)) > 0
    first = ev[0]
    assert (first["src_ip"], first["src_port"], first["dst_ip"], first["dst_port"]) == ("172.16.9.233", 49159, "172.16.9.5", 88)
    assert (first["proto"], first["service"], first["src_bytes"], first["bytes"]) == ("tcp", "krb_tcp", 244, 292)
    assert first["ts"] == datetime.fromtimestamp(1541117137.618695, UTC)


def test_small_zeek_tsv_logs(realdata: Path) -> None:
    cut = events(parse_file(realdata, "zeek/zeek_testing_btest_Files_zeek-cut-logs_conn.log", "zeek"))
    assert len(cut) == 5                                         # grep -vc '^#' (SOURCES.md says 6)
    assert Counter(r["service"] for r in cut) == {"ftp-data": 4, "ftp": 1}

    conn = events(parse_file(realdata, "zeek/lnav_logfile_bro_conn.log.0", "zeek"))
    assert len(conn) == 92 and all(r["action"] == "conn" for r in conn)

    http = events(parse_file(realdata, "zeek/lnav_logfile_bro_http.log.0", "zeek"))
    assert len(http) == 197 and all(r["action"] == "http" for r in http)
    assert Counter(r["status"] for r in http)[200] == 173        # awk -F'\t' '{print $16}'
    assert Counter(r["method"] for r in http) == {"GET": 196, "POST": 1}
    assert http[0]["host"] == "www.reddit.com" and http[0]["path"] == "/" and http[0]["proto"] == "HTTP/1.1"


def test_zeek_btest_baselines_with_masked_ts(realdata: Path) -> None:
    conn = events(parse_file(realdata, "zeek/zeek_Baseline_ssh.basic_conn.log", "zeek"))
    assert len(conn) == 25 and all(r["action"] == "conn" and r["ts"] is None for r in conn)
    # awk -F'\t' '!/^#/{print $6, $8}' | sort | uniq -c : 20 "22 ssh", 2 "57621 -", ...
    assert sum(1 for r in conn if r["dst_port"] == 22 and r["service"] == "ssh") == 20
    assert sum(1 for r in conn if r["service"] is None) == 3

    ssh = events(parse_file(realdata, "zeek/zeek_Baseline_ssh.basic_ssh.log", "zeek"))
    assert len(ssh) == 22 and all(r["action"] == "ssh" and r["ts"] is None for r in ssh)
    # awk -F'\t' '!/^#/{print $8}' | sort | uniq -c : 10 T, 2 F, 10 -
    assert Counter(r["outcome"] for r in ssh) == {"success": 10, "failure": 2, None: 10}
    assert ssh[0]["user_agent"] == "SSH-2.0-OpenSSH_5.9"


def test_zeek_json_conn_log(realdata: Path) -> None:
    ev = events(parse_file(realdata, "zeek/EvansWJ_conn.json.log", "zeek"))
    assert len(ev) == 110 and all(r["action"] == "conn" for r in ev)
    assert sum(1 for r in ev if r["src_ip"] == "192.168.100.121") == 106   # grep -c
    assert sum(1 for r in ev if r["conn_state"] == "S0") == 10
    assert ev[0]["ts"] == datetime.fromtimestamp(1591425399.925532, UTC)
    assert (ev[0]["src_ip"], ev[0]["dst_ip"], ev[0]["dst_port"], ev[0]["service"]) == (
        "fe80::a179:b3ff:199:2314", "ff02::1:3", 5355, "dns")


def test_suricata_eve_2(realdata: Path) -> None:
    rows = parse_file(realdata, "suricata/SuricataLog_eve-2.json", "suricata")
    assert len(rows) == 2401
    assert [r["_skip"] for r in rows if r["_skip"]] == ["suricata stats record"]
    ev = events(rows)
    assert Counter(r["action"] for r in ev) == {                 # grep -c '"event_type":"dns"' ...
        "dns": 936, "flow": 923, "tls": 224, "alert": 118, "anomaly": 106, "smtp": 84, "http": 5, "fileinfo": 4}
    alerts = [r for r in ev if r["action"] == "alert"]
    assert all(r["signature"] and r["sig_id"] and r["sig_severity"] for r in alerts)
    assert Counter(r["signature"] for r in alerts)["SURICATA Applayer Detect protocol only one direction"] == 84
    http = [r for r in ev if r["action"] == "http"]
    assert http[0]["path"] == "/hh/hh.html" and http[0]["method"] == "GET" and http[0]["status"] == 200
    assert ev[0]["ts"] == datetime(2022, 2, 8, 14, 40, 29, 80710, tzinfo=UTC)   # 09:40:29.080710-0500


def test_suricata_udp_flow(realdata: Path) -> None:
    ev = events(parse_file(realdata, "suricata/SuricataLog_eve_udp_flow.json", "suricata"))
    assert Counter(r["action"] for r in ev) == {"flow": 16, "netflow": 16}
    flows = [r for r in ev if r["action"] == "flow"]
    assert all(r["proto"] == "udp" and r["src_bytes"] is not None and r["host"] == "raspberrypi" for r in flows)


LARGE_COUNTS = {"flow": 13956, "dns": 2528, "alert": 1794, "ssh": 1216, "anomaly": 81, "dhcp": 58, "tls": 14,
                "http": 10}


def test_suricata_large_without_stats_gz(realdata: Path) -> None:
    ev = events(parse_file(realdata, "suricata/SuricataLog_eve_large.nostats.json.gz", "suricata"))
    assert len(ev) == 19657
    assert Counter(r["action"] for r in ev) == LARGE_COUNTS
    sigs = Counter(r["signature"] for r in ev if r["action"] == "alert")
    assert sigs["ET SCAN Potential SSH Scan"] == 696
    assert sigs["ET SCAN LibSSH Based Frequent SSH Connections Likely BruteForce Attack"] == 27


def test_suricata_large_bz2_stats_skipped(realdata: Path) -> None:
    # 124 MB once decompressed: parsed as ingest does, then counted inside DuckDB.
    con = parse_into_duckdb(realdata, "suricata/SuricataLog_eve_large.json.bz2", "suricata")
    q = con.execute
    assert q("SELECT count(*), count(_reject), count(_skip) FROM _parsed").fetchone() == (40231, 0, 20574)
    assert q("SELECT DISTINCT _skip FROM _parsed WHERE _skip IS NOT NULL").fetchall() == [("suricata stats record",)]
    got = dict(q("SELECT action, count(*) FROM _parsed WHERE _skip IS NULL GROUP BY action").fetchall())
    assert got == LARGE_COUNTS
    assert q("SELECT count(*) FROM _parsed WHERE signature = 'ET SCAN Potential SSH Scan'").fetchone()[0] == 696
    assert q("SELECT count(*) FROM _parsed WHERE action = 'alert' AND dst_ip = '192.168.55.199' AND dst_port = 22"
             ).fetchone()[0] > 696
    lo, hi = q("SELECT min(ts), max(ts) FROM _parsed WHERE _skip IS NULL").fetchone()
    assert lo.year == hi.year == 2023 and lo.month >= 8 and hi.month <= 9
    assert q("SELECT count(*) FROM _parsed WHERE _skip IS NULL AND ts IS NULL").fetchone()[0] == 0


def test_suricata_fields_read_exist_in_the_official_eve_schema(realdata: Path) -> None:
    from engine.formats.suricata import _STRUCT

    schema = json.loads((realdata / "suricata/OISF_suricata_etc_schema.json").read_text())

    def walk(spec: Any, node: dict[str, Any], where: str) -> None:
        if isinstance(spec, list):
            walk(spec[0], node["items"], where + "[]")
            return
        if isinstance(spec, dict):
            props = node["properties"]
            for key, sub in spec.items():
                assert key in props, f"{where}.{key} is not in the EVE schema"
                walk(sub, props[key], f"{where}.{key}")

    walk(_STRUCT, schema, "eve")
