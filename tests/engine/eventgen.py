"""Literal events straight into a case, for tests of the analysis stages (no parser involved)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from store.case import Case
from store.schema import EVENT_COLUMN_NAMES

T0 = datetime(2026, 11, 10, 8, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Events:
    """Collects event dicts; ``into(case)`` inserts them with consecutive line numbers."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self._pid = 1000

    def add(self, **fields) -> dict:
        fields.setdefault("format", "syslog")
        fields.setdefault("source_file", "/var/log/auth.log")
        self.rows.append(fields)
        return fields

    def pid(self) -> int:
        self._pid += 1
        return self._pid

    # --- sshd vocabulary, as the syslog parser produces it ---------------------------------
    def failed_password(self, t: datetime, ip: str, user: str, *, host: str = "bastion", invalid: bool = False,
                        pid: int | None = None) -> None:
        pid = pid or self.pid()
        inv = "invalid user " if invalid else ""
        if invalid:
            self.add(ts=t, host=host, program="sshd", pid=pid, action="invalid_user", outcome="failure",
                     src_ip=ip, src_port=40000, user=user, message=f"Invalid user {user} from {ip} port 40000")
        self.add(ts=t, host=host, program="sshd", pid=pid, action="auth_password", outcome="failure", src_ip=ip,
                 src_port=40000, user=user, auth_method="password",
                 message=f"Failed password for {inv}{user} from {ip} port 40000 ssh2")

    def accepted(self, t: datetime, ip: str, user: str, method: str = "publickey", *, host: str = "bastion",
                 pid: int | None = None) -> None:
        pid = pid or self.pid()
        self.add(ts=t, host=host, program="sshd", pid=pid, action=f"auth_{method.replace('-', '_')}",
                 outcome="success", src_ip=ip, src_port=40001, user=user, auth_method=method,
                 message=f"Accepted {method} for {user} from {ip} port 40001 ssh2")
        self.add(ts=t, host=host, program="sshd", pid=pid, action="session_open", user=user,
                 message=f"pam_unix(sshd:session): session opened for user {user}")

    def http(self, t: datetime, ip: str, path: str, status: int = 200, ua: str = "Mozilla/5.0 (X11; Linux) Firefox/120.0",
             method: str = "GET") -> None:
        self.add(ts=t, format="access", source_file="/var/log/nginx/access.log", action="http_request", src_ip=ip,
                 method=method, path=path, status=status, bytes=512, user_agent=ua, proto="HTTP/1.1")

    def conn(self, t: datetime, src: str, dst: str, port: int, state: str = "SF", src_bytes: int = 300,
             dst_bytes: int = 1200) -> None:
        self.add(ts=t, format="zeek", source_file="/var/log/zeek/conn.log", action="conn", src_ip=src, dst_ip=dst,
                 dst_port=port, proto="tcp", conn_state=state, src_bytes=src_bytes, bytes=dst_bytes, duration=0.5)

    def into(self, case: Case) -> None:
        """Insert the events, one source per (file, format), with consecutive line numbers."""
        from store.events import append_events

        groups: dict[tuple[str, str], list[dict]] = {}
        for r in self.rows:
            groups.setdefault((r["source_file"], r["format"]), []).append(r)
        for (path, fmt), rows in groups.items():
            rows = [{**r, "line_no": i, "raw": r.get("raw") or r.get("message") or ""} for i, r in enumerate(rows, 1)]
            names = [c for c in EVENT_COLUMN_NAMES if c not in ("source_file", "format") and any(c in r for r in rows)]
            append_events(case.con, path, fmt, {c: [r.get(c) for r in rows] for c in names})
