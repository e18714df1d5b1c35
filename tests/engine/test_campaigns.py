"""No alert storms: a crowd of sources behaving alike is one campaign incident; the few that stand out stay apart.

Literal sshd events: 160 sources each fail a few passwords on accounts of one pool and then log in
with a key to one of the accounts it tried (alone, most would be a critical compromise), and two sources that
guess the password of an account nobody else ever logs in to.
"""

from __future__ import annotations

import random

import pytest

from engine import config
from engine.analyze import analyze, load_incidents
from store.case import Case
from tests.engine.eventgen import Events, at

# One address per /24: no network ties, only behaviour, accounts, hosts and time make them alike.
CROWD = [f"{11 + k}.{(k * 37) % 256}.{(k * 11) % 256}.{k % 200 + 1}" for k in range(160)]
POOL = ["root", "admin", "deploy", "git", "ubuntu", "ops"]
HOSTS = ["node1", "node2", "node3"]
INTRUDERS = {"203.0.113.201": "svc_payroll", "198.18.40.2": "svc_vault"}


def crowd_case(path) -> Case:
    ev = Events()
    rnd = random.Random(3)
    for ip in CROWD:
        t = rnd.uniform(0, 300)
        tried = [rnd.choice(POOL) for _ in range(rnd.randint(3, 5))]
        for user in tried:
            ev.failed_password(at(t), ip, user, host=rnd.choice(HOSTS))
            t += rnd.uniform(0.5, 3)
        ev.accepted(at(t), ip, rnd.choice(tried), host=rnd.choice(HOSTS))
    for k, (ip, account) in enumerate(INTRUDERS.items()):
        for s in range(30):
            ev.failed_password(at(100 + 50 * k + s / 30), ip, account, host="node2")
        ev.accepted(at(101 + 50 * k), ip, account, "password", host="node2")
    case = Case.open(path)
    ev.into(case)
    return case


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    case = crowd_case(tmp_path_factory.mktemp("campaign") / "case.duckdb")
    analyze(case, llm=None)
    _, incidents = load_incidents(case)
    yield incidents
    case.close()


def test_the_crowd_is_one_campaign_that_says_why(analysed) -> None:
    holding = [i for i in analysed if set(i["src_ips"]) & set(CROWD)]
    assert len(holding) == 1, [(i["id"], i["category"], len(i["src_ips"])) for i in holding]
    (campaign,) = holding
    # Every crowd source the rules flag (most of them; a key login after failures on another
    # account is not a compromise) is in the one campaign.
    n = len(campaign["src_ips"])
    assert set(campaign["src_ips"]) <= set(CROWD) and n >= 100
    assert campaign["sessions"] == n
    assert campaign["grouped_by"].startswith(f"campaign: {n} sources")
    assert "one pool of 6" in campaign["grouped_by"] and "3 hosts" in campaign["grouped_by"]
    assert set(campaign["users"]) <= set(POOL)
    assert f"Why this incident: campaign: {n} sources" in campaign["summary"]


def test_sources_that_logged_in_to_an_account_nobody_else_uses_stand_out(analysed) -> None:
    for ip, account in INTRUDERS.items():
        (inc,) = [i for i in analysed if ip in i["src_ips"]]
        assert inc["src_ips"] == [ip] and inc["users"] == [account]
        assert inc["severity"] == "critical"
        assert f"logged in to {account}, which no other source logs in to" in inc["grouped_by"]


def test_no_storm_and_every_incident_says_why(analysed) -> None:
    loud = [i for i in analysed if i["severity"] in ("medium", "high", "critical")]
    assert len(loud) == 1 + len(INTRUDERS)
    assert all(i["grouped_by"] for i in analysed)


def test_a_small_crowd_is_not_folded(tmp_path, monkeypatch) -> None:
    # Fewer sources than CAMPAIGN_MIN_SOURCES: each keeps the incident the rules give it.
    monkeypatch.setattr(config, "CAMPAIGN_MIN_SOURCES", len(CROWD) + 1)
    case = crowd_case(tmp_path / "case.duckdb")
    analyze(case, llm=None)
    _, incidents = load_incidents(case)
    case.close()
    assert not any(i["grouped_by"].startswith("campaign:") for i in incidents)
    assert len([i for i in incidents if set(i["src_ips"]) & set(CROWD)]) > 10
