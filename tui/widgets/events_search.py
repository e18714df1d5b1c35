"""The events pane's search (s, n / N: marks a text and moves between its matches, across pages)
and time range (w: when), apart from its paging."""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import TYPE_CHECKING

from store.browse import EventFilter, EventPage, FieldFilter, PageKey

if TYPE_CHECKING:
    from tui.backend import Backend
    from tui.widgets.events_pane import PageRequest


def parse_time_range(text: str) -> tuple[datetime | None, datetime | None]:
    """'2026-11-19 02:14 .. 2026-11-19 02:30' -> the two times (UTC when no zone is given);
    either side may be empty. Raises ValueError with a reason."""
    text = text.strip()
    if not text:
        return None, None
    if ".." not in text:
        raise ValueError("write FROM .. TO (either may be left out), e.g. 2026-11-19 02:14 .. 02:30")
    left, right = (part.strip() for part in text.split("..", 1))
    start = _when(left, None) if left else None
    end = _when(right, start) if right else None
    if start and end and end < start:
        raise ValueError("the range ends before it starts")
    return start, end


def _when(text: str, base: datetime | None) -> datetime:
    """A time as typed: ISO date and time (a zone optional, UTC by default), or a bare HH:MM[:SS]
    on ``base``'s day."""
    try:
        if base is not None and ":" in text and "-" not in text and "T" not in text:
            return datetime.combine(base.date(), time.fromisoformat(text), base.tzinfo)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a time: write 2026-11-19 02:14 (or 02:30 after the first)") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def find_page(backend: Backend, request: PageRequest, limit: int, slot: str) -> EventPage:
    """The page around the next (find_next) or previous (find_prev) line of the filter after /
    before ``request.key`` whose raw line holds ``request.search``: it starts (ends) with that
    line. An empty page: no such line."""
    forward = request.mode == "find_next"
    flt = request.flt
    # The search matches the line as the filter's text does; beside a filter text, the raw line.
    if flt.text:
        needle = EventFilter(flt.text, flt.fields + (FieldFilter("raw", "~", request.search),), flt.incident_id,
                             flt.run_id)
    else:
        needle = EventFilter(request.search, flt.fields, flt.incident_id, flt.run_id)
    hit = backend.events_page(needle, after=request.key if forward else None, before=None if forward else request.key,
                              limit=1, slot=slot)
    if not hit.rows:
        return EventPage(hit.columns, [], at_start=False, at_end=False)
    key = hit.first_key
    if forward:
        rest = backend.events_page(flt, after=key, limit=max(1, limit - 1), slot=slot)
        return EventPage(rest.columns, hit.rows + rest.rows, at_start=False, at_end=rest.at_end)
    rest = backend.events_page(flt, before=key, limit=max(1, limit - 1), slot=slot)
    return EventPage(rest.columns, rest.rows + hit.rows, at_start=rest.at_start, at_end=False)



class SearchActions:
    """Mixed into ``EventsPane``: the search and time-range actions (they use its paging)."""

    @property
    def marked(self) -> str:
        """The text marked in the rows: the search (s), else the filter's free text."""
        return self.search or self.flt.text

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # n / N only while something is marked: otherwise the key is the screen's (n: Note).
        if action == "find":
            return bool(self.marked)
        return True

    def action_search(self) -> None:
        from tui.screens.dialogs import PathDialog

        def chosen(text: str | None) -> None:
            if text is None:
                return
            self.search = text.strip()
            self.table.set_highlight(self.marked)
            self._update_status()
            if self.search and not self.table.marks:
                self.action_find(1)  # nothing on this page: find the first match further on

        self.app.push_screen(PathDialog("Search (marks the text, keeps every row)", value=self.search,
                                        placeholder="Accepted publickey",
                                        hint="n / N: next / previous match, on later pages too. "
                                             "Empty: the filter's own text is marked."), chosen)

    def action_find(self, step: int) -> None:
        """The cursor to the next / previous match: on this page, else the page around the next one."""
        table = self.table
        if self._loading or self.page is None or not self.marked:
            return
        found = table.find_match(step)
        if found is not None:
            table.move_cursor(row=found[0], column=found[1])
            return
        rows = self.page.rows
        if not rows or (self.page.at_end if step > 0 else self.page.at_start):
            self.app.bell()
            return
        key = PageKey(*(rows[table.cursor_row].get(c) for c in ("ts", "source_file", "line_no")))
        self._near.clear()
        self.app.backend.interrupt(self._ahead_slot)
        self._token = self._next_serial()
        self._loading = True
        self._update_status()
        from tui.widgets.events_pane import PageRequest  # the pane's module imports this one

        self._fetch(self._token, PageRequest("find_next" if step > 0 else "find_prev", self.flt, key, self.columns,
                                             search=self.marked))

    def action_time_range(self) -> None:
        """Ask for a time range; the filter keeps its other conditions."""
        from tui.screens.dialogs import PathDialog

        lo, hi = self.flt.time_range()

        def chosen(text: str | None) -> None:
            if text is None:
                return
            try:
                start, end = parse_time_range(text)
            except ValueError as exc:
                self.app.notify(str(exc), title="Time range", severity="error", markup=False)
                return
            self._request("first", self.flt.with_range(start, end))

        value = f"{lo or ''} .. {hi or ''}" if (lo or hi) else ""
        self.app.push_screen(PathDialog("Only events between two times (UTC)", value=value,
                                        placeholder="2026-11-19 02:14 .. 2026-11-19 02:30",
                                        hint="FROM .. TO, either may be left out; empty: any time."), chosen)

