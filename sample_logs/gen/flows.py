"""Zeek conn.log and Suricata EVE: connection and alert primitives, benign outbound traffic, DNS,
sensor stats, and rendering both files."""

from __future__ import annotations

import json
import random
import time
from typing import TYPE_CHECKING

from .common import (
    BASTION_INT,
    Conn,
    DAY,
    DB1_INT,
    DEBIAN_MIRROR,
    EveRec,
    HOUR,
    MINUTE,
    OUTBOUND_DESTS,
    OUTBOUND_SNI,
    RESOLVER,
    UPSTREAM_DNS,
    US,
    WEB1_INT,
    WINDOW_END,
    WINDOW_START,
    WORKSTATIONS,
    community_id,
    fmt_eve,
    fmt_zeek,
    fmt_zeek_interval,
    fmt_zeek_open,
    is_local,
)
from .signatures import SIGS

if TYPE_CHECKING:
    from .core import Generator


class FlowMixin:
    """Connections (Zeek) and Suricata records, and the internal outbound traffic."""

    # -- network ------------------------------------------------------------------------------

    def conn(
        self,
        ts,
        orig,
        op,
        resp,
        rp,
        proto="tcp",
        service=None,
        duration=None,
        ob=None,
        rb=None,
        state="SF",
        history=None,
        opk=None,
        oipb=None,
        rpk=None,
        ripb=None,
        tag=None,
        eve=None,
    ) -> Conn:
        rng = self.rng
        if history is None:
            history = {"ssh": "ShAdDaFf", "http": "ShADadfF", "ssl": "ShADadFf", "dns": "Dd"}.get(
                service or "", "ShADadFf"
            )
        if proto == "udp":
            opk = opk if opk is not None else 1
            rpk = rpk if rpk is not None else (1 if rb else 0)
            oipb = oipb if oipb is not None else (ob or 0) + 28 * opk
            ripb = ripb if ripb is not None else (rb or 0) + 28 * rpk
        elif opk is None and ob is not None:
            rpk = max(3, (rb or 0) // 1300 + rng.randint(3, 8))
            opk = max(4, ob // 1300 + rng.randint(4, 9), rpk // 2 + rng.randint(0, 3))
            oipb = ob + 52 * opk
            ripb = (rb or 0) + 52 * rpk
        if eve is None:
            eve = rng.random() < 0.02
        c = Conn(
            ts,
            orig,
            op,
            resp,
            rp,
            proto,
            service,
            duration,
            ob,
            rb,
            state,
            history,
            opk,
            oipb,
            rpk,
            ripb,
            tag,
            self.zeek_uid(),
            self.flow_id(),
            eve,
        )
        self.conns.append(c)
        return c

    def tcp_ok(self, ts, orig, op, resp, rp, service, dur_us, ob, rb, tag=None, eve=None) -> Conn:
        hist = (
            self.rng.choice(("ShADadFf", "ShADadfF", "ShADdaFf"))
            if service != "ssh"
            else self.rng.choice(("ShAdDaFf", "ShAdDaFf", "ShADadFf"))
        )
        return self.conn(ts, orig, op, resp, rp, "tcp", service, dur_us, ob, rb, "SF", hist, tag=tag, eve=eve)

    def eve_base(self, ts: int, c: Conn, event_type: str, swap: bool = False) -> dict:
        src, sp, dst, dp = (c.resp, c.rp, c.orig, c.op) if swap else (c.orig, c.op, c.resp, c.rp)
        d = {
            "timestamp": fmt_eve(ts),
            "flow_id": c.flow_id,
            "in_iface": "ens19",
            "event_type": event_type,
            "src_ip": src,
            "src_port": sp,
            "dest_ip": dst,
            "dest_port": dp,
            "proto": c.proto.upper(),
        }
        return d

    def add_eve(self, ts: int, obj: dict, tag: str | None) -> None:
        self.eve.append(EveRec(ts, self.seq(), obj, tag))

    def eve_alert(
        self,
        ts: int,
        c: Conn,
        sig: str,
        tag: str | None,
        app_proto: str | None = None,
        extra: dict | None = None,
        to_client: bool = False,
    ) -> None:
        sid, rev, text, cat, sev, created, updated = SIGS[sig]
        c.alerted = True
        c.eve = True
        d = self.eve_base(ts, c, "alert", swap=to_client)
        d["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 6 if c.proto == "tcp" else 17)
        if extra and "tx_id" in extra:
            d["tx_id"] = extra["tx_id"]
        d["alert"] = {
            "action": "allowed",
            "gid": 1,
            "signature_id": sid,
            "rev": rev,
            "signature": text,
            "category": cat,
            "severity": sev,
            "metadata": {"created_at": [created], "updated_at": [updated]},
        }
        if extra:
            for k, v in extra.items():
                if k != "tx_id":
                    d[k] = v
        if app_proto:
            d["app_proto"] = app_proto
        elapsed = max(0, ts - c.ts)
        frac = 1.0 if not c.duration else min(1.0, elapsed / max(1, c.duration))
        d["direction"] = "to_client" if to_client else "to_server"
        pts = max(1, int(c.opk * frac))
        ptc = int(c.rpk * frac)
        if elapsed < 10_000 or pts == 1:  # the first packet (a SYN) is what matched
            pts, ptc = 1, 0
        d["flow"] = {
            "pkts_toserver": pts,
            "pkts_toclient": ptc,
            "bytes_toserver": 74 if pts == 1 else int((c.oipb + 14 * c.opk) * pts / max(1, c.opk)),
            "bytes_toclient": 0 if ptc == 0 else int((c.ripb + 14 * c.rpk) * ptc / max(1, c.rpk)),
            "start": fmt_eve(c.ts),
        }
        self.add_eve(ts, d, tag)

    # -- benign: internal outbound traffic ---------------------------------------------------

    def gen_outbound(self) -> None:
        rng = self.rng
        day0 = WINDOW_START - WINDOW_START % DAY
        per_day = 70 * self.sc.browse
        for d in range(8):
            day = day0 + d * DAY
            workday = time.gmtime(day // US).tm_wday < 5
            n = int(per_day * (1.0 if workday else 0.15))
            for _ in range(n):
                t = day + 7 * HOUR + self.jitter(0, 11 * 3600)
                if not (WINDOW_START <= t < WINDOW_END - MINUTE):
                    continue
                src = rng.choice(WORKSTATIONS)
                dst, port, svc = rng.choice(OUTBOUND_DESTS)
                dur = self.jitter(0.2, 240)
                c = self.tcp_ok(
                    t,
                    src,
                    self.eph_port("windows"),
                    dst,
                    port,
                    svc,
                    dur,
                    rng.randint(900, 30_000),
                    rng.randint(3_000, 900_000),
                    None,
                    rng.random() < 0.05,
                )
                if c.eve:
                    self.eve_tls(
                        t + self.jitter(0.01, 0.1),
                        c,
                        OUTBOUND_SNI[dst],
                        f"CN={OUTBOUND_SNI[dst]}",
                        "C=US, O=Google Trust Services, CN=WR2"
                        if dst.startswith(("142.", "172."))
                        else "C=US, O=DigiCert Inc, CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1",
                        None,
                    )
            # the resolver forwards lookups upstream
            for _ in range(int(per_day * 0.6)):
                t = day + self.jitter(0, 86_399)
                if not (WINDOW_START <= t < WINDOW_END - MINUTE):
                    continue
                name = OUTBOUND_SNI[rng.choice(OUTBOUND_DESTS)[0]]
                self.dns(t, name, rng.choice(OUTBOUND_DESTS)[0], None, eve=rng.random() < 0.08)
            # apt on the servers, once a day (unattended-upgrades timer)
            for src in (BASTION_INT, WEB1_INT, DB1_INT):
                t = day + 6 * HOUR + self.jitter(0, 3600)
                if not (WINDOW_START <= t < WINDOW_END - MINUTE):
                    continue
                for mirror, host, path in (
                    (DEBIAN_MIRROR[0], "deb.debian.org", "/debian/dists/bookworm-updates/InRelease"),
                    (DEBIAN_MIRROR[1], "security.debian.org", "/debian-security/dists/bookworm-security/InRelease"),
                ):
                    c = self.tcp_ok(
                        t, src, self.eph_port(), mirror, 80, "http", self.jitter(0.05, 0.4), 412, 1_512, None, True
                    )
                    self.eve_http(
                        t + self.jitter(0.01, 0.05),
                        c,
                        host,
                        path,
                        "Debian APT-HTTP/1.3 (2.6.1)",
                        "GET",
                        304,
                        0,
                        None,
                        content_type=None,
                    )
                    t += self.jitter(0.2, 1.0)

    def dns(self, t: int, name: str, answer: str, tag, eve: bool = False) -> None:
        rng = self.rng
        up = rng.choice(UPSTREAM_DNS)
        port = self.eph_port()
        qlen = 17 + len(name) + 11
        c = self.conn(
            t,
            RESOLVER,
            port,
            up,
            53,
            "udp",
            "dns",
            self.jitter(0.004, 0.03),
            qlen,
            qlen + 16 * rng.randint(1, 3),
            tag=tag,
            eve=eve,
        )
        if eve:
            txid = rng.randint(1, 65535)
            q = self.eve_base(t, c, "dns")
            q["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 17)
            q["dns"] = {"type": "query", "id": txid, "rrname": name, "rrtype": "A", "tx_id": 0, "opcode": 0}
            self.add_eve(t, q, tag)
            ta = t + c.duration
            a = self.eve_base(ta, c, "dns")  # Suricata keeps the flow's direction on answers
            a["community_id"] = q["community_id"]
            ttl = rng.choice((60, 300, 3600))
            a["dns"] = {
                "version": 2,
                "type": "answer",
                "id": txid,
                "flags": "8180",
                "qr": True,
                "rd": True,
                "ra": True,
                "opcode": 0,
                "rrname": name,
                "rrtype": "A",
                "rcode": "NOERROR",
                "answers": [{"rrname": name, "rrtype": "A", "ttl": ttl, "rdata": answer}],
                "grouped": {"A": [answer]},
            }
            self.add_eve(ta, a, tag)
    # -- suricata stats -----------------------------------------------------------------------

    def gen_stats(self) -> None:
        rng = self.rng
        uptime0 = 1_983_422
        pkts = 0
        for i in range(5):
            t = WINDOW_START + i * (WINDOW_END - WINDOW_START - 60 * US) // 4 + self.jitter(0, 7)
            up = uptime0 + (t - WINDOW_START) // US
            pkts += rng.randint(9_000_000, 14_000_000)
            tcp = int(pkts * 0.83)
            udp = int(pkts * 0.15)
            d = {
                "timestamp": fmt_eve(t),
                "event_type": "stats",
                "stats": {
                    "uptime": up,
                    "capture": {"kernel_packets": pkts + 1_200, "kernel_drops": rng.randint(0, 40) * i, "errors": 0},
                    "decoder": {
                        "pkts": pkts,
                        "bytes": pkts * rng.randint(600, 760),
                        "invalid": 17 * i,
                        "ipv4": pkts - 900,
                        "ipv6": 900,
                        "ethernet": pkts,
                        "tcp": tcp,
                        "udp": udp,
                        "icmpv4": pkts - tcp - udp - 900,
                        "icmpv6": 900,
                        "avg_pkt_size": 688,
                        "max_pkt_size": 1514,
                    },
                    "flow": {
                        "memcap": 0,
                        "tcp": int(tcp / 21),
                        "udp": int(udp / 3),
                        "icmpv4": 4_410 + i * 300,
                        "icmpv6": 812,
                        "tcp_reuse": 0,
                        "memuse": 7_474_304 + i * 61_440,
                    },
                    "tcp": {
                        "sessions": int(tcp / 23),
                        "ssn_memcap_drop": 0,
                        "syn": int(tcp / 19),
                        "synack": int(tcp / 22),
                        "rst": int(tcp / 140),
                        "midstream_pickups": 0,
                        "invalid_checksum": 0,
                    },
                    "detect": {
                        "engines": [
                            {
                                "id": 0,
                                "last_reload": "2026-10-21T04:00:12.118630+0000",
                                "rules_loaded": 48_212,
                                "rules_failed": 0,
                                "rules_skipped": 0,
                            }
                        ],
                        "alert": 1_204 + 310 * i,
                        "alert_queue_overflow": 0,
                        "alerts_suppressed": 118 * i,
                    },
                    "app_layer": {
                        "flow": {
                            "http": 9_100 + 700 * i,
                            "tls": 88_400 + 9_000 * i,
                            "ssh": 5_300 + 800 * i,
                            "dns_udp": 60_300 + 6_000 * i,
                            "failed_tcp": 1_900 + 130 * i,
                        },
                        "tx": {
                            "http": 19_200 + 1_500 * i,
                            "tls": 88_400 + 9_000 * i,
                            "ssh": 5_300 + 800 * i,
                            "dns_udp": 121_000 + 12_000 * i,
                        },
                    },
                },
            }
            self.add_eve(t, d, None)

    def gen_anomalies(self) -> None:
        """A few stream/decoder anomalies on ordinary traffic, as every sensor has."""
        rng = self.rng
        pool = [c for c in self.conns if c.proto == "tcp" and c.tag is None and c.state == "SF"]
        for _ in range(6):
            c = rng.choice(pool)
            ts = c.ts + (c.duration or 0) // 2
            a = self.eve_base(ts, c, "anomaly")
            a["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 6)
            a["anomaly"] = rng.choice(
                (
                    {"type": "stream", "event": "stream.pkt_invalid_timestamp"},
                    {"type": "stream", "event": "stream.3whs_synack_with_wrong_ack"},
                    {"type": "stream", "event": "stream.est_packet_out_of_window"},
                )
            )
            self.add_eve(ts, a, None)


def zeek_lines(gen: Generator) -> list[tuple[int, str, str | None]]:
    header = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        f"#open\t{fmt_zeek_open(WINDOW_START)}",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\t"
        "conn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\t"
        "tunnel_parents",
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\t"
        "string\tcount\tcount\tcount\tcount\tset[string]",
    ]
    out = [(WINDOW_START, h, None) for h in header]
    conns = sorted(
        (c for c in gen.conns if WINDOW_START <= c.ts < WINDOW_END),
        key=lambda c: (c.ts + (c.duration or 0), c.ts, c.uid),
    )
    # Zeek writes a connection when it ends (or times out), so the file is ordered by end time.
    for c in conns:
        dash = "-"
        fields = [
            fmt_zeek(c.ts),
            c.uid,
            c.orig,
            str(c.op),
            c.resp,
            str(c.rp),
            c.proto,
            c.service or dash,
            fmt_zeek_interval(c.duration) if c.duration is not None else dash,
            str(c.ob) if c.ob is not None else dash,
            str(c.rb) if c.rb is not None else dash,
            c.state,
            "T" if is_local(c.orig) else "F",
            "T" if is_local(c.resp) else "F",
            "0",
            c.history,
            str(c.opk),
            str(c.oipb),
            str(c.rpk),
            str(c.ripb),
            dash,
        ]
        out.append((c.ts, "\t".join(fields), c.tag))
    out.append((WINDOW_END, f"#close\t{fmt_zeek_open(WINDOW_END)}", None))
    return out


def eve_lines(gen: Generator) -> list[tuple[int, str, str | None]]:
    rng = random.Random(gen.seed * 104729)
    recs = list(gen.eve)
    for c in gen.conns:
        if not c.eve or not (WINDOW_START <= c.ts < WINDOW_END):
            continue
        end = c.ts + (c.duration or 0)
        emit = end + int(rng.uniform(20, 130) * US)
        proto_num = {"tcp": 6, "udp": 17, "icmp": 1}[c.proto]
        d = {
            "timestamp": fmt_eve(emit),
            "flow_id": c.flow_id,
            "in_iface": "ens19",
            "event_type": "flow",
            "src_ip": c.orig,
        }
        if c.proto != "icmp":
            d["src_port"] = c.op
        d["dest_ip"] = c.resp
        if c.proto != "icmp":
            d["dest_port"] = c.rp
        d["proto"] = {"tcp": "TCP", "udp": "UDP", "icmp": "ICMP"}[c.proto]
        if c.proto == "icmp":
            d["icmp_type"] = 8
            d["icmp_code"] = 0
        app = {"ssh": "ssh", "ssl": "tls", "http": "http", "dns": "dns"}.get(c.service or "")
        if app:
            d["app_proto"] = app
        if c.state in ("S0", "REJ"):
            state, tstate = ("new", "syn_sent") if c.state == "S0" else ("closed", "closed")
        elif c.state == "RSTO" or c.proto == "tcp":
            state, tstate = "closed", "closed"
        else:
            state, tstate = "established", None
        d["flow"] = {
            "pkts_toserver": c.opk,
            "pkts_toclient": c.rpk,
            "bytes_toserver": c.oipb + 14 * c.opk,
            "bytes_toclient": c.ripb + 14 * c.rpk,
            "start": fmt_eve(c.ts),
            "end": fmt_eve(end),
            "age": (c.duration or 0) // US,
            "state": state,
            "reason": "timeout",
            "alerted": c.alerted,
        }
        d["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, proto_num)
        if c.proto == "tcp":
            if c.state == "S0":
                flags = {"tcp_flags": "02", "tcp_flags_ts": "02", "tcp_flags_tc": "00", "syn": True}
            elif c.state == "REJ":
                flags = {
                    "tcp_flags": "16",
                    "tcp_flags_ts": "02",
                    "tcp_flags_tc": "14",
                    "syn": True,
                    "rst": True,
                    "ack": True,
                }
            elif c.state == "RSTO":
                flags = {
                    "tcp_flags": "16",
                    "tcp_flags_ts": "06",
                    "tcp_flags_tc": "12",
                    "syn": True,
                    "rst": True,
                    "ack": True,
                }
            else:
                flags = {
                    "tcp_flags": "1b",
                    "tcp_flags_ts": "1b",
                    "tcp_flags_tc": "1b",
                    "syn": True,
                    "fin": True,
                    "psh": True,
                    "ack": True,
                }
            flags["state"] = tstate
            d["tcp"] = flags
        recs.append(EveRec(emit, 10**9 + len(recs), d, c.tag))
    recs = [r for r in recs if WINDOW_START <= r.ts < WINDOW_END]
    recs.sort(key=lambda r: (r.ts, r.seq))
    return [(r.ts, json.dumps(r.obj, separators=(",", ":"), ensure_ascii=False), r.tag) for r in recs]
