"""Web attacks planted in the nginx log and on the sensor: the Nikto / sqlmap run, and login attacks
(brute force, spraying, stuffing, a brute force that got in) against the shop's sign-in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .common import BOTNET_16S, MINUTE, SITE, US, WEB1_PUB

if TYPE_CHECKING:
    from .attacks import Attack
    from .core import Generator


def web_scan(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """Nikto, secret-file probes, path traversal and sqlmap from one source against the site."""
    tag = a.id
    rng = gen.rng
    ip = gen.attack_source(tag, (WEB1_PUB,))
    host = WEB1_PUB
    t = start
    state = {"conn": None, "left": 0, "tx": 0, "alerts": {}}

    def request(ts, method, path, status, size, ua, sigs=(), ctype="text/html"):
        if state["conn"] is None or state["left"] <= 0:
            dur = gen.jitter(5, 60)
            state["conn"] = gen.conn(
                ts,
                ip,
                gen.eph_port(),
                host,
                80,
                "tcp",
                "http",
                dur,
                rng.randint(8_000, 30_000),
                rng.randint(20_000, 90_000),
                "SF",
                "ShADadfF",
                tag=tag,
                eve=True,
            )
            state["left"] = rng.randint(6, 14)
            state["tx"] = 0
        c = state["conn"]
        state["left"] -= 1
        gen.access(ts, ip, method, path, "HTTP/1.1", status, size, "-", ua, tag)
        gen.eve_http(
            ts + gen.jitter(0.001, 0.01),
            c,
            host,
            path,
            ua,
            method,
            status,
            size,
            tag,
            content_type=ctype if status != 304 else None,
            tx_id=state["tx"],
        )
        for sig in sigs:
            last = state["alerts"].get(sig, -(10**18))
            if ts - last >= 60 * US:  # threshold: one alert per signature and source per minute
                state["alerts"][sig] = ts
                gen.eve_alert(
                    ts + gen.jitter(0.001, 0.01),
                    c,
                    sig,
                    tag,
                    app_proto="http",
                    extra={
                        "tx_id": state["tx"],
                        "http": {
                            "hostname": host,
                            "url": path,
                            "http_user_agent": ua,
                            "http_method": method,
                            "protocol": "HTTP/1.1",
                            "length": size,
                        },
                    },
                )
        state["tx"] += 1

    # phase 1: nikto
    nikto_paths = [
        (path, int(status), int(size))
        for path, status, size in (
            line.split()
            for line in """
        / 200 18432
        /robots.txt 200 412
        /admin/ 404 3712
        /administrator/ 404 3712
        /phpmyadmin/ 404 3712
        /phpMyAdmin/ 404 3712
        /pma/ 404 3712
        /.htaccess 403 555
        /.htpasswd 403 555
        /server-status 404 3712
        /cgi-bin/test-cgi 404 3712
        /cgi-bin/printenv 404 3712
        /cgi-bin/php.cgi 404 3712
        /test.php 404 3712
        /info.php 404 3712
        /phpinfo.php 404 3712
        /backup.zip 404 3712
        /backup.tar.gz 404 3712
        /db.sql 404 3712
        /dump.sql 404 3712
        /config.php.bak 404 3712
        /index.php.bak 404 3712
        /wp-config.php 404 3712
        /wp-login.php 404 3712
        /xmlrpc.php 404 3712
        /manager/html 404 3712
        /jmx-console/ 404 3712
        /console/ 404 3712
        /solr/admin/ 404 3712
        /icons/README 404 3712
        /README.md 404 3712
        /CHANGELOG.txt 404 3712
        /install.php 404 3712
        /setup.php 404 3712
        /shell.php 404 3712
        /cmd.php 404 3712
        /upload.php 404 3712
        /uploads/ 404 3712
        /tmp/ 404 3712
        /logs/ 404 3712
        /login.php 404 3712
        /admin.php 404 3712
        /user/login 404 3712
        /.DS_Store 403 555
        /.svn/entries 403 555
        /.hg/ 403 555
        /web.config 404 3712
        /crossdomain.xml 404 3712
        /clientaccesspolicy.xml 404 3712
        /sitemap.xml 200 6211
        /index.php 200 18432
        /index.php?page=../../../../../../etc/passwd 500 568
        /index.php?file=/etc/passwd 500 568
        /cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd 400 157
        /../../etc/passwd 400 157
        /static/..%2f..%2f..%2f..%2fetc%2fpasswd 404 3712
        /?=PHPB8B5F2A0-3C92-11d3-A3A9-4C7B08C10000 200 18432
        /examples/servlets/index.html 404 3712
        /docs/..%5c..%5c..%5cwindows%5cwin.ini 404 3712
        /scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir 400 157
        /iisadmin/ 404 3712
        /_vti_bin/ 404 3712
        /owa/ 404 3712
        /exchange/ 404 3712
        /mailman/listinfo 404 3712
        /awstats/awstats.pl 404 3712
        /webalizer/ 404 3712
        /horde/ 404 3712
        /roundcube/ 404 3712
        /squirrelmail/ 404 3712
        /cacti/ 404 3712
        /nagios/ 404 3712
        /zabbix/ 404 3712
        /jenkins/ 404 3712
        /wp-content/debug.log 404 3712
        /api/v1/users 404 3712
        /graphql 404 3712
        /actuator/env 404 3712
        /debug/default/view 404 3712
        /telescope/requests 404 3712
        /vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php 404 3712
        """.strip().splitlines()
        )
    ]
    for i, (path, status, size) in enumerate(nikto_paths):
        ua = f"Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:{rng.randint(1, 7999):06d})"
        if i < 2:
            ua = "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:Port Check)"
        sigs = ["nikto"]
        if "passwd" in path:
            sigs.append("passwd")
        request(t, "GET", path, status, size, ua, sigs)
        t += gen.jitter(0.6, 4.5)
    # phase 2: by hand, with a browser user agent
    t += gen.jitter(180, 300)
    ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    manual = [
        ("GET", "/.env", 403, 555, ["env"]),
        ("GET", "/.git/config", 403, 555, []),
        ("GET", "/.git/HEAD", 403, 555, []),
        ("GET", "/wp-login.php", 404, 3_712, []),
        ("POST", "/wp-login.php", 404, 3_712, []),
        ("GET", "/../../etc/passwd", 400, 157, ["passwd"]),
        ("GET", "/index.php?id=1", 200, 14_388, []),
        ("GET", "/index.php?id=1%27", 500, 568, []),
        ("GET", "/index.php?id=1%27%20OR%201=1--", 500, 568, []),
        ("GET", "/index.php?id=1%20OR%201=1", 200, 61_203, []),
    ]
    for method, path, status, size, sigs in manual:
        request(t, method, path, status, size, ua, sigs)
        t += gen.jitter(6, 40)
    # phase 3: sqlmap on the id parameter
    t += gen.jitter(120, 240)
    ua = "sqlmap/1.8.11#stable (https://sqlmap.org)"
    payloads = [("1", 200, 14_388), ("1%27", 500, 568), ("1%22", 500, 568), ("1%29%28%27%22%2C%28%28", 500, 568)]
    for _ in range(66):
        r = rng.randint(1000, 9999)
        kind = rng.random()
        if kind < 0.25:
            p = (f"1%20AND%20{r}%3D{r}", 200, 14_388)
        elif kind < 0.4:
            p = (f"1%20AND%20{r}%3D{r + 1}", 200, 3_104)
        elif kind < 0.55:
            p = (f"1%27%20AND%20%27{r}%27%3D%27{r}", 500, 568)
        elif kind < 0.65:
            p = ("1%20AND%20SLEEP%285%29", 200, 14_388)
        elif kind < 0.75:
            p = (f"1%20ORDER%20BY%20{rng.randint(1, 12)}--%20-", rng.choice((200, 500)), rng.choice((14_388, 568)))
        else:
            nulls = "%2C".join(["NULL"] * rng.randint(1, 8))
            p = (f"-{r}%20UNION%20ALL%20SELECT%20{nulls}--%20-", rng.choice((200, 500)), rng.choice((3_104, 568)))
        payloads.append(p)
    for q, status, size in payloads:
        path = f"/index.php?id={q}"
        sigs = ["sqlmap"]
        if "UNION" in q:
            sigs.append("union")
        request(t, "GET", path, status, size, ua, sigs, ctype="text/html; charset=UTF-8")
        t += gen.jitter(0.3, 9.0) if "SLEEP" not in q else gen.jitter(5.0, 5.4)
    return (
        [],
        f"Web attack on web1 from one source: a Nikto scan, hand-made requests for /.env, /.git/config, "
        f"/wp-login.php and /../../etc/passwd, then sqlmap against /index.php?id= (SQL injection, "
        f"UNION SELECT); {len(nikto_paths) + len(manual) + len(payloads)} requests, mostly 404/403/400/500.",
    )


# The shop's sign-in as the nginx log shows it: the form re-rendered ("wrong password") is always
# this size, a success is a redirect to the account page; the API answers 401, or 200 with a token.
LOGIN_FORM = "/account/login"
LOGIN_PAGE = f"https://{SITE}{LOGIN_FORM}"
FORM_FAILED = 5_318
API_AUTH = "/api/v1/auth/login"
API_FAILED = 58


def _login_burst(gen: Generator, ip: str, t: int, tries: int, gap: tuple[float, float], ua: str, tag: str,
                 path: str = LOGIN_FORM, failed: tuple[int, int] = (200, FORM_FAILED), ref: str = LOGIN_PAGE) -> int:
    """``tries`` failed POSTs from ``ip`` starting at ``t`` (one TLS connection for them); the time after."""
    start = t
    for _ in range(tries):
        gen.access(t, ip, "POST", path, "HTTP/2.0", failed[0], failed[1], ref, ua, tag)
        t += gen.jitter(*gap)
    gen.web_conn(start, ip, t - start + gen.jitter(1, 5), tries * (failed[1] + 400), tag)
    return t


def web_brute_force(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """One source POSTs the sign-in form hundreds of times with a browser's user agent and referer."""
    ip = gen.attack_source(a.id, (WEB1_PUB,))
    ua = gen.BROWSERS[0]
    t = start
    gen.access(t, ip, "GET", LOGIN_FORM, "HTTP/2.0", 200, 4_980, f"https://{SITE}/", ua, a.id)
    n = a.params["tries"]
    _login_burst(gen, ip, t + gen.jitter(2, 4), n, a.params["gap_s"], ua, a.id)
    return [], (f"Web login brute force on web1 from one source: {n} POSTs to {LOGIN_FORM} in a few minutes, each "
                f"answered by the form again ({FORM_FAILED} bytes: wrong password), with an ordinary browser user "
                f"agent and the sign-in page as referer.")


def web_compromise(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """A brute force on the sign-in form that ends in a redirect to the account page: it got in."""
    ip = gen.attack_source(a.id, (WEB1_PUB,))
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36"
    n = a.params["tries"]
    t = _login_burst(gen, ip, start, n, a.params["gap_s"], ua, a.id)
    gen.access(t, ip, "POST", LOGIN_FORM, "HTTP/2.0", 302, 0, LOGIN_PAGE, ua, a.id)
    for path, size in (("/account", 8_204), ("/account/orders", 12_730), ("/account/payment-methods", 9_911)):
        t += gen.jitter(2, 9)
        gen.access(t, ip, "GET", path, "HTTP/2.0", 200, size, LOGIN_PAGE, ua, a.id)
    return [], (f"Web login brute force on web1 that succeeded: {n} failed POSTs to {LOGIN_FORM} from one source, then "
                f"a 302 to /account and the account's orders and payment methods: the attacker got in.")


def web_spraying(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """Many sources at once, a try or two each, against the sign-in form: one password over many accounts."""
    rng = gen.rng
    n_src = a.params["sources"]
    window = a.params["minutes"] * MINUTE
    for ip in gen.campaign_sources(a.id, n_src, a.params["nets"], (WEB1_PUB,)):
        ua = rng.choice(gen.BROWSERS)
        _login_burst(gen, ip, start + gen.jitter(0, window / US), rng.choice((1, 1, 2)), (20, 90), ua, a.id)
    return [], (f"Distributed password spraying against web1's sign-in: {n_src} addresses each POST {LOGIN_FORM} once "
                f"or twice within {a.params['minutes']} minutes, all told 'wrong password' (the usernames are not in "
                f"the access log).")


def web_stuffing(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """A surge of bots on the login API, several leaked pairs each; one pair works."""
    rng = gen.rng
    n_src = a.params["sources"]
    window = a.params["minutes"] * MINUTE
    uas = ("Mozilla/5.0 (Linux; Android 13; SM-A515F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36",
           "okhttp/4.12.0", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148")
    lucky = rng.randrange(n_src)
    ips = gen.campaign_sources(a.id, n_src, a.params["nets"], (WEB1_PUB,), BOTNET_16S)
    for k, ip in enumerate(ips):
        ua = rng.choice(uas)
        tries = rng.randint(3, 8) if k != lucky else rng.randint(4, 8)
        t = _login_burst(gen, ip, start + gen.jitter(0, window / US), tries, (2, 15), ua, a.id,
                         path=API_AUTH, failed=(401, API_FAILED), ref="-")
        if k == lucky:
            gen.access(t, ip, "POST", API_AUTH, "HTTP/2.0", 200, 1_433, "-", ua, a.id)
            gen.access(t + gen.jitter(1, 3), ip, "GET", "/api/v1/account", "HTTP/2.0", 200, 2_318, "-", ua, a.id)
    return [], (f"Credential stuffing against web1's login API: {n_src} addresses POST {API_AUTH} 3-8 times each "
                f"within {a.params['minutes']} minutes (401 each time) with phone-like user agents; one pair works "
                f"(200 with a token, then /api/v1/account).")
