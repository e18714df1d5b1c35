"""The message vocabulary of syslog-style lines, as data, with OpenSSH (sshd) in full.

Shared by the ``syslog`` and ``journald`` formats. Both produce a *base* SELECT with the columns
``BASE_COLUMNS`` (``line_no, raw, ts, host, program, pid, message, _reject, _skip``); :func:`wrap`
turns it into the format's SELECT, which also has ``action, outcome, user, src_ip, src_port,
dst_ip, dst_port, auth_method``.

How a message is classified, without a Python loop and cheaply enough for millions of lines:

1. The message is normalised once (``message repeated N times: [ ... ]`` unwrapped, ``error: ``
   and ``fatal: `` dropped, trailing blanks trimmed).
2. One CASE picks a rule per row from ``RULES``, in order, with cheap guards only
   (``starts_with``/``contains``/``ends_with``), dispatched first on the message's first
   character: DuckDB evaluates a WHEN only on the rows that no earlier WHEN took.
3. Only the chosen rule's regex runs on a row: ``CASE rule WHEN 1 THEN regexp_extract(m, re1,
   [names]) ...``. A rule may have a ``fast`` regex for the usual shape of its message, written so
   that RE2 runs it one-pass (several times cheaper); the full regex runs only where it fails.
4. Every regex has exactly four groups (padded with empty ``()``, four being the most RE2 runs
   one-pass), named per rule after the *slot* each group fills: ``u`` user, ``i`` address,
   ``p`` port, ``a`` a rule-dependent extra (auth method, local address, or PAM's ruser). DuckDB
   unifies the CASE branches' structs by field name, so the output columns read fixed slots.
5. Lines that name no address (``Disconnecting: Too many authentication failures [preauth]``,
   ``kex_exchange_identification: ...``, pam session lines) take ``src_ip``/``src_port`` from the
   earlier event of the same host, program and pid (the same sshd connection): an ASOF join run
   on the materialised rows (:data:`FILL_ADDRESS_SQL`, the formats' fixup).

Regexes that take a user name are anchored at the end of the message and arranged so that a user
name holding ``from 10.0.0.1 port 22`` cannot move the address (see the injection tests).

Outcome: ``failure`` for failed authentication and for any connection that ends before it
authenticated (``[preauth]`` closes and disconnects, ``Auth fail``), ``success`` for ``Accepted``,
NULL otherwise.

Every string put into SQL here is one of this module's constants; log text only ever reaches
DuckDB as column values.
"""

from __future__ import annotations

from collections.abc import Sequence

# The rules are data in sshd_rules; they are re-exported here, where the formats and tests read them.
from engine.formats.sshd_rules import (  # noqa: F401
    SSHD_PROGRAMS, METHOD_ACTIONS, METHOD_OTHER_ACTION, SSHD_FALLBACK, GENERIC_FALLBACK,
    N_GROUPS, SLOTS, SLOT_OF, _AKIND, Rule, SSHD_RULES, ANY_RULES, OTHER_RULES, RULES, RULE_IDS,
    SSHD_FALLBACK_ID, GENERIC_FALLBACK_ID, _groups,
)


# --- SQL generation ----------------------------------------------------------------------------

def sql_str(text: str) -> str:
    """A SQL string literal for one of this package's own constants (never for log text)."""
    return "'" + text.replace("'", "''") + "'"


def _list_sql(values: Sequence[object]) -> str:
    def lit(v: object) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        return sql_str(str(v))

    return "[" + ", ".join(lit(v) for v in values) + "]"


def _per_rule(fn, fallback_value: object = None) -> list[object]:
    """``fn(rule)`` for rule ids 1..N, then the value for the two fallback ids."""
    return [fn(r) for r in RULES] + [fallback_value, fallback_value]


def _lookup(values: Sequence[object], rule_id: str) -> str:
    """A per-rule constant for each row: a constant list indexed by the rule id (0 gives NULL)."""
    return f"{_list_sql(values)}[{rule_id}]"


def _guard_sql(rule: Rule, m: str) -> str:
    if not rule.guard:
        return "TRUE"
    fn = {"prefix": "starts_with", "contains": "contains", "suffix": "ends_with"}
    alts = []
    for alt in rule.guard:
        conds = [
            f"NOT contains({m}, {sql_str(text)})" if kind == "not_contains" else f"{fn[kind]}({m}, {sql_str(text)})"
            for kind, text in alt
        ]
        alts.append(conds[0] if len(conds) == 1 else "(" + " AND ".join(conds) + ")")
    return alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")"


def _first_chars(rule: Rule) -> set[str] | None:
    """The first characters a message this rule takes can start with; None if any."""
    chars: set[str] = set()
    for alt in rule.guard:
        prefixes = [text for kind, text in alt if kind == "prefix"]
        if not prefixes or not prefixes[0]:
            return None
        chars.add(prefixes[0][0])
    return chars or None


def _case(rules: Sequence[Rule], m: str, fallback_id: int) -> str:
    whens = " ".join(f"WHEN {_guard_sql(r, m)} THEN {RULE_IDS[r.name]}" for r in rules)
    return f"CASE {whens} ELSE {fallback_id} END" if whens else str(fallback_id)


def _sshd_case(m: str, first: str) -> str:
    """The sshd rules, dispatched on the first character: each bucket keeps the rules' order."""
    rules = SSHD_RULES + ANY_RULES
    chars = sorted({c for r in rules for c in (_first_chars(r) or ())})
    buckets = []
    for ch in chars:
        bucket = [r for r in rules if (fc := _first_chars(r)) is None or ch in fc]
        buckets.append(f"WHEN {first} = {sql_str(ch)} THEN ({_case(bucket, m, SSHD_FALLBACK_ID)})")
    rest = [r for r in rules if _first_chars(r) is None]
    return f"CASE {' '.join(buckets)} ELSE ({_case(rest, m, SSHD_FALLBACK_ID)}) END"


def _other_case(m: str, program: str) -> str:
    whens = [f"WHEN {_guard_sql(r, m)} THEN {RULE_IDS[r.name]}" for r in ANY_RULES]
    i = 0
    while i < len(OTHER_RULES):
        scope = OTHER_RULES[i].scope
        j = i
        while j < len(OTHER_RULES) and OTHER_RULES[j].scope == scope:
            j += 1
        assert isinstance(scope, tuple)
        progs = ", ".join(sql_str(p) for p in scope)
        whens.append(f"WHEN {program} IN ({progs}) THEN ({_case(OTHER_RULES[i:j], m, GENERIC_FALLBACK_ID)})")
        i = j
    return f"CASE {' '.join(whens)} ELSE {GENERIC_FALLBACK_ID} END"


def rule_id_sql(m: str, first: str, program: str, is_sshd: str, event: str) -> str:
    """INTEGER: the rule for each row (0 where ``event`` is false, i.e. rejects and skips).

    DuckDB evaluates a WHEN only on the rows that no earlier WHEN took and a THEN only on the
    rows its WHEN took, so sshd rows test only the sshd rules of their first-character bucket.
    """
    return (
        f"CASE WHEN NOT ({event}) THEN 0 WHEN {is_sshd} THEN ({_sshd_case(m, first)}) "
        f"ELSE ({_other_case(m, program)}) END"
    )


def _names(rule: Rule) -> str:
    used = [SLOT_OF[g] for g in rule.groups]
    names = used + [s for s in SLOTS if s not in used]
    return "[" + ", ".join(sql_str(n) for n in names) + "]"


def _padded(regex: str) -> str:
    return regex + "()" * (N_GROUPS - _groups(regex))


def _extract(m: str, rule: Rule, regex: str) -> str:
    return f"regexp_extract({m}, {sql_str(_padded(regex))}, {_names(rule)})"


def _by_frequency(rules: Sequence[Rule]) -> list[Rule]:
    # CASE rule WHEN ... tests its WHENs in order: the common families first
    hot = ("failed", "failed_invalid", "pam_unix_auth", "invalid_user", "input_userauth_invalid",
           "connection_closed", "received_disconnect", "accepted", "session_open", "session_close",
           "connection_closed_user", "disconnected_user", "too_many_failures", "cron_cmd", "sudo")
    return sorted(rules, key=lambda r: hot.index(r.name) if r.name in hot else len(hot))


def captures_sql(rule_id: str, m: str) -> str:
    """STRUCT(u, i, p, a): the chosen rule's groups by slot, from its fast regex where it has
    one; NULL for rules without a regex."""
    whens = [
        f"WHEN {RULE_IDS[r.name]} THEN {_extract(m, r, r.fast or r.regex)}"
        for r in _by_frequency(RULES)
        if r.regex is not None
    ]
    return f"CASE {rule_id} " + " ".join(whens) + " END"


def captures_fallback_sql(rule_id: str, m: str, caps: str) -> str:
    """The full regex of rules whose fast regex left every group empty; NULL on the other rows
    (replacing the struct on every row would copy it)."""
    fast = [r for r in _by_frequency(RULES) if r.fast is not None]
    empty = " AND ".join(f"{caps}.{slot} = ''" for slot in SLOTS)
    ids = ", ".join(str(RULE_IDS[r.name]) for r in fast)
    whens = " ".join(f"WHEN {RULE_IDS[r.name]} THEN {_extract(m, r, r.regex)}" for r in fast)
    return f"CASE WHEN {rule_id} IN ({ids}) AND {empty} THEN (CASE {rule_id} {whens} END) END"


def merged_slots_sql(caps: str, caps2: str) -> str:
    """The slots as columns ``_u, _i, _p, _a``: the full regex's where it ran, else the fast one's."""
    return ", ".join(f"coalesce({caps2}.{slot}, {caps}.{slot}) AS _{slot}" for slot in SLOTS)


def _method_action_sql(method: str) -> str:
    whens = " ".join(
        f"WHEN starts_with({method}, {sql_str(word)}) THEN {sql_str(action)}" for word, action in METHOD_ACTIONS
    )
    return f"CASE {whens} ELSE {sql_str(METHOD_OTHER_ACTION)} END"


def preauth_sql(m: str) -> str:
    """BOOLEAN: the message says the connection ended before authenticating."""
    return (
        f"(ends_with({m}, '[preauth]') OR contains({m}, ': Auth fail')"
        f" OR contains({m}, ' authenticating user ') OR contains({m}, ' invalid user '))"
    )


def _fallback_of(r: Rule) -> str:
    return SSHD_FALLBACK if r.scope == "sshd" else GENERIC_FALLBACK


def _akind(r: Rule) -> int:
    return next((_AKIND[g] for g in r.groups if g in _AKIND), 0)


def flags_sql(rule_id: str, m: str) -> dict[str, str]:
    """Per-row values the output columns share.

    _k: what slot "a" holds (see ``_AKIND``).
    _rf: the rule requires an address and its regex did not match: fall back.
    _pa: the rule judges its outcome by pre-authentication, and this message is pre-authentication
        (outcome failure).
    _pb: the same rule's message ends with ``[preauth]`` (action ``preauth_close`` rather than
        ``disconnect``).
    """
    req = _per_rule(lambda r: r.required, False)
    pre = _per_rule(lambda r: r.outcome == "preauth", False)
    return {
        "_k": f"coalesce({_lookup(_per_rule(_akind, 0), rule_id)}, 0)",
        "_rf": f"coalesce({_lookup(req, rule_id)} AND _i = '', FALSE)",
        "_pa": f"(CASE WHEN {_lookup(pre, rule_id)} THEN {preauth_sql(m)} ELSE FALSE END)",
        "_pb": f"(CASE WHEN {_lookup(pre, rule_id)} THEN ends_with({m}, '[preauth]') ELSE FALSE END)",
    }


def action_sql(rule_id: str) -> str:
    act = [None if r.action == "@method" else r.action for r in RULES] + [SSHD_FALLBACK, GENERIC_FALLBACK]
    pact = _per_rule(lambda r: (r.preauth_action or r.action) if r.outcome == "preauth" else None)
    fb = _per_rule(_fallback_of)
    return (
        f"CASE WHEN _rf THEN {_lookup(fb, rule_id)} "
        f"WHEN _pb THEN {_lookup(pact, rule_id)} "
        f"WHEN _k = 1 AND {_lookup(_per_rule(lambda r: r.action == '@method', False), rule_id)} "
        f"THEN {_method_action_sql('_a')} "
        f"ELSE {_lookup(act, rule_id)} END"
    )


def outcome_sql(rule_id: str) -> str:
    out = _per_rule(lambda r: r.outcome if r.outcome in ("failure", "success") else None)
    return f"CASE WHEN _rf THEN NULL WHEN _pa THEN 'failure' ELSE {_lookup(out, rule_id)} END"


def fields_sql(rule_id: str) -> dict[str, str]:
    """The captured columns. A slot a rule does not use is '' (a padding group), hence NULL."""
    user = "CASE _k WHEN 2 THEN NULL WHEN 3 THEN coalesce(nullif(_u, ''), nullif(_a, '')) ELSE nullif(_u, '') END"
    dst = "nullif(_a, '')"
    consts = _per_rule(lambda r: r.const.get("user"))
    if any(c is not None for c in consts):
        user = f"coalesce({user}, {_lookup(consts, rule_id)})"
    return {
        "user": user,
        "src_ip": unmap_ipv4_sql("nullif(_i, '')"),
        "src_port": "try_cast(_p AS INTEGER)",
        "auth_method": "CASE WHEN _k = 1 THEN nullif(_a, '') END",
        "dst_ip": f"CASE WHEN _k = 2 THEN {unmap_ipv4_sql(dst)} END",
        "dst_port": "CASE WHEN _k = 2 THEN try_cast(_u AS INTEGER) END",
    }


def unmap_ipv4_sql(expr: str) -> str:
    """``::ffff:1.2.3.4`` -> ``1.2.3.4``; anything else as logged."""
    return (
        f"CASE WHEN starts_with({expr}, '::ffff:') AND contains({expr}, '.') "
        f"THEN substr({expr}, 8) ELSE {expr} END"
    )


# Applied to the message before matching (never to the ``message`` column).
_REPEATED_RE = r"^message repeated \d+ times: \[ ?(.*?) ?\]$"


def normalised_message_sql(message: str) -> str:
    """Repeats unwrapped: ``message repeated 5 times: [ Failed password ...]``."""
    return (
        f"CASE WHEN starts_with({message}, 'message repeated ') "
        f"THEN coalesce(nullif(regexp_extract({message}, {sql_str(_REPEATED_RE)}, 1), ''), {message}) "
        f"ELSE {message} END"
    )


def strip_level_sql(m0: str) -> str:
    """``error: ``/``fatal: `` dropped, trailing blanks trimmed."""
    return (
        f"CASE WHEN starts_with({m0}, 'error: ') OR starts_with({m0}, 'fatal: ') THEN rtrim(substr({m0}, 8)) "
        f"WHEN ends_with({m0}, ' ') THEN rtrim({m0}) ELSE {m0} END"
    )


def is_sshd_sql(program: str) -> str:
    return f"coalesce({program} IN ({', '.join(sql_str(p) for p in SSHD_PROGRAMS)}), FALSE)"


BASE_COLUMNS = ("line_no", "raw", "ts", "host", "program", "pid", "message", "_reject", "_skip")


def wrap(base_sql: str) -> str:
    """The full format SELECT from a base SELECT with ``BASE_COLUMNS``.

    Adds the vocabulary columns. ``src_ip``/``src_port`` are NULL where the message names no
    address; :data:`FILL_ADDRESS_SQL` (the format's fixup) fills them afterwards.
    """
    cols = ", ".join(BASE_COLUMNS)
    flags = flags_sql("_rule", "_m")
    f = fields_sql("_rule")
    return f"""
    SELECT {cols},
        {action_sql("_rule")} AS action,
        {outcome_sql("_rule")} AS outcome,
        {f["user"]} AS "user",
        {f["auth_method"]} AS auth_method,
        {f["src_ip"]} AS src_ip,
        {f["src_port"]} AS src_port,
        {f["dst_ip"]} AS dst_ip,
        {f["dst_port"]} AS dst_port
    FROM (
        SELECT *, {flags["_k"]} AS _k, {flags["_rf"]} AS _rf, {flags["_pa"]} AS _pa, {flags["_pb"]} AS _pb
        FROM (
          SELECT {cols}, _m, _rule, {merged_slots_sql("_c", "_c2")}
          FROM (
            SELECT *, {captures_fallback_sql("_rule", "_m", "_c")} AS _c2
            FROM (
            SELECT *, {captures_sql("_rule", "_m")} AS _c
            FROM (
                SELECT *, {rule_id_sql("_m", "_m1", "program", "_sshd", "_reject IS NULL AND _skip IS NULL")} AS _rule
                FROM (
                    SELECT *, left(_m, 1) AS _m1
                    FROM (
                        SELECT *, {strip_level_sql("_m0")} AS _m
                        FROM (
                            SELECT {cols}, {is_sshd_sql("program")} AS _sshd,
                                {normalised_message_sql("message")} AS _m0
                            FROM ({base_sql}) _base
                        ) _n0
                    ) _n1
                ) _n2
            ) _r
            ) _x1
          ) _x2
        ) _x
    ) _y
"""


def _fill_address_sql() -> str:
    """sshd lines that name no address (``Disconnecting: Too many authentication failures
    [preauth]``, ``kex_exchange_identification: ...``, pam session lines) take ``src_ip`` and
    ``src_port`` from the latest earlier line of the same host, program and pid that names one:
    the same sshd connection, also when that line was in an earlier chunk of the file
    (``_prior``). An ASOF join over the two narrow sides, run on ``_parsed``."""
    sshd = is_sshd_sql("program")
    event = "_reject IS NULL AND _skip IS NULL AND pid IS NOT NULL"
    need = f"SELECT DISTINCT host, program, pid FROM _parsed WHERE src_ip IS NULL AND {event} AND {sshd}"
    return f"""
UPDATE _parsed SET src_ip = _f.ip, src_port = _f.port
FROM (
    SELECT _n.line_no, _s.src_ip AS ip, _s.src_port AS port
    FROM (SELECT line_no, host, program, pid FROM _parsed
          WHERE src_ip IS NULL AND {event} AND {sshd}) _n
    ASOF JOIN (SELECT line_no, host, program, pid, src_ip, src_port FROM _parsed
               WHERE src_ip IS NOT NULL AND {event} AND {sshd}
               UNION ALL
               SELECT _p.line_no, _p.host, _p.program, _p.pid, _p.src_ip, _p.src_port FROM _prior _p
               SEMI JOIN ({need}) _k
                 ON _p.host IS NOT DISTINCT FROM _k.host AND _p.program = _k.program AND _p.pid = _k.pid
               WHERE _p.src_ip IS NOT NULL) _s
      ON _n.host IS NOT DISTINCT FROM _s.host AND _n.program = _s.program AND _n.pid = _s.pid
         AND _n.line_no > _s.line_no
) _f
WHERE _parsed.line_no = _f.line_no
"""


FILL_ADDRESS_SQL = _fill_address_sql()
