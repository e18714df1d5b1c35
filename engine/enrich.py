"""Offline enrichment of addresses: scope (private, loopback, documentation, ...), country and network.

The data is geoip2fast's bundled country + ASN file (MaxMind GeoLite2 data; its date is in
``data_info()``), or the analyst's MaxMind ``.mmdb`` files (``--geoip DIR``, ``$VEDETTE_GEOIP``
or ``[enrich] geoip`` in config.toml) read with ``maxminddb``. Nothing goes to the network.
"""

from __future__ import annotations

import bisect
import ipaddress
import os
import re
import socket
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa

from engine import config
from engine.textsafe import visible
from engine.userconfig import config_table


class EnrichError(Exception):
    """The GeoIP data asked for cannot be used (missing folder, no readable .mmdb in it)."""


_DOC_NETS = tuple(ipaddress.ip_network(n) for n in config.DOCUMENTATION_NETS)
_PRIVATE_NETS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                        "fc00::/7"))
_SHARED_NET = ipaddress.ip_network("100.64.0.0/10")
# Scopes that are not somebody's address on the internet: never looked up, never blocked.
NOT_GLOBAL = ("loopback", "unspecified", "link_local", "multicast", "documentation", "shared", "private", "reserved")


def _scope_of(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if addr.is_loopback:
        return "loopback"
    if addr.is_unspecified:
        return "unspecified"
    if addr.is_link_local:
        return "link_local"
    if addr.is_multicast:
        return "multicast"
    if any(addr in n for n in _DOC_NETS if n.version == addr.version):
        return "documentation"
    if addr.version == 4 and addr in _SHARED_NET:
        return "shared"
    if any(addr in n for n in _PRIVATE_NETS if n.version == addr.version):
        return "private"
    if not addr.is_global:
        return "reserved"
    return "global"


def _v4_table() -> tuple[list[int], list[int], list[str]]:
    """IPv4's special ranges as sorted, disjoint [start, end] intervals with their scope.

    ipaddress's ``is_*`` properties scan lists of networks on every call (30 us an address);
    IPv4 is most of what logs hold, so it is answered by one bisect instead. The table is cut
    from ``_scope_of`` itself at every boundary of the networks involved, so both agree.
    """
    nets = [ipaddress.ip_network(n) for n in (
        "0.0.0.0/8", "0.0.0.0/32", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.0.9/32", "192.0.0.10/32", "192.168.0.0/16", "198.18.0.0/15",
        "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32", *config.DOCUMENTATION_NETS)]
    # Whatever else this Python's ipaddress singles out (its lists change between versions).
    for name in ("_private_networks", "_private_networks_exceptions"):
        nets += list(getattr(ipaddress._IPv4Constants, name, ()))
    cuts = sorted({0, 1 << 32} | {int(n.network_address) for n in nets if n.version == 4}
                  | {int(n.broadcast_address) + 1 for n in nets if n.version == 4})
    starts, ends, scopes = [], [], []
    for a, b in zip(cuts, cuts[1:]):
        sc = _scope_of(ipaddress.IPv4Address(a))
        if sc != "global":
            if scopes and scopes[-1] == sc and ends[-1] == a - 1:
                ends[-1] = b - 1
            else:
                starts.append(a), ends.append(b - 1), scopes.append(sc)
    return starts, ends, scopes


_V4_STARTS, _V4_ENDS, _V4_SCOPES = _v4_table()


def scope(ip: str | None) -> str | None:
    """What kind of address ``ip`` is: ``global`` or one of ``NOT_GLOBAL``; None if not an address."""
    if not ip:
        return None
    ip = ip.strip()
    try:
        n = int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big")   # strict dotted quad, 5x ip_address
    except OSError:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if addr.version == 6 and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        if addr.version == 6:
            return _scope_of(addr)
        n = int(addr)
    i = bisect.bisect_right(_V4_STARTS, n) - 1
    return _V4_SCOPES[i] if i >= 0 and n <= _V4_ENDS[i] else "global"


@dataclass(frozen=True)
class Geo:
    """One address's enrichment. ``asn`` is 0 where the data names the network but not its number."""

    ip: str
    scope: str
    country: str | None = None
    asn: int = 0
    org: str | None = None

    def as_json(self) -> dict:
        return {"country": self.country, "asn": self.asn, "org": self.org, "scope": self.scope}

    @property
    def network(self) -> str | None:
        """The network for counting: ``AS123`` where the number is known, else the organisation."""
        return f"AS{self.asn}" if self.asn else self.org


# --- data sources --------------------------------------------------------------------------------
class Geoip2fastData:
    """geoip2fast's bundled data (country + ASN names, IPv4 and IPv6), loaded once per process."""

    _loaded = None

    def __init__(self) -> None:
        import geoip2fast
        from geoip2fast import GeoIP2Fast

        if Geoip2fastData._loaded is None:
            path = Path(geoip2fast.__file__).parent / config.GEOIP2FAST_FILE
            # The library keeps its tables in module globals: one instance serves the process.
            Geoip2fastData._loaded = GeoIP2Fast(geoip2fast_data_file=str(path), verbose=False)
        self._g = Geoip2fastData._loaded
        info = str(getattr(self._g, "source_info", "") or "")
        m = re.search(r"(20\d\d)(\d\d)(\d\d)", info)
        self.date = f"{m[1]}-{m[2]}-{m[3]}" if m else "unknown date"
        self.name = f"geoip2fast {geoip2fast.__version__} ({info or config.GEOIP2FAST_FILE})"

    def lookup(self, ip: str) -> tuple[str | None, int, str | None]:
        r = self._g.lookup(ip)
        country = r.country_code if re.fullmatch(r"[A-Z]{2}", r.country_code or "") else None
        org = r.asn_name if r.asn_name and r.asn_name not in ("<unknown>", "IANA.ORG") else None
        return country, 0, org


class MaxmindData:
    """MaxMind GeoLite2/GeoIP2 ``.mmdb`` files in one folder: a Country/City one and an ASN/ISP one."""

    def __init__(self, folder: str | Path) -> None:
        import maxminddb

        folder = Path(folder)
        if not folder.is_dir():
            raise EnrichError(f"--geoip {folder}: not a folder")
        self._country = self._asn = None
        names = []
        for path in sorted(folder.glob("*.mmdb")):
            try:
                reader = maxminddb.open_database(str(path))
            except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
                raise EnrichError(f"{path}: not a MaxMind database ({visible(exc)})") from None
            meta = reader.metadata()
            kind = str(meta.database_type)
            built = datetime.fromtimestamp(meta.build_epoch, timezone.utc).date().isoformat()
            if re.search(r"ASN|ISP|Enterprise", kind) and self._asn is None:
                self._asn = reader
            if re.search(r"Country|City|Enterprise", kind) and self._country is None:
                self._country = reader
            if reader in (self._asn, self._country):
                names.append(f"{visible(kind)} {built}")
                self.date = built
            else:
                reader.close()
        if not names:
            raise EnrichError(f"--geoip {folder}: no GeoLite2/GeoIP2 Country, City or ASN .mmdb file in it")
        self.name = "MaxMind " + " + ".join(names)

    def lookup(self, ip: str) -> tuple[str | None, int, str | None]:
        country, asn, org = None, 0, None
        if self._country is not None:
            rec = self._country.get(ip) or {}
            place = rec.get("country") or rec.get("registered_country") or {}
            country = place.get("iso_code") if isinstance(place, dict) else None
            asn = int(rec.get("autonomous_system_number") or 0)
            org = rec.get("autonomous_system_organization")
        if self._asn is not None and self._asn is not self._country:
            rec = self._asn.get(ip) or {}
            asn = int(rec.get("autonomous_system_number") or asn or 0)
            org = rec.get("autonomous_system_organization") or rec.get("isp") or org
        return country, asn, org


def geoip_setting(env: Mapping[str, str] | None = None) -> str | None:
    """The configured .mmdb folder: ``$VEDETTE_GEOIP``, else ``[enrich] geoip`` in config.toml."""
    env = os.environ if env is None else env
    if env.get("VEDETTE_GEOIP"):
        return env["VEDETTE_GEOIP"]
    _, table = config_table("enrich", EnrichError, env)
    if table.get("geoip"):
        return str(table["geoip"])
    return config.GEOIP_DIR or None


_data_cache: dict[str, object] = {}


def geo_data(geoip_dir: str | Path | None = None):
    """The data to enrich with: the .mmdb files of ``geoip_dir`` (or the configured folder), else
    geoip2fast's bundled file."""
    folder = str(geoip_dir) if geoip_dir else geoip_setting()
    key = folder or ""
    if key not in _data_cache:
        _data_cache[key] = MaxmindData(folder) if folder else Geoip2fastData()
    return _data_cache[key]


def data_info(geoip_dir: str | Path | None = None) -> str:
    """One line for ``vedette --version``: which GeoIP data, and of when."""
    try:
        data = geo_data(geoip_dir)
    except (EnrichError, ImportError) as exc:
        return f"GeoIP data unavailable: {visible(exc)}"
    return f"{data.name}, data of {data.date}"


# --- lookups ---------------------------------------------------------------------------------------
def lookup_many(addresses: Iterable[str], data=None) -> list[Geo]:
    """One ``Geo`` per distinct address; only global addresses are looked up in the data."""
    data = data if data is not None else geo_data()
    out = []
    for ip in dict.fromkeys(addresses):
        sc = scope(ip)
        if sc is None:
            continue
        if sc != "global":
            out.append(Geo(ip, sc))
            continue
        country, asn, org = data.lookup(ip.strip())
        out.append(Geo(ip, sc, country, asn, org))
    return out


@dataclass(frozen=True)
class EnrichStats:
    looked_up: int      # addresses new to the case, looked up now
    known: int          # addresses already enriched from the same data
    seconds: float
    source: str


def _session_addresses_sql(con) -> str:
    """Every src_ip and dst_ip of the sessions being built (the ``feat_*`` tables of this run), and
    the destinations of the flows and alerts those sessions summarise (``events.dst_ip``)."""
    parts = ['SELECT DISTINCT dst_ip AS ip FROM events WHERE dst_ip IS NOT NULL']
    rows = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE table_name LIKE 'feat\\_%' ESCAPE '\\' "
        "AND column_name IN ('src_ip', 'dst_ip') AND database_name = 'temp'"
    ).fetchall()
    for table, column in rows:
        parts.append(f'SELECT DISTINCT "{column}" AS ip FROM "{table}" WHERE "{column}" IS NOT NULL')
    return " UNION ".join(parts)


def enrich(con, data=None) -> EnrichStats:
    """Look up every address the current sessions name that the case has not enriched yet.

    One lookup per distinct address: DuckDB gives the distinct list less what ``geo`` already
    holds from the same data; rows from other data (a different --geoip) are replaced.
    """
    t = time.perf_counter()
    data = data if data is not None else geo_data()
    con.execute("DELETE FROM geo WHERE source <> $s", {"s": data.name}).fetchall()
    union = _session_addresses_sql(con)
    new = [r[0] for r in con.execute(f"SELECT ip FROM ({union}) a WHERE ip NOT IN (SELECT ip FROM geo)").fetchall()]
    known = con.execute(f"SELECT count(*) FROM ({union}) a WHERE ip IN (SELECT ip FROM geo)").fetchall()[0][0]
    store(con, lookup_many(new, data), data.name)
    return EnrichStats(len(new), known, time.perf_counter() - t, data.name)


def store(con, geos: list[Geo], source: str) -> None:
    if not geos:
        return
    table = pa.table({
        "ip": pa.array([g.ip for g in geos], pa.string()),
        "scope": pa.array([g.scope for g in geos], pa.string()),
        "country": pa.array([g.country for g in geos], pa.string()),
        "asn": pa.array([g.asn for g in geos], pa.int32()),
        "org": pa.array([g.org for g in geos], pa.string()),
        "source": pa.array([source] * len(geos), pa.string()),
    })
    con.register("_geo_new", table)
    try:
        con.execute("INSERT OR REPLACE INTO geo SELECT ip, scope, country, asn, org, source FROM _geo_new")
    finally:
        con.unregister("_geo_new")


def has_geo(con) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'geo'").fetchall()[0][0])


def geo_of(con, ips: Iterable[str]) -> dict[str, Geo]:
    """The stored enrichment of ``ips`` (addresses the case has not enriched are left out)."""
    ips = [ip for ip in dict.fromkeys(ips) if ip]
    if not ips or not has_geo(con):
        return {}
    rows = con.execute(
        "SELECT ip, scope, country, asn, org FROM geo WHERE ip IN (SELECT unnest($ips))", {"ips": ips}
    ).fetchall()
    return {r[0]: Geo(r[0], r[1], r[2], int(r[3] or 0), r[4]) for r in rows}


def geo_json(con, ips: Iterable[str]) -> dict[str, dict]:
    """The contract's ``geo`` object: address -> {country, asn, org, scope}, in ``ips`` order."""
    ips = list(dict.fromkeys(ips))
    found = geo_of(con, ips)
    return {ip: found[ip].as_json() for ip in ips if ip in found}


def label(g: Geo | None) -> str:
    """Short text for a table cell: ``NL AS60781`` / ``NL LeaseWeb`` / ``private``."""
    if g is None:
        return ""
    if g.scope != "global":
        return g.scope.replace("_", "-")
    net = f"AS{g.asn}" if g.asn else (g.org or "")
    return " ".join(x for x in (g.country or "??", net[:24]) if x)


def from_json(ip: str, d: Mapping) -> Geo:
    """A ``Geo`` back from the contract's per-address object."""
    return Geo(ip, d.get("scope") or "global", d.get("country"), int(d.get("asn") or 0), d.get("org"))


def where_text(geo: Mapping[str, Mapping]) -> str:
    """Where a set of addresses is, in a table cell: one address's label, or the top countries."""
    geos = [from_json(ip, d) for ip, d in geo.items()]
    if not geos:
        return ""
    if len(geos) == 1:
        return label(geos[0])
    s = spread(geos)
    if not s.countries:
        return f"{len(geos)} not global" if s.not_global else ""
    text = ", ".join(f"{c} {n}" for c, n in s.countries[:2])
    rest = len(s.countries) - 2
    return text + (f" +{rest}" if rest > 0 else "")


# --- facts for features, summaries and plans ----------------------------------------------------------
@dataclass(frozen=True)
class Spread:
    """Where an incident's sources are: how many distinct countries and networks, the top ones."""

    countries: tuple[tuple[str, int], ...]
    networks: tuple[tuple[str, int], ...]
    not_global: int

    @property
    def distinct_countries(self) -> int:
        return len(self.countries)

    @property
    def distinct_networks(self) -> int:
        return len(self.networks)


def spread(geos: Iterable[Geo]) -> Spread:
    geos = list(geos)
    countries = Counter(g.country for g in geos if g.scope == "global" and g.country)
    networks = Counter(g.network for g in geos if g.scope == "global" and g.network)
    def ranked(c: Counter) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

    return Spread(ranked(countries), ranked(networks),
                  sum(1 for g in geos if g.scope != "global"))


@dataclass(frozen=True)
class NewPlace:
    """A successful login from a country or network the account had not logged in from before."""

    user: str
    ip: str
    ts: datetime
    country: str | None
    network: str | None
    new_country: bool
    new_network: bool


def new_login_places(con, ips: Iterable[str], users: Iterable[str]) -> list[NewPlace]:
    """Logins by ``users`` from ``ips`` that were the account's first from that country or network,
    where the account had logged in before (from elsewhere): "first time from this country/ASN"."""
    ips, users = [i for i in ips if i], [u for u in users if u]
    if not ips or not users or not has_geo(con):
        return []
    rows = con.execute(
        """
        WITH s0 AS (
            SELECT e."user" AS u, e.src_ip AS ip, e.ts, g.country,
                   CASE WHEN g.asn <> 0 THEN 'AS' || g.asn::VARCHAR ELSE g.org END AS net
            FROM events e JOIN geo g ON g.ip = e.src_ip
            WHERE e.outcome = 'success' AND e.action LIKE 'auth\\_%' ESCAPE '\\' AND g.scope = 'global'
              AND e."user" IN (SELECT unnest($users)) AND e.ts IS NOT NULL
        ), s AS (
            -- Each account's first login overall, from each country and from each network: a
            -- window each, where a correlated "no earlier login from there" costs logins squared
            -- (a campaign of thousands of sources logging in to the same accounts).
            SELECT *, min(ts) OVER (PARTITION BY u) AS first_any,
                   min(ts) OVER (PARTITION BY u, country) AS first_country,
                   min(ts) OVER (PARTITION BY u, net) AS first_net
            FROM s0
        ), hits AS (
            SELECT s.u, s.ip, min(s.ts) AS ts, any_value(s.country) AS country, any_value(s.net) AS net,
                   any_value(first_any) AS first_any, any_value(first_country) AS first_country,
                   any_value(first_net) AS first_net
            FROM s WHERE s.ip IN (SELECT unnest($ips)) GROUP BY s.u, s.ip
        )
        SELECT h.u, h.ip, h.ts, h.country, h.net, h.first_country >= h.ts AS new_country,
               h.first_net >= h.ts AS new_network
        FROM hits h
        WHERE h.first_any < h.ts
        ORDER BY h.ts, h.u, h.ip
        """,
        {"ips": ips, "users": users},
    ).fetchall()
    return [NewPlace(*r) for r in rows if r[5] or r[6]]
