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


def failed_logins_file(path, n: int) -> list[str]:
    """Write ``n`` distinct sshd failed-login lines (one per second from midnight) to ``path``;
    returns them. The file for the kill -9 tests: big enough to take many chunks."""
    lines = [f"Nov 14 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d} h sshd[{i}]: "
             f"Failed password for invalid user u{i % 97} from 192.0.2.{i % 250} port {i % 60000} ssh2"
             for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return lines


def ingest_process(db, log, chunk_bytes: int):
    """``vedette``'s ingest of ``log`` into ``db`` in a process of its own that prints ``chunk`` after
    each committed chunk and ``done`` at the end (stdout piped): a test kills it between chunks."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys\n"
        "from store.case import Case\n"
        "from engine.ingest import ingest\n"
        "c = Case.open(sys.argv[1])\n"
        f"ingest(c, [sys.argv[2]], tz='UTC', chunk_bytes={int(chunk_bytes)},\n"
        "       progress=lambda p: print('chunk', flush=True))\n"
        "print('done', flush=True)\n"
    )
    return subprocess.Popen([sys.executable, "-c", script, str(db), str(log)], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
