"""wtmp / btmp / utmp: the binary login records ``last``/``lastb`` read (glibc ``struct utmp``, 384 bytes).

The whole buffer is read with one numpy structured dtype (little-endian, as glibc writes it on
x86-64 and arm64); text fields (tty, user, remote host) and addresses are decoded once per
distinct value, not per record. Record types -> actions: USER_PROCESS ``login`` (success),
DEAD_PROCESS ``logout``, BOOT_TIME ``boot``, RUN_LVL ``shutdown`` (user ``shutdown``) or
``runlevel``, LOGIN_PROCESS ``login_process``, INIT_PROCESS ``init_process``, NEW/OLD_TIME
``clock_change``, ACCOUNTING ``accounting``, EMPTY ``empty``. A file named ``btmp*`` holds failed
logins: its records are ``auth_failure`` events. ``ut_addr_v6`` (IPv4 or IPv6) -> ``src_ip``, else
``ut_host`` as logged; ``ut_line`` (the tty) -> ``session``, ``ut_pid`` -> ``pid``. A fixup pairs each
logout with the login it ends (the latest login on that tty before it, in this or an earlier
chunk): the logout gets the login's user and source and the session's ``duration``, and a login
closed within the same chunk gets the duration too. ``line_no`` is the 1-based record number;
an unknown record type, or a truncated final record, is a reject with the reason.
"""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from engine.formats.base import FileContext, LogFormat

RECORD = 384
DTYPE = np.dtype([
    ("type", "<i2"), ("pad", "<i2"), ("pid", "<i4"), ("line", "V32"), ("id", "V4"), ("user", "V32"),
    ("host", "V256"), ("e_term", "<i2"), ("e_exit", "<i2"), ("session", "<i4"), ("sec", "<i4"),
    ("usec", "<i4"), ("addr", "V16"), ("reserved", "V20"),
])
assert DTYPE.itemsize == RECORD

TYPES = ("EMPTY", "RUN_LVL", "BOOT_TIME", "NEW_TIME", "OLD_TIME", "INIT_PROCESS", "LOGIN_PROCESS",
         "USER_PROCESS", "DEAD_PROCESS", "ACCOUNTING")
NAME_RE = re.compile(r"^(?:[wbu]tmp)(?:[.-].*)?$")
# Plausible record times for detection: 1990 .. 2100.
_T_MIN, _T_MAX = 631152000, 4102444800


def _records(data: bytes) -> np.ndarray:
    whole = len(data) // RECORD * RECORD
    return np.frombuffer(data, dtype=DTYPE, count=whole // RECORD)


def detect_bytes(head: bytes, name: str) -> float:
    """Share of the first records that look like utmp records; the file name adds certainty."""
    recs = _records(head[: 64 * RECORD])
    # All-zero records (EMPTY) say nothing: a sparse lastlog or a zeroed file is mostly those.
    recs = recs[np.frombuffer(recs.tobytes(), np.uint8).reshape(len(recs), RECORD).any(axis=1)]
    if not len(recs):
        return 0.0
    ok = ((recs["type"] >= 1) & (recs["type"] <= 9) & (recs["pad"] == 0)
          & (recs["sec"] >= _T_MIN) & (recs["sec"] <= _T_MAX)
          & (recs["usec"] >= 0) & (recs["usec"] < 1_000_000))
    share = float(ok.mean())
    if share < 0.9:
        return 0.0
    return min(1.0, 0.9 + (0.1 if NAME_RE.match(os.path.basename(name)) else 0.0))


def _field_bytes(rows: np.ndarray, name: str) -> np.ndarray:
    """The bytes of one field of every record, as an (n, width) uint8 matrix."""
    offset, width = DTYPE.fields[name][1], DTYPE[name].itemsize
    return rows[:, offset : offset + width]


def _distinct(raw: np.ndarray) -> tuple[list[bytes], pa.Array]:
    """The distinct values of an (n, width) byte matrix and each row's index into them, by Arrow's
    hash-based dictionary encoding (sorting wide byte strings with numpy costs several times more)."""
    n, width = raw.shape
    arr = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, pa.py_buffer(np.ascontiguousarray(raw))])
    enc = arr.dictionary_encode()
    return enc.dictionary.to_pylist(), enc.indices


def _text_column(raw: np.ndarray) -> pa.Array:
    """A fixed-width C string field as a dictionary-encoded Arrow string column (NUL-terminated;
    invalid UTF-8 kept as ``\\xNN`` escapes); empty -> NULL. Decoded once per distinct value."""
    used = np.flatnonzero(raw.any(axis=0))
    keep = int(used[-1]) + 1 if len(used) else 1
    values, indices = _distinct(raw[:, :keep])
    texts: list[str | None] = []
    for v in values:
        b = v.split(b"\0", 1)[0]
        texts.append(b.decode("utf-8", "backslashreplace") if b else None)
    return pa.DictionaryArray.from_arrays(indices, pa.array(texts, pa.string()))


def _addr_columns(raw: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """``ut_addr_v6`` as (IPv4 as a number, for SQL to write out; IPv6 text, decoded once per
    distinct address): a brute force's btmp holds thousands of addresses, IPv4 mostly."""
    words = np.ascontiguousarray(raw).view("<u4")
    v4_only = ~words[:, 1:].any(axis=1)
    v4 = raw[:, :4].astype(np.uint32)
    number = (v4[:, 0] << 24) | (v4[:, 1] << 16) | (v4[:, 2] << 8) | v4[:, 3]
    ipv4 = pa.array(np.where(v4_only & (number > 0), number, 0).astype(np.int64))
    six = np.flatnonzero(~v4_only)
    index = np.zeros(len(raw), dtype=np.int32)
    names: list[str] = []
    if len(six):
        values, indices = _distinct(raw[six])
        names = [str(ipaddress.IPv6Address(b)) for b in values]
        index[six] = indices.to_numpy(zero_copy_only=False)
    ipv6 = pa.DictionaryArray.from_arrays(pa.array(index, mask=v4_only), pa.array(names or [""], pa.string()))
    return ipv4, ipv6


def parse_records(data: bytes, first_no: int, ctx: FileContext) -> pa.Table:
    """Whole records (and a truncated tail, if any) -> one Arrow row each."""
    recs = _records(data)
    n = len(recs)
    rows = np.frombuffer(data, dtype=np.uint8, count=n * RECORD).reshape(n, RECORD)
    ipv4, ipv6 = _addr_columns(_field_bytes(rows, "addr"))
    tail = len(data) - n * RECORD
    numbers = np.arange(first_no, first_no + n, dtype=np.int64)
    cols: dict[str, Any] = {
        "line_no": numbers,
        "ut_type": recs["type"].astype(np.int32),
        "pid": recs["pid"].astype(np.int64),
        "tty": _text_column(_field_bytes(rows, "line")),
        "ut_id": _text_column(_field_bytes(rows, "id")),
        "ut_user": _text_column(_field_bytes(rows, "user")),
        "ut_host": _text_column(_field_bytes(rows, "host")),
        "addr4": ipv4,
        "addr6": ipv6,
        "e_exit": recs["e_exit"].astype(np.int32),
        "sec": recs["sec"].astype(np.int64),
        "usec": recs["usec"].astype(np.int64),
        "truncated": np.zeros(n, dtype=np.int64),
    }
    table = pa.table({k: (v if isinstance(v, pa.Array) else pa.array(v)) for k, v in cols.items()})
    if tail:
        extra = {name: pa.nulls(1, table.schema.field(name).type) for name in table.column_names}
        extra["line_no"] = pa.array([first_no + n], pa.int64())
        extra["truncated"] = pa.array([tail], pa.int64())
        table = pa.concat_tables([table, pa.table(extra, schema=table.schema)])
    return table


def is_btmp(path: str) -> bool:
    """btmp (failed logins) by its name: btmp, btmp.1, btmp-20261101.gz ..."""
    return os.path.basename(path).startswith("btmp")


def build_sql(ctx: FileContext) -> tuple[str, dict[str, Any]]:
    failed = is_btmp(ctx.path)
    addr = ("coalesce(addr6, CASE WHEN addr4 > 0 THEN (addr4 >> 24) || '.' || ((addr4 >> 16) & 255) || '.' || "
            "((addr4 >> 8) & 255) || '.' || (addr4 & 255) END)")
    names = ", ".join(f"'{t}'" for t in TYPES)
    kind = f"[{names}][ut_type + 1]"
    action = (
        "'auth_failure'" if failed else
        "CASE ut_type WHEN 7 THEN 'login' WHEN 8 THEN 'logout' WHEN 2 THEN 'boot' "
        "WHEN 1 THEN CASE WHEN ut_user = 'shutdown' THEN 'shutdown' ELSE 'runlevel' END "
        "WHEN 6 THEN 'login_process' WHEN 5 THEN 'init_process' WHEN 3 THEN 'clock_change' "
        "WHEN 4 THEN 'clock_change' WHEN 9 THEN 'accounting' ELSE 'empty' END"
    )
    outcome = "'failure'" if failed else "CASE ut_type WHEN 7 THEN 'success' END"
    sql = f"""
SELECT line_no,
    CASE WHEN truncated > 0 THEN 'truncated utmp record (' || truncated || ' of 384 bytes)'
         ELSE concat_ws(' ', 'type=' || coalesce({kind}, ut_type::VARCHAR), 'pid=' || pid, 'line=' || tty,
                        'id=' || ut_id, 'user=' || ut_user, 'host=' || ut_host, 'addr=' || {addr},
                        'exit=' || e_exit, 'time=' || sec || '.' || lpad(usec::VARCHAR, 6, '0')) END AS raw,
    CASE WHEN sec > 0 THEN to_timestamp(sec + usec / 1e6) END AS ts,
    {action} AS action,
    {outcome} AS outcome,
    nullif(pid, 0) AS pid,
    tty AS session,
    ut_user AS "user",
    CASE WHEN ut_type IN (6, 7, 8) OR {'true' if failed else 'false'} THEN coalesce({addr}, ut_host) END AS src_ip,
    CASE WHEN ut_type IN (6, 7) AND ut_host IS NOT NULL THEN 'ssh' END AS proto,
    'utmp' AS program,
    NULL::DOUBLE AS duration,
    concat_ws(' ', {kind}, tty, ut_user, CASE WHEN ut_host IS NOT NULL THEN 'from ' || ut_host END) AS message,
    CASE WHEN truncated > 0 THEN 'truncated utmp record: the file ends ' || truncated ||
                                 ' bytes into a 384-byte record'
         WHEN ut_type NOT BETWEEN 0 AND 9 THEN 'not a utmp record (type ' || ut_type || ')' END AS _reject,
    NULL::VARCHAR AS _skip
FROM _records
"""
    return sql, {}


# A logout is the end of the latest login on its tty: it gets the login's user, source and the
# session's length (the login may be in an earlier chunk); a login ended in this chunk gets the
# length too.
PAIR_SQL = """
UPDATE _parsed SET "user" = coalesce(_parsed."user", p."user"), src_ip = coalesce(_parsed.src_ip, p.src_ip),
                   duration = p.duration
FROM (
    SELECT o.line_no, l."user", l.src_ip, epoch(o.ts) - epoch(l.ts) AS duration
    FROM (SELECT line_no, session, ts FROM _parsed WHERE action = 'logout' AND ts IS NOT NULL) o
    ASOF JOIN (
        SELECT session, ts, "user", src_ip FROM _parsed WHERE action = 'login' AND ts IS NOT NULL
        UNION ALL SELECT session, ts, "user", src_ip FROM _prior WHERE action = 'login' AND ts IS NOT NULL
    ) l ON o.session = l.session AND o.ts >= l.ts
) p
WHERE _parsed.line_no = p.line_no
"""

LOGIN_DURATION_SQL = """
UPDATE _parsed SET duration = p.duration
FROM (
    SELECT l.line_no, epoch(o.ts) - epoch(l.ts) AS duration
    FROM (SELECT line_no, session, ts FROM _parsed WHERE action = 'login' AND ts IS NOT NULL) l
    ASOF JOIN (SELECT session, ts FROM _parsed WHERE action = 'logout' AND ts IS NOT NULL) o
    ON l.session = o.session AND o.ts >= l.ts
) p
WHERE _parsed.line_no = p.line_no
"""


def _never(_lines) -> float:
    return 0.0


FORMAT = LogFormat(
    name="utmp",
    title="wtmp/btmp/utmp login records (glibc struct utmp)",
    detect=_never,
    build_sql=build_sql,
    priority=10,
    fixups=(PAIR_SQL, LOGIN_DURATION_SQL),
    record_bytes=RECORD,
    detect_bytes=detect_bytes,
    parse_records=parse_records,
)


def pack(ut_type: int, *, pid: int = 0, line: str = "", ut_id: str = "", user: str = "", host: str = "",
         addr: str | None = None, ts: datetime | float = 0.0, e_exit: int = 0) -> bytes:
    """One record as glibc writes it (for tests, the sample generator and the benchmark)."""
    import struct

    sec_f = ts.timestamp() if isinstance(ts, datetime) else float(ts)
    sec, usec = int(sec_f), int(round((sec_f - int(sec_f)) * 1e6))
    raw_addr = b"\0" * 16
    if addr:
        ip = ipaddress.ip_address(addr)
        raw_addr = ip.packed.ljust(16, b"\0")
    return struct.pack(
        "<hhi32s4s32s256shhiii16s20s", ut_type, 0, pid, line.encode(), ut_id.encode(), user.encode(),
        host.encode(), 0, e_exit, 0, sec, usec, raw_addr, b"",
    )


