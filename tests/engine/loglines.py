"""Raw auth.log and nginx access lines with a marker per line, for tests that write real files."""

from __future__ import annotations

from datetime import datetime, timezone


def _syslog_ts(t: datetime) -> str:
    return t.strftime("%b %d %H:%M:%S").replace(" 0", "  ", 1) if t.day < 10 else t.strftime("%b %d %H:%M:%S")


def ordinary_auth(i: int, t: datetime | None = None) -> str:
    """A benign line, different for each ``i`` (a cron session on bastion)."""
    t = t or datetime.now(timezone.utc)
    return f"{_syslog_ts(t)} bastion CRON[{10000 + i}]: pam_unix(cron:session): session opened for user app{i % 7} by (uid=0)"


def failed_password(i: int, ip: str, user: str = "root", t: datetime | None = None) -> str:
    t = t or datetime.now(timezone.utc)
    return (f"{_syslog_ts(t)} bastion sshd[{20000 + i}]: Failed password for {user} from {ip} "
            f"port {30000 + i % 30000} ssh2")


def accepted(i: int, ip: str, user: str, t: datetime | None = None) -> str:
    t = t or datetime.now(timezone.utc)
    return f"{_syslog_ts(t)} bastion sshd[{20000 + i}]: Accepted publickey for {user} from {ip} port {30000 + i} ssh2"


def access(i: int, ip: str = "198.51.100.7", t: datetime | None = None) -> str:
    t = t or datetime.now(timezone.utc)
    return (f'{ip} - - [{t.strftime("%d/%b/%Y:%H:%M:%S +0000")}] "GET /page/{i} HTTP/1.1" 200 {500 + i % 400} '
            f'"-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"')
