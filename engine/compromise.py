"""The lead of an incident an attack got in through: "The brute force succeeded: deploy logged in at
2026-11-19 02:44 UTC from 185.220.101.72." (standard library only: the TUI imports it at start)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from engine.textsafe import visible

# What the attack is called in the lead, by incident category.
ATTACK_NAMES = {"brute_force": "brute force", "password_spraying": "password spraying",
                "credential_stuffing": "credential stuffing"}


def login_of(login: dict | str | None) -> dict | None:
    """The compromising login ({"user", "src_ip", "ts"}) with ``ts`` a datetime, from an analysis or
    read back as JSON (text or mapping); None for nothing usable."""
    if isinstance(login, str):
        try:
            login = json.loads(login)
        except ValueError:
            return None
    if not isinstance(login, dict):
        return None
    ts = login.get("ts")
    if isinstance(ts, str):
        try:
            ts = datetime.fromisoformat(ts)
        except ValueError:
            ts = None
    return {"user": login.get("user"), "src_ip": login.get("src_ip"), "ts": ts}


def _safe(s: str, limit: int = 64) -> str:
    s = visible(s)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def lead(category: str, login: dict | str | None) -> str | None:
    """The lead sentence for an incident of ``category`` with this compromising login, or None."""
    login = login_of(login)
    if not login:
        return None
    attack = ATTACK_NAMES.get(category, "attack")
    who = _safe(login["user"]) if login.get("user") else "an account"
    when = f" at {login['ts'].astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC" if login.get("ts") else ""
    src = f" from {_safe(login['src_ip'])}" if login.get("src_ip") else ""
    return f"The {attack} succeeded: {who} logged in{when}{src}."


def lead_of(inc: dict) -> str | None:
    """The lead of a stored incident (a row of ``incidents`` as a mapping), None where it did not get in."""
    return lead(inc.get("category") or "", inc.get("compromised_login")) if inc.get("compromised") else None


def strip_lead(summary: str, lead_text: str | None) -> str:
    """The summary without its lead sentence, for screens that show the lead on a line of its own."""
    return summary[len(lead_text):].lstrip() if lead_text and summary.startswith(lead_text) else summary
