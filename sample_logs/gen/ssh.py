"""sshd, PAM, sudo and cron in syslog: the connection primitives, cron, and rendering a host's records
to lines (the benign logins are in ssh_benign.py, the attacks in ssh_attacks.py)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from .common import (
    Conn,
    HOST_USERS,
    HOUR,
    LoginSession,
    MINUTE,
    Proc,
    SyslogHost,
    US,
    WINDOW_END,
    WINDOW_START,
    community_id,
    fmt_rfc3164,
    fmt_rsyslog,
    is_local,
)

if TYPE_CHECKING:
    from .core import Generator


class SshMixin:
    """Syslog traffic of the three hosts: sshd connections, sudo and cron."""

    # -- sshd connections ---------------------------------------------------------------------

    def _sshd_prelude(self, host: SyslogHost, t: int, ip: str, port: int, proc: Proc, tag) -> int:
        if host.verbose:
            local = host.public_ip if (host.public_ip and not is_local(ip)) else host.internal_ip
            self.sys(host.name, t, "sshd", proc, f'Connection from {ip} port {port} on {local} port 22 rdomain ""', tag)
        return t + self.jitter(0.05, 0.6)

    def _pam_fail(self, ip: str, user: str | None) -> str:
        base = f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip} "
        return base + (f" user={user}" if user else "")

    def ssh_failed(
        self,
        hostname: str,
        t: int,
        ip: str,
        user: str,
        attempts: int = 1,
        end: str = "bye",
        tag: str | None = None,
        client: str = "libssh_0.9.6",
        port: int | None = None,
        eve: bool | None = None,
    ) -> tuple[int, Conn | None]:
        """One sshd connection whose password attempts all fail. Returns (end time, conn)."""
        host = self.hosts[hostname]
        valid = user in HOST_USERS[hostname]
        port = port or self.eph_port("any")
        proc = Proc()
        t0 = t
        t = self._sshd_prelude(host, t, ip, port, proc, tag)
        if not valid:
            t += self.jitter(0.2, 1.2)
            self.sys(hostname, t, "sshd", proc, f"Invalid user {user} from {ip} port {port}", tag)
        for i in range(attempts):
            t += self.jitter(0.3, 1.4) if i == 0 else self.jitter(0.2, 0.9)
            if not valid:
                self.sys(hostname, t, "sshd", proc, "pam_unix(sshd:auth): check pass; user unknown", tag)
            if i == 0:
                self.sys(hostname, t, "sshd", proc, self._pam_fail(ip, user if valid else None), tag)
            t += self.jitter(2.0, 2.4)  # pam_faildelay
            who = user if valid else f"invalid user {user}"
            self.sys(hostname, t, "sshd", proc, f"Failed password for {who} from {ip} port {port} ssh2", tag)
        who = f"authenticating user {user}" if valid else f"invalid user {user}"
        t += self.jitter(0.01, 0.4)
        if end == "maxtries":
            target = user if valid else f"invalid user {user}"
            self.sys(
                hostname,
                t,
                "sshd",
                proc,
                f"error: maximum authentication attempts exceeded for {target} from {ip} port {port} ssh2 [preauth]",
                tag,
            )
            self.sys(
                hostname,
                t,
                "sshd",
                proc,
                f"Disconnecting {who} {ip} port {port}: Too many authentication failures [preauth]",
                tag,
            )
        elif end == "bye":
            self.sys(hostname, t, "sshd", proc, f"Received disconnect from {ip} port {port}:11: Bye Bye [preauth]", tag)
            self.sys(hostname, t, "sshd", proc, f"Disconnected from {who} {ip} port {port} [preauth]", tag)
        elif end == "reset":
            self.sys(hostname, t, "sshd", proc, f"Connection reset by {who} {ip} port {port} [preauth]", tag)
        else:
            self.sys(hostname, t, "sshd", proc, f"Connection closed by {who} {ip} port {port} [preauth]", tag)
        if attempts > 1:
            more = attempts - 1
            tail = f"  user={user}" if valid else " "
            self.sys(
                hostname,
                t,
                "sshd",
                proc,
                f"PAM {more} more authentication failure{'s' if more > 1 else ''}; logname= uid=0 euid=0 tty=ssh "
                f"ruser= rhost={ip}{tail}",
                tag,
            )
        if attempts > 3:
            self.sys(hostname, t, "sshd", proc, f"PAM service(sshd) ignoring max retries; {attempts} > 3", tag)
        c = None
        if host.public_ip and not is_local(ip):
            ob = self.rng.randint(1150, 1700) + 96 * attempts
            rb = self.rng.randint(1900, 2600) + 64 * attempts
            c = self.tcp_ok(
                t0, ip, port, host.public_ip, 22, "ssh", t - t0 + self.jitter(0.001, 0.05), ob, rb, tag, eve
            )
            if c.eve:
                self.eve_ssh(t0 + self.jitter(0.05, 0.3), c, client, tag)
        return t, c

    def ssh_preauth(
        self, hostname: str, t: int, ip: str, kind: str, tag: str | None, port: int | None = None
    ) -> Conn | None:
        """A connection that never gets to authentication (scanners, banner grabbers)."""
        host = self.hosts[hostname]
        port = port or self.eph_port("any")
        proc = Proc()
        t0 = t
        t = self._sshd_prelude(host, t, ip, port, proc, tag)
        if kind == "kex":
            t += self.jitter(0.0, 0.3)
            self.sys(
                hostname, t, "sshd", proc, "error: kex_exchange_identification: Connection closed by remote host", tag
            )
            self.sys(hostname, t, "sshd", proc, f"Connection closed by {ip} port {port}", tag)
            ob, rb, svc = 0, 41, None
        elif kind == "banner":
            t += self.jitter(0.0, 0.4)
            self.sys(
                hostname, t, "sshd", proc, f"banner exchange: Connection from {ip} port {port}: invalid format", tag
            )
            ob, rb, svc = 18, 41, None
        elif kind == "negotiate":
            t += self.jitter(0.1, 0.6)
            self.sys(
                hostname,
                t,
                "sshd",
                proc,
                f"Unable to negotiate with {ip} port {port}: no matching host key type found. "
                f"Their offer: ssh-rsa,ssh-dss [preauth]",
                tag,
            )
            ob, rb, svc = 1046, 1120, "ssh"
        else:  # "closed": key exchange done, no authentication tried
            t += self.jitter(0.5, 3.0)
            self.sys(hostname, t, "sshd", proc, f"Connection closed by {ip} port {port} [preauth]", tag)
            ob, rb, svc = 1350, 1890, "ssh"
        if host.public_ip and not is_local(ip):
            return self.conn(
                t0,
                ip,
                port,
                host.public_ip,
                22,
                "tcp",
                svc,
                t - t0 + self.jitter(0.001, 0.02),
                ob,
                rb,
                "SF",
                "ShAdDaFf" if svc else "ShAFf",
                tag=tag,
            )
        return None

    def ssh_login(
        self,
        hostname: str,
        t: int,
        ip: str,
        user: str,
        method: str,
        dur: int,
        tag: str | None,
        key: str | None = None,
        fails: int = 0,
        interactive: bool = True,
        sudo=(),
        client: str = "OpenSSH_9.6p1",
        failed_key: str | None = None,
        eve: bool | None = None,
        conn_bytes: tuple | None = None,
    ) -> int:
        """A successful login and its session. ``sudo`` holds (offset_us, msg_lines...) tuples."""
        host = self.hosts[hostname]
        uid = HOST_USERS[hostname][user]
        port = self.eph_port("linux")
        proc = Proc()
        sess = LoginSession()
        t0 = t
        t = self._sshd_prelude(host, t, ip, port, proc, tag)
        if failed_key and host.verbose:
            t += self.jitter(0.05, 0.3)
            self.sys(
                hostname, t, "sshd", proc, f"Failed publickey for {user} from {ip} port {port} ssh2: {failed_key}", tag
            )
        for i in range(fails):
            t += self.jitter(1.5, 6.0)
            if i == 0:
                self.sys(hostname, t, "sshd", proc, self._pam_fail(ip, user), tag)
            t += self.jitter(2.0, 2.4)
            self.sys(hostname, t, "sshd", proc, f"Failed password for {user} from {ip} port {port} ssh2", tag)
        t += self.jitter(0.1, 0.5) if method == "publickey" else self.jitter(2.0, 7.0)
        accepted = f"Accepted {method} for {user} from {ip} port {port} ssh2"
        if method == "publickey":
            accepted += f": {key}"
        self.sys(hostname, t, "sshd", proc, accepted, tag)
        t += self.jitter(0.005, 0.03)
        self.sys(
            hostname,
            t,
            "sshd",
            proc,
            f"pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)",
            tag,
        )
        t += self.jitter(0.005, 0.03)
        self.sys(hostname, t, "systemd-logind", host.logind_pid, f"New session {{S}} of user {user}.", tag, sess)
        pts = self.rng.randint(0, 3)
        if host.verbose:
            what = f"shell on pts/{pts}" if interactive else "command"
            self.sys(
                hostname,
                t + self.jitter(0.01, 0.1),
                "sshd",
                proc,
                f"Starting session: {what} for {user} from {ip} port {port} id 0",
                tag,
            )
        for off, lines in sudo:
            ts = t + off
            for j, line in enumerate(lines):
                self.sys(hostname, ts + j * self.jitter(0.0, 0.01), "sudo", None, line.replace("{PTS}", str(pts)), tag)
        t_end = t + dur
        if host.verbose:
            self.sys(hostname, t_end, "sshd", proc, f"Close session: user {user} from {ip} port {port} id 0", tag)
        t_end += self.jitter(0.001, 0.02)
        self.sys(
            hostname, t_end, "sshd", proc, f"Received disconnect from {ip} port {port}:11: disconnected by user", tag
        )
        self.sys(hostname, t_end, "sshd", proc, f"Disconnected from user {user} {ip} port {port}", tag)
        self.sys(hostname, t_end, "sshd", proc, f"pam_unix(sshd:session): session closed for user {user}", tag)
        self.sys(
            hostname,
            t_end,
            "systemd-logind",
            host.logind_pid,
            "Session {S} logged out. Waiting for processes to exit.",
            tag,
            sess,
        )
        t_end += self.jitter(0.001, 0.08)
        self.sys(hostname, t_end, "systemd-logind", host.logind_pid, "Removed session {S}.", tag, sess)
        if host.public_ip and not is_local(ip):
            if conn_bytes:
                ob, rb = conn_bytes
            elif interactive:
                ob = self.rng.randint(20_000, 60_000) + int(dur / US) * 30
                rb = self.rng.randint(40_000, 200_000) + int(dur / US) * 60
            else:
                ob = self.rng.randint(3_400, 5_200)
                rb = self.rng.randint(4_100, 7_800)
            c = self.tcp_ok(t0, ip, port, host.public_ip, 22, "ssh", t_end - t0, ob, rb, tag, eve)
            if c.eve:
                self.eve_ssh(t0 + self.jitter(0.05, 0.2), c, client, tag)
        return t_end

    def sudo_lines(
        self,
        user: str,
        uid: int,
        pwd: str,
        command: str,
        runas: str = "root",
        runas_uid: int = 0,
        tty: str = "pts/{PTS}",
    ) -> tuple:
        return (
            f"{user:>8} : TTY={tty} ; PWD={pwd} ; USER={runas} ; COMMAND={command}",
            f"pam_unix(sudo:session): session opened for user {runas}(uid={runas_uid}) by {user}(uid={uid})",
            f"pam_unix(sudo:session): session closed for user {runas}",
        )

    def eve_ssh(self, ts: int, c: Conn, client: str, tag) -> None:
        d = self.eve_base(ts, c, "ssh")
        d["tx_id"] = 0
        d["community_id"] = community_id(c.orig, c.resp, c.op, c.rp, 6)
        d["ssh"] = {
            "client": {"proto_version": "2.0", "software_version": client},
            "server": {"proto_version": "2.0", "software_version": "OpenSSH_9.2p1"},
        }
        self.add_eve(ts, d, tag)

    # -- cron ---------------------------------------------------------------------------------

    def cron_job(self, hostname: str, t: int, user: str, uid: int, cmd: str, dur: float) -> None:
        host = self.hosts[hostname]
        proc = Proc()
        t += self.jitter(0.0, 0.9)
        self.sys(
            hostname,
            t,
            "CRON",
            proc,
            f"pam_unix(cron:session): session opened for user {user}(uid={uid}) by (uid=0)",
            None,
        )
        if host.cron_cmd_lines:
            self.sys(hostname, t + self.jitter(0.001, 0.01), "CRON", proc, f"({user}) CMD ({cmd})", None)
        self.sys(
            hostname, t + int(dur * US), "CRON", proc, f"pam_unix(cron:session): session closed for user {user}", None
        )

    def gen_cron(self) -> None:
        hourly = "   cd / && run-parts --report /etc/cron.hourly"
        daily = "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }"
        phpclean = (
            "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi"
        )
        first_hour = WINDOW_START - WINDOW_START % HOUR
        for hostname in ("bastion", "web1", "db1"):
            off = self.hosts[hostname].tz_offset_min * MINUTE
            t = first_hour
            while t < WINDOW_END:
                # cron runs in the host's local time; /etc/crontab: 17 * * * *, 25 6 * * *
                local_hour = ((t + off) // HOUR) % 24
                run = t + 17 * MINUTE
                if WINDOW_START <= run < WINDOW_END:
                    self.cron_job(hostname, run, "root", 0, hourly, self.rng.uniform(0.01, 0.08))
                if local_hour == 6:
                    run = t + 25 * MINUTE
                    if WINDOW_START <= run < WINDOW_END:
                        self.cron_job(hostname, run, "root", 0, daily, self.rng.uniform(2.0, 40.0))
                if hostname == "web1":
                    for m in (9, 39):
                        run = t + m * MINUTE
                        if WINDOW_START <= run < WINDOW_END:
                            self.cron_job(hostname, run, "root", 0, phpclean, self.rng.uniform(0.02, 0.3))
                if hostname == "db1" and local_hour == 2:
                    run = t + 30 * MINUTE
                    if WINDOW_START <= run < WINDOW_END:
                        self.cron_job(
                            hostname,
                            run,
                            "postgres",
                            104,
                            "/usr/local/bin/pg_backup.sh >> /var/log/postgresql/pg_backup.log 2>&1",
                            self.rng.uniform(60.0, 200.0),
                        )
                t += HOUR


def render_syslog(gen: Generator, host: SyslogHost) -> list[tuple[int, str, str | None]]:
    rng = random.Random(gen.seed * 7919 + sum(map(ord, host.name)))
    recs = sorted((r for r in host.records if WINDOW_START <= r.ts < WINDOW_END), key=lambda r: (r.ts, r.seq))
    pid = host.pid_start
    sess = host.session_start
    out = []
    for r in recs:
        if isinstance(r.proc, Proc):
            if r.proc.pid is None:
                pid += rng.randint(2, 40)
                r.proc.pid = pid
            tagpart = f"{r.prog}[{r.proc.pid}]"
        elif isinstance(r.proc, int):
            tagpart = f"{r.prog}[{r.proc}]"
        else:
            tagpart = r.prog
        msg = r.msg
        if r.sess is not None:
            if r.sess.num is None:
                sess += rng.choice((1, 1, 1, 2))
                r.sess.num = sess
            msg = msg.replace("{S}", str(r.sess.num))
        if host.style == "rfc3164":
            stamp = fmt_rfc3164(r.ts)
        else:
            stamp = fmt_rsyslog(r.ts, host.tz_offset_min)
        out.append((r.ts, f"{stamp} {host.name} {tagpart}: {msg}", r.tag))
    return out
