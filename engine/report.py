"""Incident PDF reports: one incident of a run, as a document an analyst hands to someone else.

Two stages, like the rest of the pipeline: ``gather`` reads everything the report shows from the
case (paged, aggregated SQL; never the whole events table) into a plain ``ReportData``, and
``render`` lays it out with fpdf2 (its own drawing for the charts; no plotting library).

Log text is hostile: every string that came from a log (users, hosts, addresses, raw lines, the
summary, analyst notes) goes through ``engine.textsafe.visible`` so control characters show as
escapes, and nothing is interpreted as markup (fpdf2's ``markdown`` stays off). Text is Unicode
end to end with the fonts bundled in ``engine/fonts`` (DejaVu, Droid Sans Fallback for CJK, Noto
Emoji); a character no bundled font has is shown as a ``\\uXXXX`` escape rather than an empty box.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fpdf import FPDF

from engine.explain import plain
from engine.rules import SEVERITIES, SEVERITY_RANK, by_id
from engine.textsafe import visible
from store.case import Case
from store.queries import (
    incident,
    incident_event_filter,
    incident_sources,
    latest_run_id,
)

# --- tunables (each with why) -------------------------------------------------------------------

# Entity tables stop here and say how many were left out: a report is read, not grepped.
MAX_SOURCE_ROWS = 150
MAX_USER_ROWS = 100
MAX_HOST_ROWS = 50
# Representative raw lines: the first and last few show how it started and ended, an even
# sample of the middle shows what it looked like; everything else is counted, not printed.
RAW_HEAD = 25
RAW_TAIL = 25
RAW_SAMPLE = 50
# A logged line can be 1 MB; past this many characters it is cut and the rest counted.
RAW_MAX_CHARS = 1200
# Bars in the timeline chart.
TIMELINE_BUCKETS = 48
# Longest entity name printed in a table cell (an attacker chooses usernames).
MAX_NAME_CHARS = 120

FONT_DIR = Path(__file__).resolve().parent / "fonts"
# Debian's fonts-dejavu-core and fonts-droid-fallback, where a package unbundles ours.
SYSTEM_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts-droid-fallback/truetype"),
)
FONTS = {  # family -> file; bold comes from its own file
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
    "cjk": "DroidSansFallback.ttf",
    "emoji": "NotoEmoji-Regular.ttf",
}

# ATT&CK technique names, as MITRE writes them (sub-techniques with their parent's name).
TECHNIQUES = {
    "T1110": "Brute Force",
    "T1110.001": "Brute Force: Password Guessing",
    "T1110.003": "Brute Force: Password Spraying",
    "T1110.004": "Brute Force: Credential Stuffing",
    "T1078": "Valid Accounts",
    "T1595": "Active Scanning",
    "T1595.002": "Active Scanning: Vulnerability Scanning",
    "T1595.003": "Active Scanning: Wordlist Scanning",
    "T1190": "Exploit Public-Facing Application",
    "T1046": "Network Service Discovery",
    "T1071": "Application Layer Protocol",
    "T1048": "Exfiltration Over Alternative Protocol",
    "T1499": "Endpoint Denial of Service",
}

SEVERITY_COLOURS = {
    "critical": (153, 27, 27),
    "high": (220, 38, 38),
    "medium": (217, 119, 6),
    "low": (37, 99, 235),
    "info": (107, 114, 128),
}
INK = (30, 41, 59)          # headings and body text
MUTED = (100, 116, 139)     # labels, captions, footer
RULE = (203, 213, 225)      # hairlines
TINT = (241, 245, 249)      # table headings, panels
FAILURE = (217, 119, 6)
SUCCESS = (220, 38, 38)
OTHER = (148, 163, 184)
BAR = (37, 99, 235)

CATEGORY_LABELS = {
    "brute_force": "Brute force",
    "password_spraying": "Password spraying",
    "credential_stuffing": "Credential stuffing",
    "suspicious_login": "Suspicious login",
    "scanner": "Scanning",
    "web_attack": "Web attack",
    "dos": "Denial of service",
    "c2_beaconing": "Command-and-control beaconing",
    "data_exfiltration": "Data exfiltration",
    "misconfiguration": "Misconfiguration",
    "background_noise": "Background noise",
    "anomaly": "Anomaly",
}

TRIAGE_LABELS = {
    "true_positive": "True positive: confirmed malicious",
    "benign": "Benign: not a threat",
    "needs_review": "Needs review",
}

# What an analyst does next, per category: a checklist, most urgent first.
NEXT_STEPS: dict[str, tuple[str, ...]] = {
    "brute_force": (
        "Confirm that no source in this incident logged in successfully later (search the case for "
        "outcome = 'success' from these addresses).",
        "Block the source addresses at the edge firewall or with fail2ban.",
        "Disable root login by password (PermitRootLogin prohibit-password) and prefer keys "
        "(PasswordAuthentication no) on the targeted hosts.",
        "Check that the targeted accounts that exist have strong passwords or keys only.",
    ),
    "password_spraying": (
        "Check every targeted account for a successful login from any source in the days after.",
        "Block the source addresses at the edge.",
        "Make lockout and alerting count failures across accounts per source, not only per account.",
        "Remove or disable accounts that should not accept remote logins; require MFA where possible.",
    ),
    "credential_stuffing": (
        "The accounts tried are real: check each for a successful login from an unfamiliar source.",
        "Reset the passwords of the targeted accounts; their credentials may be in a breach list.",
        "Rate-limit or block the source networks at the edge; many sources means blocking single "
        "addresses will not be enough.",
        "Require MFA or keys for the targeted accounts.",
    ),
    "suspicious_login": (
        "Treat it as a possible compromise until the account owner confirms the login.",
        "Review what the session did after the login: commands, sudo, new SSH keys in "
        "authorized_keys, cron jobs, new accounts, outbound connections.",
        "If it is not confirmed: disable the account, rotate its credentials and keys, and isolate "
        "the host for investigation.",
        "Block the source address and look for it in other logs and on other hosts.",
    ),
    "scanner": (
        "Check whether any scanned path or port answered successfully (2xx, open) and whether "
        "that exposure is intended.",
        "Rate-limit or block the sources at the edge or WAF.",
        "Watch for exploitation attempts from the same sources in the following days.",
    ),
    "web_attack": (
        "Check the responses to the malicious requests: a 200 or a 500 may mean the payload reached "
        "the application.",
        "Review the application and database logs around these times for errors and unexpected queries.",
        "Look for new or changed files in the web root (web shells) on the targeted hosts.",
        "Block the sources; patch or add WAF rules for the targeted endpoints.",
    ),
    "dos": (
        "Confirm the impact: error rates and latency of the service during the span.",
        "Rate-limit or block the sources at the edge, CDN or load balancer.",
        "Review capacity and per-client limits for the targeted endpoints.",
    ),
    "c2_beaconing": (
        "Isolate the internal host and identify the process that makes the connections.",
        "Look up the destination in threat intelligence; block it at the egress firewall and DNS.",
        "Collect memory and disk evidence before cleaning; check other hosts for the same destination.",
    ),
    "data_exfiltration": (
        "Find out what was sent and whether the transfer was authorised (a backup, a sync job).",
        "If not: block the destination, preserve the evidence and notify the data owner.",
        "Check the source host for compromise: how the data was gathered and by which account.",
    ),
    "misconfiguration": (
        "Fix the configuration that causes the events and verify that they stop.",
        "Check whether the misconfiguration exposed anything while it lasted.",
    ),
    "background_noise": (
        "No action on each source: this is the internet's constant background of login attempts.",
        "Keep password login disabled or fail2ban active on exposed SSH servers.",
        "Suppress well-known benign sources so they do not hide real attacks.",
    ),
    "anomaly": (
        "Read the raw lines in the appendix and decide whether the behaviour is expected.",
        "If it is benign, add a suppression so it does not come back; if not, label it and escalate.",
    ),
}
# Every category ends with this: the verdict belongs in the case.
RECORD_STEP = "Record the verdict and your notes in Vedette's triage so the next analysis keeps them."


class ReportError(Exception):
    """A problem the user reads as one line: an unknown incident, a case with no analysis."""


@dataclass(frozen=True)
class ReportInfo:
    """A written report: which incident, where, how many pages, how long it took (seconds)."""

    incident_id: str
    path: str
    pages: int
    seconds: float


@dataclass
class ReportData:
    """Everything one report shows, read from the case before any layout."""

    incident: dict[str, Any]
    run_id: str
    case_name: str
    generated_at: datetime
    event_count: int
    sources: list[dict] = field(default_factory=list)
    sources_total: int = 0
    users: list[dict] = field(default_factory=list)
    users_total: int = 0
    hosts: list[dict] = field(default_factory=list)
    hosts_total: int = 0
    # (bucket start, failures, successes, other) and the bucket width in seconds
    timeline: list[tuple[datetime, int, int, int]] = field(default_factory=list)
    bucket_seconds: float = 0.0
    # (1-based position among the incident's events in time order, event fields)
    raw: list[tuple[int, dict]] = field(default_factory=list)
    details: dict | None = None

    def texts(self) -> list[str]:
        """Every string of log or model origin the report may print (for choosing fonts)."""
        inc = self.incident
        out = [self.case_name, self.run_id, str(inc.get("summary") or ""), str(inc.get("triage_note") or "")]
        out += [str(x) for x in (inc.get("users") or [])] + [str(x) for x in (inc.get("hosts") or [])]
        out += [str(x) for x in (inc.get("src_ips") or [])]
        for rows in (self.sources, self.users, self.hosts):
            out += [str(r.get("name") or r.get("src_ip") or "") for r in rows]
        out += [str(e.get("raw") or "") + str(e.get("source_file") or "") for _, e in self.raw]
        if self.details:
            for k in ("summary", "intent", "impact"):
                out.append(str(self.details.get(k) or ""))
            out += [str(s) for s in self.details.get("next_steps") or []]
        return out


# --- gather: the case -> ReportData ------------------------------------------------------------


def gather(case: Case, incident_id: str, run_id: str | None = None) -> ReportData:
    """Read one incident's report contents; ``ReportError`` if the run or incident is missing."""
    run_id = run_id or latest_run_id(case)
    if run_id is None:
        raise ReportError(f"case {case.path} has not been analysed yet: run vedette analyze --db {case.path}")
    inc = incident(case, incident_id, run_id)
    if inc is None:
        raise ReportError(f"no incident {incident_id} in run {run_id} of case {case.path} "
                          f"(vedette incidents --db {case.path} lists them)")
    where, params = incident_event_filter(case, incident_id, run_id)
    con = case.con

    def scalar(sql: str) -> int:
        return int(con.execute(sql, params).fetchone()[0] or 0)

    data = ReportData(
        incident=inc, run_id=run_id, case_name=Path(case.path).name, generated_at=datetime.now(timezone.utc),
        event_count=scalar(f"SELECT count(*) FROM events WHERE {where}"),
    )
    data.sources = incident_sources(case, incident_id, run_id, limit=MAX_SOURCE_ROWS)
    data.sources_total = scalar(f"SELECT count(DISTINCT src_ip) FROM events WHERE {where}")
    data.users = _rows(con.execute(
        f"SELECT \"user\" AS name, count(*) AS events, count(*) FILTER (outcome = 'failure') AS failures, "
        f"count(*) FILTER (outcome = 'success') AS successes, count(DISTINCT src_ip) AS sources "
        f"FROM events WHERE {where} AND \"user\" IS NOT NULL GROUP BY \"user\" "
        f"ORDER BY events DESC, name LIMIT {MAX_USER_ROWS}", params))
    data.users_total = scalar(f"SELECT count(DISTINCT \"user\") FROM events WHERE {where}")
    data.hosts = _rows(con.execute(
        f"SELECT host AS name, count(*) AS events, count(*) FILTER (outcome = 'failure') AS failures, "
        f"count(*) FILTER (outcome = 'success') AS successes, count(DISTINCT src_ip) AS sources "
        f"FROM events WHERE {where} AND host IS NOT NULL GROUP BY host "
        f"ORDER BY events DESC, name LIMIT {MAX_HOST_ROWS}", params))
    data.hosts_total = scalar(f"SELECT count(DISTINCT host) FROM events WHERE {where}")
    data.timeline, data.bucket_seconds = _timeline(con, where, params)
    data.raw = _raw_sample(con, where, params, data.event_count)
    data.details = _summary_details(case, inc, run_id)
    return data


def _rows(cur) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _timeline(con, where: str, params: dict) -> tuple[list[tuple[datetime, int, int, int]], float]:
    """Events per equal slice of the incident's span, split by outcome."""
    lo, hi = con.execute(f"SELECT min(ts), max(ts) FROM events WHERE {where}", params).fetchone()
    if lo is None:
        return [], 0.0
    span = (hi - lo).total_seconds()
    buckets = TIMELINE_BUCKETS if span > 0 else 1
    width = max(span / buckets, 1e-6)
    rows = con.execute(
        f"SELECT least({buckets - 1}, floor((epoch(ts) - epoch($lo)) / $w))::INT AS b, "
        f"count(*) FILTER (outcome = 'failure'), count(*) FILTER (outcome = 'success'), "
        f"count(*) FILTER (outcome IS NULL OR outcome NOT IN ('failure', 'success')) "
        f"FROM events WHERE {where} AND ts IS NOT NULL GROUP BY b ORDER BY b",
        {**params, "lo": lo, "w": width},
    ).fetchall()
    counts = {b: (f, s, o) for b, f, s, o in rows}
    return ([(lo + timedelta(seconds=i * width), *counts.get(i, (0, 0, 0))) for i in range(buckets)],
            width if span > 0 else 0.0)


def sample_positions(total: int, head: int = RAW_HEAD, tail: int = RAW_TAIL, sample: int = RAW_SAMPLE) -> list[int]:
    """Which of ``total`` time-ordered lines (1-based) the appendix prints: the first ``head``,
    the last ``tail`` and ``sample`` spread evenly over the middle."""
    if total <= head + tail + sample:
        return list(range(1, total + 1))
    picked = set(range(1, head + 1)) | set(range(total - tail + 1, total + 1))
    lo, hi = head + 1, total - tail  # the middle, inclusive
    step = (hi - lo + 1) / sample
    picked |= {lo + int(step * k + step / 2) for k in range(sample)}
    return sorted(picked)


def _raw_sample(con, where: str, params: dict, total: int) -> list[tuple[int, dict]]:
    positions = sample_positions(total)
    if not positions:
        return []
    rows = _rows(con.execute(
        f"WITH e AS (SELECT ts, source_file, line_no, left(raw, {RAW_MAX_CHARS}) AS raw, length(raw) AS raw_len, "
        f"row_number() OVER (ORDER BY ts, source_file, line_no) AS pos FROM events WHERE {where}) "
        f"SELECT * FROM e WHERE pos IN (SELECT unnest($positions)) ORDER BY pos",
        {**params, "positions": positions},
    ))
    return [(int(r.pop("pos")), r) for r in rows]


def _summary_details(case: Case, inc: dict, run_id: str) -> dict | None:
    """The structured summary (intent, impact, next steps) where the summaries stage offers it.

    Optional enrichment: a report without it still has the stored summary and the checklist, so
    a failure here must not cost the analyst the report.
    """
    if not (inc.get("summary") or "").strip():
        return None
    try:
        from engine.summaries import summary_details
    except ImportError:
        return None
    try:
        return summary_details(case, inc["id"], run_id)
    except Exception:  # noqa: BLE001 - see the docstring: the stored summary is shown instead
        return None


# --- text safety and fonts ----------------------------------------------------------------------


def _font_path(fname: str, required: bool = True) -> str | None:
    """A bundled font, or the same file where a distribution that unbundles fonts puts it."""
    for folder in (FONT_DIR, *SYSTEM_FONT_DIRS):
        if (folder / fname).is_file():
            return str(folder / fname)
    if required:
        raise ReportError(f"font {fname} is missing from {FONT_DIR}: reinstall vedette")
    return None


# Joiners and variation selectors inside emoji sequences: invisible, and never worth an escape.
_ZERO_WIDTH_OK = frozenset({0x200D, 0xFE0E, 0xFE0F})


def safe(text: object, limit: int | None = None, cover: frozenset[int] | None = None) -> str:
    """Log text as the PDF prints it: control characters as escapes, cut to ``limit`` characters
    with the rest counted, and (given the fonts' ``cover``) characters no font has as ``\\uXXXX``."""
    s = visible(text)
    if limit is not None and len(s) > limit:
        s = s[:limit] + f"… (+{len(s) - limit:,} characters)"
    if cover is None or all(ord(c) in cover for c in s):
        return s
    return "".join(c if (ord(c) in cover or ord(c) in _ZERO_WIDTH_OK)
                   else (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}") for c in s)


def _columns(ch: str, mono: frozenset[int]) -> int:
    """How many monospaced cells a character takes: wide (CJK, emoji) and fallback glyphs two."""
    if unicodedata.combining(ch) or ord(ch) in _ZERO_WIDTH_OK:
        return 0
    if ord(ch) in mono and unicodedata.east_asian_width(ch) not in ("W", "F"):
        return 1
    return 2


def wrap_mono(text: str, cols: int, mono: frozenset[int]) -> list[str]:
    """Hard-wrap ``text`` at ``cols`` monospaced cells (log lines have no word boundaries worth
    keeping, and fpdf2's general line breaker costs a second per hundred long lines)."""
    lines: list[str] = []
    cur: list[str] = []
    used = 0
    for ch in text:
        w = _columns(ch, mono)
        if used + w > cols and cur:
            lines.append("".join(cur))
            cur, used = [], 0
        cur.append(ch)
        used += w
    if cur or not lines:
        lines.append("".join(cur))
    return lines


# --- render: ReportData -> PDF --------------------------------------------------------------------


def _fmt_ts(t: datetime | None, seconds: bool = True) -> str:
    if t is None:
        return "-"
    t = t.astimezone(timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _duration(seconds: float) -> str:
    secs = max(0, round(seconds))
    if secs < 60:
        return f"{secs} s"
    mins, s = divmod(secs, 60)
    if mins < 60:
        return f"{mins} min {s} s" if s else f"{mins} min"
    hours, m = divmod(mins, 60)
    if hours < 48:
        return f"{hours} h {m} min" if m else f"{hours} h"
    return f"{hours // 24} days {hours % 24} h"


def _nice_step(v: float) -> int:
    """The smallest whole 1, 2 or 5 times a power of ten at or above ``v`` (an axis step for counts)."""
    if v <= 1:
        return 1
    exp = math.floor(math.log10(v))
    for m in (1, 2, 5, 10):
        if m * 10 ** exp >= v:
            return int(m * 10 ** exp)
    return int(10 ** (exp + 1))


class _IncidentPDF(FPDF):
    """A4 portrait; a running header from page 2 and a footer with page numbers on every page."""

    header_text = ""
    footer_text = ""

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("sans", "", 7.5)
        self.set_text_color(*MUTED)
        self.set_xy(self.l_margin, 8)
        self.cell(self.epw, 4, self.header_text, align="L")
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, 13, self.w - self.r_margin, 13)
        self.set_y(17)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y() - 1.5, self.w - self.r_margin, self.get_y() - 1.5)
        self.set_font("sans", "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(self.epw - 30, 4, self.footer_text, align="L")
        self.cell(30, 4, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*INK)


class _Renderer:
    def __init__(self, data: ReportData) -> None:
        self.d = data
        self.inc = data.incident
        pdf = _IncidentPDF(orientation="P", unit="mm", format="A4")
        pdf.set_margins(16, 18, 16)
        pdf.set_auto_page_break(True, margin=18)
        pdf.add_font("sans", "", _font_path(FONTS["sans"]))
        pdf.add_font("sans", "B", _font_path(FONTS["sans-bold"]))
        pdf.add_font("mono", "", _font_path(FONTS["mono"]))
        self.mono_cover = frozenset(pdf.fonts["mono"].cmap)
        self.cover = frozenset(pdf.fonts["sans"].cmap) | self.mono_cover
        # The fallbacks load only when the text needs them: the CJK font costs a second.
        missing = {ord(c) for t in data.texts() for c in visible(t)} - self.cover - _ZERO_WIDTH_OK
        fallbacks = ["sans"]
        for family in ("cjk", "emoji"):
            if not missing:
                break
            path = _font_path(FONTS[family], required=False)
            if path is None:  # without it those characters are printed as escapes
                continue
            pdf.add_font(family, "", path)
            have = frozenset(pdf.fonts[family].cmap)
            if missing & have:
                fallbacks.append(family)
                self.cover |= have
                missing -= have
        # exact_match=False: bold text falls back to the regular CJK/emoji faces (there is no bold).
        pdf.set_fallback_fonts(fallbacks, exact_match=False)
        inc = self.inc
        pdf.header_text = (f"Incident {inc['id']} · {inc['category']} · {inc['severity']} · "
                           f"case {self.safe(data.case_name)}")
        pdf.footer_text = (f"Vedette incident report · {inc['id']} · generated "
                           f"{_fmt_ts(data.generated_at, seconds=False)} UTC")
        pdf.set_title(f"Incident {inc['id']}: {CATEGORY_LABELS.get(inc['category'], inc['category'])}")
        pdf.set_author("Vedette")
        pdf.set_creator("Vedette (fpdf2)")
        pdf.set_creation_date(data.generated_at)
        self.pdf = pdf

    # --- helpers ---------------------------------------------------------------------------

    def safe(self, text: object, limit: int | None = None) -> str:
        return safe(text, limit, self.cover)

    def font(self, size: float, bold: bool = False, mono: bool = False, colour=INK) -> None:
        self.pdf.set_font("mono" if mono else "sans", "B" if bold and not mono else "", size)
        self.pdf.set_text_color(*colour)

    def para(self, text: str, size: float = 9.5, colour=INK, bold: bool = False, h: float | None = None,
             indent: float = 0.0) -> None:
        pdf = self.pdf
        self.font(size, bold=bold, colour=colour)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(pdf.epw - indent, h or size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")

    def section(self, title: str, need: float = 30.0) -> None:
        """A section heading, kept together with at least ``need`` mm of what follows."""
        pdf = self.pdf
        if pdf.will_page_break(need + 10):
            pdf.add_page()
        pdf.ln(4)
        self.font(12.5, bold=True)
        pdf.cell(pdf.epw, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(*INK)
        pdf.set_line_width(0.35)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + 14, pdf.get_y())
        pdf.ln(2.5)

    # --- the document ----------------------------------------------------------------------

    def render(self) -> Any:
        self.pdf.add_page()
        self.title_block()
        self.summary()
        self.techniques()
        self.timeline()
        self.contributions()
        self.triage()
        self.next_steps()
        self.entities()
        self.appendix()
        return self.pdf

    def title_block(self) -> None:
        pdf, inc, d = self.pdf, self.inc, self.d
        sev = inc["severity"]
        colour = SEVERITY_COLOURS.get(sev, MUTED)
        self.font(8, colour=MUTED)
        pdf.set_y(14)
        pdf.cell(pdf.epw, 4, "VEDETTE · INCIDENT REPORT", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        self.font(22, bold=True)
        label = CATEGORY_LABELS.get(inc["category"], inc["category"].replace("_", " ").capitalize())
        pdf.cell(pdf.get_string_width(inc["id"]) + 4, 11, inc["id"])
        self.font(22, colour=MUTED)
        pdf.cell(pdf.epw - pdf.get_x() + pdf.l_margin, 11, label, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        # Severity badge, risk gauge, category code.
        y = pdf.get_y()
        self.font(9, bold=True, colour=(255, 255, 255))
        badge = sev.upper()
        bw = pdf.get_string_width(badge) + 8
        pdf.set_fill_color(*colour)
        pdf.rect(pdf.l_margin, y, bw, 6.5, style="F", round_corners=True, corner_radius=1.2)
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(bw, 6.5, badge, align="C")
        x = pdf.l_margin + bw + 6
        self.font(9.5, bold=True)
        pdf.set_xy(x, y)
        risk = int(inc.get("risk") or 0)
        text = f"Risk {risk} / 100"
        pdf.cell(pdf.get_string_width(text) + 3, 6.5, text)
        gx, gw = pdf.get_x(), 40.0
        pdf.set_fill_color(*TINT)
        pdf.rect(gx, y + 2.25, gw, 2, style="F")
        pdf.set_fill_color(*colour)
        pdf.rect(gx, y + 2.25, gw * max(0, min(risk, 100)) / 100, 2, style="F")
        self.font(9, colour=MUTED)
        pdf.set_xy(gx + gw + 6, y)
        pdf.cell(0, 6.5, f"category: {inc['category']}")
        pdf.set_y(y + 10)
        # Key facts, two columns of label: value.
        first, last = inc.get("first_seen"), inc.get("last_seen")
        span = (last - first).total_seconds() if first and last else 0
        facts = [
            ("Case", self.safe(d.case_name)),
            ("Analysis run", self.safe(d.run_id)),
            ("First seen", f"{_fmt_ts(first)} UTC"),
            ("Last seen", f"{_fmt_ts(last)} UTC"),
            ("Duration", _duration(span)),
            ("Generated", f"{_fmt_ts(d.generated_at)} UTC"),
            ("Events", f"{d.event_count:,} in {int(inc.get('sessions') or 0):,} session(s)"),
            ("Entities", f"{d.sources_total:,} source(s), {d.users_total:,} account(s), {d.hosts_total:,} host(s)"),
        ]
        col_w = pdf.epw / 2
        pdf.set_fill_color(*TINT)
        rows = (len(facts) + 1) // 2
        top = pdf.get_y()
        pdf.rect(pdf.l_margin, top, pdf.epw, rows * 5.6 + 3, style="F")
        for i, (k, v) in enumerate(facts):
            cx = pdf.l_margin + 3 + (i % 2) * col_w
            cy = top + 1.5 + (i // 2) * 5.6
            pdf.set_xy(cx, cy)
            self.font(8, colour=MUTED)
            pdf.cell(22, 5.6, k)
            self.font(8.5)
            pdf.cell(col_w - 27, 5.6, _fit(pdf, v, col_w - 27))
        # A band in the severity's colour down the left edge marks the title block at a glance.
        pdf.set_fill_color(*colour)
        pdf.rect(0, 0, 5, top + rows * 5.6 + 3, style="F")
        pdf.set_y(top + rows * 5.6 + 5)

    def summary(self) -> None:
        inc, det = self.inc, self.d.details
        self.section("Summary", need=20)
        stored = (inc.get("summary") or "").strip()
        source = inc.get("summary_source") or "offline"
        if not stored:
            self.para("No summary was stored for this incident. The facts above, the charts and the "
                      "evidence below describe it.", colour=MUTED)
            return
        text = det.get("summary") if det and det.get("summary") else stored
        self.para(self.safe(text), size=10, h=5.2)
        if det:
            for label, key in (("Likely intent", "intent"), ("Impact", "impact"), ("Confidence", "confidence")):
                if det.get(key):
                    self.pdf.ln(0.8)
                    self._label_line(label, self.safe(det[key]))
        self.pdf.ln(1)
        if source == "offline":
            src = "Source: Vedette's offline summariser (written from the incident's facts; no language model)."
        else:
            src = (f"Source: language model {self.safe(source)}. Model output: check it against the evidence "
                   f"in this report.")
        self.para(src, size=8, colour=MUTED, h=4)

    def _label_line(self, label: str, value: str) -> None:
        pdf = self.pdf
        self.font(9, bold=True)
        w = pdf.get_string_width(label + ": ") + 1
        pdf.cell(w, 4.8, label + ":")
        self.font(9)
        pdf.multi_cell(pdf.epw - w, 4.8, value, align="L", new_x="LMARGIN", new_y="NEXT")

    def techniques(self) -> None:
        inc, pdf = self.inc, self.pdf
        techs = list(inc.get("techniques") or [])
        rules = [r for r in (inc.get("rules") or []) if r != "suppressed"]
        self.section("MITRE ATT&CK techniques", need=15)
        if not techs:
            self.para("No ATT&CK technique is mapped to this incident (no detection rule with a technique fired).",
                      colour=MUTED)
        for t in techs:
            self.font(9.5, bold=True)
            pdf.cell(24, 5.2, t)
            self.font(9.5)
            pdf.cell(pdf.epw - 24, 5.2, TECHNIQUES.get(t, "(technique name not in Vedette's table)"),
                     new_x="LMARGIN", new_y="NEXT")
        whys = []
        for r in rules:
            try:
                whys.append((r, by_id(r).why))
            except KeyError:
                whys.append((r, ""))
        if whys:
            pdf.ln(1.5)
            self.font(8.5, colour=MUTED)
            pdf.cell(pdf.epw, 4.5, "Detection rules that fired:", new_x="LMARGIN", new_y="NEXT")
            for rid, why in whys:
                self.font(8.5, mono=True, colour=MUTED)
                pdf.set_x(pdf.l_margin + 3)
                pdf.cell(55, 4.5, rid)
                self.font(8.5, colour=INK)
                pdf.multi_cell(pdf.epw - 58, 4.5, why, align="L", new_x="LMARGIN", new_y="NEXT")

    def timeline(self) -> None:
        pdf, d = self.pdf, self.d
        self.section("Timeline", need=62)
        if not d.timeline:
            self.para("No timestamped events to chart.", colour=MUTED)
            return
        x0, w, h = pdf.l_margin + 14, pdf.epw - 16, 42.0
        y0 = pdf.get_y() + 2
        totals = [f + s + o for _, f, s, o in d.timeline]
        # The y axis: 3 to 6 whole, round steps, whichever reaches the peak with least headroom.
        y_ticks, step = min(((n, _nice_step(max(totals) / n)) for n in range(3, 7)), key=lambda t: (t[0] * t[1], t[0]))
        top = step * y_ticks
        # Grid and y axis labels.
        self.font(7, colour=MUTED)
        pdf.set_line_width(0.15)
        for k in range(y_ticks + 1):
            yy = y0 + h - h * k / y_ticks
            pdf.set_draw_color(*(RULE if k else MUTED))
            pdf.line(x0, yy, x0 + w, yy)
            label = f"{step * k:,}"
            pdf.set_xy(pdf.l_margin, yy - 2)
            pdf.cell(12, 4, label, align="R")
        # Bars: failures at the bottom, successes above, everything else on top.
        n = len(d.timeline)
        slot = w / n
        bar = slot * (0.8 if n > 1 else 0.3)
        for i, (_, f, s, o) in enumerate(d.timeline):
            bx = x0 + i * slot + (slot - bar) / 2
            base = y0 + h
            for count, colour in ((f, FAILURE), (s, SUCCESS), (o, OTHER)):
                if not count:
                    continue
                bh = h * count / top
                pdf.set_fill_color(*colour)
                pdf.rect(bx, base - bh, bar, bh, style="F")
                base -= bh
        # X axis: start, quarters, end.
        first = d.timeline[0][0]
        end = first + timedelta(seconds=d.bucket_seconds * n)
        same_day = first.date() == end.date()
        fmt = "%H:%M" if same_day and (end - first) >= timedelta(minutes=10) else (
            "%H:%M:%S" if same_day else "%m-%d %H:%M")
        self.font(7, colour=MUTED)
        ticks = 5 if n > 1 else 1
        for k in range(ticks):
            frac = k / (ticks - 1) if ticks > 1 else 0.5
            tx = x0 + w * frac
            pdf.set_draw_color(*MUTED)
            pdf.line(tx, y0 + h, tx, y0 + h + 1.2)
            t = first + (end - first) * frac if ticks > 1 else first
            label = t.astimezone(timezone.utc).strftime(fmt)
            lw = pdf.get_string_width(label) + 1
            lx = min(max(tx - lw / 2, x0 - 2), x0 + w - lw + 2)
            pdf.set_xy(lx, y0 + h + 1.5)
            pdf.cell(lw, 3.5, label, align="C")
        # Caption and legend.
        pdf.set_xy(pdf.l_margin, y0 + h + 6)
        per = _duration(d.bucket_seconds) if d.bucket_seconds else "the whole span"
        day = first.astimezone(timezone.utc).strftime("%Y-%m-%d") + " " if same_day else ""
        caption = f"Events per {per}, {day}UTC. Peak {max(totals):,} in one bar; {sum(totals):,} in all."
        pdf.cell(pdf.epw - 70, 4, caption)
        lx = pdf.l_margin + pdf.epw - 66
        for name, colour in (("failure", FAILURE), ("success", SUCCESS), ("other", OTHER)):
            pdf.set_fill_color(*colour)
            pdf.rect(lx, y0 + h + 6.8, 2.6, 2.6, style="F")
            pdf.set_xy(lx + 3.5, y0 + h + 6)
            pdf.cell(18, 4, name)
            lx += 22
        pdf.set_y(y0 + h + 12)

    def contributions(self) -> None:
        pdf = self.pdf
        feats = [f for f in (self.inc.get("top_features") or []) if (f.get("contribution") or 0) > 0]
        self.section("Why it stands out: model explanation (SHAP)", need=12 + 6 * len(feats[:8]))
        if not feats:
            self.para("No model explanation for this incident: its sessions were flagged by detection rules "
                      "alone, or too few sessions of their kind were seen to train a model.", colour=MUTED)
            return
        self.para("How much each behaviour made the anomaly model single out this incident's sessions "
                  "(share of the explanation, averaged over the sessions; the value is the typical "
                  "session's).", size=8, colour=MUTED, h=4)
        pdf.ln(1.5)
        label_w, value_w = 82.0, 32.0
        bar_w = pdf.epw - label_w - value_w - 4
        top = max(f["contribution"] for f in feats)
        for f in feats[:8]:
            y = pdf.get_y()
            self.font(8.5)
            pdf.cell(label_w, 5.5, _fit(pdf, plain(f["name"]), label_w - 2))
            bx = pdf.l_margin + label_w
            pdf.set_fill_color(*TINT)
            pdf.rect(bx, y + 1.1, bar_w, 3.3, style="F")
            pdf.set_fill_color(*BAR)
            pdf.rect(bx, y + 1.1, max(0.4, bar_w * f["contribution"] / top), 3.3, style="F")
            pdf.set_xy(bx + bar_w + 2, y)
            self.font(8.5, bold=True)
            pct = f"{100 * f['contribution']:.0f}%"
            pdf.cell(11, 5.5, pct, align="R")
            self.font(7.5, colour=MUTED)
            pdf.cell(value_w - 11, 5.5, f" value {_num(f.get('value'))}", new_x="LMARGIN", new_y="NEXT")

    def triage(self) -> None:
        inc, pdf = self.inc, self.pdf
        self.section("Triage", need=14)
        status = inc.get("triage_status")
        self.font(9.5, bold=True)
        pdf.cell(pdf.get_string_width("Status: ") + 1, 5.5, "Status:")
        self.font(9.5, colour=INK if status else MUTED)
        pdf.cell(0, 5.5, TRIAGE_LABELS.get(status, self.safe(status)) if status else "not triaged yet",
                 new_x="LMARGIN", new_y="NEXT")
        note = (inc.get("triage_note") or "").strip()
        if note:
            pdf.ln(1)
            self.font(9.5, bold=True)
            pdf.cell(0, 5.5, "Analyst notes:", new_x="LMARGIN", new_y="NEXT")
            for line in note.splitlines():
                self.para(self.safe(line) or " ", size=9.5, h=5, indent=3)
        else:
            self.para("No analyst notes.", size=9, colour=MUTED)

    def next_steps(self) -> None:
        inc, pdf, det = self.inc, self.pdf, self.d.details
        self.section("Recommended next steps", need=25)
        urgent: list[str] = []
        successes = sum(int(r.get("successes") or 0) for r in self.d.sources)
        if successes and inc["category"] in ("brute_force", "password_spraying", "credential_stuffing"):
            urgent.append(f"{successes:,} login(s) from these sources succeeded: handle this as a possible "
                          f"compromise first (see the accounts table).")
        label = CATEGORY_LABELS.get(inc["category"], inc["category"]).lower()
        checklist = list(NEXT_STEPS.get(inc["category"], NEXT_STEPS["anomaly"]))
        specific = [self.safe(s) for s in (det or {}).get("next_steps") or [] if str(s).strip()]
        specific = [s[:1].upper() + s[1:] + ("" if s.endswith(".") else ".") for s in specific]
        src = (det or {}).get("source") or "offline"
        # (caption, steps) groups, numbered on. The offline summariser's steps name this incident's
        # addresses and accounts and say what the checklist says, so they replace it; a model's
        # steps are untrusted text, so Vedette's own checklist follows them.
        if specific and src == "offline":
            groups = [("Written for this incident by Vedette's offline summariser, from its facts.",
                       urgent + specific + [RECORD_STEP])]
        elif specific:
            groups = [(f"Suggested for this incident by the language model {self.safe(src)} (model output: check "
                       f"it against the evidence).", urgent + specific),
                      (f"Vedette's checklist for {label}.", checklist + [RECORD_STEP])]
        else:
            groups = [(f"Vedette's checklist for {label}.", urgent + checklist + [RECORD_STEP])]
        n = 0
        for caption, steps in groups:
            self.para(caption, size=8, colour=MUTED, h=4)
            pdf.ln(1)
            for step in steps:
                n += 1
                self.font(9.5, bold=True)
                pdf.set_x(pdf.l_margin)
                pdf.cell(7, 5.2, f"{n}.")
                self.font(9.5)
                pdf.multi_cell(pdf.epw - 7, 5.2, step, align="L", new_x="LMARGIN", new_y="NEXT")
                pdf.ln(0.6)
            pdf.ln(1)

    def entities(self) -> None:
        d = self.d
        self.section("Entities: source addresses", need=25)
        self.para("Counts are log lines of the incident: failed and succeeded are lines that record a failed or "
                  "successful authentication, so an attempt that both sshd and PAM log counts twice.",
                  size=8, colour=MUTED, h=4)
        self.pdf.ln(1.5)
        rows = [(self.safe(r["src_ip"] if r["src_ip"] is not None else "(none)", MAX_NAME_CHARS), r["events"],
                 r["failures"], r["successes"], r["users"], _fmt_ts(r["first_seen"]), _fmt_ts(r["last_seen"]))
                for r in d.sources]
        self._table(("Source", "Events", "Failed", "Succeeded", "Accounts", "First seen (UTC)", "Last seen (UTC)"),
                    rows, (40, 15, 14, 21, 18, 35, 35), d.sources_total, "source addresses",
                    "No source addresses in this incident's events.")
        self.section("Entities: accounts", need=25)
        rows = [(self.safe(r["name"], MAX_NAME_CHARS), r["events"], r["failures"], r["successes"], r["sources"])
                for r in d.users]
        self._table(("Account", "Events", "Failed", "Succeeded", "Sources"), rows, (94, 20, 20, 22, 22),
                    d.users_total, "accounts", "No account names in this incident's events.")
        self.section("Entities: hosts", need=25)
        rows = [(self.safe(r["name"], MAX_NAME_CHARS), r["events"], r["failures"], r["successes"], r["sources"])
                for r in d.hosts]
        self._table(("Host", "Events", "Failed", "Succeeded", "Sources"), rows, (94, 20, 20, 22, 22),
                    d.hosts_total, "hosts", "No host names in this incident's events.")

    def _table(self, headings: tuple[str, ...], rows: list[tuple], widths: tuple[float, ...], total: int,
               noun: str, empty: str) -> None:
        from fpdf.fonts import FontFace

        pdf = self.pdf
        if not rows:
            self.para(empty, colour=MUTED)
            return
        self.font(8)
        pdf.set_fill_color(255, 255, 255)
        align = ["LEFT"] + ["RIGHT" if isinstance(v, int) else "LEFT" for v in rows[0][1:]]
        with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", text_align=align,
                       headings_style=FontFace(emphasis="BOLD", color=INK, fill_color=TINT),
                       borders_layout="HORIZONTAL_LINES", line_height=4.4, padding=(0.8, 1.5),
                       cell_fill_mode="ROWS", cell_fill_color=(248, 250, 252), repeat_headings=1) as table:
            pdf.set_draw_color(*RULE)
            head = table.row()
            for h in headings:
                head.cell(h)
            for r in rows:
                row = table.row()
                for v in r:
                    row.cell(f"{v:,}" if isinstance(v, int) else str(v))
        if total > len(rows):
            pdf.ln(1)
            self.para(f"Showing the {len(rows):,} busiest of {total:,} {noun}; {total - len(rows):,} more "
                      f"are in the case (vedette query).", size=8, colour=MUTED, h=4)

    def appendix(self) -> None:
        pdf, d = self.pdf, self.d
        pdf.add_page()
        self.font(12.5, bold=True)
        pdf.cell(pdf.epw, 7, "Appendix: representative raw log lines", new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(*INK)
        pdf.set_line_width(0.35)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + 14, pdf.get_y())
        pdf.ln(2.5)
        shown = len(d.raw)
        if not shown:
            self.para("No raw lines are linked to this incident.", colour=MUTED)
            return
        left_out = d.event_count - shown
        if left_out > 0:
            intro = (f"{shown:,} of the incident's {d.event_count:,} events in time order: the first {RAW_HEAD}, "
                     f"the last {RAW_TAIL} and {shown - RAW_HEAD - RAW_TAIL} spread evenly between; "
                     f"{left_out:,} lines are left out (marked where they fall). ")
        else:
            intro = f"All {shown:,} of the incident's events in time order. "
        intro += ("Lines are printed as logged, with control characters shown as escapes (\\x1b, \\n) and "
                  f"lines longer than {RAW_MAX_CHARS:,} characters cut.")
        self.para(intro, size=8, colour=MUTED, h=4)
        pdf.ln(2)
        prev = 0
        gutter = 24.0  # position and file:line, right-aligned beside each line
        self.font(7.2, mono=True)
        cols = max(20, int((pdf.epw - gutter - 3) / pdf.get_string_width("0")))
        for pos, ev in d.raw:
            if pos - prev > 1:
                self._gap(pos - prev - 1, gutter)
            prev = pos
            raw = ev.get("raw") or ""
            extra = int(ev.get("raw_len") or 0) - len(raw)
            text = self.safe(raw) + (f" … (+{extra:,} characters)" if extra > 0 else "")
            if pdf.will_page_break(7.5):
                pdf.add_page()
            y = pdf.get_y()
            self.font(7.2, mono=True)
            lines = wrap_mono(text, cols, self.mono_cover)
            self.font(6.5, colour=MUTED)
            pdf.cell(gutter, 3.5, f"#{pos:,}", align="R")
            pdf.set_xy(pdf.l_margin, y + 3.2)
            line_no = f":{ev.get('line_no') or '?'}"
            name = _fit_left(pdf, self.safe(Path(str(ev.get("source_file") or "?")).name),
                             gutter - pdf.get_string_width(line_no))
            pdf.cell(gutter, 3.2, name + line_no, align="R")
            pdf.set_xy(pdf.l_margin + gutter + 2, y)
            self.font(7.2, mono=True)
            for line in lines:
                pdf.set_x(pdf.l_margin + gutter + 2)
                pdf.cell(pdf.epw - gutter - 2, 3.5, line, new_x="LMARGIN", new_y="NEXT")
            pdf.set_y(max(pdf.get_y(), y + 6.6) + 1.0)
        if d.event_count > prev:
            self._gap(d.event_count - prev, gutter)

    def _gap(self, n: int, gutter: float) -> None:
        """Where lines were left out: how many, in the line column (so copied text reads in order)."""
        pdf = self.pdf
        self.font(7, colour=MUTED)
        pdf.set_x(pdf.l_margin + gutter + 2)
        pdf.cell(pdf.epw - gutter - 2, 3.8, f"… {n:,} line(s) not shown …", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(0.6)


def _num(v: object) -> str:
    if v is None:
        return "-"
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return safe(v)
    if f == int(f) and abs(f) < 1e12:
        return f"{int(f):,}"
    return f"{f:,.2f}" if abs(f) >= 1 else f"{f:.3g}"


def _fit_left(pdf, text: str, width: float) -> str:
    """``text`` cut at its start with an ellipsis to fit ``width`` mm (keeps a file name's end)."""
    if pdf.get_string_width(text) <= width:
        return text
    return _fit(pdf, text[::-1], width)[::-1]


def _fit(pdf, text: str, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` mm in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if pdf.get_string_width(text[:mid] + "…") <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


# --- the API ------------------------------------------------------------------------------------


def render(data: ReportData, out_path: str | Path) -> int:
    """Write ``data`` as a PDF at ``out_path`` (atomically: a reader never sees half a file);
    returns the number of pages."""
    pdf = _Renderer(data).render()
    out = Path(out_path)
    # Beside the target (same file system, so the rename is atomic), with the umask's permissions.
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    try:
        pdf.output(str(tmp))
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return pdf.page_no()


def write_incident_report(case: Case, incident_id: str, out_path: str | Path, run_id: str | None = None
                          ) -> ReportInfo:
    """The PDF report of one incident (of the latest run by default) at ``out_path``."""
    start = time.perf_counter()
    out = Path(out_path)
    if not out.parent.is_dir():
        raise ReportError(f"cannot write {out}: folder {out.parent} does not exist")
    data = gather(case, incident_id, run_id)
    pages = render(data, out)
    return ReportInfo(incident_id, str(out), pages, time.perf_counter() - start)


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def report_filename(incident_id: str) -> str:
    """``INC-0001.pdf``: the file name of an incident's report (anything odd in the id becomes ``_``)."""
    return f"{_SAFE_NAME.sub('_', incident_id)}.pdf"


def write_all_reports(case: Case, out_dir: str | Path, min_severity: str = "medium", run_id: str | None = None
                      ) -> list[ReportInfo]:
    """One PDF per incident of the run (the latest by default) at or above ``min_severity``, named
    ``<incident id>.pdf`` in ``out_dir`` (created if missing)."""
    if min_severity not in SEVERITY_RANK:
        raise ReportError(f"unknown severity {min_severity!r}: use one of {', '.join(SEVERITIES)}")
    run_id = run_id or latest_run_id(case)
    if run_id is None:
        raise ReportError(f"case {case.path} has not been analysed yet: run vedette analyze --db {case.path}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ReportError(f"{out} is a file, not a folder: --all writes one PDF per incident into a folder")
    out.mkdir(parents=True, exist_ok=True)
    ids = [r[0] for r in case.con.execute(
        "SELECT id, severity FROM incidents WHERE run_id = $run ORDER BY id", {"run": run_id}).fetchall()
        if SEVERITY_RANK.get(r[1], 0) >= SEVERITY_RANK[min_severity]]
    return [write_incident_report(case, i, out / report_filename(i), run_id) for i in ids]
