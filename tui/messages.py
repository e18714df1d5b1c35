"""Messages the TUI's workers and widgets post (dataclasses, as Textual allows).

Workers run in threads and hand results back only through these; a screen's handler updates
its widgets on the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class OverviewPart(Message):
    """One part of the overview has been computed: ``name`` says which, ``data`` holds it."""

    name: str
    data: Any


@dataclass
class IncidentsLoaded(Message):
    rows: list[dict]


@dataclass
class SqlSchema(Message):
    """The case's tables and their (column, type)s, for the SQL console."""

    schema: dict


@dataclass
class IncidentGlance(Message):
    """The incidents screen's glance at one incident: its timeline (``(slice start, events)``)."""

    incident_id: str
    timeline: list


@dataclass
class IncidentCounts(Message):
    """An incident's logins (``engine.counts.AuthCounts``), for the detail's load ``token``."""

    token: int
    counts: Any


@dataclass
class IncidentLoaded(Message):
    """The detail of one incident: the incident, then (a second message) its sessions and
    timeline; ``sessions`` None means they are still coming. ``token`` ties it to the load that
    asked (the detail screen shows one incident after another)."""

    token: int
    incident: dict | None
    sessions: list[dict] | None
    timeline: list[tuple[Any, int]] | None
    commands: list[dict] | None = None  # what attackers ran and fetched (honeypot sessions)


@dataclass
class EventsPageLoaded(Message):
    """A page of events for an ``EventsPane``, cells prepared: ``token`` ties it to the fetch
    that asked, ``request`` is what it asked (an ``events_pane.PageRequest``), ``loaded`` the
    answer (an ``events_pane.LoadedPage``)."""

    token: int
    request: Any
    loaded: Any


@dataclass
class EventsCounted(Message):
    token: int
    count: int


@dataclass
class EventsFailed(Message):
    """A page request failed (a bad filter...): the pane keeps what it showed."""

    token: int
    text: str


@dataclass
class EventDetailLoaded(Message):
    event: dict | None


@dataclass
class TriageChanged(Message):
    """A verdict, note or suppression was stored; tables showing incidents reload."""

    incident_key: str | None
    text: str


@dataclass
class JobProgress(Message):
    """Progress of the running job (ingest / analysis / export), 0..1."""

    job: str
    fraction: float
    text: str

    def can_replace(self, message: Message) -> bool:
        # Progress arrives per chunk; only the latest matters.
        return isinstance(message, JobProgress) and message.job == self.job


@dataclass
class JobFinished(Message):
    job: str
    ok: bool
    text: str


@dataclass
class SqlResult(Message):
    result: Any


@dataclass
class RowsLoaded(Message):
    """Rows for a simple table screen (rejects, suppressions)."""

    name: str
    rows: list


@dataclass
class PlanLoaded(Message):
    """An incident's containment plan, rendered for ``firewall`` (``error`` set when it failed)."""

    incident_id: str
    firewall: str
    text: str
    error: str | None = None


@dataclass
class Followed(Message):
    """Something the live follow reported (an ``engine.follow.FollowEvent``)."""

    event: Any  # not coalesced: a few per second at most, and each carries its events to count
