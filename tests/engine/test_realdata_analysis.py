"""The analysis on real logs nobody here wrote (../shared/realdata, never copied here)."""

from __future__ import annotations

from pathlib import Path

from engine.analyze import analyze, load_incidents
from engine.ingest import ingest
from store.case import Case


def analysed(realdata: Path, tmp_path: Path, rel: str) -> tuple[Case, list[dict]]:
    case = Case.open(tmp_path / "case.duckdb")
    ingest(case, [realdata / rel], tz="UTC")
    analyze(case)
    return case, load_incidents(case)[1]


def test_openssh_2k_brute_force_source_is_a_high_incident(realdata: Path, tmp_path: Path) -> None:
    case, incidents = analysed(realdata, tmp_path, "loghub/OpenSSH/OpenSSH_2k.log")
    with case:
        hit = [i for i in incidents if "183.62.140.253" in i["src_ips"]]
        assert len(hit) == 1
        (inc,) = hit
        assert inc["category"] == "brute_force" and inc["severity"] in ("high", "critical")
        assert "T1110.001" in inc["techniques"]
        # The scattered one-off sources are one background incident, not dozens.
        assert sum(i["category"] == "background_noise" for i in incidents) <= 1
        assert len(incidents) <= 10


def test_suricata_scan_sources_rank_among_the_top_incidents(realdata: Path, tmp_path: Path) -> None:
    case, incidents = analysed(realdata, tmp_path, "suricata/SuricataLog_eve_large.nostats.json.gz")
    with case:
        scanners = [r[0] for r in case.con.execute(
            "SELECT src_ip FROM events WHERE signature LIKE 'ET SCAN%' GROUP BY 1 ORDER BY count(*) DESC LIMIT 3"
        ).fetchall()]
    top = incidents[:8]
    for ip in scanners:
        assert any(ip in i["src_ips"] for i in top), (ip, [(i["id"], i["src_ips"][:3]) for i in top])
    assert len(incidents) <= 40
