"""The analysis engine: literal events in, sessions / features / rule hits / incidents out.

One scenario with every attack and every benign look-alike is analysed once (the model imports
are the slow part); each test asserts one behaviour on it.
"""

from __future__ import annotations

import json
import random

import pytest

from engine.analyze import analyze, load_incidents
from store.case import Case
from tests.engine.eventgen import Events, at

BRUTE = "203.0.113.66"
COMPROMISE = "203.0.113.99"
SPRAY = "198.18.7.7"
STUFFING = [f"45.12.{k // 20}.{k % 20 + 10}" for k in range(60)]
STUFFED_ACCOUNTS = ["alice", "bob", "carol", "dave", "erin"]
WEB_ATTACK = "198.18.0.5"
WEB_SCANNER = "198.18.0.9"
CRAWLER = "66.249.66.1"
HEALTH = "10.0.0.5"
ADMIN = "198.51.100.7"
CI = "198.51.100.20"
BEACON_SRC, BEACON_DST = "10.1.1.23", "185.220.101.4"
SCANNER_NET = "198.18.3.3"
BACKGROUND = [f"192.0.2.{k + 1}" for k in range(100)]
TYPO = "198.51.100.60"  # a user mistypes three times, then gets in
NEW_SOURCE = "198.51.100.77"  # alice, a key user, logs in by password from a new address


def scenario() -> Events:
    ev = Events()
    rnd = random.Random(7)
    # Benign: the admin logs in with a key every morning; one day a password typo first.
    for d in range(7):
        ev.accepted(at(d * 1440 + 60), ADMIN, "alice")
    ev.failed_password(at(3 * 1440 + 59), ADMIN, "alice")
    # Benign: a user mistypes the password three times, then gets in.
    for k in range(3):
        ev.failed_password(at(1500 + k * 0.3), TYPO, "bob")
    ev.accepted(at(1501), TYPO, "bob", "password")
    # Suspicious, not a brute force: a key user's first password login, from a new address.
    ev.accepted(at(6000), NEW_SOURCE, "alice", "password")
    # Benign: a CI deploy key every ten minutes.
    for k in range(300):
        ev.accepted(at(k * 10), CI, "deploy")
    # Benign users from their own addresses.
    for k in range(25):
        ev.accepted(at(k * 300 + 30), f"198.51.100.{100 + k}", f"user{k}")
    # Attack: brute force on root from one source.
    for k in range(300):
        ev.failed_password(at(2000 + k * 0.4), BRUTE, "root")
    # Attack: failures then a password login (compromise).
    for k in range(6):
        ev.failed_password(at(7000 + k), COMPROMISE, "deploy")
    ev.accepted(at(7010), COMPROMISE, "deploy", "password")
    # Attack: one source sprays 30 accounts.
    for k in range(30):
        ev.failed_password(at(4000 + k * 2), SPRAY, f"staff{k}", invalid=k % 3 == 0)
    # Attack: 60 bots try the same 5 real accounts over 6 hours, a few attempts each.
    for ip in STUFFING:
        for _ in range(rnd.randint(2, 4)):
            ev.failed_password(at(5000 + rnd.uniform(0, 360)), ip, rnd.choice(STUFFED_ACCOUNTS))
    # The internet's background: scattered sources, 1-3 tries each at common names.
    for ip in BACKGROUND:
        for _ in range(rnd.randint(1, 3)):
            ev.failed_password(at(rnd.uniform(0, 9000)), ip, rnd.choice(["root", "admin", "test", "oracle", "ubuntu"]),
                               invalid=True)
    # Web: ordinary visitors, a crawler with many 200s, a health check every 15 s.
    for v in range(30):
        for k in range(rnd.randint(3, 15)):
            ev.http(at(v * 200 + k), f"198.51.100.{150 + v % 50}", rnd.choice(["/", "/about", "/blog/1", "/app.js"]))
    for k in range(400):
        ev.http(at(100 + k * 0.5), CRAWLER, f"/blog/{k}", 200, ua="Mozilla/5.0 (compatible; Googlebot/2.1)")
    for k in range(2000):
        ev.http(at(k * 0.25), HEALTH, "/healthz", 200, ua="kube-probe/1.28")
    # Web attacks: injection payloads with sqlmap; a wordlist scanner full of 404s.
    for k in range(40):
        ev.http(at(3000 + k * 0.1), WEB_ATTACK, f"/index.php?id=1%27%20OR%201=1--{k}", 500, ua="sqlmap/1.7")
    for k in range(150):
        ev.http(at(3500 + k * 0.05), WEB_SCANNER, f"/{['admin', 'backup', 'old', 'test', 'x'][k % 5]}{k}", 404,
                ua="Mozilla/5.0 zgrab/0.x")
    # Flows: ordinary traffic, a beacon every 60 s +- 2, a health check to an internal host every 15 s,
    # and a port scan.
    for k in range(300):
        ev.conn(at(rnd.uniform(0, 9000)), f"10.1.1.{rnd.randint(2, 60)}", f"93.184.216.{rnd.randint(1, 30)}", 443)
    for k in range(240):
        ev.conn(at(600 + k + rnd.uniform(-2, 2) / 60), BEACON_SRC, BEACON_DST, 8443, src_bytes=400, dst_bytes=200)
    for k in range(2000):
        ev.conn(at(k * 0.25), "10.1.1.2", "10.1.1.80", 80)
    for port in range(1, 400):
        ev.conn(at(8000 + port / 60), SCANNER_NET, "10.1.1.80", port, state="REJ" if port % 7 else "S0", src_bytes=0,
                dst_bytes=0)
    return ev


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    path = tmp_path_factory.mktemp("analysis") / "case.duckdb"
    case = Case.open(path)
    scenario().into(case)
    result = analyze(case)
    run_id, incidents = load_incidents(case)
    yield case, result, incidents
    case.close()


def incidents_with(incidents: list[dict], ip: str) -> list[dict]:
    return [i for i in incidents if ip in i["src_ips"]]


def only(incidents: list[dict], ip: str) -> dict:
    found = [i for i in incidents_with(incidents, ip) if i["category"] != "background_noise"]
    assert len(found) == 1, [(i["id"], i["category"], i["src_ips"][:3]) for i in found]
    return found[0]


def test_brute_force_is_one_high_incident_with_explanations(analysed) -> None:
    _, _, incidents = analysed
    inc = only(incidents, BRUTE)
    assert inc["category"] == "brute_force" and inc["severity"] in ("high", "critical")
    assert inc["techniques"] == ["T1110.001"] and inc["users"] == ["root"]
    assert inc["top_features"], "SHAP contributions are stored for the incident"
    names = [f["name"] for f in inc["top_features"]]
    assert "failed_attempts" in names or "failed_per_min" in names
    assert all(set(f) == {"name", "value", "contribution"} for f in inc["top_features"])
    assert "300 failed attempts" in inc["summary"] and inc["summary_source"] == "offline"


def test_brute_force_that_succeeded_stays_brute_force_and_is_compromised(analysed) -> None:
    inc = only(analysed[2], COMPROMISE)
    assert (inc["category"], inc["severity"]) == ("brute_force", "critical")
    assert {"T1110.001", "T1078"} <= set(inc["techniques"])
    assert inc["compromised"] is True
    assert inc["compromised_login"] == {"user": "deploy", "src_ip": COMPROMISE, "ts": at(7010).isoformat()}
    json.loads(json.dumps(inc))  # the contract's JSON, as `analyze --json` prints it


def test_only_a_success_sets_compromised(analysed) -> None:
    incidents = analysed[2]
    assert [i["id"] for i in incidents if i["compromised"]] == [only(incidents, COMPROMISE)["id"]]
    assert all(i["compromised_login"] is None for i in incidents if not i["compromised"])
    # a brute force that did not get in keeps its techniques
    assert only(incidents, BRUTE)["techniques"] == ["T1110.001"]


def test_a_first_seen_login_without_failures_stays_suspicious_login(analysed) -> None:
    inc = only(analysed[2], NEW_SOURCE)
    assert inc["category"] == "suspicious_login" and inc["compromised"] is False
    assert inc["severity"] != "critical"


def test_three_typos_then_a_login_is_no_incident(analysed) -> None:
    assert [i for i in incidents_with(analysed[2], TYPO) if i["severity"] not in ("info", "low")] == []


def test_password_spraying(analysed) -> None:
    inc = only(analysed[2], SPRAY)
    assert inc["category"] == "password_spraying" and "T1110.003" in inc["techniques"]


def test_distributed_credential_stuffing_is_one_incident(analysed) -> None:
    incidents = analysed[2]
    hit = {i["id"] for ip in STUFFING for i in incidents_with(incidents, ip) if i["category"] != "background_noise"}
    assert len(hit) == 1, hit
    inc = next(i for i in incidents if i["id"] in hit)
    assert inc["category"] == "credential_stuffing" and "T1110.004" in inc["techniques"]
    assert set(inc["src_ips"]) == set(STUFFING)
    assert set(inc["users"]) <= set(STUFFED_ACCOUNTS)


def test_background_noise_is_folded_into_one_low_incident(analysed) -> None:
    incidents = analysed[2]
    noise = [i for i in incidents if i["category"] == "background_noise"]
    assert len(noise) == 1
    assert noise[0]["severity"] == "low"
    assert set(BACKGROUND) <= set(noise[0]["src_ips"])
    for ip in BACKGROUND:
        assert [i["category"] for i in incidents_with(incidents, ip)] == ["background_noise"]


@pytest.mark.parametrize("ip", [ADMIN, CI, CRAWLER, HEALTH, "10.1.1.2"])
def test_benign_look_alikes_raise_nothing(analysed, ip: str) -> None:
    assert incidents_with(analysed[2], ip) == []


def test_web_attack_and_scanner(analysed) -> None:
    incidents = analysed[2]
    attack = only(incidents, WEB_ATTACK)
    assert attack["category"] == "web_attack" and "T1190" in attack["techniques"]
    scan = only(incidents, WEB_SCANNER)
    assert scan["category"] == "scanner" and any(t.startswith("T1595") for t in scan["techniques"])


def test_beaconing_and_port_scan(analysed) -> None:
    incidents = analysed[2]
    beacon = only(incidents, BEACON_SRC)
    assert beacon["category"] == "c2_beaconing"
    scan = only(incidents, SCANNER_NET)
    assert scan["category"] == "scanner" and "T1046" in scan["techniques"]


def test_incident_ids_are_ordered_by_risk_and_json_ready(analysed) -> None:
    incidents = analysed[2]
    assert [i["id"] for i in incidents] == [f"INC-{k:04d}" for k in range(1, len(incidents) + 1)]
    risks = [i["risk"] for i in incidents]
    assert risks == sorted(risks, reverse=True)
    json.dumps(incidents)
    for i in incidents:
        assert 0 <= i["risk"] <= 100 and i["severity"] in ("info", "low", "medium", "high", "critical")


def test_run_is_recorded_with_sessions(analysed) -> None:
    case, result, incidents = analysed
    row = case.con.execute("SELECT run_id, status, params, counts, stage_seconds FROM runs").fetchone()
    assert row[0] == result.run_id and row[1] == "complete"
    assert json.loads(row[2])["BRUTE_MIN_ATTEMPTS"] > 0
    assert json.loads(row[3])["incidents"] == len(incidents)
    # The store stage is timing itself while the row is written; the others are recorded.
    assert {"sessions", "scoring", "explanations", "incidents"} <= set(json.loads(row[4]))
    n = case.con.execute("SELECT count(*) FROM sessions WHERE incident_id IS NOT NULL").fetchone()[0]
    assert n == sum(i["sessions"] for i in incidents)
    kinds = {r[0] for r in case.con.execute("SELECT DISTINCT kind FROM sessions").fetchall()}
    assert {"ssh_source", "ssh_conn", "ssh_user", "web", "flow", "beacon"} <= kinds
    # A per-account window knows how many sources were after the account.
    n = case.con.execute("SELECT max((features->>'distinct_sources')::DOUBLE) FROM sessions WHERE kind = 'ssh_user'"
                         ).fetchone()[0]
    assert n >= 20  # 60 bots share 5 accounts, 2-4 tries each


@pytest.mark.parametrize("max_features", [1.0, 0.6])
def test_forest_as_shap_model_gives_shaps_own_values(max_features: float) -> None:
    """The array-built SHAP model of an IsolationForest explains exactly as shap's own
    conversion (which is seconds slower), also when each tree sees a subset of the features."""
    import numpy as np
    import shap
    from sklearn.ensemble import IsolationForest

    from engine.explain import forest_as_shap_model

    rng = np.random.default_rng(7)
    X = rng.normal(size=(600, 6))
    X[:, 2] = rng.integers(0, 3, 600)  # a few distinct values: ties at thresholds
    forest = IsolationForest(n_estimators=20, max_samples=128, max_features=max_features, random_state=1).fit(X)
    ours = np.asarray(shap.TreeExplainer(forest_as_shap_model(forest)).shap_values(X[:50]))
    theirs = np.asarray(shap.TreeExplainer(forest).shap_values(X[:50]))
    assert ours.shape == theirs.shape == (50, 6)
    assert np.allclose(ours, theirs, atol=1e-9)
    assert np.abs(theirs).max() > 0.01  # not trivially equal
