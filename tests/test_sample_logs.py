"""The bundled sample logs match their truth.json and their generator; the benchmark workload is sound."""

from __future__ import annotations

import gzip
import importlib.util
import ipaddress
import json
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_logs"

RFC3164 = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123]\d \d\d:\d\d:\d\d \S+ [\w()-]+(\[\d+\])?: ")
RSYSLOG = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d \S+ [\w()-]+(\[\d+\])?: ")
# nginx combined, with "$http_x_forwarded_for" where a CDN edge relays its customers
COMBINED = re.compile(r'^\S+ - \S+ \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "[^"]*" \d{3} \d+ "[^"]*" "[^"]*"( "[^"]*")?$')
AUDIT = re.compile(r"^type=[A-Z_]+ msg=audit\(\d+\.\d{3}:\d+\): ")
ZEEK_HEADER = ("#separator", "#set_separator", "#empty_field", "#unset_field", "#path", "#open", "#fields", "#types")


def _text(path: Path) -> str | bytes:
    data = path.read_bytes()
    if path.name in ("wtmp", "btmp"):
        return data
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")


def _lines(path: Path) -> list[str]:
    text = _text(path)
    assert text.endswith("\n"), path
    return text[:-1].split("\n")


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((SAMPLES / "truth.json").read_text(encoding="utf-8"))


def test_files_match_truth(truth: dict) -> None:
    logs = {
        str(p.relative_to(SAMPLES))
        for p in SAMPLES.rglob("*")
        if p.is_file() and p.parent != SAMPLES  # generate.py, README.md, truth.json live at the top
        and p.relative_to(SAMPLES).parts[0] != "gen"  # the generator's package
    }
    assert logs == set(truth["files"])
    total = 0
    for rel, meta in truth["files"].items():
        path = SAMPLES / rel
        total += path.stat().st_size
        fmt = meta["format"]
        if fmt == "utmp":  # binary: 384-byte records, types 0..9, times in the window
            data = path.read_bytes()
            assert len(data) == 384 * meta["lines"], rel
            recs = [struct.unpack_from("<hhi32s4s32s256shhiii", data, k * 384) for k in range(meta["lines"])]
            assert all(0 <= r[0] <= 9 for r in recs), rel
            continue
        lines = _lines(path)
        assert len(lines) == meta["lines"], rel
        if fmt == "syslog":
            bad = [x for x in lines if not (RFC3164.match(x) or RSYSLOG.match(x))]
        elif fmt == "access":
            bad = [x for x in lines if not COMBINED.match(x)]
        elif fmt == "suricata":
            bad = [x for x in lines if "event_type" not in json.loads(x)]
        elif fmt == "cowrie":
            bad = [x for x in lines if not json.loads(x)["eventid"].startswith("cowrie.")]
        elif fmt == "auditd":
            bad = [x for x in lines if not AUDIT.match(x)]
        else:
            assert fmt == "zeek"
            assert lines[0] == "#separator \\x09"
            assert tuple(x.split("\t")[0].split(" ")[0] for x in lines[:8]) == ZEEK_HEADER
            assert lines[-1].startswith("#close\t")
            n_fields = len(lines[6].split("\t")) - 1
            assert n_fields == len(lines[7].split("\t")) - 1 == 21
            bad = [x for x in lines[8:-1] if len(x.split("\t")) != n_fields]
        assert not bad, (rel, bad[:3])
    assert total == truth["total_bytes"]
    assert total < 3_500_000, "the bundled samples should stay small"


def test_truth_is_consistent(truth: dict) -> None:
    categories = {"brute_force", "password_spraying", "credential_stuffing", "suspicious_login", "web_attack",
                  "scanner", "c2_beaconing", "dos"}
    attack_ips: set[str] = set()
    for a in truth["attacks"]:
        assert a["category"] in categories
        assert a["severity"] in ("medium", "high", "critical")
        assert truth["window"]["start"] <= a["first_seen"] <= a["last_seen"] <= truth["window"]["end"]
        assert a["src_ips"] and a["evidence"]
        assert set(a["evidence"]) <= set(truth["files"])
        attack_ips.update(a["src_ips"])
    benign_ips = {ip for b in truth["benign"] for ip in b["src_ips"]}
    assert not attack_ips & benign_ips
    for ip in attack_ips | benign_ips:
        ipaddress.ip_address(ip)
    assert {a["id"] for a in truth["attacks"]} == {f"A{i}" for i in range(1, 13)} | {"H1", "H2", "H3"}
    assert {b["kind"] for b in truth["benign"]} == {"admin", "ci_deploy", "monitoring", "crawler", "background_noise",
                                                   "shop_customers", "mobile_app", "monitoring_post", "login_typo",
                                                   "load_balancer"}


def test_rfc3164_files_stay_in_one_month(truth: dict) -> None:
    # year-less stamps get their year from the file's mtime: keep month order unambiguous
    for rel, meta in truth["files"].items():
        if meta["format"] == "syslog":
            lines = _lines(SAMPLES / rel)
            if RFC3164.match(lines[0]):
                assert {x[:3] for x in lines} == {"Nov"}, rel


def test_generator_reproduces_committed_files(tmp_path: Path, truth: dict) -> None:
    subprocess.run(
        [sys.executable, str(SAMPLES / "generate.py"), "--out", str(tmp_path)], check=True, capture_output=True
    )
    assert json.loads((tmp_path / "truth.json").read_text(encoding="utf-8")) == truth
    for rel in truth["files"]:
        # compare text, not gzip bytes: those depend on the zlib build
        assert _text(tmp_path / rel) == _text(SAMPLES / rel), f"{rel} differs: rerun sample_logs/generate.py"


def _workload():
    spec = importlib.util.spec_from_file_location("bench_workload", REPO / "bench" / "workload.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("n", [0, 1, 5_000])
def test_workload_writes_exactly_n_lines(tmp_path: Path, n: int) -> None:
    wl = _workload()
    a = wl.write_auth_log(tmp_path / "auth.log", n, seed=1)
    b = wl.write_access_log(tmp_path / "access.log.gz", n, seed=1)
    auth = (tmp_path / "auth.log").read_text(encoding="utf-8").splitlines()
    access = gzip.decompress((tmp_path / "access.log.gz").read_bytes()).decode("utf-8").splitlines()
    assert len(auth) == a.lines == n and len(access) == b.lines == n
    assert all(RFC3164.match(x) for x in auth)
    assert all(COMBINED.match(x) for x in access)
    if n > 100:
        assert a.counts["failed_password"] > 0 and a.attacker_ips
        again = wl.write_auth_log(tmp_path / "again.log", n, seed=1)
        assert (tmp_path / "again.log").read_bytes() == (tmp_path / "auth.log").read_bytes()
        assert again.counts == a.counts
