"""nginx access log traffic: request lines, benign visitors, monitoring and crawlers, and their flows."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

from .common import (
    BINGBOT,
    Conn,
    GOOGLEBOT,
    HOUR,
    MINUTE,
    MONITOR_IP,
    SECOND,
    SITE,
    US,
    WEB1_PUB,
    WINDOW_END,
    WINDOW_START,
    WebRec,
    community_id,
    fmt_nginx,
)

if TYPE_CHECKING:
    from .core import Generator


class WebMixin:
    """nginx access lines and the Zeek/EVE records that go with web traffic."""

    # -- benign: web traffic ------------------------------------------------------------------

    PAGES = (
        ("/", 18_432),
        ("/products", 24_110),
        ("/products/vedette-sensor", 21_876),
        ("/products/vedette-cloud", 20_934),
        ("/pricing", 15_233),
        ("/about", 9_876),
        ("/contact", 7_421),
        ("/blog", 16_502),
        ("/blog/2026/11/rotating-logs-without-tears", 31_205),
        ("/blog/2026/10/what-sshd-tells-you", 28_119),
        ("/blog/2026/09/zeek-conn-states-explained", 33_604),
        ("/docs", 12_980),
        ("/docs/install", 19_455),
        ("/docs/faq", 22_310),
        ("/careers", 8_765),
    )
    ASSETS = (
        ("/static/css/app.4f3c2a.css", 48_211),
        ("/static/js/app.9b1e07.js", 142_377),
        ("/static/js/vendor.1c2d3e.js", 288_930),
        ("/static/img/logo.svg", 3_411),
        ("/static/img/hero.webp", 96_540),
        ("/static/fonts/inter-var.woff2", 71_220),
        ("/favicon.ico", 4_286),
    )
    BROWSERS = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
        "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0",
    )
    REFERERS = (
        "-",
        "-",
        "-",
        "https://www.google.com/",
        "https://www.google.com/",
        "https://www.bing.com/",
        "https://duckduckgo.com/",
        "https://www.linkedin.com/",
        "https://news.ycombinator.com/",
    )

    def access(
        self,
        ts: int,
        ip: str,
        method: str,
        path: str,
        proto: str,
        status: int,
        size: int,
        ref: str,
        ua: str,
        tag: str | None,
    ) -> None:
        line = f'{ip} - - [{fmt_nginx(ts)}] "{method} {path} {proto}" {status} {size} "{ref}" "{ua}"'
        self.web.append(WebRec(ts, self.seq(), line, tag))

    def access_raw(self, ts: int, ip: str, request: str, status: int, size: int, ref: str, ua: str, tag) -> None:
        line = f'{ip} - - [{fmt_nginx(ts)}] "{request}" {status} {size} "{ref}" "{ua}"'
        self.web.append(WebRec(ts, self.seq(), line, tag))

    def gen_visitors(self) -> None:
        rng = self.rng
        hour_weight = (2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 11, 11, 10, 9, 8, 7, 7, 6, 5, 4, 3)
        total_w = sum(hour_weight)
        per_day = 60 * self.sc.browse
        returning: list[tuple[str, str]] = []
        t_hour = WINDOW_START
        while t_hour < WINDOW_END - 10 * MINUTE:
            h = time.gmtime(t_hour // US).tm_hour
            expected = per_day * hour_weight[h] / total_w
            n = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
            for _ in range(n):
                if returning and rng.random() < 0.2:
                    ip, ua = rng.choice(returning)
                else:
                    ip, ua = self.random_public_ip(), rng.choice(self.BROWSERS)
                    if len(returning) < 200:
                        returning.append((ip, ua))
                self.visit(t_hour + self.jitter(0, 3599), ip, ua)
            t_hour += HOUR

    def visit(self, t: int, ip: str, ua: str) -> None:
        rng = self.rng
        proto = "HTTP/2.0"
        ref = rng.choice(self.REFERERS)
        pages = [rng.choice(self.PAGES)]
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 4))):
            pages.append(rng.choice(self.PAGES))
        cached = rng.random() < 0.25
        conn_start = t
        conn_bytes = 0
        last = t
        for i, (path, size) in enumerate(pages):
            if i:
                gap = self.jitter(4, 50) if rng.random() < 0.8 else self.jitter(66, 300)
                t = last + gap
                if gap > 65 * US:  # past nginx keepalive_timeout: the browser opens a new connection
                    self.web_conn(conn_start, ip, last + self.jitter(1, 3) - conn_start, conn_bytes, None)
                    conn_start = t
                    conn_bytes = 0
            status = 200
            if rng.random() < 0.02:
                path, size, status = path + "-old", 3_712, 404
            body = size + rng.randint(-300, 300) if status == 200 else size
            self.access(t, ip, "GET", path, proto, status, body, ref, ua, None)
            conn_bytes += body
            last = t
            page_url = f"https://{SITE}{path}"
            if i == 0:
                for apath, asize in self.ASSETS:
                    ta = t + self.jitter(0.05, 0.9)
                    last = max(last, ta)
                    if cached and apath != "/favicon.ico":
                        self.access(ta, ip, "GET", apath, proto, 304, 0, page_url, ua, None)
                    else:
                        self.access(ta, ip, "GET", apath, proto, 200, asize, page_url, ua, None)
                        conn_bytes += asize
            if path == "/products" and rng.random() < 0.3:
                tq = t + self.jitter(1, 4)
                last = max(last, tq)
                self.access(tq, ip, "GET", "/api/v1/cart", proto, 200, rng.randint(90, 600), page_url, ua, None)
            ref = page_url
        self.web_conn(conn_start, ip, last + self.jitter(1, 65) - conn_start, max(conn_bytes, 1200), None)

    def web_conn(
        self, ts: int, ip: str, dur: int, rb: int, tag, port: int = 443, service: str = "ssl", eve=None
    ) -> Conn:
        ob = self.rng.randint(900, 2400) + rb // 40
        c = self.tcp_ok(
            ts, ip, self.eph_port("windows"), WEB1_PUB, port, service, max(dur, 1000), ob, rb + 4_800, tag, eve
        )
        if c.eve and service == "ssl":
            self.eve_tls(
                ts + self.jitter(0.02, 0.2), c, SITE, "CN=www.example.com", "C=US, O=Let's Encrypt, CN=R11", tag
            )
        return c

    def eve_tls(self, ts: int, c: Conn, sni: str, subject: str, issuer: str, tag, ja3: str | None = None) -> None:
        d = self.eve_base(ts, c, "tls")
        d["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 6)
        fp = hashlib.sha1(f"{subject}|{issuer}".encode()).hexdigest()
        serial = hashlib.md5(subject.encode()).hexdigest().upper()[:32]
        tls = {
            "subject": subject,
            "issuerdn": issuer,
            "serial": ":".join(serial[i : i + 2] for i in range(0, len(serial), 2)),
            "fingerprint": ":".join(fp[i : i + 2] for i in range(0, 40, 2)),
            "sni": sni,
            "version": "TLS 1.2" if ja3 else "TLS 1.3",
            "notbefore": "2026-10-02T11:20:31",
            "notafter": "2026-12-31T11:20:30",
        }
        if ja3:
            tls["notbefore"] = "2026-11-16T22:41:09"
            tls["notafter"] = "2027-11-16T22:41:09"
            tls["ja3"] = {"hash": hashlib.md5(ja3.encode()).hexdigest(), "string": ja3}
        elif c.orig != WEB1_PUB and c.resp != WEB1_PUB:
            tls["notbefore"] = "2026-10-20T08:14:02"
            tls["notafter"] = "2027-01-12T08:14:01"
        d["tls"] = tls
        self.add_eve(ts, d, tag)

    def gen_monitoring(self) -> None:
        tag = "B3"
        self.note_ip(tag, MONITOR_IP)
        t = WINDOW_START + self.jitter(0.0, 15.0)
        while t < WINDOW_END:
            self.access(t, MONITOR_IP, "GET", "/healthz", "HTTP/1.1", 200, 2, "-", "Blackbox Exporter/0.25.0", tag)
            t += 15 * SECOND + self.jitter(-0.004, 0.006)

    # -- benign: logins that look like attacks ------------------------------------------------

    def _sign_in(self, t: int, ip: str, ua: str, tag, typos: int = 0, xff: str | None = None) -> None:
        """A person signs in to the shop: the form, ``typos`` wrong passwords, a redirect, the account."""
        from .web_attacks import FORM_FAILED, LOGIN_FORM, LOGIN_PAGE

        def line(ts, method, path, status, size, ref):
            extra = f' "{xff}"' if xff else ""
            self.web.append(WebRec(ts, self.seq(), f'{ip} - - [{fmt_nginx(ts)}] "{method} {path} HTTP/2.0" '
                                                   f'{status} {size} "{ref}" "{ua}"{extra}', tag))

        line(t, "GET", LOGIN_FORM, 200, 4_980, f"https://{SITE}/")
        for _ in range(typos):
            t += self.jitter(6, 25)
            line(t, "POST", LOGIN_FORM, 200, FORM_FAILED, LOGIN_PAGE)
        t += self.jitter(6, 25)
        line(t, "POST", LOGIN_FORM, 302, 0, LOGIN_PAGE)
        line(t + self.jitter(0.2, 0.8), "GET", "/account", 200, 8_204 + self.rng.randint(-40, 40), LOGIN_PAGE)

    def gen_shop_logins(self) -> None:
        """Customers sign in from their own addresses (one in ten mistypes once), and one mistypes three times."""
        tag = "B7"
        rng = self.rng
        per_day = 24 * self.sc.browse
        n = int(per_day * (WINDOW_END - WINDOW_START) / (24 * HOUR))
        for _ in range(n):
            ip = self.random_public_ip()
            self.note_ip(tag, ip)
            t = WINDOW_START + self.jitter(0, (WINDOW_END - WINDOW_START) / US - 600)
            self._sign_in(t, ip, rng.choice(self.BROWSERS), tag, typos=1 if rng.random() < 0.1 else 0)
        ip = self.random_public_ip()
        self.note_ip("B10", ip)
        self._sign_in(WINDOW_START + 2 * 24 * HOUR + self.jitter(0, 36_000), ip, self.BROWSERS[6], "B10", typos=3)

    def gen_login_services(self) -> None:
        """The mobile app refreshing its token, an uptime check POSTing the health API, and a CDN edge that
        carries many customers' sign-ins (their address in X-Forwarded-For)."""
        rng = self.rng
        phone = self.random_public_ip()
        self.note_ip("B8", phone)
        app_ua = "ExampleShop/5.3.1 (iPhone; iOS 18.7; Scale/3.00)"
        t = WINDOW_START + self.jitter(0, 600)
        while t < WINDOW_END:
            self.access(t, phone, "POST", "/oauth/token", "HTTP/2.0", 200, 1_187, "-", app_ua, "B8")
            t += 15 * MINUTE + self.jitter(-20, 20)
        probe = self.random_public_ip()
        self.note_ip("B9", probe)
        t = WINDOW_START + self.jitter(0, 60)
        while t < WINDOW_END:
            self.access(t, probe, "POST", "/api/v1/health", "HTTP/1.1", 200, 27, "-", "UptimeRobot/2.0", "B9")
            t += 15 * MINUTE + self.jitter(-0.5, 0.5)
        edge = self.random_public_ip()
        self.note_ip("B11", edge)
        per_day = 40 * self.sc.browse
        n = int(per_day * (WINDOW_END - WINDOW_START) / (24 * HOUR))
        for _ in range(n):
            t = WINDOW_START + self.jitter(0, (WINDOW_END - WINDOW_START) / US - 600)
            client = f"100.{rng.randint(64, 127)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            self._sign_in(t, edge, rng.choice(self.BROWSERS), "B11", typos=1 if rng.random() < 0.08 else 0,
                          xff=client)

    def gen_crawlers(self) -> None:
        tag = "B4"
        rng = self.rng
        google_ua = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        google_smart = (
            "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/142.0.7444.59 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        )
        bing_ua = (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) "
            "Chrome/116.0.1938.76 Safari/537.36"
        )
        extra = (("/robots.txt", 412), ("/sitemap.xml", 6_211), ("/blog/feed.xml", 18_774))
        gone = ("/blog/2024/03/old-announcement", "/products/legacy-agent", "/docs/v1/install")
        for bot, ips, uas, per_day in (
            ("google", GOOGLEBOT, (google_ua, google_smart), 9),
            ("bing", BINGBOT, (bing_ua,), 6),
        ):
            for ip in ips:
                self.note_ip(tag, ip)
            n_bursts = int(per_day * 7)
            for _ in range(n_bursts):
                t = WINDOW_START + self.jitter(0, (WINDOW_END - WINDOW_START) / US - 600)
                ip = rng.choice(ips)
                ua = rng.choice(uas)
                proto = "HTTP/1.1" if bot == "bing" else rng.choice(("HTTP/1.1", "HTTP/2.0"))
                start = t
                total = 0
                if rng.random() < 0.35:
                    path, size = rng.choice(extra)
                    self.access(t, ip, "GET", path, proto, 200, size, "-", ua, tag)
                    total += size
                    t += self.jitter(0.5, 4)
                for _k in range(rng.randint(2, 9)):
                    r = rng.random()
                    if r < 0.06:
                        self.access(t, ip, "GET", rng.choice(gone), proto, 404, 3_712, "-", ua, tag)
                    elif r < 0.1:
                        self.access(t, ip, "GET", "/docs/", proto, 301, 162, "-", ua, tag)
                    else:
                        path, size = rng.choice(self.PAGES + self.ASSETS[:2])
                        self.access(t, ip, "GET", path, proto, 200, size + rng.randint(-200, 200), "-", ua, tag)
                        total += size
                    t += self.jitter(1, 20)
                self.web_conn(start, ip, t - start + self.jitter(1, 10), total, tag, eve=rng.random() < 0.1)


    def eve_http(
        self,
        ts: int,
        c: Conn,
        hostname: str,
        url: str,
        ua: str,
        method: str,
        status: int | None,
        length: int,
        tag,
        content_type: str | None = "text/html",
        tx_id: int = 0,
    ) -> dict:
        d = self.eve_base(ts, c, "http")
        d["tx_id"] = tx_id
        d["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 6)
        http = {"hostname": hostname, "url": url, "http_user_agent": ua}
        if content_type:
            http["http_content_type"] = content_type
        http["http_method"] = method
        http["protocol"] = "HTTP/1.1"
        if status is not None:
            http["status"] = status
        http["length"] = length
        d["http"] = http
        self.add_eve(ts, d, tag)
        return http


def web_lines(gen: Generator) -> list[tuple[int, str, str | None]]:
    recs = sorted((r for r in gen.web if WINDOW_START <= r.ts < WINDOW_END), key=lambda r: (r.ts, r.seq))
    return [(r.ts, r.line, r.tag) for r in recs]
