"""syslog: auth.log / secure / messages as written by rsyslog, syslog-ng, OpenBSD/Solaris syslogd.

Headers understood (``host`` may be missing, the program may carry ``(module)`` and ``[pid]``):

- RFC 3164 / BSD: ``Mar  3 10:00:01 host sshd[123]: msg``, ``Feb 7 ...``, ``Jul 05 ...``,
  ``Nov 23 21:50:19 sshd[8148]: msg``, ``Mar  3 00:17:22 [sshd]: msg``, ``[sshd] msg``,
  ``sshd(pam_unix)[19939]: msg`` (program ``sshd``), an optional ``<PRI>`` in front, and the
  Solaris ``[ID 800047 auth.info]`` tag at the start of the message (dropped from ``message``).
  The year is the file's (mtime) year, or the year before for months after the mtime's month.
- rsyslog high precision: ``2015-04-16T18:02:50.321974+00:00 host sshd[2716]: msg``.
- RFC 5424: ``<38>1 2019-07-08T17:40:16.954167-04:00 host sshd 57915 - [sd...] msg``.

Timestamps without an offset are local time in ``ctx.tz``. Lines starting with ``#`` are skipped
by design; every other line with a header is an event (program and message may be anything); a
line without one is a reject. Messages are classified by ``engine.formats.sshd``.

Speed: the common header (timestamp, host, program[pid]:) is one regexp_extract with four groups
that RE2 runs one-pass; the message is cut out with strpos/substr. Only lines that do not fit it
(no host, ``[sshd]``, RFC 5424, ...) go through the slower general regexes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from engine.formats import sshd
from engine.formats.base import FileContext, LogFormat, Sample
from engine.formats.sshd import sql_str

_BSD_TS = r"[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}"
_ISO_TS = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})?"

# Common case, one-pass (every step decided by the next character), four groups. Neither the
# timestamp, the host (no ':') nor the program tag hold ": ", so the first ": " in the line ends
# the header and the message is cut out with strpos/substr.
FAST_RE = (
    rf"^({_BSD_TS}|{_ISO_TS}) +([^\s\[\]:]+) ([^\s\[\]:()]+)(?:\([^():]*\))?(?:\[(\d+)\])?: "
)
FAST_NAMES = ("ts", "host", "prog", "pid")

# Everything else of RFC 3164: optional <PRI>, fractional seconds, no host, [prog], no tag at all.
SLOW_RE = (
    rf"^(?:<\d{{1,3}}>)?({_BSD_TS}(?:\.\d{{1,6}})?|{_ISO_TS}) +"
    r"(?:([^\s\[\]]*[^\s\[\]:]) +)?"
    r"(?:([^\s\[\]:()]+)(?:\([^()]*\))?(?:\[(\d+)\])?:|\[([^\]\s]+)\]:?)? ?"
    r"(.*)$"
)
SLOW_NAMES = ("ts", "host", "prog", "pid", "bprog", "msg")

# RFC 5424: <PRI>VERSION TIMESTAMP HOST APP PROCID MSGID SD [MSG]; SD is "-" or [id k="v"...]
# elements whose quoted values may hold ']' and escaped quotes.
RFC5424_RE = (
    r"^<\d{1,3}>\d{1,2} (\S+) (\S+) (\S+) (\S+) \S+ "
    r"(?:-|(?:\[(?:[^\]\"\\]|\\.|\"(?:[^\"\\]|\\.)*\")*\])+)(?: (.*))?$"
)
RFC5424_NAMES = ("ts", "host", "app", "procid", "msg")

_SOLARIS_ID_RE = r"^\[ID \d+ [^\]]*\] ?"
_MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec"

REJECT_NO_HEADER = "no syslog header (timestamp, host, program): not a syslog line"
REJECT_BAD_TS = "syslog timestamp is not a valid date/time"


def _names(names: Sequence[str]) -> str:
    return "[" + ", ".join(sql_str(n) for n in names) + "]"


_UTC_NAMES = ("UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "Zulu", "Universal")


def build_sql(ctx: FileContext) -> tuple[str, dict[str, Any]]:
    # Year-less BSD timestamps: the file's year, or the year before for a month after the file's
    # month (December lines in a file written in January). The year is appended as text so that
    # strptime checks the date (Feb 29).
    month = f"((strpos('{_MONTHS}', left(_tsr, 3)) + 2) // 3)"
    naive = (
        f"try_strptime(_tsr || CASE WHEN {month} > $mtime_month THEN $year_before ELSE $year END, "
        "['%b %d %H:%M:%S %Y', '%b %d %H:%M:%S.%f %Y'])"
    )
    if ctx.tz in _UTC_NAMES:
        # the same instant as timezone('UTC', ...), without the ICU call
        bsd_ts = f"to_timestamp(epoch({naive}))"
    else:
        bsd_ts = f"timezone($tz, {naive})"
    iso_offset = "(ends_with(_tsr, 'Z') OR substr(_tsr, -6, 1) IN ('+', '-'))"
    ts = (
        "CASE WHEN _tsr IS NULL THEN NULL "
        f"WHEN substr(_tsr, 5, 1) <> '-' THEN {bsd_ts} "
        f"WHEN {iso_offset} THEN try_cast(_tsr AS TIMESTAMPTZ) "
        "ELSE timezone($tz, try_cast(_tsr AS TIMESTAMP)) END"
    )
    base = f"""
SELECT line_no, raw, ts, host, program, pid, message,
    CASE WHEN _comment THEN NULL
         WHEN _kind = 0 THEN {sql_str(REJECT_NO_HEADER)}
         WHEN _tsr IS NOT NULL AND ts IS NULL THEN {sql_str(REJECT_BAD_TS)} END AS _reject,
    CASE WHEN _comment THEN 'comment line' END AS _skip
FROM (
    SELECT line_no, raw, _comment, _kind, _tsr, host, program, pid, {ts} AS ts,
        CASE WHEN starts_with(_msg, '[ID ') THEN regexp_replace(_msg, {sql_str(_SOLARIS_ID_RE)}, '')
             ELSE _msg END AS message
    FROM (
        SELECT line_no, line AS raw, _comment, _kind,
            CASE _kind WHEN 1 THEN _f.ts WHEN 2 THEN nullif(_s5.ts, '-') WHEN 3 THEN _s3.ts END AS _tsr,
            CASE _kind WHEN 1 THEN _f.host WHEN 2 THEN nullif(_s5.host, '-')
                       WHEN 3 THEN nullif(_s3.host, '') END AS host,
            CASE _kind WHEN 1 THEN _f.prog WHEN 2 THEN nullif(_s5.app, '-')
                       WHEN 3 THEN coalesce(nullif(_s3.prog, ''), nullif(_s3.bprog, '')) END AS program,
            try_cast(CASE _kind WHEN 1 THEN _f.pid WHEN 2 THEN _s5.procid WHEN 3 THEN _s3.pid END AS BIGINT) AS pid,
            CASE _kind
                WHEN 1 THEN substr(line, strpos(line, ': ') + 2)
                WHEN 2 THEN CASE WHEN starts_with(_s5.msg, chr(65279)) THEN substr(_s5.msg, 2)
                                 ELSE coalesce(_s5.msg, '') END
                WHEN 3 THEN _s3.msg END AS _msg
        FROM (
            SELECT *,
                CASE WHEN _f.ts <> '' THEN 1 WHEN _s5.host <> '' THEN 2 WHEN _s3.ts <> '' THEN 3 ELSE 0 END AS _kind
            FROM (
                SELECT *,
                    CASE WHEN _f.ts = '' AND NOT _comment AND coalesce(_s5.host, '') = ''
                         THEN regexp_extract(line, {sql_str(SLOW_RE)}, {_names(SLOW_NAMES)}) END AS _s3
                FROM (
                    SELECT *,
                        CASE WHEN _f.ts = '' AND starts_with(line, '<')
                             THEN regexp_extract(line, {sql_str(RFC5424_RE)}, {_names(RFC5424_NAMES)}) END AS _s5
                    FROM (
                        SELECT line_no, line, starts_with(line, '#') AS _comment,
                            regexp_extract(line, {sql_str(FAST_RE)}, {_names(FAST_NAMES)}) AS _f
                        FROM _lines
                    ) _l1
                ) _l2
            ) _l3
        ) _l4
    ) _l5
) _l6
"""
    params = {
        "tz": ctx.tz,
        "mtime_month": int(ctx.mtime_month),
        "year": f" {int(ctx.mtime_year)}",
        "year_before": f" {int(ctx.mtime_year) - 1}",
    }
    return sshd.wrap(base), params


# --- detection (Python, on the first lines only) ------------------------------------------------

_DETECT_RES = tuple(re.compile(p) for p in (FAST_RE, RFC5424_RE))
_DETECT_SLOW = re.compile(
    rf"^(?:<\d{{1,3}}>)?(?:{_BSD_TS}(?:\.\d{{1,6}})?|{_ISO_TS}) +"
    r"(?:[^\s\[\]]*[^\s\[\]:] +)?(?:[^\s\[\]:()]+(?:\([^()]*\))?(?:\[\d+\])?:|\[[^\]\s]+\]:?)"
)


def detect(lines: Sequence[str]) -> float:
    """Share of the (non-comment) lines that carry a syslog header with a program tag."""
    considered = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    if not considered:
        return 0.0
    hits = sum(
        1 for ln in considered if any(r.match(ln) for r in _DETECT_RES) or _DETECT_SLOW.match(ln)
    )
    return hits / len(considered)


# --- samples: literal lines and what they must give ---------------------------------------------

def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _s(line: str, mtime_year: int = 2026, mtime_month: int = 12, **expect: Any) -> Sample:
    return Sample(line=line, expect=expect, mtime_year=mtime_year, mtime_month=mtime_month)


SAMPLES: tuple[Sample, ...] = (
    _s("Mar  3 10:00:01 bastion sshd[123]: Failed password for root from 203.0.113.7 port 52211 ssh2",
       ts=_utc(2026, 3, 3, 10, 0, 1), host="bastion", program="sshd", pid=123, action="auth_password",
       outcome="failure", user="root", src_ip="203.0.113.7", src_port=52211, auth_method="password"),
    _s("Feb 25 14:34:10 belka sshd[31602]: Failed password for invalid user ROOT from 194.117.26.69 port 50273 ssh2",
       action="auth_password", outcome="failure", user="ROOT", src_ip="194.117.26.69", src_port=50273),
    _s("Jul 05 18:22:45 mercury sshd[4670]: Failed publickey for invalid user graysky from aaaa:bbbb:cccc:1234::1:1 port 37955 ssh2: RSA SHA256:v3dpapGleDaUKf$4V1vKyR9ZyUgjaJAmoCTcb2PLljI",
       ts=_utc(2026, 7, 5, 18, 22, 45), action="auth_publickey", outcome="failure", user="graysky",
       src_ip="aaaa:bbbb:cccc:1234::1:1", src_port=37955, auth_method="publickey"),
    _s("Apr 30 01:42:12 Jamess-iMac.local sshd[2554]: Failed keyboard-interactive/pam for invalid user jamedds from 205.186.180.77 port 33723 ssh2",
       action="auth_keyboard_interactive", outcome="failure", user="jamedds", src_ip="205.186.180.77",
       auth_method="keyboard-interactive/pam"),
    _s("Dec 10 09:32:20 LabSZ sshd[24680]: Accepted password for fztu from 119.137.62.142 port 49116 ssh2",
       ts=_utc(2026, 12, 10, 9, 32, 20), action="auth_password", outcome="success", user="fztu",
       src_ip="119.137.62.142", src_port=49116),
    _s("Dec 10 09:32:20 LabSZ sshd[24680]: Accepted password for fztu from 119.137.62.142 port 49116 ssh2",
       mtime_year=2027, mtime_month=1, ts=_utc(2026, 12, 10, 9, 32, 20)),
    _s("Feb 7 16:01:07 linux-m899 sshd[5106]: User root from 192.51.100.54 not allowed because a group is listed in DenyGroups",
       ts=_utc(2026, 2, 7, 16, 1, 7), host="linux-m899", action="user_not_allowed", outcome="failure",
       user="root", src_ip="192.51.100.54"),
    _s("Nov 23 21:50:19 sshd[8148]: Disconnecting: Too many authentication failures for root [preauth]",
       host=None, program="sshd", pid=8148, action="max_auth_exceeded", outcome="failure", user="root"),
    _s("Mar  3 00:17:22 [sshd]: User root from 211.188.220.49 not allowed because not listed in AllowUsers",
       host=None, program="sshd", pid=None, action="user_not_allowed", src_ip="211.188.220.49"),
    _s("Jun 25 23:53:34 [sshd] User root from 1.2.3.4 not allowed because not listed in AllowUsers",
       program="sshd", action="user_not_allowed", src_ip="1.2.3.4", user="root"),
    _s("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ",
       host="combo", program="sshd", pid=19939, action="pam_auth_failure", outcome="failure",
       src_ip="218.188.2.4", user=None),
    _s("Jul  3 14:59:17 host sshd-session[1571]: Failed password for root from 192.0.2.1 port 56502 ssh2",
       program="sshd-session", pid=1571, action="auth_password", src_ip="192.0.2.1"),
    _s("Mar 29 05:20:09 dusky sshd[19558]: [ID 800047 auth.info] Failed keyboard-interactive for james from 205.186.180.30 port 54520 ssh2",
       action="auth_keyboard_interactive", user="james", src_ip="205.186.180.30",
       message="Failed keyboard-interactive for james from 205.186.180.30 port 54520 ssh2"),
    _s("2015-04-16T18:02:50.321974+00:00 host sshd[2716]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.112  user=root",
       ts=_utc(2015, 4, 16, 18, 2, 50, 321974), host="host", pid=2716, action="pam_auth_failure",
       outcome="failure", user="root", src_ip="192.0.2.112"),
    _s("<38>1 2019-07-08T17:40:16.954167-04:00 hostname.example.com sshd 57915 - - Failed unknown for invalid user redmond from 192.0.2.1 port 59197 ssh2",
       ts=_utc(2019, 7, 8, 21, 40, 16, 954167), host="hostname.example.com", program="sshd", pid=57915,
       action="auth_other", outcome="failure", user="redmond", src_ip="192.0.2.1", src_port=59197),
    _s('<38>1 2019-07-08T17:40:17.954167-04:00 hostname.example.com sshd 55555 - [timeQuality tzKnown="1" isSynced="0"][xxx@123 test="[brackets]"] Failed unknown for invalid user redmond from 192.0.2.2 port 55555 ssh2',
       action="auth_other", user="redmond", src_ip="192.0.2.2", src_port=55555,
       message="Failed unknown for invalid user redmond from 192.0.2.2 port 55555 ssh2"),
    _s("Jun  7 01:11:58 host sshd[8783]: Bad protocol version identification 'dummy string' from 192.0.2.1' from 69.61.56.115 port 31778",
       action="bad_protocol", outcome="failure", src_ip="69.61.56.115", src_port=31778),
    _s("Jul 17 23:04:01 srv sshd[1300]: Connection closed by authenticating user test 127.0.0.1 port 12345 192.0.2.11 port 46039 [preauth]",
       action="preauth_close", outcome="failure", user="test 127.0.0.1 port 12345", src_ip="192.0.2.11",
       src_port=46039),
    _s("Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
       action="break_in_attempt", outcome=None, src_ip="173.234.31.186"),
    _s("Mar  3 10:05:01 bastion CRON[4242]: (root) CMD (cd / && run-parts --report /etc/cron.hourly)",
       program="CRON", pid=4242, action="cron", user="root", outcome=None),
    _s("Mar  3 10:06:00 bastion sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash",
       program="sudo", pid=None, action="sudo", user="alice"),
    _s("Jun 15 04:06:18 combo su(pam_unix)[21416]: session opened for user cyrus by (uid=0)",
       program="su", pid=21416, action="session_open", user="cyrus"),
    _s("Mar  3 10:07:00 bastion systemd-logind[812]: New session 42 of user alice.",
       program="systemd-logind", action="logind", user="alice"),
    _s("Jul 27 14:41:57 combo kernel: Linux version 2.6.5-1.358",
       program="kernel", pid=None, action="kernel"),
    _s("Jun 19 04:09:11 combo syslogd 1.4.1: restart.",
       host="combo", program=None, action="syslog", message="syslogd 1.4.1: restart."),
    _s("# generated by a test harness", _skip="comment line", _reject=None),
    _s("this is not syslog at all", _reject=REJECT_NO_HEADER),
)

FORMAT = LogFormat(
    name="syslog",
    title="syslog (RFC 3164/5424, rsyslog ISO) with the OpenSSH vocabulary",
    detect=detect,
    build_sql=build_sql,
    samples=SAMPLES,
    priority=10,
    fixups=(sshd.FILL_ADDRESS_SQL,),
)
