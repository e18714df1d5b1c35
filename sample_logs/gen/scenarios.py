"""The scenarios as data: which attacks start when, and how much benign noise."""

from __future__ import annotations

from dataclasses import dataclass

from .common import at


@dataclass(frozen=True)
class Scenario:
    """A mix of traffic. ``attacks`` maps attack id to its start time; absent ids are not planted.

    noise: multiplier on the internet background (failed SSH from scattered sources).
    browse: multiplier on ordinary web visitors and internal outbound traffic.
    """

    name: str
    attacks: dict
    noise: float = 1.0
    browse: float = 1.0
    description: str = ""


SCENARIOS = {
    "default": Scenario(
        "default",
        {
            "A1": at(15, 3, 10),  # brute force, 2 h
            "A3": at(16, 20, 0),  # credential stuffing, 6 h, crosses the bastion rotation at Nov 17 00:xx
            "A6": at(17, 13, 40),  # scanner
            "A2": at(18, 10, 20),  # password spraying
            "A7": at(18, 19, 30),  # C2 beacon, 11 h
            "A4": at(19, 2, 14),  # compromise of deploy@web1
            "A5": at(19, 15, 20),  # web attack
            "H1": at(14, 22, 5),  # honeypot brute force
            "H2": at(16, 4, 41),  # honeypot login, commands, download
            "H3": at(18, 1, 12),  # app1 compromise (auth.log, audit.log, btmp, wtmp)
            "A8": at(14, 11, 5),  # web login brute force
            "A9": at(15, 16, 30),  # web password spraying
            "A10": at(17, 21, 0),  # web credential stuffing
            "A11": at(18, 3, 40),  # web login that got in
            "A12": at(16, 14, 12),  # SYN flood
        },
        description="all fifteen attacks among ordinary traffic",
    ),
    "quiet": Scenario("quiet", {}, description="only benign traffic (admins, CI, monitoring, crawlers, background)"),
    "noisy": Scenario(
        "noisy",
        {
            "A1": at(14, 13, 5),  # in the afternoon, among admin logins
            "A2": at(15, 22, 40),
            "A3": at(17, 1, 0),
            "A4": at(16, 9, 35),  # during business hours
            "A5": at(18, 11, 0),
            "A6": at(19, 20, 15),
            "A7": at(16, 8, 0),  # beacon during the working day, among workstation traffic
            "H1": at(15, 11, 30),
            "H2": at(17, 14, 2),
            "H3": at(18, 10, 45),  # during business hours
            "A8": at(17, 14, 30),
            "A9": at(14, 10, 10),
            "A10": at(19, 12, 45),
            "A11": at(15, 20, 5),
            "A12": at(18, 9, 20),
        },
        noise=3.0,
        browse=3.0,
        description="three times the benign noise, attacks at other times",
    ),
}
