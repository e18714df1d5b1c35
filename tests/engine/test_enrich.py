"""Enrichment: scopes, the bundled geoip2fast data, .mmdb files written here, and what the case keeps."""

from __future__ import annotations

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from engine import enrich, sessions
from store.case import Case
from tests.engine.eventgen import Events, at


@pytest.mark.parametrize("ip, scope", [
    ("8.8.8.8", "global"), ("2001:4860:4860::8888", "global"),
    ("10.1.2.3", "private"), ("172.16.0.9", "private"), ("192.168.1.1", "private"), ("fd00::1", "private"),
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("0.0.0.0", "unspecified"),
    ("169.254.7.7", "link_local"), ("fe80::1", "link_local"), ("224.0.0.251", "multicast"),
    ("192.0.2.10", "documentation"), ("198.51.100.7", "documentation"), ("203.0.113.66", "documentation"),
    ("2001:db8::5", "documentation"), ("100.64.3.3", "shared"), ("240.0.0.1", "reserved"),
    ("198.18.0.5", "reserved"), ("::ffff:10.0.0.1", "private"),
    ("bastion", None), ("", None), ("1.2.3.4; rm -rf /", None),
])
def test_scope(ip, scope) -> None:
    assert enrich.scope(ip) == scope


def test_bundled_data_knows_well_known_networks() -> None:
    found = {g.ip: g for g in enrich.lookup_many(
        ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "10.0.0.1", "::1", "203.0.113.5", "8.8.8.8", "bastion"])}
    assert set(found) == {"8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "10.0.0.1", "::1", "203.0.113.5"}
    assert (found["8.8.8.8"].country, found["8.8.8.8"].org) == ("US", "GOOGLE")
    assert found["1.1.1.1"].org == "CLOUDFLARENET"
    assert found["2001:4860:4860::8888"].country == "US"
    # Not looked up: geoip2fast itself would place ::1 in 0.0.0.0/8.
    assert found["::1"] == enrich.Geo("::1", "loopback")
    assert found["10.0.0.1"].country is None and found["203.0.113.5"].scope == "documentation"
    # The bundled data names networks, not their numbers.
    assert found["8.8.8.8"].asn == 0 and found["8.8.8.8"].network == "GOOGLE"


def test_data_info_names_the_data_and_its_date() -> None:
    info = enrich.data_info()
    assert "geoip2fast" in info and "GeoLite2" in info and "data of 2024-06-18" in info


def _write_mmdb(folder) -> None:
    country = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    country.insert_network(IPSet(["81.2.69.0/24"]), {"country": {"iso_code": "GB", "names": {"en": "United Kingdom"}}})
    country.insert_network(IPSet(["8.8.8.0/24"]), {"registered_country": {"iso_code": "US"}})
    country.to_db_file(str(folder / "GeoLite2-Country.mmdb"))
    asn = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN")
    asn.insert_network(IPSet(["81.2.69.0/24"]), {"autonomous_system_number": 20712,
                                                 "autonomous_system_organization": "Andrews & Arnold Ltd"})
    asn.to_db_file(str(folder / "GeoLite2-ASN.mmdb"))


def test_mmdb_folder_is_read_with_maxminddb(tmp_path) -> None:
    _write_mmdb(tmp_path)
    data = enrich.MaxmindData(tmp_path)
    assert data.name.startswith("MaxMind ") and "GeoLite2-Country" in data.name and "GeoLite2-ASN" in data.name
    assert data.lookup("81.2.69.160") == ("GB", 20712, "Andrews & Arnold Ltd")
    assert data.lookup("8.8.8.8") == ("US", 0, None)
    assert data.lookup("9.9.9.9") == (None, 0, None)
    g = enrich.lookup_many(["81.2.69.160"], data)[0]
    assert g.network == "AS20712" and enrich.label(g) == "GB AS20712"
    assert "data of" in enrich.data_info(tmp_path)


def test_geoip_folder_errors(tmp_path) -> None:
    with pytest.raises(enrich.EnrichError, match="not a folder"):
        enrich.MaxmindData(tmp_path / "missing")
    with pytest.raises(enrich.EnrichError, match="no GeoLite2"):
        enrich.MaxmindData(tmp_path)
    (tmp_path / "broken.mmdb").write_bytes(b"not a database")
    with pytest.raises(enrich.EnrichError, match="not a MaxMind database"):
        enrich.MaxmindData(tmp_path)


def test_geoip_setting_from_environment_and_config(tmp_path) -> None:
    assert enrich.geoip_setting({"VEDETTE_GEOIP": "/srv/geoip"}) == "/srv/geoip"
    (tmp_path / "vedette").mkdir()
    (tmp_path / "vedette" / "config.toml").write_text('[enrich]\ngeoip = "/opt/mmdb"\n')
    assert enrich.geoip_setting({"XDG_CONFIG_HOME": str(tmp_path)}) == "/opt/mmdb"


def _case_with_logins(tmp_path) -> Case:
    ev = Events()
    for d in range(5):
        ev.accepted(at(d * 1440), "8.8.8.8", "alice")              # alice's usual place (US)
    ev.accepted(at(6 * 1440), "81.2.69.160", "alice", "password")  # then somewhere new
    ev.accepted(at(6 * 1440 + 5), "10.0.0.7", "bob")
    for k in range(5):
        ev.failed_password(at(100 + k), "1.1.1.1", "root")
    ev.conn(at(50), "10.0.0.9", "9.9.9.9", 443)
    case = Case.open(tmp_path / "case.duckdb")
    ev.into(case)
    sessions.build(case.con)
    return case


def test_enrich_looks_up_each_distinct_session_address_once(tmp_path) -> None:
    case = _case_with_logins(tmp_path)
    first = enrich.enrich(case.con)
    rows = dict(case.con.execute("SELECT ip, scope FROM geo").fetchall())
    assert {"8.8.8.8", "81.2.69.160", "10.0.0.7", "1.1.1.1", "10.0.0.9", "9.9.9.9"} <= set(rows)
    assert rows["10.0.0.7"] == "private" and rows["9.9.9.9"] == "global"   # a flow's destination too
    assert first.looked_up == len(rows) and first.known == 0
    again = enrich.enrich(case.con)
    assert (again.looked_up, again.known) == (0, len(rows))
    assert enrich.geo_json(case.con, ["1.1.1.1", "nowhere"]) == {
        "1.1.1.1": {"country": "AU", "asn": 0, "org": "CLOUDFLARENET", "scope": "global"}}
    # Other data (a --geoip folder) replaces what the bundled data said.
    _write_mmdb(tmp_path)
    enrich.enrich(case.con, enrich.MaxmindData(tmp_path))
    assert case.con.execute("SELECT country, asn FROM geo WHERE ip = '81.2.69.160'").fetchall() == [("GB", 20712)]
    assert case.con.execute("SELECT count(DISTINCT source) FROM geo").fetchall() == [(1,)]
    case.close()


def test_first_login_from_a_new_country_and_network(tmp_path) -> None:
    case = _case_with_logins(tmp_path)
    _write_mmdb(tmp_path)
    enrich.enrich(case.con, enrich.MaxmindData(tmp_path))
    new = enrich.new_login_places(case.con, ["81.2.69.160", "8.8.8.8"], ["alice"])
    assert [(p.user, p.ip, p.country, p.network, p.new_country, p.new_network) for p in new] == [
        ("alice", "81.2.69.160", "GB", "AS20712", True, True)]
    # Her usual address is not news; neither is an account's very first login.
    assert enrich.new_login_places(case.con, ["8.8.8.8"], ["alice"]) == []
    case.close()


def test_spread_counts_countries_and_networks() -> None:
    geos = [enrich.Geo("a", "global", "CN", 0, "Chinanet"), enrich.Geo("b", "global", "CN", 4134, "Chinanet"),
            enrich.Geo("c", "global", "US", 0, "DIGITALOCEAN-ASN"), enrich.Geo("d", "private")]
    s = enrich.spread(geos)
    assert s.countries == (("CN", 2), ("US", 1)) and s.distinct_networks == 3 and s.not_global == 1


def test_ipv4_scope_table_agrees_with_ipaddress() -> None:
    import ipaddress
    import random

    rnd = random.Random(5)
    edges = [n + d for n in enrich._V4_STARTS + enrich._V4_ENDS for d in (-1, 0, 1)]
    for n in edges + [rnd.randrange(1 << 32) for _ in range(20000)]:
        if 0 <= n < 1 << 32:
            addr = ipaddress.IPv4Address(n)
            assert enrich.scope(str(addr)) == enrich._scope_of(addr), addr


def test_summary_facts_name_the_places(tmp_path) -> None:
    from engine.summaries.facts import places

    case = _case_with_logins(tmp_path)
    _write_mmdb(tmp_path)
    enrich.enrich(case.con, enrich.MaxmindData(tmp_path))
    assert places(case.con, ("81.2.69.160",), ("alice",)) == (
        "the source 81.2.69.160 is in GB, network AS20712",
        "alice logged in from GB and AS20712 for the first time in this case (earlier logins came from elsewhere)")
    assert places(case.con, ("8.8.8.8", "81.2.69.160", "10.0.0.7"), ()) == (
        "the sources are in 2 countries (GB 1, US 1) and 1 network (most: AS20712 1)",)
    case.close()
