"""Network attacks seen by the sensor (and the hosts they touch): the active scanner, the C2 beacon and a
SYN flood."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .common import BASTION_PUB, BEACON_HOST, HOSTING_16S, HOUR, MINUTE, SECOND, US, WEB1_PUB, community_id

if TYPE_CHECKING:
    from .attacks import Attack
    from .core import Generator


def scanner(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """Ping sweep, SYN scan, ssh service probes, Nmap NSE and a zgrab path sweep from one source."""
    tag = a.id
    rng = gen.rng
    ip = gen.attack_source(tag, (BASTION_PUB, WEB1_PUB))
    t = start
    # ping sweep of the DMZ /26
    for last in range(1, 63):
        dst = f"192.0.2.{last}"
        alive = dst in (BASTION_PUB, WEB1_PUB)
        if alive:
            gen.conn(
                t,
                ip,
                8,
                dst,
                0,
                "icmp",
                None,
                gen.jitter(0.0002, 0.002),
                0,
                0,
                "OTH",
                "-",
                1,
                28,
                1,
                28,
                tag,
                eve=False,
            )
        else:
            gen.conn(t, ip, 8, dst, 0, "icmp", None, None, None, None, "OTH", "-", 1, 28, 0, 0, tag, eve=False)
        t += gen.jitter(0.01, 0.08)
    t += gen.jitter(2, 6)
    # SYN scan of common ports on the two live hosts, fixed source port like nmap
    top = [
        int(p)
        for p in """
        21 22 23 25 53 80 110 111 135 139 143 443 445 465 587 993 995 1025 1433 1521 1723 2049 2375 3306
        3389 5060 5432 5900 5985 6379 8000 8008 8080 8081 8443 8888 9000 9090 9200 9300 10000 11211 27017
    """.split()
    ]
    top += rng.sample(range(1, 10000), 140)
    top = sorted(set(top))
    sport = rng.randint(40000, 65000)
    scan_end = t + 14 * MINUTE
    probes = []
    for dst in (BASTION_PUB, WEB1_PUB):
        for p in top:
            probes.append((dst, p))
    rng.shuffle(probes)
    step = (scan_end - t) // len(probes)
    last_alert = -(10**18)
    db_alerts = {}
    for dst, p in probes:
        open_port = p in (22, 80, 443)
        if open_port:
            c = gen.conn(
                t,
                ip,
                sport,
                dst,
                p,
                "tcp",
                None,
                gen.jitter(0.0001, 0.0009),
                0,
                0,
                "RSTO",
                "ShR",
                2,
                84,
                1,
                44,
                tag,
                eve=True,
            )
        elif dst == BASTION_PUB:  # the bastion's firewall drops
            c = gen.conn(
                t,
                ip,
                sport,
                dst,
                p,
                "tcp",
                None,
                None,
                None,
                None,
                "S0",
                "S",
                1,
                44,
                0,
                0,
                tag,
                eve=rng.random() < 0.05,
            )
        else:  # web1 answers closed ports with RST
            c = gen.conn(
                t,
                ip,
                sport,
                dst,
                p,
                "tcp",
                None,
                gen.jitter(0.00003, 0.0003),
                0,
                0,
                "REJ",
                "Sr",
                1,
                44,
                1,
                40,
                tag,
                eve=rng.random() < 0.05,
            )
        if t - last_alert >= 60 * US:
            last_alert = t
            gen.eve_alert(t + 50, c, "nmap_ss", tag)
        sig = {3306: "mysql", 5432: "pgsql", 1433: "mssql", 1521: "oracle"}.get(p)
        if sig and (dst, sig) not in db_alerts:
            db_alerts[(dst, sig)] = True
            gen.eve_alert(t + 80, c, sig, tag)
        t += step + gen.jitter(0, 0.2)
    # version detection on the open ports
    t += gen.jitter(20, 60)
    for hostname in ("bastion", "web1"):
        gen.ssh_preauth(hostname, t, ip, "banner", tag)
        t += gen.jitter(0.5, 3)
        gen.ssh_preauth(hostname, t, ip, "kex", tag)
        t += gen.jitter(0.5, 3)
        gen.ssh_preauth(hostname, t, ip, "negotiate", tag)
        t += gen.jitter(2, 8)
    nmap_ua = "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"
    epoch = t // US
    nse = [
        ("GET", "/", 200, 18_432),
        ("GET", f"/nmaplowercheck{epoch}", 404, 3_712),
        ("GET", "/HNAP1", 404, 3_712),
        ("GET", "/evox/about", 404, 3_712),
        ("GET", "/robots.txt", 200, 412),
        ("OPTIONS", "/", 405, 568),
        ("PROPFIND", "/", 405, 568),
        ("GET", f"/NmapUpperCheck{epoch}", 404, 3_712),
        ("GET", f"/Nmap/folder/check{epoch}", 404, 3_712),
        ("GET", "/.git/HEAD", 403, 555),
        ("POST", "/sdk", 404, 3_712),
        ("GET", "/favicon.ico", 200, 4_286),
    ]
    c = gen.conn(
        t,
        ip,
        gen.eph_port(),
        WEB1_PUB,
        80,
        "tcp",
        "http",
        gen.jitter(8, 20),
        4_210,
        39_880,
        "SF",
        "ShADadfF",
        tag=tag,
        eve=True,
    )
    alerted = False
    for i, (method, path, status, size) in enumerate(nse):
        gen.access(t, ip, method, path, "HTTP/1.1", status, size, "-", nmap_ua, tag)
        gen.eve_http(t + 500, c, WEB1_PUB, path, nmap_ua, method, status, size, tag, tx_id=i)
        if not alerted:
            alerted = True
            gen.eve_alert(t + 700, c, "nmap_ua", tag, app_proto="http", extra={"tx_id": i})
        t += gen.jitter(0.05, 1.2)
    # TLS hello sent to the plain HTTP port (nginx logs the bytes it got)
    for _ in range(2):
        c = gen.conn(
            t,
            ip,
            gen.eph_port(),
            WEB1_PUB,
            80,
            "tcp",
            None,
            gen.jitter(0.01, 0.05),
            517,
            157,
            "SF",
            "ShADadFf",
            tag=tag,
            eve=True,
        )
        gen.access_raw(
            t, ip, "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03\\xA7\\x1B", 400, 157, "-", "-", tag
        )
        a = gen.eve_base(t + 2000, c, "anomaly")
        a["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 6)
        a["anomaly"] = {
            "app_proto": "http",
            "type": "applayer",
            "event": "APPLAYER_MISMATCH_PROTOCOL_BOTH_DIRECTIONS",
            "layer": "proto_detect",
        }
        gen.add_eve(t + 2000, a, tag)
        t += gen.jitter(0.5, 2)
    # path sweep with zgrab
    t += gen.jitter(60, 180)
    zgrab = "Mozilla/5.0 zgrab/0.x"
    sweep = r"""
        / /admin /login /manager/html /console /actuator/health /actuator/env /api /api/v1 /api/v2/config
        /v2/_catalog /solr/admin/info/system /geoserver/web/ /remote/login /global-protect/login.esp
        /dana-na/auth/url_default/welcome.cgi /owa/auth/logon.aspx
        /ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application
        /boaform/admin/formLogin /cgi-bin/luci /HNAP1/ /sdk /druid/index.html /nacos/ /jenkins/login
        /phpmyadmin/index.php /pma/index.php /adminer.php /.env /.env.production /.aws/credentials
        /.git/config /.svn/wc.db /.DS_Store /server-status /server-info /config.json /config.yaml
        /docker-compose.yml /.vscode/sftp.json /telescope/requests /_profiler/phpinfo /info.php
        /wp-json/wp/v2/users /wp-admin/setup-config.php /xmlrpc.php
        /vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php
        /index.php?s=/Index/\x5Cthink\x5Capp/invokefunction&function=call_user_func_array&vars[0]=md5&vars[1][]=HelloThinkPHP21
        /cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh /hudson /jmx-console/ /invoker/readonly /struts2-showcase/
        /WebInterface/ /autodiscover/autodiscover.xml /mgmt/tm/sys /api/jsonws/invoke
        /Telerik.Web.UI.WebResource.axd /owncloud/status.php /nextcloud/status.php /status.php /webui/ /ui/
        /portal/ /login.action /user/login /users/sign_in /app/kibana /_cat/indices /_all/_search /metrics
        /prometheus /debug/pprof/ /swagger-ui.html /swagger/index.html /openapi.json /v3/api-docs /graphql
        /graphiql /api/graphql /storage/logs/laravel.log /laravel/.env /app/.env /backend/.env /public/.env
        /config/database.yml /wp-config.php.bak /config.php.bak /backup.sql /db.sql.gz /site.tar.gz /www.zip
        /latest.zip /id_rsa /.ssh/id_rsa /.bash_history /etc/passwd /cgi-bin/test.cgi /cgi-bin/status /shell
        /cmd /setup.cgi /tmUnblock.cgi /GponForm/diag_Form?images/ /picsdesc.xml /stssys.htm
        /language/Swedish${IFS}&&echo${IFS}1>test&&tar${IFS}/string.js /robots.txt /sitemap.xml /favicon.ico
    """.split()
    sweep_statuses = {
        "/": (200, 18_432),
        "/admin": (301, 162),
        "/login": (200, 8_811),
        "/robots.txt": (200, 412),
        "/sitemap.xml": (200, 6_211),
        "/favicon.ico": (200, 4_286),
    }
    alert_times = {}
    for path in sweep:
        status, size = sweep_statuses.get(path, (403, 555) if "/." in path else (404, 3_712))
        if path == "/etc/passwd":
            status, size = 404, 3_712
        c = gen.conn(
            t,
            ip,
            gen.eph_port(),
            WEB1_PUB,
            80,
            "tcp",
            "http",
            gen.jitter(0.05, 0.4),
            160 + len(path),
            size + 180,
            "SF",
            "ShADadfF",
            tag=tag,
            eve=rng.random() < 0.2,
        )
        gen.access(t, ip, "GET", path, "HTTP/1.1", status, size, "-", zgrab, tag)
        gen.eve_http(t + 400, c, WEB1_PUB, path, zgrab, "GET", status, size, tag)
        for sig in ["zmap_ua"] + (["env"] if ".env" in path else []) + (["passwd"] if "passwd" in path else []):
            if t - alert_times.get(sig, -(10**18)) >= 120 * US:
                alert_times[sig] = t
                gen.eve_alert(t + 600, c, sig, tag, app_proto="http", extra={"tx_id": 0})
        t += gen.jitter(2, 14)
    return (
        [],
        f"Active scanner: ping sweep of 192.0.2.0/26, SYN scan of {len(top)} ports on the bastion "
        f"(dropped, S0) and web1 (REJ), service probes on ssh (banner/kex errors in both auth logs), "
        f"Nmap NSE requests and a zgrab sweep of {len(sweep)} paths on web1 (mostly 404).",
    )


def beacon(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """A workstation's short TLS connection to one C2 address at a steady period, for hours."""
    tag = a.id
    period, hours = a.params["period_s"], a.params["hours"]
    rng = gen.rng
    c2 = gen.ip_in_24(gen.new_24(HOSTING_16S))
    gen.note_ip(tag, BEACON_HOST)
    gen.note_dst(tag, c2)
    domain = a.params["domain"]
    gen.dns(start - gen.jitter(1, 3), domain, c2, tag, eve=True)
    t = start
    end = start + hours * HOUR
    n = 0
    while t < end:
        big = rng.random() < 0.04
        ob = rng.randint(690, 760) + (rng.randint(200, 900) if big else 0)
        rb = rng.randint(1_480, 1_620) + (rng.randint(20_000, 80_000) if big else 0)
        c = gen.tcp_ok(
            t,
            BEACON_HOST,
            gen.eph_port("windows"),
            c2,
            443,
            "ssl",
            gen.jitter(0.18, 0.95 if not big else 2.5),
            ob,
            rb,
            tag,
            eve=(n % 90 == 0) or rng.random() < 0.02,
        )
        if c.eve:
            gen.eve_tls(
                t + gen.jitter(0.02, 0.08),
                c,
                domain,
                f"CN={domain}",
                f"CN={domain}",
                tag,
                ja3="771,49196-49195-49200-49199-158-159-52393-52392,0-10-11-13-35-23-65281,29-23-24,0",
            )
        if n % 240 == 0 and n:
            gen.dns(t - gen.jitter(0.5, 2), domain, c2, tag, eve=True)
        n += 1
        t += period * SECOND + gen.jitter(-2.0, 2.0)
    return (
        [],
        f"C2-like beacon: internal workstation {BEACON_HOST} opens a short TLS connection to {c2}:443 "
        f"({domain}, self-signed certificate) every {period} s +/- 2 s, {n} times over {hours} hours; a few "
        f"responses are larger (tasking).",
    )


def syn_flood(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """Many sources at once send bare SYNs to web1's HTTPS port: most are never answered (S0)."""
    rng = gen.rng
    n_src, per_src, secs = a.params["sources"], a.params["per_source"], a.params["seconds"]
    ips = gen.campaign_sources(a.id, n_src, a.params["nets"], (WEB1_PUB,))
    for ip in ips:
        for _ in range(per_src):
            t = start + gen.jitter(0, secs)
            if rng.random() < 0.15:  # the few the server still answered before its backlog filled
                gen.conn(t, ip, rng.randint(1024, 65535), WEB1_PUB, 443, "tcp", None, gen.jitter(0.001, 0.02),
                         0, 0, "REJ", "Sr", 1, 40, 1, 40, a.id, eve=False)
            else:
                gen.conn(t, ip, rng.randint(1024, 65535), WEB1_PUB, 443, "tcp", None, None, None, None, "S0", "S",
                         rng.randint(1, 3), 40, 0, 0, a.id, eve=False)
    return [], (f"SYN flood on web1:443 from {n_src} addresses at once: {n_src * per_src} connection attempts in "
                f"{secs} seconds, almost none answered (Zeek S0, a few REJ).")
