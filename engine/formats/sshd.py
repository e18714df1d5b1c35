"""The message vocabulary of syslog-style lines, as data, with OpenSSH (sshd) in full.

Shared by the ``syslog`` and ``journald`` formats. Both produce a *base* SELECT with the columns
``line_no, raw, ts, host, program, pid, message, _reject, _skip``; :func:`wrap` turns it into one
that also has ``action, outcome, user, src_ip, src_port, dst_ip, dst_port, auth_method``.

How a message is classified, without a Python loop and cheaply enough for millions of lines:

1. The message is normalised once (``message repeated N times: [ ... ]`` unwrapped, ``error: ``
   and ``fatal: `` prefixes dropped, trailing blanks trimmed).
2. One CASE picks a rule per row from ``RULES``, in order, with cheap guards only
   (``starts_with``/``contains``/``ends_with``): DuckDB evaluates a later WHEN only on the rows
   that no earlier WHEN took.
3. Only the chosen rule's regex runs on a row, once: ``CASE rule WHEN 1 THEN regexp_extract(m,
   re1, [g1..g4]) WHEN 2 ...``. Every regex has exactly four groups (padded with empty ``()``) so
   the struct type is the same in every branch; four groups is also the most RE2 can run through
   its fast one-pass matcher.
4. The rule says which group is which field. Rules whose message names no address take
   ``src_ip``/``src_port`` from the earlier event of the same host, program and pid (the same sshd
   connection), with a window over the file.

Regexes that take a user name are anchored at the end of the message and arranged so that a user
name holding ``from 10.0.0.1 port 22`` cannot move the address (see the injection tests).

Outcome: ``failure`` for failed authentication and for any connection that ends before it
authenticated (``[preauth]`` closes and disconnects, ``Auth fail``), ``success`` for ``Accepted``,
NULL otherwise.

Every string put into SQL here is one of this module's constants; log text only ever reaches
DuckDB as column values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# Programs whose messages are read with the sshd part of the vocabulary. OpenSSH 9.8 moved the
# per-connection work to ``sshd-session`` (and 10.0 the pre-authentication part to ``sshd-auth``).
SSHD_PROGRAMS: tuple[str, ...] = ("sshd", "sshd-session", "sshd-auth")

N_GROUPS = 4
GROUP_NAMES = tuple(f"g{i}" for i in range(1, N_GROUPS + 1))

# The method word of "Failed <method> for" / "Accepted <method> for" -> action.
METHOD_ACTIONS: tuple[tuple[str, str], ...] = (
    ("password", "auth_password"),
    ("publickey", "auth_publickey"),
    ("keyboard-interactive", "auth_keyboard_interactive"),  # also keyboard-interactive/pam
    ("hostbased", "auth_hostbased"),
    ("none", "auth_none"),
)
METHOD_OTHER_ACTION = "auth_other"  # unknown, gssapi-with-mic, ...

SSHD_FALLBACK = "sshd_other"
GENERIC_FALLBACK = "syslog"

_OUTCOMES = ("failure", "success", None, "preauth")


@dataclass(frozen=True)
class Rule:
    """One message family.

    name: stable id (tests and docs).
    scope: "sshd" (sshd programs only), "any" (every program, sshd included) or a tuple of
        program names (exact, as logged).
    guard: alternatives OR-ed; each alternative is a tuple of conditions AND-ed; a condition is
        ("prefix"|"contains"|"suffix", text). Empty guard: every row in scope.
    regex: RE2 pattern over the normalised message with at most four groups, or None.
    fields: event column -> group number (1-based) or a tuple of group numbers (first non-empty).
        Columns: user, src_ip, src_port, dst_ip, dst_port, auth_method.
    const: event column -> constant value (e.g. user "root" for ROOT LOGIN REFUSED).
    action: the action, or "@method" for auth_* from the method group (``auth_method`` field).
    outcome: "failure", "success", None, or "preauth": failure when the connection ended before
        authentication (``[preauth]``, ``Auth fail``, an ``authenticating``/``invalid`` user),
        else NULL.
    preauth_action: the action used instead of ``action`` when that pre-auth test holds.
    required: a group that is never empty when the regex matched; when it is empty the row falls
        back to the scope's generic action (sshd_other / syslog) with no fields.
    """

    name: str
    action: str
    outcome: str | None = None
    scope: str | tuple[str, ...] = "sshd"
    guard: tuple[tuple[tuple[str, str], ...], ...] = ()
    regex: str | None = None
    fields: Mapping[str, int | tuple[int, ...]] = field(default_factory=dict)
    const: Mapping[str, str] = field(default_factory=dict)
    preauth_action: str | None = None
    required: int | None = None


def _p(*texts: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Guard: the message starts with any of ``texts``."""
    return tuple((("prefix", t),) for t in texts)


def _c(*texts: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Guard: the message contains any of ``texts``."""
    return tuple((("contains", t),) for t in texts)


# Pieces of the sshd regexes.
_PORT = r"(?: port (\d+))?"
_ON = r"(?: on \S+(?: port \d+)?)?"  # "... port 22 on 10.0.0.1 port 2222" (ListenAddress info)
_PRE = r"(?: \[preauth\])?"
_USERS_OK = (
    r"(?:not listed in AllowUsers|listed in DenyUsers|not in any group|a group is listed in DenyGroups"
    r"|none of user's groups are listed in AllowGroups|account is locked"
    r"|shell \S+ does not exist|shell \S+ is not executable)"
)

SSHD_RULES: tuple[Rule, ...] = (
    Rule(
        "accepted", "@method", "success", guard=_p("Accepted "),
        regex=rf"^Accepted (\S+) for (.*?) from (\S+){_PORT}{_ON}(?: ssh\d*)?(?:: .*)?{_PRE}$",
        fields={"auth_method": 1, "user": 2, "src_ip": 3, "src_port": 4}, required=3,
    ),
    Rule(
        # Failed password/publickey/keyboard-interactive(/pam)/hostbased/none/unknown for
        # [invalid user] X from IP [port N] [ssh2][: key or "ruser ..." info]. The user is
        # matched lazily and what follows the address may only be ": ..." so that user names
        # and auth-info holding " from IP port N" cannot move the address.
        "failed", "@method", "failure", guard=_p("Failed "),
        regex=rf"^Failed (\S+) for (?:invalid user |illegal user )?(.*?) from (\S+){_PORT}{_ON}(?: ssh\d*)?(?:: .*)?{_PRE}$",
        fields={"auth_method": 1, "user": 2, "src_ip": 3, "src_port": 4}, required=3,
    ),
    Rule(
        "postponed", "auth_postponed", None, guard=_p("Postponed "),
        regex=rf"^Postponed (\S+) for (?:invalid user )?(.*?) from (\S+){_PORT}(?: ssh\d*)?{_PRE}$",
        fields={"auth_method": 1, "user": 2, "src_ip": 3, "src_port": 4}, required=3,
    ),
    Rule(
        "invalid_user", "invalid_user", "failure",
        guard=_p("Invalid user ", "Illegal user ", "invalid user ", "illegal user "),
        regex=rf"^(?:[Ii]nvalid|[Ii]llegal) user (.*?)(?: from (\S+){_PORT}{_ON})?{_PRE}$",
        fields={"user": 1, "src_ip": 2, "src_port": 3},
    ),
    Rule(
        "input_userauth_invalid", "invalid_user", "failure",
        guard=_p("input_userauth_request: invalid user ", "input_userauth_request: illegal user "),
        regex=rf"^input_userauth_request: (?:invalid|illegal) user (.*?){_PRE}$",
        fields={"user": 1},
    ),
    Rule(
        # "error: PAM: Authentication failure for X from Y", OS X "authentication error for X from
        # Y via Z", "PAM: User not known to the underlying authentication module for illegal user X
        # from Y".
        "pam_error", "pam_auth_failure", "failure",
        guard=_p("PAM: Authentication failure for ", "PAM: authentication failure for ",
                 "PAM: Authentication error for ", "PAM: authentication error for ",
                 "PAM: Authentication failed for ", "PAM: authentication failed for ",
                 "PAM: User not known to the underlying authentication module for "),
        regex=r"^PAM: (?:[Aa]uthentication (?:failure|error|failed)|User not known to the underlying"
              r" authentication module) for (?:illegal user |invalid user )?(.*?) from (\S+)(?: via \S+)?"
              + _PRE + "$",
        fields={"user": 1, "src_ip": 2}, required=2,
    ),
    Rule(
        # pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=H  user=U
        # (also "sshd(pam_unix)[pid]: authentication failure; ..." and "PAM 2 more authentication failures; ...")
        "pam_unix_auth", "pam_auth_failure", "failure", scope="any",
        guard=_c("authentication failure; ", "authentication failures; "),
        regex=r"authentication failures?;.* ruser=(\S*) rhost=(\S*)(?:\s+user=(\S*))?",
        fields={"user": (3, 1), "src_ip": 2},
    ),
    Rule(
        "max_auth_exceeded", "max_auth_exceeded", "failure",
        guard=_p("maximum authentication attempts exceeded for "),
        regex=rf"^maximum authentication attempts exceeded for (?:invalid user |illegal user )?(.*?) from (\S+){_PORT}{_ON}(?: ssh\d*)?{_PRE}$",
        fields={"user": 1, "src_ip": 2, "src_port": 3},
    ),
    Rule(
        "too_many_failures", "max_auth_exceeded", "failure",
        guard=_p("Disconnecting: Too many authentication failures"),
        regex=rf"^Disconnecting: Too many authentication failures(?: for (?:invalid user |illegal user )?(.*?))?{_PRE}$",
        fields={"user": 1},
    ),
    Rule(
        "disconnecting_too_many", "max_auth_exceeded", "failure",
        guard=((("prefix", "Disconnecting "), ("contains", ": Too many authentication failures")),),
        regex=r"^Disconnecting (?:invalid |authenticating |illegal )?user (.*?) (\S+) port (\d+): Too many authentication failures",
        fields={"user": 1, "src_ip": 2, "src_port": 3},
    ),
    Rule(
        # "Disconnecting invalid user X IP port N: reason", "Disconnecting user X IP port N: reason",
        # "Disconnecting: reason"
        "disconnecting", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_p("Disconnecting "),
        regex=r"^Disconnecting (?:invalid |authenticating |illegal )?user (.*?) (\S+) port (\d+): ",
        fields={"user": 1, "src_ip": 2, "src_port": 3},
    ),
    Rule(
        "disconnecting_reason", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_p("Disconnecting: "),
    ),
    Rule(
        "root_login_refused", "root_login_refused", "failure", guard=_p("ROOT LOGIN REFUSED"),
        regex=rf"^ROOT LOGIN REFUSED.* FROM (\S+){_PORT}{_PRE}$",
        fields={"src_ip": 1, "src_port": 2}, const={"user": "root"},
    ),
    Rule(
        # User X [from Y] not allowed because <one of sshd's reasons>: anchored on the reason so
        # a user name holding "from Y not allowed because" cannot move the address.
        "user_not_allowed", "user_not_allowed", "failure",
        guard=((("prefix", "User "), ("contains", " not allowed because ")),),
        regex=rf"^User (.+?)(?: from (\S+))? not allowed because {_USERS_OK}{_PRE}$",
        fields={"user": 1, "src_ip": 2},
    ),
    Rule(
        # tcp wrappers: "refused connect from NAME (ADDR)"
        "refused_connect", "connection_refused", "failure", guard=_p("refused connect from "),
        regex=r"^refused connect from (?:.* \()?([^\s()]+)\)?$",
        fields={"src_ip": 1},
    ),
    Rule(
        "no_ident", "no_ident", "failure", guard=_p("Did not receive identification string"),
        regex=rf"^Did not receive identification string from (\S+){_PORT}{_PRE}$",
        fields={"src_ip": 1, "src_port": 2},
    ),
    Rule(
        # the identification string is the client's: the address is the last "from" (greedy .*)
        "bad_protocol", "bad_protocol", "failure", guard=_p("Bad protocol version identification"),
        regex=rf"^Bad protocol version identification .* from (\S+){_PORT}{_PRE}$",
        fields={"src_ip": 1, "src_port": 2},
    ),
    Rule(
        # pre-authentication protocol errors (scanners, floods, garbage on the port)
        "kex_error", "kex_error", "failure",
        guard=_p("kex_exchange_identification: ", "banner exchange: ", "banner line too long",
                 "Bad packet length", "Corrupted MAC on input", "bad client public DH value",
                 "Corrupted check bytes", "buffer_get_string: bad string", "kex_protocol_error",
                 "Protocol major versions differ", "no hostkey alg"),
        regex=r"^[^:]+: Connection from (?:(?:invalid |authenticating |illegal )?user (.*?) )?(\S+) port (\d+): ",
        fields={"user": 1, "src_ip": 2, "src_port": 3},
    ),
    Rule(
        "dispatch_fatal", "kex_error", "preauth", guard=_p("ssh_dispatch_run_fatal: "),
        regex=r"^ssh_dispatch_run_fatal: Connection from (?:(?:invalid |authenticating |illegal )?user (.*?) )?(\S+) port (\d+): ",
        fields={"user": 1, "src_ip": 2, "src_port": 3},
    ),
    Rule(
        "negotiation_failed", "negotiation_failed", "failure",
        guard=_p("Unable to negotiate", "no matching "),
        regex=r"^Unable to negotiate with (\S+?)(?: port (\d+))?: ",
        fields={"src_ip": 1, "src_port": 2},
    ),
    Rule(
        "preauth_timeout", "preauth_timeout", "failure", guard=_p("Timeout before authentication"),
        regex=r"^Timeout before authentication for (?:connection from )?([^\s,]+)(?: port (\d+))?(?: to ([^\s,]+), pid = \d+)?",
        fields={"src_ip": 1, "src_port": 2, "dst_ip": 3},
    ),
    Rule(
        # connection dropped under sshd, no address in the message
        "socket_error", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_p("Connection reset by peer", "Read from socket failed", "Write failed: ",
                 "Read error from remote host", "Connection timed out"),
    ),
    Rule(
        # Connection closed|reset by [authenticating|invalid user X] IP port N [preauth]. The user
        # is greedy and the address must be followed by " port N" (then only [preauth] and the
        # end), so a user name holding "IP port N" stays in the user.
        "connection_closed", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_p("Connection closed by ", "Connection reset by "),
        regex=rf"^Connection (?:closed|reset) by (?:(?:(?:authenticating |invalid |illegal )?user (.*) )?(\S+) port (\d+)|(\S+)){_PRE}$",
        fields={"user": 1, "src_ip": (2, 4), "src_port": 3},
    ),
    Rule(
        "disconnected", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_p("Disconnected from "),
        regex=rf"^Disconnected from (?:(?:(?:authenticating |invalid |illegal )?user (.*) )?(\S+) port (\d+)|(\S+)){_PRE}$",
        fields={"user": 1, "src_ip": (2, 4), "src_port": 3},
    ),
    Rule(
        # Received disconnect from IP[ port N]:N: reason -- the reason is the client's text, the
        # address is the first thing after "from" (lazy).
        "received_disconnect", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_p("Received disconnect from "),
        regex=r"^Received disconnect from (\S+?)(?: port (\d+))?: ?\d+: ",
        fields={"src_ip": 1, "src_port": 2},
    ),
    Rule(
        "connect", "connect", None, guard=_p("Connection from "),
        regex=r"^Connection from (\S+)(?: port (\d+))?(?: on (\S+) port (\d+))?",
        fields={"src_ip": 1, "src_port": 2, "dst_ip": 3, "dst_port": 4},
    ),
    Rule(
        "session_open", "session_open", None, scope="any", guard=_c("session opened for user "),
        regex=r"session opened for user ([^\s(]+)",
        fields={"user": 1},
    ),
    Rule(
        "session_close", "session_close", None, scope="any", guard=_c("session closed for user "),
        regex=r"session closed for user ([^\s(]+)",
        fields={"user": 1},
    ),
    Rule(
        "break_in_reverse", "break_in_attempt", None,
        guard=_p("reverse mapping checking getaddrinfo for "),
        regex=r"^reverse mapping checking getaddrinfo for \S+ \[([^\]\s]+)\] failed",
        fields={"src_ip": 1},
    ),
    Rule(
        "break_in_address", "break_in_attempt", None,
        guard=((("prefix", "Address "), ("contains", "POSSIBLE BREAK-IN ATTEMPT")),),
        regex=r"^Address (\S+) maps to ",
        fields={"src_ip": 1},
    ),
    Rule(
        # SSH audit lines of some vendor builds: "SSH: Server;Ltype: Version;Remote: 127.0.0.1-1780;..."
        "ssh_audit", SSHD_FALLBACK, None, guard=_p("SSH: Server;"),
        regex=r";Remote: (\S+?)-(\d+);",
        fields={"src_ip": 1, "src_port": 2},
    ),
)

OTHER_RULES: tuple[Rule, ...] = (
    Rule("cron_cmd", "cron", None, scope=("CRON", "cron", "crond", "anacron"), guard=_p("("),
         regex=r"^\(([^)\s]+)\) ", fields={"user": 1}),
    Rule("cron", "cron", None, scope=("CRON", "cron", "crond", "anacron")),
    # "alice : 3 incorrect password attempts ; TTY=pts/0 ; ... ; COMMAND=/bin/sh"
    Rule("sudo_failure", "sudo", "failure", scope=("sudo",),
         guard=_c("incorrect password attempt", "NOT in sudoers", "command not allowed",
                  "user NOT authorized", "a password is required"),
         regex=r"^\s*(\S+) : ", fields={"user": 1}),
    Rule("sudo", "sudo", None, scope=("sudo",), regex=r"^\s*(\S+) : ", fields={"user": 1}),
    Rule("su_failure", "su", "failure", scope=("su",), guard=_p("FAILED SU", "FAILED su", "FAILED su "),
         regex=r" by (\S+)$", fields={"user": 1}),
    Rule("su_success", "su", "success", scope=("su",), guard=_p("Successful su", "Successful SU"),
         regex=r" by (\S+)$", fields={"user": 1}),
    Rule("su", "su", None, scope=("su",)),
    Rule("logind_user", "logind", None, scope=("systemd-logind",), guard=_c(" of user "),
         regex=r" of user (.+?)\.?$", fields={"user": 1}),
    Rule("logind", "logind", None, scope=("systemd-logind",)),
    Rule("kernel", "kernel", None, scope=("kernel",)),
)

_SESSION_RULES = tuple(r for r in SSHD_RULES if r.scope == "any")
RULES: tuple[Rule, ...] = SSHD_RULES + OTHER_RULES


# --- validation at import: the data must be what the SQL generator expects -------------------

def _check_rules() -> None:
    names = set()
    for r in RULES:
        assert r.name not in names, f"duplicate rule {r.name}"
        names.add(r.name)
        assert r.outcome in _OUTCOMES, r.name
        if r.regex is not None:
            groups = re.compile(r.regex).groups
            assert groups <= N_GROUPS, f"rule {r.name}: {groups} groups, at most {N_GROUPS}"
        for col, g in r.fields.items():
            assert col in ("user", "src_ip", "src_port", "dst_ip", "dst_port", "auth_method"), (r.name, col)
            for gi in g if isinstance(g, tuple) else (g,):
                assert r.regex is not None and 1 <= gi <= re.compile(r.regex).groups, (r.name, col, gi)
        if r.action == "@method":
            assert "auth_method" in r.fields, r.name
        for alt in r.guard:
            for kind, _ in alt:
                assert kind in ("prefix", "contains", "suffix"), r.name


_check_rules()


# --- SQL generation ----------------------------------------------------------------------------

def sql_str(text: str) -> str:
    """A SQL string literal for one of this package's own constants (never for log text)."""
    return "'" + text.replace("'", "''") + "'"


def _padded(regex: str) -> str:
    return regex + "()" * (N_GROUPS - re.compile(regex).groups)


def _guard_sql(rule: Rule, m: str) -> str:
    if not rule.guard:
        return "TRUE"
    fn = {"prefix": "starts_with", "contains": "contains", "suffix": "ends_with"}
    alts = []
    for alt in rule.guard:
        conds = [f"{fn[kind]}({m}, {sql_str(text)})" for kind, text in alt]
        alts.append(conds[0] if len(conds) == 1 else "(" + " AND ".join(conds) + ")")
    return alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")"


def _scope_sql(rule: Rule, program: str, is_sshd: str) -> str:
    if rule.scope == "sshd":
        return is_sshd
    if rule.scope == "any":
        return "TRUE"
    return f"{program} IN ({', '.join(sql_str(p) for p in rule.scope)})"


RULE_IDS: dict[str, int] = {r.name: i for i, r in enumerate(RULES, start=1)}
SSHD_FALLBACK_ID = len(RULES) + 1
GENERIC_FALLBACK_ID = len(RULES) + 2


def rule_id_sql(m: str, program: str, is_sshd: str, event: str) -> str:
    """INTEGER: the rule for each row (0 where ``event`` is false, i.e. rejects and skips)."""
    whens = [f"WHEN NOT ({event}) THEN 0"]
    for r in SSHD_RULES:
        scope = is_sshd
        whens.append(f"WHEN {scope} AND {_guard_sql(r, m)} THEN {RULE_IDS[r.name]}")
    whens.append(f"WHEN {is_sshd} THEN {SSHD_FALLBACK_ID}")
    for r in _SESSION_RULES + OTHER_RULES:
        cond = [c for c in (_scope_sql(r, program, is_sshd), _guard_sql(r, m)) if c != "TRUE"]
        whens.append(f"WHEN {' AND '.join(cond) or 'TRUE'} THEN {RULE_IDS[r.name]}")
    return "CASE " + " ".join(whens) + f" ELSE {GENERIC_FALLBACK_ID} END"


def captures_sql(rule_id: str, m: str) -> str:
    """STRUCT(g1..g4): the chosen rule's regex groups; NULL for rules without a regex."""
    names = "[" + ", ".join(sql_str(g) for g in GROUP_NAMES) + "]"
    whens = [
        f"WHEN {RULE_IDS[r.name]} THEN regexp_extract({m}, {sql_str(_padded(r.regex))}, {names})"
        for r in RULES
        if r.regex is not None
    ]
    return f"CASE {rule_id} " + " ".join(whens) + " END"


def _group_sql(caps: str, g: int | tuple[int, ...]) -> str:
    gs = g if isinstance(g, tuple) else (g,)
    parts = [f"nullif({caps}.{GROUP_NAMES[i - 1]}, '')" for i in gs]
    return parts[0] if len(parts) == 1 else "coalesce(" + ", ".join(parts) + ")"


def _method_action_sql(method: str) -> str:
    whens = " ".join(
        f"WHEN starts_with({method}, {sql_str(word)}) THEN {sql_str(action)}" for word, action in METHOD_ACTIONS
    )
    return f"CASE {whens} ELSE {sql_str(METHOD_OTHER_ACTION)} END"


def _fallback(rule: Rule) -> str:
    return SSHD_FALLBACK if rule.scope == "sshd" else GENERIC_FALLBACK


def preauth_sql(m: str) -> str:
    """BOOLEAN: the message says the connection ended before authenticating."""
    return (
        f"(ends_with({m}, '[preauth]') OR contains({m}, ': Auth fail')"
        f" OR contains({m}, ' authenticating user ') OR contains({m}, ' invalid user '))"
    )


def action_sql(rule_id: str, caps: str, m: str) -> str:
    whens = []
    for r in RULES:
        if r.action == "@method":
            act = _method_action_sql(f"{caps}.{GROUP_NAMES[r.fields['auth_method'] - 1]}")
        else:
            act = sql_str(r.action)
        if r.outcome == "preauth" and r.preauth_action and r.preauth_action != r.action:
            act = f"CASE WHEN {preauth_sql(m)} THEN {sql_str(r.preauth_action)} ELSE {act} END"
        if r.required is not None:
            act = f"CASE WHEN {caps}.{GROUP_NAMES[r.required - 1]} = '' THEN {sql_str(_fallback(r))} ELSE {act} END"
        whens.append(f"WHEN {RULE_IDS[r.name]} THEN {act}")
    whens.append(f"WHEN {SSHD_FALLBACK_ID} THEN {sql_str(SSHD_FALLBACK)}")
    whens.append(f"WHEN {GENERIC_FALLBACK_ID} THEN {sql_str(GENERIC_FALLBACK)}")
    return f"CASE {rule_id} " + " ".join(whens) + " END"


def outcome_sql(rule_id: str, caps: str, m: str) -> str:
    whens = []
    for r in RULES:
        if r.outcome is None:
            continue
        if r.outcome == "preauth":
            out = f"CASE WHEN {preauth_sql(m)} THEN 'failure' END"
        else:
            out = sql_str(r.outcome)
        if r.required is not None:
            out = f"CASE WHEN {caps}.{GROUP_NAMES[r.required - 1]} <> '' THEN {out} END"
        whens.append(f"WHEN {RULE_IDS[r.name]} THEN {out}")
    return f"CASE {rule_id} " + " ".join(whens) + " END"


def field_sql(column: str, rule_id: str, caps: str) -> str:
    """VARCHAR expression for one of the captured columns (NULL where the rule has none)."""
    whens = []
    for r in RULES:
        if column in r.fields:
            whens.append(f"WHEN {RULE_IDS[r.name]} THEN {_group_sql(caps, r.fields[column])}")
        elif column in r.const:
            whens.append(f"WHEN {RULE_IDS[r.name]} THEN {sql_str(r.const[column])}")
    if not whens:
        return "NULL::VARCHAR"
    return f"CASE {rule_id} " + " ".join(whens) + " END"


def unmap_ipv4_sql(expr: str) -> str:
    """``::ffff:1.2.3.4`` -> ``1.2.3.4``; anything else as logged."""
    return (
        f"CASE WHEN starts_with(lower({expr}), '::ffff:') AND contains({expr}, '.') "
        f"THEN substr({expr}, 8) ELSE {expr} END"
    )


# Applied to the message before matching (never to the ``message`` column).
_REPEATED_RE = r"^message repeated \d+ times: \[ ?(.*?) ?\]$"


def normalised_message_sql(message: str) -> str:
    """The message as the rules see it: repeats unwrapped, error:/fatal: dropped, trailing blanks off."""
    m0 = (
        f"CASE WHEN starts_with({message}, 'message repeated ') "
        f"THEN coalesce(nullif(regexp_extract({message}, {sql_str(_REPEATED_RE)}, 1), ''), {message}) "
        f"ELSE {message} END"
    )
    return m0


def strip_level_sql(m0: str) -> str:
    return (
        f"rtrim(CASE WHEN starts_with({m0}, 'error: ') OR starts_with({m0}, 'fatal: ') "
        f"THEN substr({m0}, 8) ELSE {m0} END)"
    )


def is_sshd_sql(program: str) -> str:
    return f"coalesce({program} IN ({', '.join(sql_str(p) for p in SSHD_PROGRAMS)}), FALSE)"


BASE_COLUMNS = ("line_no", "raw", "ts", "host", "program", "pid", "message", "_reject", "_skip")


def wrap(base_sql: str) -> str:
    """The full format SELECT from a base SELECT with ``BASE_COLUMNS``.

    Adds the vocabulary columns and fills ``src_ip``/``src_port`` of sshd lines that name no
    address from the earlier event of the same host, program and pid.
    """
    ev = "_reject IS NULL AND _skip IS NULL"
    cols = ", ".join(BASE_COLUMNS)
    caps = "_c"
    fields = {
        c: field_sql(c, "_rule", caps) for c in ("user", "src_ip", "src_port", "dst_ip", "dst_port", "auth_method")
    }
    src_ip = unmap_ipv4_sql(fields["src_ip"])
    dst_ip = unmap_ipv4_sql(fields["dst_ip"])
    known = "{'ip': _src_ip, 'port': _src_port}"
    return f"""
SELECT {cols}, action, outcome, "user", auth_method, dst_ip, dst_port,
    CASE WHEN _src_ip IS NULL AND _sshd AND pid IS NOT NULL THEN _prev.ip ELSE _src_ip END AS src_ip,
    CASE WHEN _src_ip IS NULL AND _sshd AND pid IS NOT NULL THEN _prev.port ELSE _src_port END AS src_port
FROM (
    SELECT *,
        last_value(CASE WHEN _sshd AND _src_ip IS NOT NULL THEN {known} END IGNORE NULLS)
            OVER (PARTITION BY host, program, pid ORDER BY line_no
                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS _prev
    FROM (
        SELECT {cols}, _sshd,
            {action_sql("_rule", caps, "_m")} AS action,
            {outcome_sql("_rule", caps, "_m")} AS outcome,
            {fields["user"]} AS "user",
            {fields["auth_method"]} AS auth_method,
            {src_ip} AS _src_ip,
            try_cast({fields["src_port"]} AS INTEGER) AS _src_port,
            {dst_ip} AS dst_ip,
            try_cast({fields["dst_port"]} AS INTEGER) AS dst_port
        FROM (
            SELECT *, {captures_sql("_rule", "_m")} AS {caps}
            FROM (
                SELECT *, {rule_id_sql("_m", "program", "_sshd", ev)} AS _rule
                FROM (
                    SELECT *, {strip_level_sql("_m0")} AS _m
                    FROM (
                        SELECT {cols}, {is_sshd_sql("program")} AS _sshd,
                            {normalised_message_sql("message")} AS _m0
                        FROM ({base_sql}) _base
                    ) _n0
                ) _n1
            ) _r
        ) _x
    ) _f
) _w
"""
