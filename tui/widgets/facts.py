"""An incident's facts as lines of text (techniques, sources, accounts, hosts, size, why grouped, rules, note),
for the incident detail and the incidents screen's glance."""

from __future__ import annotations

from rich.text import Text

from tui.widgets.cells import plain

# ATT&CK technique names for the ids the rules use (display only).
TECHNIQUES = {
    "T1078": "Valid Accounts", "T1110": "Brute Force", "T1110.001": "Password Guessing",
    "T1110.003": "Password Spraying", "T1110.004": "Credential Stuffing", "T1190": "Exploit Public-Facing Application",
    "T1595": "Active Scanning", "T1595.002": "Vulnerability Scanning", "T1595.003": "Wordlist Scanning",
    "T1046": "Network Service Discovery", "T1499": "Endpoint Denial of Service", "T1048": "Exfiltration Over "
    "Alternative Protocol", "T1071": "Application Layer Protocol", "T1498": "Network Denial of Service",
}


def facts_text(inc: dict) -> Text:
    """One labelled line per fact of the incident row ``inc`` (safe text)."""
    from engine.enrich import from_json, spread, where_text
    from engine.rules import by_id as rule_by_id

    t = Text()

    def line(label: str, items: list, shown: int = 6) -> None:
        t.append(f"{label:<11}", style="bold")
        if not items:
            t.append("—\n", style="dim")
            return
        t.append(", ".join(plain(x, limit=60) for x in items[:shown]))
        if len(items) > shown:
            t.append(f" and {len(items) - shown} more", style="dim")
        t.append("\n")

    techniques = [f"{x} {TECHNIQUES[x]}" if x in TECHNIQUES else x for x in (inc.get("techniques") or [])]
    line("techniques", techniques)
    geo = inc.get("geo") or {}
    line("sources", [f"{ip} ({where_text({ip: geo[ip]})})" if ip in geo else ip for ip in inc.get("src_ips") or []])
    if len(geo) > 1:
        s = spread(from_json(ip, g) for ip, g in geo.items())
        line("where", [f"{c} {n}" for c, n in s.countries] + [f"{s.distinct_networks} network(s)"], 8)
    line("accounts", list(inc.get("users") or []), 10)
    line("hosts", list(inc.get("hosts") or []))
    t.append(f"{'size':<11}", style="bold")
    t.append(f"{inc.get('sessions') or 0:,} session(s), {inc.get('events') or 0:,} event(s)\n")
    if inc.get("grouped_by"):
        t.append(f"{'grouped':<11}", style="bold")
        t.append(plain(inc["grouped_by"]) + "\n")
    rules = []
    for rid in inc.get("rules") or []:
        try:
            rules.append(rule_by_id(rid).why)
        except (KeyError, ValueError):
            rules.append(rid)
    if rules:
        t.append(f"{'rules':<11}", style="bold")
        t.append("; ".join(plain(r) for r in rules) + "\n")
    if inc.get("triage_note"):
        t.append(f"{'note':<11}", style="bold")
        t.append(plain(inc["triage_note"]) + "\n", style="italic")
    return t
