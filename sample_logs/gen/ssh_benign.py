"""Benign SSH traffic in syslog: the admins' daily logins, the CI deploy key, and the internet background."""

from __future__ import annotations

import time

from .common import (
    BASTION_INT,
    BASTION_PUB,
    CI_RUNNER,
    DAY,
    HOME_BOB,
    HOUR,
    KEYS,
    MINUTE,
    OFFICE_ALICE,
    OFFICE_BOB,
    OFFICE_CAROL,
    Proc,
    US,
    WINDOW_END,
    WINDOW_START,
)


class SshBenignMixin:
    """The benign SSH logins: admins, the CI deploy key, and the internet background."""

    # -- benign: admins -----------------------------------------------------------------------

    def gen_admins(self) -> None:
        tag = "B1"
        rng = self.rng
        day0 = WINDOW_START - WINDOW_START % DAY
        for d in range(8):
            day = day0 + d * DAY
            weekday = time.gmtime(day // US).tm_wday  # 0 = Monday
            workday = weekday < 5
            # alice: bastion every workday from the office, jumps to db1, fixes things on web1.
            if workday:
                t = day + 8 * HOUR + self.jitter(10 * 60, 80 * 60)
                dur = self.jitter(2.5 * 3600, 6.5 * 3600)
                if WINDOW_START <= t and t + dur < WINDOW_END:
                    sudo = ()
                    if d in (3, 6):
                        sudo = (
                            (
                                self.jitter(300, 900),
                                self.sudo_lines("alice", 1000, "/home/alice", "/usr/bin/apt update"),
                            ),
                            (
                                self.jitter(1000, 1500),
                                self.sudo_lines("alice", 1000, "/home/alice", "/usr/bin/apt upgrade -y"),
                            ),
                        )
                    self.ssh_login("bastion", t, OFFICE_ALICE, "alice", "publickey", dur, tag, KEYS["alice"], sudo=sudo)
                    self.note_ip(tag, OFFICE_ALICE)
                    # ProxyJump hops to db1 (db1 sees the bastion's internal address)
                    for _ in range(rng.randint(1, 2)):
                        tj = t + self.jitter(600, max(700, dur / US - 3600))
                        sudo_db = (
                            (
                                self.jitter(20, 120),
                                self.sudo_lines(
                                    "alice", 1000, "/home/alice", "/usr/bin/psql", runas="postgres", runas_uid=104
                                ),
                            ),
                        )
                        self.ssh_login(
                            "db1",
                            tj,
                            BASTION_INT,
                            "alice",
                            "publickey",
                            self.jitter(300, 2400),
                            tag,
                            KEYS["alice"],
                            sudo=sudo_db,
                        )
                # alice on web1
                t = day + 10 * HOUR + self.jitter(0, 5 * 3600)
                if WINDOW_START <= t < WINDOW_END - 2 * HOUR:
                    cmd = rng.choice(
                        (
                            "/usr/bin/systemctl restart nginx",
                            "/usr/bin/systemctl reload nginx",
                            "/usr/bin/tail -n 200 /var/log/nginx/error.log",
                        )
                    )
                    sudo = ((self.jitter(30, 200), self.sudo_lines("alice", 1000, "/home/alice", cmd)),)
                    self.ssh_login(
                        "web1",
                        t,
                        OFFICE_ALICE,
                        "alice",
                        "publickey",
                        self.jitter(600, 3000),
                        tag,
                        KEYS["alice"],
                        sudo=sudo,
                    )
                # carol: developer, password login on web1 from the office
                if rng.random() < 0.8:
                    t = day + 13 * HOUR + self.jitter(0, 4 * 3600)
                    if WINDOW_START <= t < WINDOW_END - 2 * HOUR:
                        self.ssh_login("web1", t, OFFICE_CAROL, "carol", "password", self.jitter(900, 4000), tag)
                        self.note_ip(tag, OFFICE_CAROL)
            # bob: office on workdays, from home at the weekend (on call)
            ip = OFFICE_BOB if workday else HOME_BOB
            t = day + (9 * HOUR if workday else 10 * HOUR) + self.jitter(0, 3 * 3600)
            dur = self.jitter(1800, 4 * 3600)
            if WINDOW_START <= t and t + dur < WINDOW_END:
                fails = 0
                failed_key = None
                if weekday == 6:  # Sunday: new laptop, key not yet authorised, one password typo
                    c_t = t
                    port = self.eph_port("linux")
                    proc = Proc()
                    c_t = self._sshd_prelude(self.hosts["bastion"], c_t, ip, port, proc, tag)
                    self.sys(
                        "bastion",
                        c_t + self.jitter(0.05, 0.2),
                        "sshd",
                        proc,
                        f"Failed publickey for bob from {ip} port {port} ssh2: {KEYS['bob-laptop']}",
                        tag,
                    )
                    c_t += self.jitter(3.0, 6.0)
                    self.sys("bastion", c_t, "sshd", proc, self._pam_fail(ip, "bob"), tag)
                    c_t += self.jitter(2.0, 2.3)
                    self.sys("bastion", c_t, "sshd", proc, f"Failed password for bob from {ip} port {port} ssh2", tag)
                    c_t += self.jitter(4.0, 9.0)
                    self.sys(
                        "bastion",
                        c_t,
                        "sshd",
                        proc,
                        f"Connection closed by authenticating user bob {ip} port {port} [preauth]",
                        tag,
                    )
                    self.tcp_ok(t, ip, port, BASTION_PUB, 22, "ssh", c_t - t, 2890, 3321, tag)
                    t = c_t + self.jitter(40, 120)  # ssh-add the right key, try again
                self.ssh_login(
                    "bastion", t, ip, "bob", "publickey", dur, tag, KEYS["bob"], fails=fails, failed_key=failed_key
                )
                self.note_ip(tag, ip)
                self.note_ip(tag, BASTION_INT)  # db1 sees the admins' ProxyJump hops from the bastion
                if rng.random() < 0.6:
                    tj = t + self.jitter(300, max(400, dur / US - 600))
                    self.ssh_login("db1", tj, BASTION_INT, "bob", "publickey", self.jitter(120, 1500), tag, KEYS["bob"])

    # -- benign: CI deploy key ----------------------------------------------------------------

    def gen_ci(self) -> None:
        tag = "B2"
        self.note_ip(tag, CI_RUNNER)
        t = WINDOW_START - WINDOW_START % (10 * MINUTE)
        while t < WINDOW_END - 5 * MINUTE:
            start = t + self.jitter(8, 35)  # queue delay of the scheduled pipeline
            if start >= WINDOW_START:
                self.ssh_login(
                    "web1",
                    start,
                    CI_RUNNER,
                    "deploy",
                    "publickey",
                    self.jitter(3, 11),
                    tag,
                    KEYS["deploy-ci"],
                    interactive=False,
                    client="OpenSSH_9.2p1",
                    eve=self.rng.random() < 0.03,
                )
            t += 10 * MINUTE

    # -- benign: background internet noise ------------------------------------------------------

    def gen_background(self) -> None:
        tag = "B5"
        rng = self.rng
        n = round(150 * self.sc.noise)
        common = tuple(
            """
            root root root admin ubuntu test user oracle postgres git pi ftpuser guest support debian centos
            test1 usuario hadoop nagios es steam ts3 minecraft server dev www alex ansible sa
            """.split()
        )
        for _ in range(n):
            ip = self.random_public_ip()
            self.note_ip(tag, ip)
            hostname = "bastion" if rng.random() < 0.65 else "web1"
            t = WINDOW_START + self.jitter(60, (WINDOW_END - WINDOW_START) / US - 900)
            k = rng.choice((1, 1, 2, 2, 3))
            if rng.random() < 0.2:  # some first grab the banner or probe the key exchange
                self.ssh_preauth(hostname, t, ip, rng.choice(("kex", "banner", "closed", "negotiate")), tag)
                t += self.jitter(2, 120)
            client = rng.choice(("libssh_0.9.6", "libssh2_1.4.3", "Go", "PUTTY"))
            for _j in range(k):
                user = rng.choice(common)
                end = rng.choice(("bye", "bye", "closed"))
                t_end, c = self.ssh_failed(hostname, t, ip, user, 1, end, tag, client=client)
                if c is not None and rng.random() < 0.12:
                    sig = rng.choice(("dshield", "compromised", "cins"))  # reputation lists; scan rules need a burst
                    self.eve_alert(c.ts + self.jitter(0.001, 0.05), c, sig, tag)
                t = t_end + self.jitter(5, 400)
