"""The report's sections, in order: each a small function that lays out one part of the document.
To add a section, write a function taking the ``Document`` and put it in ``SECTIONS``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fpdf import FPDF

from engine.counts import ATTEMPTS_WORD, WHY_LINES
from engine.report.charts import contribution_bars, timeline_chart
from engine.report.data import MAX_NAME_CHARS, RAW_HEAD, RAW_MAX_CHARS, RAW_TAIL, ReportData
from engine.report.fonts import wrap_mono
from engine.report.layout import INK, MUTED, SEVERITY_COLOURS, TINT, Document, _duration, _fit, _fit_left, _fmt_ts
from engine.enrich import where_text
from engine.rules import by_id

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
    "T1498": "Network Denial of Service",
}

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


def title_block(doc: Document) -> None:
    """The id and category, severity badge, risk gauge and key facts, with a band in the severity's colour."""
    pdf, inc, d = doc.pdf, doc.inc, doc.d
    sev = inc["severity"]
    colour = SEVERITY_COLOURS.get(sev, MUTED)
    doc.font(8, colour=MUTED)
    pdf.set_y(14)
    pdf.cell(pdf.epw, 4, "VEDETTE · INCIDENT REPORT", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    doc.font(22, bold=True)
    label = CATEGORY_LABELS.get(inc["category"], inc["category"].replace("_", " ").capitalize())
    pdf.cell(pdf.get_string_width(inc["id"]) + 4, 11, inc["id"])
    doc.font(22, colour=MUTED)
    pdf.cell(pdf.epw - pdf.get_x() + pdf.l_margin, 11, label, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    # Severity badge, risk gauge, category code.
    y = pdf.get_y()
    doc.font(9, bold=True, colour=(255, 255, 255))
    badge = sev.upper()
    bw = pdf.get_string_width(badge) + 8
    pdf.set_fill_color(*colour)
    pdf.rect(pdf.l_margin, y, bw, 6.5, style="F", round_corners=True, corner_radius=1.2)
    pdf.set_xy(pdf.l_margin, y)
    pdf.cell(bw, 6.5, badge, align="C")
    x = pdf.l_margin + bw + 6
    doc.font(9.5, bold=True)
    pdf.set_xy(x, y)
    risk = int(inc.get("risk") or 0)
    text = f"Risk {risk} / 100"
    pdf.cell(pdf.get_string_width(text) + 3, 6.5, text)
    gx, gw = pdf.get_x(), 40.0
    pdf.set_fill_color(*TINT)
    pdf.rect(gx, y + 2.25, gw, 2, style="F")
    pdf.set_fill_color(*colour)
    pdf.rect(gx, y + 2.25, gw * max(0, min(risk, 100)) / 100, 2, style="F")
    doc.font(9, colour=MUTED)
    pdf.set_xy(gx + gw + 6, y)
    pdf.cell(0, 6.5, f"category: {inc['category']}")
    pdf.set_y(y + 10)
    # Key facts, two columns of label: value.
    first, last = inc.get("first_seen"), inc.get("last_seen")
    span = (last - first).total_seconds() if first and last else 0
    facts = [
        ("Case", doc.safe(d.case_name)),
        ("Analysis run", doc.safe(d.run_id)),
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
        doc.font(8, colour=MUTED)
        pdf.cell(22, 5.6, k)
        doc.font(8.5)
        pdf.cell(col_w - 27, 5.6, _fit(pdf, v, col_w - 27))
    # A band in the severity's colour down the left edge marks the title block at a glance.
    pdf.set_fill_color(*colour)
    pdf.rect(0, 0, 5, top + rows * 5.6 + 3, style="F")
    pdf.set_y(top + rows * 5.6 + 5)


def summary(doc: Document) -> None:
    """The stored summary (the structured one where the summaries stage offers it) and who wrote it."""
    inc, det = doc.inc, doc.d.details
    doc.section("Summary", need=20)
    stored = (inc.get("summary") or "").strip()
    source = inc.get("summary_source") or "offline"
    if not stored:
        doc.para("No summary was stored for this incident. The facts above, the charts and the "
                 "evidence below describe it.", colour=MUTED)
        return
    text = det.get("summary") if det and det.get("summary") else stored
    doc.para(doc.safe(text), size=10, h=5.2)
    if det:
        for label, key in (("Likely intent", "intent"), ("Impact", "impact"), ("Confidence", "confidence")):
            if det.get(key):
                doc.pdf.ln(0.8)
                doc.label_line(label, doc.safe(det[key]))
    doc.pdf.ln(1)
    if source == "offline":
        src = "Source: Vedette's offline summariser (written from the incident's facts; no language model)."
    else:
        src = (f"Source: language model {doc.safe(source)}. Model output: check it against the evidence "
               f"in this report.")
    doc.para(src, size=8, colour=MUTED, h=4)


def techniques(doc: Document) -> None:
    """The ATT&CK techniques mapped to the incident and the detection rules that fired."""
    inc, pdf = doc.inc, doc.pdf
    techs = list(inc.get("techniques") or [])
    rules = [r for r in (inc.get("rules") or []) if r != "suppressed"]
    doc.section("MITRE ATT&CK techniques", need=15)
    if not techs:
        doc.para("No ATT&CK technique is mapped to this incident (no detection rule with a technique fired).",
                 colour=MUTED)
    for t in techs:
        doc.font(9.5, bold=True)
        pdf.cell(24, 5.2, t)
        doc.font(9.5)
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
        doc.font(8.5, colour=MUTED)
        pdf.cell(pdf.epw, 4.5, "Detection rules that fired:", new_x="LMARGIN", new_y="NEXT")
        for rid, why in whys:
            doc.font(8.5, mono=True, colour=MUTED)
            pdf.set_x(pdf.l_margin + 3)
            pdf.cell(55, 4.5, rid)
            doc.font(8.5, colour=INK)
            pdf.multi_cell(pdf.epw - 58, 4.5, why, align="L", new_x="LMARGIN", new_y="NEXT")


def timeline(doc: Document) -> None:
    """Events over the incident's span, split by outcome."""
    d = doc.d
    doc.section("Timeline", need=62)
    if not d.timeline:
        doc.para("No timestamped events to chart.", colour=MUTED)
        return
    timeline_chart(doc, d.timeline, d.bucket_seconds)


def contributions(doc: Document) -> None:
    """Why the anomaly model singles the incident out (SHAP shares)."""
    pdf = doc.pdf
    feats = [f for f in (doc.inc.get("top_features") or []) if (f.get("contribution") or 0) > 0]
    doc.section("Why it stands out: model explanation (SHAP)", need=12 + 6 * len(feats[:8]))
    if not feats:
        doc.para("No model explanation for this incident: its sessions were flagged by detection rules "
                 "alone, or too few sessions of their kind were seen to train a model.", colour=MUTED)
        return
    doc.para("How much each behaviour made the anomaly model single out this incident's sessions "
             "(share of the explanation, averaged over the sessions; the value is the typical "
             "session's).", size=8, colour=MUTED, h=4)
    pdf.ln(1.5)
    contribution_bars(doc, feats)


def triage(doc: Document) -> None:
    """The analyst's verdict and notes."""
    inc, pdf = doc.inc, doc.pdf
    doc.section("Triage", need=14)
    status = inc.get("triage_status")
    doc.font(9.5, bold=True)
    pdf.cell(pdf.get_string_width("Status: ") + 1, 5.5, "Status:")
    doc.font(9.5, colour=INK if status else MUTED)
    pdf.cell(0, 5.5, TRIAGE_LABELS.get(status, doc.safe(status)) if status else "not triaged yet",
             new_x="LMARGIN", new_y="NEXT")
    note = (inc.get("triage_note") or "").strip()
    if note:
        pdf.ln(1)
        doc.font(9.5, bold=True)
        pdf.cell(0, 5.5, "Analyst notes:", new_x="LMARGIN", new_y="NEXT")
        for line in note.splitlines():
            doc.para(doc.safe(line) or " ", size=9.5, h=5, indent=3)
    else:
        doc.para("No analyst notes.", size=9, colour=MUTED)


def next_steps(doc: Document) -> None:
    """A numbered checklist: urgent findings, this incident's steps, Vedette's checklist per category."""
    inc, pdf, det = doc.inc, doc.pdf, doc.d.details
    doc.section("Recommended next steps", need=25)
    urgent: list[str] = []
    successes = sum(int(r.get("successes") or 0) for r in doc.d.sources)
    if successes and inc["category"] in ("brute_force", "password_spraying", "credential_stuffing"):
        urgent.append(f"{successes:,} login(s) from these sources succeeded: handle this as a possible "
                      f"compromise first (see the accounts table).")
    label = CATEGORY_LABELS.get(inc["category"], inc["category"]).lower()
    checklist = list(NEXT_STEPS.get(inc["category"], NEXT_STEPS["anomaly"]))
    specific = [doc.safe(s) for s in (det or {}).get("next_steps") or [] if str(s).strip()]
    specific = [s[:1].upper() + s[1:] + ("" if s.endswith(".") else ".") for s in specific]
    src = (det or {}).get("source") or "offline"
    # (caption, steps) groups, numbered on. The offline summariser's steps name this incident's
    # addresses and accounts and say what the checklist says, so they replace it; a model's
    # steps are untrusted text, so Vedette's own checklist follows them.
    if specific and src == "offline":
        groups = [("Written for this incident by Vedette's offline summariser, from its facts.",
                   urgent + specific + [RECORD_STEP])]
    elif specific:
        groups = [(f"Suggested for this incident by the language model {doc.safe(src)} (model output: check "
                   f"it against the evidence).", urgent + specific),
                  (f"Vedette's checklist for {label}.", checklist + [RECORD_STEP])]
    else:
        groups = [(f"Vedette's checklist for {label}.", urgent + checklist + [RECORD_STEP])]
    n = 0
    for caption, steps in groups:
        doc.para(caption, size=8, colour=MUTED, h=4)
        pdf.ln(1)
        for step in steps:
            n += 1
            doc.font(9.5, bold=True)
            pdf.set_x(pdf.l_margin)
            pdf.cell(7, 5.2, f"{n}.")
            doc.font(9.5)
            pdf.multi_cell(pdf.epw - 7, 5.2, step, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(0.6)
        pdf.ln(1)


def containment(doc: Document) -> None:
    """The containment plan (engine.respond): commented commands for a person to review and run."""
    plan, pdf = doc.d.plan, doc.pdf
    doc.section("Containment", need=30)
    if plan is None:
        doc.para("No containment plan: this report is of an earlier run (vedette respond works on the latest).",
                 size=9, colour=MUTED)
        return
    doc.para(f"Commands for a person to review, written by Vedette from this incident's facts for "
             f"{plan['firewall']} (vedette respond {doc.safe(plan['incident'])} --firewall iptables|ufw|fail2ban "
             f"gives the others). Vedette never runs them, and nothing in them comes from a language model.",
             size=8, colour=MUTED, h=4)
    pdf.ln(1)
    for line in plan["notes"]:
        doc.para(doc.safe(line), size=8.5, h=4.4)
    if plan["excluded"]:
        doc.font(9, bold=True)
        pdf.cell(0, 5, "Not blocked (safety rules):", new_x="LMARGIN", new_y="NEXT")
        for e in plan["excluded"]:
            doc.para(f"{doc.safe(e['address'], 60)}: {doc.safe(e['reason'])}", size=8.5, h=4.4, indent=3)
        pdf.ln(1)
    if not plan["steps"]:
        doc.para("No steps proposed.", size=9, colour=MUTED)
    doc.font(7.2, mono=True)
    cols = max(20, int((pdf.epw - 6) / pdf.get_string_width("0")))
    for i, step in enumerate(plan["steps"], 1):
        if pdf.will_page_break(14):
            pdf.add_page()
        host = f" (on host {doc.safe(step['host'], 60)})" if step.get("host") else ""
        doc.para(f"{i}. {doc.safe(step['why'])}{host}", size=9, bold=True, h=4.6)
        doc.font(7.2, mono=True)
        for cmd in step["commands"]:
            for line in wrap_mono(doc.safe(cmd["shell"]), cols, doc.mono_cover):
                pdf.set_x(pdf.l_margin + 6)
                pdf.cell(pdf.epw - 6, 3.6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)


def enrich_data_note() -> str:
    from engine.enrich import data_info

    return "country and network from " + data_info()


def entities(doc: Document) -> None:
    """The busiest source addresses, accounts and hosts, with how many were left out."""
    d = doc.d
    doc.section("Entities: source addresses", need=25)
    auth = d.auth
    if auth is not None and (auth.attempts or auth.failure_lines):
        lead = (f"This incident holds {auth.attempts:,} {ATTEMPTS_WORD} and {auth.successes:,} successful login(s); "
                f"{auth.attempt_lines:,} log lines record the attempts ({WHY_LINES}), and "
                f"{auth.failure_lines:,} lines in all are marked as failures. ")
    else:
        lead = ""
    doc.para(lead + "Failed attempts count each try once (per source, the most of any one kind of line that "
             "records a try); failure lines are every line whose outcome is failure, what "
             "outcome = 'failure' counts in the SQL console.", size=8, colour=MUTED, h=4)
    doc.pdf.ln(1.5)
    geo = doc.inc.get("geo") or {}
    rows = [(doc.safe(r["name"] if r["name"] is not None else "(none)", MAX_NAME_CHARS),
             doc.safe(where_text({r["name"]: geo[r["name"]]}) if r["name"] in geo else "", 40), r["events"],
             r["attempts"], r["failure_lines"], r["successes"], r["users"], _fmt_ts(r["first_seen"]),
             _fmt_ts(r["last_seen"])) for r in d.sources]
    doc.table(("Source", "Where", "Events", "Failed attempts", "Failure lines", "Logins", "Accounts",
               "First seen (UTC)", "Last seen (UTC)"), rows, (29, 20, 15, 19, 15, 14, 18, 24, 24), d.sources_total,
              "source addresses", "No source addresses in this incident's events.")
    if geo:
        doc.para(f"Where: {doc.safe(enrich_data_note())}.", size=7.5, colour=MUTED, h=3.8)
    doc.section("Entities: accounts", need=25)
    rows = [(doc.safe(r["name"], MAX_NAME_CHARS), r["events"], r["attempts"], r["failure_lines"], r["successes"],
             r["sources"]) for r in d.users]
    doc.table(("Account", "Events", "Failed attempts", "Failure lines", "Succeeded", "Sources"), rows,
              (70, 18, 24, 24, 21, 20), d.users_total, "accounts", "No account names in this incident's events.")
    doc.section("Entities: hosts", need=25)
    rows = [(doc.safe(r["name"], MAX_NAME_CHARS), r["events"], r["attempts"], r["failure_lines"], r["successes"],
             r["sources"]) for r in d.hosts]
    doc.table(("Host", "Events", "Failed attempts", "Failure lines", "Succeeded", "Sources"), rows,
              (70, 18, 24, 24, 21, 20),
                d.hosts_total, "hosts", "No host names in this incident's events.")


def commands(doc: Document) -> None:
    """What the attackers ran and fetched (honeypot sessions), printed as logged."""
    d = doc.d
    if not d.commands:
        return
    pdf = doc.pdf
    doc.section("Commands and files (attacker input, as logged)", need=25)
    doc.para("Typed by the attacker: control characters are shown as escapes (\\x1b), nothing is interpreted.",
             size=8, colour=MUTED, h=4)
    pdf.ln(1.5)
    doc.font(7.2, mono=True)
    cols = max(20, int(pdf.epw / pdf.get_string_width("0")))
    for c in d.commands:
        head = f"{_fmt_ts(c['ts'])}  {doc.safe(c.get('src_ip') or '?', 40)}  "
        if c.get("command") is not None:
            body = "$ " + doc.safe(c["command"], RAW_MAX_CHARS)
        else:
            body = "fetched " + doc.safe(c.get("url") or "?", RAW_MAX_CHARS)
            if c.get("file_hash"):
                body += "  sha256 " + doc.safe(c["file_hash"], 64)
        for line in wrap_mono(head + body, cols, doc.mono_cover):
            if pdf.will_page_break(4):
                pdf.add_page()
                doc.font(7.2, mono=True)
            pdf.cell(pdf.epw, 3.6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def appendix(doc: Document) -> None:
    """Representative raw log lines on a page of their own, with where lines were left out."""
    pdf, d = doc.pdf, doc.d
    pdf.add_page()
    doc.font(12.5, bold=True)
    pdf.cell(pdf.epw, 7, "Appendix: representative raw log lines", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.35)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + 14, pdf.get_y())
    pdf.ln(2.5)
    shown = len(d.raw)
    if not shown:
        doc.para("No raw lines are linked to this incident.", colour=MUTED)
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
    doc.para(intro, size=8, colour=MUTED, h=4)
    pdf.ln(2)
    prev = 0
    gutter = 24.0  # position and file:line, right-aligned beside each line
    doc.font(7.2, mono=True)
    cols = max(20, int((pdf.epw - gutter - 3) / pdf.get_string_width("0")))
    for pos, ev in d.raw:
        if pos - prev > 1:
            _gap(doc, pos - prev - 1, gutter)
        prev = pos
        raw = ev.get("raw") or ""
        extra = int(ev.get("raw_len") or 0) - len(raw)
        text = doc.safe(raw) + (f" … (+{extra:,} characters)" if extra > 0 else "")
        if pdf.will_page_break(7.5):
            pdf.add_page()
        y = pdf.get_y()
        doc.font(7.2, mono=True)
        lines = wrap_mono(text, cols, doc.mono_cover)
        doc.font(6.5, colour=MUTED)
        pdf.cell(gutter, 3.5, f"#{pos:,}", align="R")
        pdf.set_xy(pdf.l_margin, y + 3.2)
        line_no = f":{ev.get('line_no') or '?'}"
        name = _fit_left(pdf, doc.safe(Path(str(ev.get("source_file") or "?")).name),
                         gutter - pdf.get_string_width(line_no))
        pdf.cell(gutter, 3.2, name + line_no, align="R")
        pdf.set_xy(pdf.l_margin + gutter + 2, y)
        doc.font(7.2, mono=True)
        for line in lines:
            pdf.set_x(pdf.l_margin + gutter + 2)
            pdf.cell(pdf.epw - gutter - 2, 3.5, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), y + 6.6) + 1.0)
    if d.event_count > prev:
        _gap(doc, d.event_count - prev, gutter)


def _gap(doc: Document, n: int, gutter: float) -> None:
    """Where lines were left out: how many, in the line column (so copied text reads in order)."""
    pdf = doc.pdf
    doc.font(7, colour=MUTED)
    pdf.set_x(pdf.l_margin + gutter + 2)
    pdf.cell(pdf.epw - gutter - 2, 3.8, f"… {n:,} line(s) not shown …", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(0.6)


# The document, top to bottom.
SECTIONS: tuple[Callable[[Document], None], ...] = (
    title_block,
    summary,
    techniques,
    timeline,
    contributions,
    triage,
    next_steps,
    containment,
    entities,
    commands,
    appendix,
)


def render_document(data: ReportData) -> FPDF:
    """Lay out ``data``: running header, footer and metadata, then every section in ``SECTIONS``."""
    doc = Document(data)
    pdf, inc = doc.pdf, doc.inc
    pdf.header_text = (f"Incident {inc['id']} · {inc['category']} · {inc['severity']} · "
                       f"case {doc.safe(data.case_name)}")
    pdf.footer_text = (f"Vedette incident report · {inc['id']} · generated "
                       f"{_fmt_ts(data.generated_at, seconds=False)} UTC")
    pdf.set_title(f"Incident {inc['id']}: {CATEGORY_LABELS.get(inc['category'], inc['category'])}")
    pdf.set_author("Vedette")
    pdf.set_creator("Vedette (fpdf2)")
    pdf.set_creation_date(data.generated_at)
    pdf.add_page()
    for section in SECTIONS:
        section(doc)
    return pdf
