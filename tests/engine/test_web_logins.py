"""Web login attacks and floods, from literal access-log and Zeek conn lines through ingest to incidents.

One day of a shop's nginx log and its sensor's conn.log: the attack families of issue 12 (web
brute force behind a browser user agent, basic-auth storms, a login after failures, spraying,
stuffing, a low-and-slow single source; a SYN flood and a distributed flood) among their benign
look-alikes (customers, a mobile app refreshing tokens, a monitoring probe POSTing, a user's three
typos, a load balancer carrying many users, a port scan and a sweep that are not floods).
"""

from __future__ import annotations

import random
from pathlib import Path
from datetime import datetime, timedelta, timezone

import pytest

from engine.analyze import analyze, load_incidents
from engine.ingest import ingest
from store.case import Case

T0 = datetime(2026, 11, 10, 0, 0, tzinfo=timezone.utc)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
LOGIN_PAGE = "https://shop.example.com/login"
FORM_FAILED = 5120  # the login form shown again: "wrong password"

BRUTE_FORM = "203.0.113.66"  # 300 POST /login answered by the form again, browser UA and referer
BRUTE_API = "203.0.113.67"  # POST /api/v1/auth answered 401
BASIC_STORM = "198.18.5.5"  # GET /admin/ answered 401 again and again
GOT_IN = "198.18.9.9"  # 40 failures on /wp-login.php, then a redirect
SLOW = "198.18.7.70"  # one try every 20 minutes all day
SPRAYERS = [f"45.13.{k // 20}.{k % 20 + 10}" for k in range(40)]
STUFFERS = [f"91.200.{k // 25}.{k % 25 + 10}" for k in range(50)]
STUFFER_IN = STUFFERS[7]  # one bot's pair worked
CUSTOMERS = [f"100.{64 + k // 200}.{k % 200}.{k % 7 + 1}" for k in range(300)]
MOBILE = [f"100.80.1.{k + 1}" for k in range(10)]
PROBE = "10.0.0.5"
TYPO = "198.51.100.33"
TYPO_IN_CAMPAIGN = "198.51.100.34"  # three typos while the sprayers are at it, then in
BALANCER = "203.0.113.250"
SYN_FLOOD = "198.18.20.20"
DDOS = [f"185.{100 + k // 10}.{k % 10}.9" for k in range(40)]
PORT_SCAN = "198.18.30.30"
SWEEP = "198.18.31.31"
HEALTH_FLOW = "10.0.0.6"
FLOW_CLIENTS = [f"100.90.0.{k + 1}" for k in range(60)]


def access(t: datetime, ip: str, method: str, path: str, status: int, size: int, ref: str = "-",
           ua: str = FIREFOX, xff: str | None = None) -> str:
    stamp = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
    line = f'{ip} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} "{ref}" "{ua}"'
    return line + (f' "{xff}"' if xff else "")


def conn(t: datetime, k: int, src: str, sport: int, dst: str, dport: int, state: str = "SF",
         sent: int = 600, got: int = 4000) -> str:
    dur, hist = ("-", "S") if state in ("S0", "REJ") else ("0.210000", "ShADadFf")
    if state in ("S0", "REJ"):
        sent = got = 0
    return "\t".join([f"{t.timestamp():.6f}", f"C{k:017d}", src, str(sport), dst, str(dport), "tcp", "-", dur,
                      str(sent), str(got), state, "F", "T", "0", hist, "3", "180", "2", "120", "-"])


ZEEK_HEAD = [
    "#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tconn",
    "#open\t2026-11-10-00-00-00",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes"
    "\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes"
    "\ttunnel_parents",
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount"
    "\tstring\tcount\tcount\tcount\tcount\tset[string]",
]


def minutes(m: float) -> datetime:
    return T0 + timedelta(minutes=m)


def web_day(rnd: random.Random) -> list[tuple[datetime, str]]:
    out: list[tuple[datetime, str]] = []

    def add(t: datetime, *a, **k) -> None:
        out.append((t, access(t, *a, **k)))

    # Customers all day: the form, then a redirect home; one in ten mistypes once first.
    for k, ip in enumerate(CUSTOMERS):
        t = minutes(k * 4.7 + rnd.uniform(0, 3))
        add(t, ip, "GET", "/login", 200, 4980, "https://shop.example.com/")
        if k % 10 == 0:
            t += timedelta(seconds=20)
            add(t, ip, "POST", "/login", 200, FORM_FAILED, LOGIN_PAGE)
        add(t + timedelta(seconds=15), ip, "POST", "/login", 302, 0, LOGIN_PAGE)
        add(t + timedelta(seconds=16), ip, "GET", "/account", 200, 8200, LOGIN_PAGE)
    # A mobile app refreshing its token every five minutes, on ten phones.
    for ip in MOBILE:
        for k in range(144):
            add(minutes(k * 5 + rnd.uniform(0, 1)), ip, "POST", "/oauth/token", 200, 850, ua="ShopApp/4.2 (iPhone; iOS 17.1)")
    # A monitoring probe POSTing its health check every 30 s.
    for k in range(2880):
        add(minutes(k * 0.5), PROBE, "POST", "/api/health", 200, 15, ua="Blackbox-Exporter/0.24")
    # A user who mistypes three times, then gets in.
    for k in range(3):
        add(minutes(600 + k * 0.4), TYPO, "POST", "/login", 200, FORM_FAILED, LOGIN_PAGE)
    add(minutes(601.5), TYPO, "POST", "/login", 302, 0, LOGIN_PAGE)
    for k in range(3):
        add(minutes(710 + k * 0.4), TYPO_IN_CAMPAIGN, "POST", "/login", 200, FORM_FAILED, LOGIN_PAGE)
    add(minutes(711.5), TYPO_IN_CAMPAIGN, "POST", "/login", 302, 0, LOGIN_PAGE)
    # A load balancer's address carrying many users (their address in X-Forwarded-For).
    for k in range(600):
        t = minutes(k * 2.3)
        ua = FIREFOX if k % 3 else "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Safari/604.1"
        xff = f"100.70.{k // 200}.{k % 200 + 1}"
        if k % 12 == 0:
            add(t, BALANCER, "POST", "/login", 200, FORM_FAILED, LOGIN_PAGE, ua, xff)
        add(t + timedelta(seconds=9), BALANCER, "POST", "/login", 302, 0, LOGIN_PAGE, ua, xff)
    # Attack: a brute force with a browser's user agent and referer, told "wrong password" 300 times.
    for k in range(300):
        add(minutes(300 + k / 60), BRUTE_FORM, "POST", "/login", 200, FORM_FAILED, LOGIN_PAGE)
    # Attack: an API brute force answered 401.
    for k in range(120):
        add(minutes(320 + k / 30), BRUTE_API, "POST", "/api/v1/auth", 401, 52, ua="okhttp/4.9.3")
    # Attack: a basic-auth storm on an admin area.
    for k in range(150):
        add(minutes(340 + k / 40), BASIC_STORM, "GET", "/admin/", 401, 381, ua=FIREFOX)
    # Attack: 40 failures on a WordPress login nobody else uses, then a redirect into wp-admin.
    for k in range(40):
        add(minutes(400 + k / 20), GOT_IN, "POST", "/wp-login.php", 200, 3921, "https://shop.example.com/wp-login.php")
    add(minutes(402.5), GOT_IN, "POST", "/wp-login.php", 302, 0, "https://shop.example.com/wp-login.php")
    add(minutes(402.6), GOT_IN, "GET", "/wp-admin/", 200, 48211, "https://shop.example.com/wp-login.php")
    # Attack: a single source, low and slow, all day.
    for k in range(70):
        add(minutes(10 + k * 20), SLOW, "POST", "/user/login", 401, 60, ua=FIREFOX)
    # Attack: 40 sources spray the form at once, one try each.
    for ip in SPRAYERS:
        add(minutes(700 + rnd.uniform(0, 30)), ip, "POST", "/login", 200, FORM_FAILED, LOGIN_PAGE)
    # Attack: 50 bots stuff leaked pairs into the API, several each; one pair works.
    for ip in STUFFERS:
        t0 = 900 + rnd.uniform(0, 40)
        n = rnd.randint(4, 7)
        for k in range(n):
            add(minutes(t0 + k * 0.2), ip, "POST", "/api/v1/auth", 401, 52, ua="Mozilla/5.0 (Linux; Android 13)")
        if ip == STUFFER_IN:
            add(minutes(t0 + n * 0.2), ip, "POST", "/api/v1/auth", 200, 913, ua="Mozilla/5.0 (Linux; Android 13)")
    return out


def flow_day(rnd: random.Random) -> list[tuple[datetime, str]]:
    out: list[tuple[datetime, str]] = []
    k = 0

    def add(t: datetime, *a, **kw) -> None:
        nonlocal k
        k += 1
        out.append((t, conn(t, k, *a, **kw)))

    for c, ip in enumerate(FLOW_CLIENTS):  # ordinary clients of the web server all day
        for j in range(40):
            add(minutes(rnd.uniform(0, 1440)), ip, 40000 + j, "10.0.0.80", 443)
    for j in range(43200):  # a health check every 2 s
        add(minutes(j / 30), HEALTH_FLOW, 50000 + j % 10000, "10.0.0.80", 80)
    for j in range(3000):  # a SYN flood: 3,000 unanswered SYNs in three minutes
        add(minutes(500 + j / 1000), SYN_FLOOD, 1024 + j, "10.0.0.80", 443, "S0")
    for ip in DDOS:  # 40 sources flood one service at once
        for j in range(60):
            add(minutes(800 + rnd.uniform(0, 2)), ip, 2000 + j, "10.0.0.81", 80, "S0" if j % 3 else "SF")
    for port in range(1, 501):  # a port scan: many ports, one host
        add(minutes(1000 + port / 500), PORT_SCAN, 61000, "10.0.0.80", port, "REJ")
    for h in range(1, 201):  # a sweep: many hosts, one port
        add(minutes(1100 + h / 200), SWEEP, 61001, f"10.0.1.{h}", 22, "S0")
    return out


@pytest.fixture(scope="module")
def case_file(tmp_path_factory) -> Path:
    """A case of a day of web and flow traffic with every family and look-alike, analysed."""
    rnd = random.Random(12)
    root = tmp_path_factory.mktemp("weblogins")
    web = sorted(web_day(rnd))
    (root / "access.log").write_text("".join(line + "\n" for _, line in web))
    flows = sorted(flow_day(rnd))
    (root / "conn.log").write_text("\n".join([*ZEEK_HEAD, *(line for _, line in flows), "#close\t2026-11-11-00-00-00"])
                                   + "\n")
    case = Case.open(root / "case.duckdb")
    try:
        result = ingest(case, [root / "access.log", root / "conn.log"], tz="UTC")
        assert result.rejected == 0
        analyze(case, llm=None)
    finally:
        case.close()
    return root / "case.duckdb"


@pytest.fixture(scope="module")
def incidents(case_file: Path) -> list[dict]:
    with Case.open(case_file, read_only=True) as case:
        return load_incidents(case)[1]


def with_ip(incidents: list[dict], ip: str) -> list[dict]:
    return [i for i in incidents if ip in i["src_ips"] and i["category"] != "background_noise"]


def one(incidents: list[dict], ip: str) -> dict:
    found = with_ip(incidents, ip)
    assert len(found) == 1, [(i["id"], i["category"], i["src_ips"][:3]) for i in found]
    return found[0]


def test_a_literal_line_is_what_the_test_writes() -> None:
    line = access(minutes(300), BRUTE_FORM, "POST", "/login", 200, FORM_FAILED, LOGIN_PAGE)
    assert line == ('203.0.113.66 - - [10/Nov/2026:05:00:00 +0000] "POST /login HTTP/1.1" 200 5120 '
                    '"https://shop.example.com/login" "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) '
                    'Gecko/20100101 Firefox/121.0"')


@pytest.mark.parametrize("ip", [BRUTE_FORM, BRUTE_API, BASIC_STORM, SLOW])
def test_web_brute_force_is_seen_whatever_the_user_agent(incidents, ip: str) -> None:
    inc = one(incidents, ip)
    assert inc["category"] == "brute_force" and "T1110.001" in inc["techniques"]
    assert inc["severity"] in ("medium", "high") and inc["compromised"] is False


def test_web_brute_force_that_got_in_is_critical_and_compromised(incidents) -> None:
    inc = one(incidents, GOT_IN)
    assert (inc["category"], inc["severity"], inc["compromised"]) == ("brute_force", "critical", True)
    assert {"T1110.001", "T1078"} <= set(inc["techniques"])
    login = inc["compromised_login"]
    assert login["src_ip"] == GOT_IN and login["ts"] == minutes(402.5).isoformat()


def test_spraying_over_http_is_one_incident(incidents) -> None:
    inc = one(incidents, SPRAYERS[0])
    assert inc["category"] == "password_spraying" and "T1110.003" in inc["techniques"]
    assert set(inc["src_ips"]) == set(SPRAYERS)


def test_stuffing_over_http_is_one_incident_and_the_bot_that_got_in_makes_it_critical(incidents) -> None:
    inc = one(incidents, STUFFERS[0])
    assert inc["category"] == "credential_stuffing" and "T1110.004" in inc["techniques"]
    assert set(inc["src_ips"]) == set(STUFFERS)
    assert inc["severity"] == "critical" and inc["compromised"] is True and "T1078" in inc["techniques"]
    assert inc["compromised_login"]["src_ip"] == STUFFER_IN


def test_one_source_is_never_credential_stuffing(incidents) -> None:
    for inc in incidents:
        if inc["category"] == "credential_stuffing":
            assert len(inc["src_ips"]) > 1, inc["src_ips"]


def test_a_syn_flood_is_dos_not_a_scan(incidents) -> None:
    inc = one(incidents, SYN_FLOOD)
    assert inc["category"] == "dos" and "T1499" in inc["techniques"]


def test_a_distributed_flood_is_one_dos_incident(incidents) -> None:
    inc = one(incidents, DDOS[0])
    assert inc["category"] == "dos" and "T1498" in inc["techniques"]
    assert set(inc["src_ips"]) == set(DDOS)


@pytest.mark.parametrize("ip", [PORT_SCAN, SWEEP])
def test_a_scan_or_a_sweep_is_not_a_flood(incidents, ip: str) -> None:
    assert one(incidents, ip)["category"] == "scanner"


@pytest.mark.parametrize("ip", [*CUSTOMERS[::25], *MOBILE[:3], PROBE, TYPO, TYPO_IN_CAMPAIGN, BALANCER, HEALTH_FLOW, *FLOW_CLIENTS[:5]])
def test_benign_look_alikes_stay_quiet(incidents, ip: str) -> None:
    assert [(i["category"], i["severity"]) for i in with_ip(incidents, ip) if i["severity"] not in ("info", "low")] == []


def test_every_web_login_incident_shows_its_requests(case_file, incidents) -> None:
    # The incident screen, the PDF and "e: its events" read the events through incident_scope.
    from store.queries import incident_scope

    web = [i for i in incidents if i["category"] in ("brute_force", "password_spraying", "credential_stuffing")]
    assert web
    with Case.open(case_file, read_only=True) as case:
        for inc in web:
            scope = incident_scope(case, inc["id"])
            n = case.con.execute(f"SELECT count(*) FROM events WHERE {scope.where} AND action = 'http_request'",
                                 scope.params).fetchone()[0]
            assert n >= inc["sessions"], (inc["id"], inc["category"], n)
