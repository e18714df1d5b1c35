"""SSH attacks planted in syslog: brute force, password spraying, credential stuffing, a compromise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .common import BASTION_PUB, BOTNET_16S, HOUR, TOR_24S, WEB1_PUB

if TYPE_CHECKING:
    from .attacks import Attack
    from .core import Generator


def brute_force(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """One source, two hours of bursts of parallel connections guessing one user's password."""
    tag = a.id
    user, client = a.params["user"], a.params["client"]
    rng = gen.rng
    ip = gen.attack_source(tag, (BASTION_PUB,))
    t = start
    end = start + 2 * HOUR
    failures = 0
    first = None
    while t < end:
        burst = rng.randint(4, 6)
        conns = []
        for b in range(burst):
            tb = t + gen.jitter(0, 40) + b * gen.jitter(1, 6)
            k = rng.choice((3, 4, 5, 6, 6, 6))
            endkind = "maxtries" if k == 6 else rng.choice(("bye", "closed"))
            _, c = gen.ssh_failed(
                "bastion", tb, ip, user, k, endkind, tag, client=client, eve=rng.random() < 0.12
            )
            failures += k
            conns.append(c)
            if first is None or c.ts < first.ts:
                first = c
        if burst >= 5:
            gen.eve_alert(conns[4].ts + gen.jitter(0.0005, 0.002), conns[4], "ssh_scan", tag)
        if rng.random() < 0.3:
            c = conns[-1]
            gen.eve_alert(
                c.ts + gen.jitter(0.3, 1.0),
                c,
                "libssh",
                tag,
                app_proto="ssh",
                extra={
                    "ssh": {
                        "client": {"proto_version": "2.0", "software_version": client},
                        "server": {"proto_version": "2.0", "software_version": "OpenSSH_9.2p1"},
                    }
                },
            )
        t += gen.jitter(150, 330)
    gen.eve_alert(first.ts + gen.jitter(0.0005, 0.002), first, "dshield", tag)
    return (
        [user],
        f"Single-source SSH brute force on {user} at the bastion: {failures} failed passwords over two hours "
        f"in bursts of parallel libssh connections, no success.",
    )


def password_spraying(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """One source, many usernames once each (a few twice), one attempt per connection."""
    tag = a.id
    rng = gen.rng
    ip = gen.attack_source(tag, (WEB1_PUB,))
    users = """
        admin administrator user test guest ubuntu debian oracle postgres mysql git jenkins deploy alice
        carol support info webmaster www ftp ftpuser backup operator dev developer staging sysadmin nagios
        zabbix ansible docker tomcat hadoop minecraft student demo sales marketing hr office
    """.split()
    twice = set(rng.sample(users, a.params["twice"]))
    order = users + [u for u in users if u in twice]
    t = start
    for u in order:
        t, _c = gen.ssh_failed(
            "web1", t, ip, u, 1, rng.choice(("bye", "bye", "closed")), tag, client="Go", eve=rng.random() < 0.25
        )
        t += gen.jitter(*a.params["gap_s"])
    return (
        users,
        f"Password spraying from one source against web1: {len(users)} different usernames, "
        f"{len(order)} attempts in total (one password each, some twice), about one every 1.5 minutes.",
    )


def credential_stuffing(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """Botnet addresses in a few /24s each trying the same few accounts, spread over six hours."""
    tag = a.id
    rng = gen.rng
    accounts = list(a.params["accounts"])
    nets = [gen.new_24(BOTNET_16S) for _ in range(a.params["nets"])]
    ips = []
    for net in nets:
        for _ in range(a.params["per_net"]):
            ips.append(gen.ip_in_24(net))
    attempts = 0
    gen.note_dst(tag, BASTION_PUB)
    for ip in ips:
        gen.note_ip(tag, ip)
        client = rng.choice(("Go", "libssh2_1.4.3", "libssh_0.9.6"))
        for _ in range(rng.randint(2, 5)):
            t = start + gen.jitter(0, 6 * 3600 - 60)
            _, c = gen.ssh_failed(
                "bastion",
                t,
                ip,
                rng.choice(accounts),
                1,
                rng.choice(("bye", "closed", "reset")),
                tag,
                client=client,
                eve=rng.random() < 0.1,
            )
            attempts += 1
            if c is not None and rng.random() < 0.04:
                gen.eve_alert(c.ts + gen.jitter(0.001, 0.01), c, "compromised", tag)
    return (
        accounts,
        f"Distributed credential stuffing: {len(ips)} botnet addresses in {len(nets)} /24 networks "
        f"({', '.join(n + '.0/24' for n in nets)}) each try the same five accounts a few times, "
        f"{attempts} attempts over six hours, one attempt per connection, no success.",
    )


def compromise(gen: Generator, start: int, a: Attack) -> tuple[list, str]:
    """From a Tor exit: failures for admin and deploy, then deploy's password works, sudo is refused."""
    tag = a.id
    rng = gen.rng
    ip = gen.ip_in_24(rng.choice(TOR_24S))
    gen.reserved_24s.add(ip.rsplit(".", 1)[0])
    gen.note_ip(tag, ip)
    gen.note_dst(tag, WEB1_PUB)
    t = start
    t, c = gen.ssh_failed("web1", t, ip, "admin", 3, "closed", tag, client="libssh_0.9.6", eve=True)
    gen.eve_alert(c.ts + gen.jitter(0.001, 0.01), c, "tor", tag)
    t += gen.jitter(20, 50)
    t, _ = gen.ssh_failed("web1", t, ip, "deploy", 3, "closed", tag, client="libssh_0.9.6", eve=True)
    t += gen.jitter(15, 40)
    t, _ = gen.ssh_failed("web1", t, ip, "admin", 2, "bye", tag, client="libssh_0.9.6")
    t += gen.jitter(30, 70)
    # the guess that works: two more misses in the same connection, then in
    sudo = (
        (
            gen.jitter(95, 140),
            ("  deploy : command not allowed ; TTY=pts/{PTS} ; PWD=/home/deploy ; USER=root ; COMMAND=/bin/bash",),
        ),
        (
            gen.jitter(170, 230),
            (
                "  deploy : command not allowed ; TTY=pts/{PTS} ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow",
            ),
        ),
        (
            gen.jitter(400, 700),
            gen.sudo_lines("deploy", 1001, "/var/www/app", "/usr/bin/systemctl reload php8.2-fpm"),
        ),
    )
    t = gen.ssh_login(
        "web1",
        t,
        ip,
        "deploy",
        "password",
        gen.jitter(1700, 2100),
        tag,
        fails=2,
        sudo=sudo,
        client="OpenSSH_9.6p1",
        eve=True,
        conn_bytes=(188_411, 2_917_533),
    )
    # back two hours later, straight in
    t2 = t + gen.jitter(2 * 3600, 2.5 * 3600)
    gen.ssh_login(
        "web1",
        t2,
        ip,
        "deploy",
        "password",
        gen.jitter(200, 400),
        tag,
        client="OpenSSH_9.6p1",
        eve=True,
        conn_bytes=(21_884, 60_912),
    )
    return (
        ["deploy", "admin"],
        "Compromise of deploy@web1 from a Tor exit: failed passwords for admin (no such user) and deploy, "
        "then 'Accepted password for deploy' from the same source (the CI uses a key from another "
        "address), a 30-minute session with refused sudo attempts, and a second password login later.",
    )
