"""What a login *attempt* is, as opposed to a *failure line*: one definition for the features,
the summaries, the TUI, the PDF and the JSON.

One refused SSH password shows up in the log several times: sshd writes "Failed password for
...", PAM writes "pam_unix(sshd:auth): authentication failure; ... rhost=...", an unknown account
adds "Invalid user ...", and the connection's end is a "... [preauth]" line marked failure. So a
count of lines with ``outcome = 'failure'`` counts one try two to four times.

- A **failed attempt** is one try. Per source address, it is the largest of the counts of each
  kind of line that records a try (sshd's failed-auth lines, PAM's failure lines, "Invalid user"
  lines, refused-account lines): a log with sshd's lines only, or PAM's only, still counts each
  try once, and a log with both does not count it twice.
- An **attempt line** is a line that records a failed try (any of those kinds).
- A **failure line** is any event line whose outcome is failure (what ``WHERE outcome =
  'failure'`` counts in the SQL console, preauth disconnects and host records included).

Attempts are counted over the events the sessions count them over: sshd's lines, and Cowrie,
auditd and btmp/wtmp records less those that repeat an sshd line (``engine.sessions``), so the
incident pane and the PDF say what the summary says.

Everything that shows a count says which of the three it is ("failed attempts", "failure lines").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.queries import incident_event_filter

# The kinds of line that record one failed try, each counted on its own (see the docstring).
AUTH_FAIL_LINE = "(action LIKE 'auth\\_%' ESCAPE '\\' AND action <> 'auth_publickey' AND outcome = 'failure')"
ATTEMPT_KINDS: tuple[str, ...] = (
    AUTH_FAIL_LINE,
    "(action = 'pam_auth_failure')",
    "(action = 'invalid_user')",
    "(action IN ('root_login_refused', 'user_not_allowed'))",
)
# A line that records a failed try (of any kind).
ATTEMPT_LINE = f"({AUTH_FAIL_LINE} OR action IN ('pam_auth_failure', 'invalid_user', 'root_login_refused', " \
               "'user_not_allowed'))"
# A line that records a successful login.
SUCCESS_LINE = "(action LIKE 'auth\\_%' ESCAPE '\\' AND outcome = 'success')"
# The events attempts are counted over: sshd's own lines (other programs' PAM lines are not
# logins), and the honeypot and host records (Cowrie, auditd, btmp/wtmp) the sessions count beside
# them, less those that repeat what an sshd line already says (engine.sessions.host_ssh_events_sql).
SSH_EVENTS = "(program LIKE 'sshd%' AND format IN ('syslog', 'journald'))"
FAILURE_LINES = "count(*) FILTER (outcome = 'failure')"

# What the counts are called wherever they are shown.
ATTEMPTS_WORD = "failed attempts"
FAILURE_LINES_WORD = "failure lines"
WHY_LINES = "sshd and PAM each log every try; invalid-user, preauth, auditd and btmp lines can add to them"


def attempts_sql(condition: str = "TRUE") -> str:
    """An aggregate expression: the failed attempts among the grouped rows (of one source) that
    meet ``condition``. Group by source (or finer) for the count to mean attempts."""
    return "greatest(" + ", ".join(f"count(*) FILTER ({kind} AND ({condition}))" for kind in ATTEMPT_KINDS) + ")"


@dataclass(frozen=True)
class AuthCounts:
    """An incident's (or any set of events') logins: ``attempts`` failed attempts recorded by
    ``attempt_lines`` lines; ``failure_lines`` lines marked failure in all; ``successes`` lines
    recording a successful login."""

    attempts: int
    attempt_lines: int
    failure_lines: int
    successes: int

    def describe(self) -> str:
        """'10 failed attempts (19 log lines record them; 23 failure lines in all)'."""
        text = f"{self.attempts:,} {ATTEMPTS_WORD}"
        if self.attempt_lines != self.attempts or self.failure_lines != self.attempts:
            text += (f" ({self.attempt_lines:,} log line(s) record them; {self.failure_lines:,} "
                     f"{FAILURE_LINES_WORD} in all)")
        return text


def _events_sql(where: str) -> str:
    """CTEs: ``ev``, the events ``where`` selects, each with ``is_ssh`` (counted for attempts)."""
    from engine.sessions import host_ssh_events_sql  # engine.sessions imports this module

    return (f"host AS ({host_ssh_events_sql()}), "
            f"ev AS (SELECT *, ({SSH_EVENTS} OR event_id IN (SELECT eid FROM host)) AS is_ssh "
            f"FROM events WHERE {where})")


def grouped_sql(where: str, group: str, limit: int | None = None) -> str:
    """Per ``group`` (an events column) of the events ``where`` selects: events, failed attempts
    (counted per source within the group), failure lines, successes, distinct sources and
    accounts, first and last seen; busiest first."""
    inner_group = "src_ip" if group == "src_ip" else f'{group}, src_ip'
    return (
        f"WITH {_events_sql(where)}, per AS (SELECT {inner_group}, count(*) AS events, "
        f"{attempts_sql('is_ssh')} AS attempts, {FAILURE_LINES} AS failure_lines, "
        f"count(*) FILTER ({SUCCESS_LINE}) AS successes, list(DISTINCT \"user\") FILTER (\"user\" IS NOT NULL) AS u, "
        f"min(ts) AS first_seen, max(ts) AS last_seen FROM ev GROUP BY ALL) "
        f"SELECT {group} AS name, sum(events)::BIGINT AS events, sum(attempts)::BIGINT AS attempts, "
        f"sum(failure_lines)::BIGINT AS failure_lines, sum(successes)::BIGINT AS successes, "
        f"count(DISTINCT src_ip) AS sources, length(list_distinct(flatten(list(u)))) AS users, "
        f"min(first_seen) AS first_seen, max(last_seen) AS last_seen FROM per "
        + (f"WHERE {group} IS NOT NULL " if group != "src_ip" else "")
        + f"GROUP BY {group} ORDER BY events DESC, name" + (f" LIMIT {int(limit)}" if limit else "")
    )


def auth_counts(con: Any, where: str, params: dict[str, Any]) -> AuthCounts:
    """The ``AuthCounts`` of the events ``where`` (with ``params``) selects, in one scan."""
    row = next(iter(con.execute(
        f"WITH {_events_sql(where)} "
        f"SELECT coalesce(sum(a), 0), coalesce(sum(al), 0), coalesce(sum(fl), 0), coalesce(sum(s), 0) FROM ("
        f"SELECT src_ip, {attempts_sql('is_ssh')} AS a, count(*) FILTER ({ATTEMPT_LINE} AND is_ssh) AS al, "
        f"{FAILURE_LINES} AS fl, count(*) FILTER ({SUCCESS_LINE} AND is_ssh) AS s FROM ev GROUP BY src_ip)",
        params,
    ).fetchall()), None)
    return AuthCounts(*(int(v) for v in row))


def incident_auth_counts(case: Any, incident_id: str, run_id: str | None = None) -> AuthCounts:
    """``auth_counts`` of an incident's raw events (of a run, the latest by default)."""
    where, params = incident_event_filter(case, incident_id, run_id)
    return auth_counts(case.con, where, params)
