"""The sshd / syslog message vocabulary as data: one ``Rule`` per message family, checked at import.

``engine.formats.sshd`` turns these rules into the SQL that classifies messages; its docstring says how.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Programs whose messages are read with the sshd part of the vocabulary. OpenSSH 9.8 moved the
# per-connection work to ``sshd-session`` (and 10.0 the pre-authentication part to ``sshd-auth``).
SSHD_PROGRAMS: tuple[str, ...] = ("sshd", "sshd-session", "sshd-auth")

# The method word of "Failed <method> for" / "Accepted <method> for" -> action (prefix match).
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

N_GROUPS = 4
SLOTS = ("u", "i", "p", "a")
# Which slot each captured column goes to. "a" holds one of auth_method / dst_ip / ruser, and a
# rule with dst_ip keeps dst_port in "u" (such a rule names no user).
SLOT_OF = {
    "user": "u", "src_ip": "i", "src_port": "p",
    "auth_method": "a", "dst_ip": "a", "ruser": "a", "dst_port": "u",
}
# What "a" means for a rule: 0 nothing, 1 auth_method, 2 dst_ip (+ dst_port in "u"), 3 ruser
# (the user when the user group is empty).
_AKIND = {"auth_method": 1, "dst_ip": 2, "ruser": 3}

_OUTCOMES = ("failure", "success", None, "preauth")
_GUARD_KINDS = ("prefix", "contains", "suffix", "not_contains")

Guard = tuple[tuple[tuple[str, str], ...], ...]


@dataclass(frozen=True)
class Rule:
    """One message family.

    name: stable id (tests and docs).
    action: the action, or "@method" for auth_* from the captured ``auth_method``.
    outcome: "failure", "success", None, or "preauth": failure when the connection ended before
        authentication (``[preauth]``, ``Auth fail``, an ``authenticating``/``invalid`` user),
        else NULL.
    scope: "sshd" (sshd programs only), "any" (every program) or a tuple of program names.
    guard: alternatives OR-ed; each a tuple of conditions AND-ed; a condition is
        ("prefix"|"contains"|"suffix"|"not_contains", text). Empty: every row in scope.
    regex: RE2 pattern over the normalised message, at most four groups, or None.
    groups: the column each group captures, in group order: user, src_ip, src_port,
        auth_method, dst_ip, dst_port, ruser.
    fast: optional strict regex for the usual shape of the message with the same groups,
        written so that RE2 runs it one-pass; rows it does not match run ``regex``. Wherever it
        matches it must give what ``regex`` gives (tested).
    const: column -> constant (user "root" for ROOT LOGIN REFUSED).
    preauth_action: the action used instead of ``action`` when the message ends with ``[preauth]``.
    required: the regex always captures an address when it matches; when it did not match, the
        row falls back to the scope's generic action (sshd_other / syslog) with no outcome.
    """

    name: str
    action: str
    outcome: str | None = None
    scope: str | tuple[str, ...] = "sshd"
    guard: Guard = ()
    regex: str | None = None
    groups: tuple[str, ...] = ()
    fast: str | None = None
    const: Mapping[str, str] = field(default_factory=dict)
    preauth_action: str | None = None
    required: bool = False


def _p(*texts: str) -> Guard:
    """Guard: the message starts with any of ``texts``."""
    return tuple((("prefix", t),) for t in texts)


def _c(*texts: str) -> Guard:
    """Guard: the message contains any of ``texts``."""
    return tuple((("contains", t),) for t in texts)


def _and(prefixes: Sequence[str], *conds: tuple[str, str]) -> Guard:
    """Guard: starts with any of ``prefixes`` and meets every one of ``conds``."""
    return tuple((("prefix", p),) + tuple(conds) for p in prefixes)


# Pieces of the sshd regexes.
_PORT = r"(?: port (\d+))?"
_ON = r"(?: on \S+(?: port \d+)?)?"  # "... port 22 on 10.0.0.1 port 2222" (ListenAddress info)
_PRE = r"(?: \[preauth\])?"
_AUTH_TAIL = rf"{_ON}(?: ssh\d*)?(?:: .*)?{_PRE}$"
_USER_KIND = r"(?:authenticating |invalid |illegal )?"
_USERS_OK = (
    r"(?:not listed in AllowUsers|listed in DenyUsers|not in any group|a group is listed in DenyGroups"
    r"|none of user's groups are listed in AllowGroups|account is locked"
    r"|shell \S+ does not exist|shell \S+ is not executable)"
)
_AUTH_GROUPS = ("auth_method", "user", "src_ip", "src_port")
_CLOSE_PREFIXES = ("Connection closed by ", "Connection reset by ")

SSHD_RULES: tuple[Rule, ...] = (
    Rule(
        "accepted", "@method", "success", guard=_p("Accepted "),
        regex=rf"^Accepted (\S+) for (.*?) from (\S+){_PORT}{_AUTH_TAIL}",
        fast=r"^Accepted (\S+) for (\S+) from (\S+) port (\d+) ssh2(?:: .*)?$",
        groups=_AUTH_GROUPS, required=True,
    ),
    Rule(
        # the "invalid user" form of the next family, as its own rule only so that its one-pass
        # fast regex can spell "invalid user " out
        "failed_invalid", "@method", "failure",
        guard=_and(("Failed ",), ("contains", " for invalid user ")),
        regex=rf"^Failed (\S+) for (?:invalid user |illegal user )?(.*?) from (\S+){_PORT}{_AUTH_TAIL}",
        fast=r"^Failed (\S+) for invalid user (\S+) from (\S+) port (\d+) ssh2(?:: .*)?$",
        groups=_AUTH_GROUPS, required=True,
    ),
    Rule(
        # Failed password/publickey/keyboard-interactive(/pam)/hostbased/none/unknown for
        # [invalid user] X from ADDR [port N] [ssh2][: key or "ruser ..." info]. The user is
        # lazy and what follows the address may only be ": ..." so that user names and auth
        # info holding " from ADDR port N" cannot move the address.
        "failed", "@method", "failure", guard=_p("Failed "),
        regex=rf"^Failed (\S+) for (?:invalid user |illegal user )?(.*?) from (\S+){_PORT}{_AUTH_TAIL}",
        fast=r"^Failed (\S+) for (\S+) from (\S+) port (\d+) ssh2(?:: .*)?$",
        groups=_AUTH_GROUPS, required=True,
    ),
    Rule(
        "postponed", "auth_postponed", None, guard=_p("Postponed "),
        regex=rf"^Postponed (\S+) for (?:invalid user )?(.*?) from (\S+){_PORT}(?: ssh\d*)?{_PRE}$",
        groups=_AUTH_GROUPS, required=True,
    ),
    Rule(
        "invalid_user", "invalid_user", "failure",
        guard=_p("Invalid user ", "Illegal user ", "invalid user ", "illegal user "),
        regex=rf"^(?:[Ii]nvalid|[Ii]llegal) user (.*?)(?: from (\S+){_PORT}{_ON})?{_PRE}$",
        fast=r"^Invalid user (\S+) from (\S+)(?: port (\d+))?$",
        groups=("user", "src_ip", "src_port"),
    ),
    Rule(
        "input_userauth_invalid", "invalid_user", "failure",
        guard=_p("input_userauth_request: invalid user ", "input_userauth_request: illegal user "),
        regex=rf"^input_userauth_request: (?:invalid|illegal) user (.*?){_PRE}$",
        fast=r"^input_userauth_request: invalid user (\S+) \[preauth\]$",
        groups=("user",),
    ),
    Rule(
        # "error: PAM: Authentication failure for X from Y", OS X "authentication error for X from
        # Y via Z", "PAM: User not known to the underlying authentication module for illegal user X
        # from Y"
        "pam_error", "pam_auth_failure", "failure",
        guard=_p("PAM: Authentication failure for ", "PAM: authentication failure for ",
                 "PAM: Authentication error for ", "PAM: authentication error for ",
                 "PAM: Authentication failed for ", "PAM: authentication failed for ",
                 "PAM: User not known to the underlying authentication module for "),
        regex=r"^PAM: (?:[Aa]uthentication (?:failure|error|failed)|User not known to the underlying"
              r" authentication module) for (?:illegal user |invalid user )?(.*?) from (\S+)(?: via \S+)?"
              + _PRE + "$",
        groups=("user", "src_ip"), required=True,
    ),
    Rule(
        # pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=H  user=U
        # also "sshd(pam_unix)[pid]: authentication failure; ..." and "PAM 2 more authentication failures; ..."
        "pam_unix_auth", "pam_auth_failure", "failure",
        guard=_p("pam_unix(sshd:auth): authentication failure", "authentication failure; ")
        + _and(("PAM ",), ("contains", " more authentication failure")),
        regex=r"^(?:.*?)authentication failures?;.* ruser=(\S*) rhost=(\S*)(?:\s+user=(\S*))?",
        fast=r"^(?:pam_unix\(sshd:auth\): |PAM \d+ more )?authentication failures?; logname=\S* uid=\d* euid=\d* "
             r"tty=\S* ruser=(\S*) rhost=(\S*)(?:  user=(\S*))?$",
        groups=("ruser", "src_ip", "user"),
    ),
    Rule(
        "max_auth_exceeded", "max_auth_exceeded", "failure",
        guard=_p("maximum authentication attempts exceeded for "),
        regex=rf"^maximum authentication attempts exceeded for (?:invalid user |illegal user )?(.*?) from (\S+){_PORT}{_ON}(?: ssh\d*)?{_PRE}$",
        groups=("user", "src_ip", "src_port"),
    ),
    Rule(
        "too_many_failures", "max_auth_exceeded", "failure",
        guard=_p("Disconnecting: Too many authentication failures"),
        regex=rf"^Disconnecting: Too many authentication failures(?: for (?:invalid user |illegal user )?(.*?))?{_PRE}$",
        fast=r"^Disconnecting: Too many authentication failures(?: for (\S+))? \[preauth\]$",
        groups=("user",),
    ),
    Rule(
        "disconnecting_too_many", "max_auth_exceeded", "failure",
        guard=_and(("Disconnecting ",), ("contains", ": Too many authentication failures")),
        regex=rf"^Disconnecting {_USER_KIND}user (.*?) (\S+) port (\d+): Too many authentication failures",
        groups=("user", "src_ip", "src_port"),
    ),
    Rule(
        # "Disconnecting invalid user X ADDR port N: reason", "Disconnecting user X ADDR port N: reason"
        "disconnecting", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_p("Disconnecting "),
        regex=rf"^Disconnecting {_USER_KIND}user (.*?) (\S+) port (\d+): ",
        groups=("user", "src_ip", "src_port"),
    ),
    Rule(
        "disconnecting_reason", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_p("Disconnecting: "),
    ),
    Rule(
        "root_login_refused", "root_login_refused", "failure", guard=_p("ROOT LOGIN REFUSED"),
        regex=rf"^ROOT LOGIN REFUSED.* FROM (\S+){_PORT}{_PRE}$",
        groups=("src_ip", "src_port"), const={"user": "root"},
    ),
    Rule(
        # User X [from Y] not allowed because <one of sshd's reasons>: anchored on the reason so
        # that a user name holding "from Y not allowed because" cannot move the address
        "user_not_allowed", "user_not_allowed", "failure",
        guard=_and(("User ",), ("contains", " not allowed because ")),
        regex=rf"^User (.+?)(?: from (\S+))? not allowed because {_USERS_OK}{_PRE}$",
        groups=("user", "src_ip"),
    ),
    Rule(
        # tcp wrappers: "refused connect from NAME (ADDR)"
        "refused_connect", "connection_refused", "failure", guard=_p("refused connect from "),
        regex=r"^refused connect from (?:.* \()?([^\s()]+)\)?$",
        groups=("src_ip",),
    ),
    Rule(
        "no_ident", "no_ident", "failure", guard=_p("Did not receive identification string"),
        regex=rf"^Did not receive identification string from (\S+){_PORT}{_PRE}$",
        groups=("src_ip", "src_port"),
    ),
    Rule(
        # the identification string is the client's: the address is the last "from" (greedy .*)
        "bad_protocol", "bad_protocol", "failure", guard=_p("Bad protocol version identification"),
        regex=rf"^Bad protocol version identification .* from (\S+){_PORT}{_PRE}$",
        groups=("src_ip", "src_port"),
    ),
    Rule(
        # pre-authentication protocol errors (scanners, floods, garbage on the port)
        "kex_error", "kex_error", "failure",
        guard=_p("kex_exchange_identification: ", "banner exchange: ", "banner line too long",
                 "Bad packet length", "Corrupted MAC on input", "bad client public DH value",
                 "Corrupted check bytes", "buffer_get_string: bad string", "kex_protocol_error",
                 "Protocol major versions differ", "no hostkey alg"),
        regex=rf"^[^:]+: Connection from (?:{_USER_KIND}user (.*?) )?(\S+) port (\d+): ",
        groups=("user", "src_ip", "src_port"),
    ),
    Rule(
        "dispatch_fatal", "kex_error", "preauth", guard=_p("ssh_dispatch_run_fatal: "),
        regex=rf"^ssh_dispatch_run_fatal: Connection from (?:{_USER_KIND}user (.*?) )?(\S+) port (\d+): ",
        groups=("user", "src_ip", "src_port"),
    ),
    Rule(
        "negotiation_failed", "negotiation_failed", "failure",
        guard=_p("Unable to negotiate", "no matching "),
        regex=r"^Unable to negotiate with (\S+?)(?: port (\d+))?: ",
        groups=("src_ip", "src_port"),
    ),
    Rule(
        "preauth_timeout", "preauth_timeout", "failure", guard=_p("Timeout before authentication"),
        regex=r"^Timeout before authentication for (?:connection from )?([^\s,]+)(?: port (\d+))?(?: to ([^\s,]+), pid = \d+)?",
        groups=("src_ip", "src_port", "dst_ip"),
    ),
    Rule(
        # the connection dropped under sshd; no address in the message
        "socket_error", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_p("Connection reset by peer", "Read from socket failed", "Write failed: ",
                 "Read error from remote host", "Connection timed out"),
    ),
    Rule(
        # Connection closed|reset by [authenticating|invalid] user X ADDR port N [preauth]: the
        # user is greedy and the address must be followed by " port N" and the end, so a user
        # name holding "ADDR port N" stays in the user
        "connection_closed_user", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_and(_CLOSE_PREFIXES, ("contains", " user ")),
        regex=rf"^Connection (?:closed|reset) by {_USER_KIND}user (.*) (\S+) port (\d+){_PRE}$",
        fast=r"^Connection (?:closed|reset) by (?:authenticating |invalid )?user (\S+) (\S+) port (\d+)(?: \[preauth\])?$",
        groups=("user", "src_ip", "src_port"), required=True,
    ),
    Rule(
        "connection_closed", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_p(*_CLOSE_PREFIXES),
        regex=r"^Connection (?:closed|reset) by (\S+)(?: (?:port (\d+)(?: \[preauth\])?|\[preauth\]))?$",
        groups=("src_ip", "src_port"), required=True,
    ),
    Rule(
        "disconnected_user", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_and(("Disconnected from ",), ("contains", " user ")),
        regex=rf"^Disconnected from {_USER_KIND}user (.*) (\S+) port (\d+){_PRE}$",
        fast=r"^Disconnected from (?:authenticating |invalid )?user (\S+) (\S+) port (\d+)(?: \[preauth\])?$",
        groups=("user", "src_ip", "src_port"), required=True,
    ),
    Rule(
        "disconnected", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_p("Disconnected from "),
        regex=r"^Disconnected from (\S+)(?: (?:port (\d+)(?: \[preauth\])?|\[preauth\]))?$",
        groups=("src_ip", "src_port"), required=True,
    ),
    Rule(
        # Received disconnect from ADDR[ port N]:N: reason -- the reason is the client's text, the
        # address is the first thing after "from" (lazy)
        "received_disconnect", "disconnect", "preauth", preauth_action="preauth_close",
        guard=_p("Received disconnect from "),
        regex=r"^Received disconnect from (\S+?)(?: port (\d+):|: )\d+: ",
        fast=r"^Received disconnect from ([^\s:]+) port (\d+):\d+: ",
        groups=("src_ip", "src_port"), required=True,
    ),
    Rule(
        "connect", "connect", None, guard=_p("Connection from "),
        regex=r"^Connection from (\S+)(?: port (\d+))?(?: on (\S+) port (\d+))?",
        fast=r"^Connection from (\S+) port (\d+) on (\S+) port (\d+)",
        groups=("src_ip", "src_port", "dst_ip", "dst_port"),
    ),
    Rule(
        "session_open", "session_open", None, guard=_p("pam_unix(sshd:session): session opened for user "),
        regex=r"^pam_unix\(sshd:session\): session opened for user ([^\s(]+)",
        groups=("user",),
    ),
    Rule(
        "session_close", "session_close", None, guard=_p("pam_unix(sshd:session): session closed for user "),
        regex=r"^pam_unix\(sshd:session\): session closed for user ([^\s(]+)",
        groups=("user",),
    ),
    Rule(
        "break_in_reverse", "break_in_attempt", None,
        guard=_p("reverse mapping checking getaddrinfo for "),
        regex=r"^reverse mapping checking getaddrinfo for \S+ \[([^\]\s]+)\] failed",
        groups=("src_ip",),
    ),
    Rule(
        "break_in_address", "break_in_attempt", None,
        guard=_and(("Address ",), ("contains", "POSSIBLE BREAK-IN ATTEMPT")),
        regex=r"^Address (\S+) maps to ",
        groups=("src_ip",),
    ),
    Rule(
        # SSH audit lines of some vendor builds: "SSH: Server;Ltype: Version;Remote: 127.0.0.1-1780;..."
        "ssh_audit", SSHD_FALLBACK, None, guard=_p("SSH: Server;"),
        regex=r"^SSH: Server;Ltype: \w+;Remote: (\S+?)-(\d+);",
        groups=("src_ip", "src_port"),
    ),
)

# PAM lines of any program (sshd's own forms are above, with cheaper guards).
ANY_RULES: tuple[Rule, ...] = (
    Rule(
        "pam_auth_failure", "pam_auth_failure", "failure", scope="any",
        guard=_c("authentication failure; ", "authentication failures; "),
        regex=r"^(?:.*?)authentication failures?;.* ruser=(\S*) rhost=(\S*)(?:\s+user=(\S*))?",
        groups=("ruser", "src_ip", "user"),
    ),
    Rule(
        "pam_session_open", "session_open", None, scope="any", guard=_c("session opened for user "),
        regex=r"^(?:.*?)session opened for user ([^\s(]+)",
        groups=("user",),
    ),
    Rule(
        "pam_session_close", "session_close", None, scope="any", guard=_c("session closed for user "),
        regex=r"^(?:.*?)session closed for user ([^\s(]+)",
        groups=("user",),
    ),
)

_CRON = ("CRON", "cron", "crond", "anacron")
OTHER_RULES: tuple[Rule, ...] = (
    Rule("cron_cmd", "cron", None, scope=_CRON, guard=_p("("), regex=r"^\(([^)\s]+)\) ", groups=("user",)),
    Rule("cron", "cron", None, scope=_CRON),
    # sudo: "alice : 3 incorrect password attempts ; TTY=pts/0 ; ... ; COMMAND=/bin/sh"
    Rule("sudo_failure", "sudo", "failure", scope=("sudo",),
         guard=_c("incorrect password attempt", "NOT in sudoers", "command not allowed",
                  "user NOT authorized", "a password is required"),
         regex=r"^\s*(\S+) : ", groups=("user",)),
    Rule("sudo", "sudo", None, scope=("sudo",), regex=r"^\s*(\S+) : ", groups=("user",)),
    Rule("su_failure", "su", "failure", scope=("su",), guard=_p("FAILED SU", "FAILED su"),
         regex=r" by (\S+)$", groups=("user",)),
    Rule("su_success", "su", "success", scope=("su",), guard=_p("Successful su", "Successful SU"),
         regex=r" by (\S+)$", groups=("user",)),
    Rule("su", "su", None, scope=("su",)),
    Rule("logind_user", "logind", None, scope=("systemd-logind",), guard=_c(" of user "),
         regex=r" of user (.+?)\.?$", groups=("user",)),
    Rule("logind", "logind", None, scope=("systemd-logind",)),
    Rule("kernel", "kernel", None, scope=("kernel",)),
)

RULES: tuple[Rule, ...] = SSHD_RULES + ANY_RULES + OTHER_RULES
RULE_IDS: dict[str, int] = {r.name: i for i, r in enumerate(RULES, start=1)}
SSHD_FALLBACK_ID = len(RULES) + 1
GENERIC_FALLBACK_ID = len(RULES) + 2


# --- validation at import: the data must be what the SQL generator expects -------------------

def _groups(regex: str) -> int:
    return re.compile(regex).groups


def _check_rules() -> None:
    names: set[str] = set()
    for r in RULES:
        assert r.name not in names, f"duplicate rule {r.name}"
        names.add(r.name)
        assert r.outcome in _OUTCOMES, r.name
        for alt in r.guard:
            for kind, _ in alt:
                assert kind in _GUARD_KINDS, r.name
        if r.regex is None:
            assert not r.groups and r.fast is None and not r.required, r.name
            continue
        n = _groups(r.regex)
        assert n <= N_GROUPS, f"rule {r.name}: {n} groups, at most {N_GROUPS}"
        assert len(r.groups) == n, f"rule {r.name}: {n} groups but {len(r.groups)} names"
        slots = [SLOT_OF[g] for g in r.groups]
        assert len(set(slots)) == len(slots), f"rule {r.name}: two groups in one slot"
        kinds = [g for g in r.groups if g in _AKIND]
        assert len(kinds) <= 1, r.name
        if "dst_port" in r.groups:
            assert "dst_ip" in r.groups and "user" not in r.groups, r.name
        if r.fast is not None:
            assert _groups(r.fast) == n, f"rule {r.name}: fast and regex groups differ"
        if r.action == "@method":
            assert "auth_method" in r.groups, r.name
        if r.required:
            assert "src_ip" in r.groups, r.name
        assert set(r.const) <= {"user"}, r.name


_check_rules()
