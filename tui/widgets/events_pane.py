"""A window onto the case's events: one page at a time from DuckDB, filterable, never loaded whole.

The pane shows a page (``PAGE_SIZE`` rows) of the events matching its filter in time order; the
first page of a filter (and the last page, on ``}``) holds a screenful and a little more
(``first_page_rows``), which is what the analyst waits for after the key. Moving past the last
row shows the next page (keyset paging, see ``store.browse``), so scrolling feels continuous
while memory holds a few pages. Once a page is on screen, a worker fetches the page after it
(before it, when moving up) and prepares its cells, and the page just left is kept: moving past
an edge then swaps in a page already in hand instead of waiting for a query. The total count runs
in its own worker once the first page of a filter is drawn, and is interrupted when the filter
changes again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from store.browse import BROWSE_COLUMNS, EventFilter, EventPage, PageKey
from tui.backend import Backend, BackendError, Cancelled
from tui.messages import EventDetailLoaded, EventsCounted, EventsFailed, EventsPageLoaded
from tui.widgets.cells import plain
from tui.widgets.events_search import SearchActions, find_page
from tui.widgets.grid import EMPTY_PAGE, EventGrid, GridColumn, GridPage

# Rows per page: several screenfuls; moving past the edge shows the next one.
PAGE_SIZE = 200
# The first (and last) page of a filter: the rows on screen and this many more. Fetching and
# preparing 200 rows for it cost ~6 ms more than a screenful on a small machine; the page after
# it is fetched ahead as soon as it is drawn, so scrolling on does not wait.
FIRST_PAGE_SPARE = 24
# Shown whatever the page holds; other columns appear only when the first page has values in them.
ALWAYS = ("ts", "message")
# The browser's columns (file and line are in the event's detail, Enter).
SHOWN_COLUMNS = tuple(c for c in BROWSE_COLUMNS if c not in ("line_no",))
COLUMN_LIMIT = {"message": 160, "path": 60, "source_file": 40, "user": 24, "src_ip": 30, "host": 24, "ts": 19}
RIGHT_ALIGNED = {"status", "line_no", "pid", "src_port", "dst_port", "bytes"}
# Seconds a typed filter may take before its box dims to say the query is still running (a
# quicker answer replaces the box at once: dimming it first would only cost a frame).
SLOW_FILTER = 0.15
FILTER_HELP = ("Filter: words match anywhere in the line; field=value, field!=value, field~part, "
               "field>=n (e.g. user=root src_ip~45.155 status>=500 failed). Enter applies, Escape cancels.")


@dataclass(frozen=True)
class PageRequest:
    """A page to fetch: ``mode`` is first / next / prev / last; next and prev start after / before
    ``key``. ``columns`` are the columns to show, None to pick them from the page (a new filter)."""

    mode: str
    flt: EventFilter
    key: PageKey | None = None
    columns: tuple[str, ...] | None = None
    limit: int | None = None  # rows; None: the pane's page size
    span: timedelta | None = None  # the time the page before a next page covered (a hint for the query)
    search: str = ""  # find_next / find_prev: the text to find in the lines after / before ``key``


@dataclass(frozen=True)
class LoadedPage:
    """A fetched page with its cells ready for the grid."""

    page: EventPage
    columns: tuple[str, ...]
    grid: GridPage


def pick_columns(page: EventPage) -> tuple[str, ...]:
    """The columns worth showing for a filter: those its first page has values in."""
    present = {c for row in page.rows for c, v in row.items() if v is not None}
    return tuple(c for c in SHOWN_COLUMNS if c in ALWAYS or c in present)


def cell_text(column: str, value) -> str | None:
    """A cell as safe text (control characters escaped by ``plain``); None stays NULL."""
    if value is None:
        return None
    if column == "source_file":
        value = str(value).rsplit("/", 1)[-1]
    return plain(value, limit=COLUMN_LIMIT.get(column, 40))


def _span(page: EventPage) -> timedelta | None:
    """The time a page's rows cover (None without two timestamps)."""
    if not page.rows:
        return None
    first, last = page.rows[0].get("ts"), page.rows[-1].get("ts")
    return last - first if first is not None and last is not None else None


def load_page(backend: Backend, request: PageRequest, limit: int, slot: str) -> LoadedPage:
    """Fetch ``request``'s page and prepare its cells (blocking: called from worker threads)."""
    if request.mode in ("find_next", "find_prev"):
        page = find_page(backend, request, limit, slot)
    else:
        page = backend.events_page(request.flt, after=request.key if request.mode == "next" else None,
                                   before=request.key if request.mode == "prev" else None,
                                   last=request.mode == "last", limit=limit, slot=slot, span=request.span)
    columns = request.columns if request.columns is not None else pick_columns(page)
    header = [GridColumn(c, "time (UTC)" if c == "ts" else c, COLUMN_LIMIT.get(c, 40), c in RIGHT_ALIGNED)
              for c in columns]
    rows = [[cell_text(c, row.get(c)) for c in columns] for row in page.rows]
    return LoadedPage(page, columns, GridPage.of(header, rows))


@dataclass
class _Neighbour:
    """The page beside the shown one in one direction: fetched ahead under ``token`` (``loaded``
    is None until it lands), or the page just left."""

    token: int
    loaded: LoadedPage | None = None


class EventsPane(SearchActions, Vertical):
    """Events matching a filter, paged. ``base`` is a filter always applied (an incident)."""

    BINDINGS = [
        Binding("slash", "edit_filter", "Filter", id="events.filter",
                tooltip="Filter events by text and fields: user=root src_ip~45.155 status>=500 failed"),
        Binding("f", "filter_cell", "Filter on cell", id="events.filter_cell",
                tooltip="Keep only events whose field under the cursor has this value"),
        Binding("F", "clear_filter", "Clear filter", id="events.clear_filter", tooltip="Remove text and field filters"),
        Binding("right_square_bracket", "next_page", "Next page", id="events.next_page",
                tooltip="The next page of events (also: moving down past the last row)"),
        Binding("left_square_bracket", "prev_page", "Prev page", id="events.prev_page",
                tooltip="The previous page (also: moving up past the first row)"),
        Binding("left_curly_bracket", "first_page", "First page", show=False, id="events.first_page",
                tooltip="The earliest events"),
        Binding("right_curly_bracket", "last_page", "Last page", show=False, id="events.last_page",
                tooltip="The latest events"),
        Binding("T", "toggle_tail", "Tail", show=False, id="events.tail",
                tooltip="Tail: stay on the newest events as a live follow brings them in (like tail -f)"),
        Binding("s", "search", "Search", id="events.search",
                tooltip="Mark a text in the rows (without filtering) and move between its matches with n / N"),
        Binding("n", "find(1)", "Next match", show=False, id="events.next_match",
                tooltip="The next match of the search (or of the filter's text), on later pages too"),
        Binding("N", "find(-1)", "Prev match", show=False, id="events.prev_match",
                tooltip="The previous match of the search (or of the filter's text)"),
        Binding("w", "time_range", "When", id="events.time_range",
                tooltip="Only events between two times (ts>= and ts<= in the filter)"),
    ]

    @dataclass
    class OpenEvent(Message):
        """Enter on a row: the screen shows the whole event."""

        event: dict

    def __init__(self, base: EventFilter | None = None, *, page_size: int = PAGE_SIZE, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base = base or EventFilter()
        self.flt = self.base
        self.page: EventPage | None = None
        self.page_size = page_size
        self.start: int | None = 0  # index of the page's first row in the whole result
        self.count: int | None = None
        self.columns: tuple[str, ...] = ()
        self._shown: LoadedPage | None = None
        self._near: dict[str, _Neighbour] = {}  # "next" / "prev" -> the page on that side
        self._serial = 0  # numbers every fetch
        self._token = 0  # the fetch whose page the pane is waiting to show
        self._count_token = 0
        self._recount = False
        self._loading = False
        self._submitted = False  # a filter typed in waits for its first page (the box stays until then)
        self.tail = False  # on the last page, moving to the newest row as rows arrive
        self.search = ""  # text marked in the rows (s); without one, the filter's free text is marked

    def compose(self) -> ComposeResult:
        yield Static(Text("loading events…", style="dim"), classes="events-status")
        box = Input(placeholder="user=root src_ip~45.155 status>=500 failed", classes="events-filter",
                    tooltip=FILTER_HELP)
        box.display = False
        yield box
        yield EventGrid(classes="events-table")

    @property
    def table(self) -> EventGrid:
        return self.query_one(EventGrid)

    @property
    def filter_input(self) -> Input:
        return self.query_one(".events-filter", Input)

    def on_mount(self) -> None:
        # After the first paint: the screen around the pane is drawn before the query runs.
        self.call_after_refresh(self.reload)
        if self.base.incident_id is None:
            # New events (an ingest) show up in the browser; an incident's pane is reloaded by its screen.
            self.watch(self.app, "data_version", lambda _: self._data_changed(), init=False)
        # New events (a live follow, an ingest still running): see ``_live_arrived``.
        self.watch(self.app, "live_version", lambda _: self._live_arrived(), init=False)

    def _data_changed(self) -> None:
        if getattr(self.app, "follower", None) is None:  # while following, live_version says it
            self.reload()

    @property
    def _page_slot(self) -> str:
        return f"events-page:{id(self)}"

    @property
    def _ahead_slot(self) -> str:
        return f"events-ahead:{id(self)}"

    @property
    def _count_slot(self) -> str:
        return f"events-count:{id(self)}"

    # --- requests ---------------------------------------------------------------------------

    def reload(self, flt: EventFilter | None = None) -> None:
        """Show the first page of ``flt`` (default: the current filter) and count it again (the
        case's events may have changed)."""
        self._recount = True
        self._request("first", flt or self.flt)

    def reset(self, base: EventFilter) -> None:
        """Take another base filter (the detail screen's next incident): what was shown goes at
        once; ``reload()`` fetches the first page of ``base``."""
        backend = self.app.backend
        self.base = self.flt = base
        self.page = self._shown = None
        self.count = None
        self.columns = ()
        self._near.clear()
        backend.interrupt(self._ahead_slot)
        self._count_token += 1
        backend.interrupt(self._count_slot)
        self._token = self._next_serial()  # a page still coming for the old filter is dropped
        self.table.set_page(EMPTY_PAGE)
        self._loading = True
        self._update_status()

    def first_page_rows(self) -> int:
        """Rows the first page of a filter holds: a screenful of the table and a few more (a
        whole page while the table has no size yet)."""
        height = self.table.size.height
        return min(self.page_size, height + FIRST_PAGE_SPARE) if height > 1 else self.page_size

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def _request(self, mode: str, flt: EventFilter, key: PageKey | None = None,
                 span: timedelta | None = None) -> None:
        backend = self.app.backend
        # Pages fetched ahead belong to the page shown now; a count to the filter shown now.
        self._near.clear()
        backend.interrupt(self._ahead_slot)
        if flt != self.flt:
            self._count_token += 1
            backend.interrupt(self._count_slot)
        columns = self.columns if flt == self.flt and self.columns else None
        self._token = self._next_serial()
        self._loading = True
        self._update_status()
        limit = self.first_page_rows() if mode in ("first", "last") else None
        self._fetch(self._token, PageRequest(mode, flt, key, columns, limit, span))

    def _move(self, direction: str) -> None:
        """Show the next / previous page: the one in hand at once, else as soon as it lands."""
        if self._loading:
            return
        page = self.page
        if page is None or (page.at_end if direction == "next" else page.at_start):
            self.app.bell()
            return
        near = self._near.get(direction)
        if near is None:
            self._request(direction, self.flt, page.last_key if direction == "next" else page.first_key,
                          _span(page) if direction == "next" else None)
        elif near.loaded is not None:
            self._loading = False
            self._show(near.loaded, direction, self.flt)
        else:
            # Fetched ahead and still on its way: that fetch is the one to wait for.
            self._token = near.token
            self._loading = True
            self._update_status()

    def _fetch_ahead(self, direction: str, page: EventPage) -> None:
        """After ``page`` is drawn: fetch the page beside it in ``direction``, unless in hand."""
        if page is not self.page or direction in self._near or (page.at_end if direction == "next" else page.at_start):
            return
        token = self._next_serial()
        self._near[direction] = _Neighbour(token)
        key = page.last_key if direction == "next" else page.first_key
        self._ahead(token, PageRequest(direction, self.flt, key, self.columns,
                                       span=_span(page) if direction == "next" else None))

    @work(thread=True, exclusive=True, exit_on_error=False, group="events-page", description="events page")
    def _fetch(self, token: int, request: PageRequest) -> None:
        self._load(token, request, self._page_slot)

    @work(thread=True, exclusive=True, exit_on_error=False, group="events-ahead", description="events page ahead")
    def _ahead(self, token: int, request: PageRequest) -> None:
        self._load(token, request, self._ahead_slot)

    def _load(self, token: int, request: PageRequest, slot: str) -> None:
        try:
            loaded = load_page(self.app.backend, request, request.limit or self.page_size, slot)
        except Cancelled:
            return
        except BackendError as exc:
            self.post_message(EventsFailed(token, str(exc)))
            return
        self.post_message(EventsPageLoaded(token, request, loaded))

    @work(thread=True, exclusive=True, exit_on_error=False, group="events-count", description="count events")
    def _count(self, token: int, flt: EventFilter) -> None:
        try:
            n = self.app.backend.count_events(flt, slot=self._count_slot)
        except (Cancelled, BackendError):
            return
        self.post_message(EventsCounted(token, n))

    @work(thread=True, exclusive=True, exit_on_error=False, group="event-detail", description="event detail")
    def _detail(self, key: PageKey) -> None:
        self.post_message(EventDetailLoaded(self.app.backend.event_detail(key)))

    # --- results ----------------------------------------------------------------------------

    @on(EventsPageLoaded)
    def _page_loaded(self, msg: EventsPageLoaded) -> None:
        msg.stop()
        if msg.token == self._token and self._loading:
            self._loading = False
            if self._submitted:
                self._editing(False)
            self._show(msg.loaded, msg.request.mode, msg.request.flt)
            return
        for near in self._near.values():
            if near.token == msg.token:
                near.loaded = msg.loaded

    def _show(self, loaded: LoadedPage, mode: str, flt: EventFilter) -> None:
        """Put a page on screen; ``mode`` says how it was reached (first / next / prev / last)."""
        page = loaded.page
        if mode in ("next", "prev") and not page.rows:
            self._near.pop(mode, None)
            self._update_status()
            self.app.bell()
            return
        if mode in ("find_next", "find_prev") and not page.rows:
            self._update_status()
            self.app.bell()
            self.app.notify(f"No {'later' if mode == 'find_next' else 'earlier'} match of {self.marked!r}.",
                            markup=False, timeout=3)
            return
        old = self._shown
        new_filter = flt != self.flt or self.page is None
        self.flt = flt
        self.page = page
        self._shown = loaded
        self.columns = loaded.columns
        if mode == "first":
            self.start = 0
        elif mode == "next" and self.start is not None and old is not None:
            self.start += len(old.page.rows)
        elif mode == "prev" and self.start is not None:
            self.start = max(0, self.start - len(page.rows))
        elif mode == "last":
            self.start = (self.count - len(page.rows)) if self.count is not None else None
        elif mode in ("find_next", "find_prev"):
            self.start = None  # somewhere further on: the count of rows before it is not known
        if page.at_start:
            self.start = 0
        # The page just left is the neighbour on the other side; the next one is fetched ahead.
        self._near = {}
        if old is not None and mode in ("next", "prev"):
            self._near["prev" if mode == "next" else "next"] = _Neighbour(0, old)
        table = self.table
        table.set_highlight(self.marked)
        table.set_page(loaded.grid, cursor_row=len(page.rows) - 1 if mode in ("prev", "last", "find_prev") else 0)
        if mode in ("find_next", "find_prev"):
            found = table.marks.get(table.cursor_row)
            if found:
                table.move_cursor(column=found[0][0])
        self._update_status()
        self.call_after_refresh(self._fetch_ahead, "prev" if mode in ("prev", "last", "find_prev") else "next", page)
        if new_filter or (self._recount and (mode == "first" or (mode == "last" and self.tail))):
            self._recount = False
            self.count = None
            self._count_token += 1
            self.call_after_refresh(self._start_count, self._count_token, flt)

    def _start_count(self, token: int, flt: EventFilter) -> None:
        """After the page is drawn: count its filter's events, unless another filter came since."""
        if token == self._count_token:
            self._count(token, flt)

    @on(EventsCounted)
    def _counted(self, msg: EventsCounted) -> None:
        msg.stop()
        if msg.token != self._count_token:
            return
        self.count = msg.count
        if self.start is None and self.page is not None and self.page.at_end:
            self.start = msg.count - len(self.page.rows)
        self._update_status()

    @on(EventsFailed)
    def _failed(self, msg: EventsFailed) -> None:
        msg.stop()
        for direction, near in list(self._near.items()):
            if near.token == msg.token:
                del self._near[direction]  # moving that way fetches it again (and says why)
        if msg.token != self._token or not self._loading:
            return
        self._loading = False
        if self._submitted:
            self._submitted = False
            self.filter_input.remove_class("-loading")
        self._update_status()
        self.app.notify(msg.text, title="Filter", severity="error", markup=False)

    @on(EventDetailLoaded)
    def _detail_loaded(self, msg: EventDetailLoaded) -> None:
        msg.stop()
        if msg.event is not None:
            self.post_message(self.OpenEvent(msg.event))

    def _update_status(self) -> None:
        status = self.query_one(".events-status", Static)
        if not status.display:
            return  # the filter box is in its place; leaving it updates the line
        t = Text(no_wrap=True, overflow="ellipsis")
        shown = EventFilter(self.flt.text, self.flt.fields)
        t.append("Filter: ", style="bold")
        t.append(plain(shown.as_text()) if not shown.empty else "none", style="" if not shown.empty else "dim")
        t.append("   ")
        page = self.page
        if page is not None and page.rows:
            n = len(page.rows)
            if self.start is not None:
                t.append(f"rows {self.start + 1:,}–{self.start + n:,}")
            else:
                t.append(f"last {n:,} rows" if page.at_end else f"{n:,} rows")
        if page is not None and not page.rows:
            t.append("no events match", style="yellow")
        else:
            t.append(" of ")
            t.append("…counting" if self.count is None else f"{self.count:,}",
                     style="dim" if self.count is None else "bold")
        if self._loading:
            t.append("   loading…", style="italic dim")
        if self.tail:
            t.append("   TAIL", style="bold reverse green")
        if self.marked:
            t.append("   marked: ", style="bold")
            t.append(plain(self.marked, limit=40), style="reverse")
            t.append(" (n/N)", style="dim")
        t.append("   / filter · f on cell · F clear · [ ] pages · s search · w when · T tail", style="dim")
        status.update(t)

    # --- actions ----------------------------------------------------------------------------

    def action_next_page(self) -> None:
        self._move("next")

    def action_prev_page(self) -> None:
        self._move("prev")

    def action_first_page(self) -> None:
        self._request("first", self.flt)

    def action_last_page(self) -> None:
        self._request("last", self.flt)

    def action_toggle_tail(self) -> None:
        self.tail = not self.tail
        if self.tail:
            self._refresh_tail()
        self._update_status()

    def _live_arrived(self) -> None:
        """New rows come into view when tailing. Otherwise the page stays put (the cursor too) and
        the count grows; a page that showed nothing (the case was still filling) is fetched again."""
        if self._loading:
            return
        if self.tail:
            self._refresh_tail()
        elif self.base.incident_id is None and self.page is not None:
            if not self.page.rows:
                self.reload()
            elif self.count is not None:
                self._count_token += 1
                self._count(self._count_token, self.flt)

    def _refresh_tail(self) -> None:
        self.count = None  # grown: counted again once the page shows
        self._recount = True
        self._request("last", self.flt)

    @on(EventGrid.EdgeReached)
    def _edge(self, msg: EventGrid.EdgeReached) -> None:
        msg.stop()
        direction = "next" if msg.direction == "down" else "prev"
        if self.page is not None and not (self.page.at_end if direction == "next" else self.page.at_start):
            self._move(direction)

    def _editing(self, on: bool) -> None:
        # The one-line filter box takes the status line's place, so the table keeps its size
        # (and is not redrawn) while the analyst types. Shown and hidden with the style property:
        # a class change restyles the widget (~1.5 ms each, on the way to the first page).
        self.query_one(".events-status").display = not on
        self.filter_input.display = on
        self.filter_input.remove_class("-loading")
        self._submitted = False
        (self.filter_input if on else self.table).focus()
        if not on:
            self._update_status()

    def action_edit_filter(self) -> None:
        self.filter_input.value = EventFilter(self.flt.text, self.flt.fields).as_text()
        self._editing(True)

    @on(Input.Submitted, ".events-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        flt = self.app.backend.parse_filter(event.value, incident_id=self.base.incident_id)
        # The box stays until the first page is in; then box, status line and rows change in one
        # frame (drawing the old rows once more, focused, would only delay the new ones). A
        # filter that fails leaves the box open to fix it; Escape leaves it while the query runs.
        self._request("first", flt)
        self._submitted = True
        self.set_timer(SLOW_FILTER, self._hint_loading)

    def _hint_loading(self) -> None:
        if self._submitted and self._loading:
            self.filter_input.add_class("-loading")

    def on_key(self, event) -> None:
        if event.key == "escape" and self.filter_input.has_focus:
            event.stop()
            event.prevent_default()
            self._editing(False)

    def action_filter_cell(self) -> None:
        table = self.table
        if self.page is None or not self.page.rows or not self.columns:
            return
        row = self.page.rows[table.cursor_row]
        column = self.columns[min(table.cursor_column, len(self.columns) - 1)]
        value = row.get(column)
        if column == "message":
            self.app.notify("Messages are free text: use / to filter by words in them.", markup=False)
            return
        if column == "ts":
            # Jump: everything from this moment on.
            value_text = value.isoformat() if value is not None else ""
            flt = self.flt.with_field("ts", ">=", value_text) if value is not None else self.flt.with_field("ts", "=", "")
        else:
            flt = self.flt.with_field(column, "=", "" if value is None else str(value))
        self._request("first", flt)

    def action_clear_filter(self) -> None:
        self._request("first", self.base)

    @on(EventGrid.ViewCell)
    def _view_cell(self, msg: EventGrid.ViewCell) -> None:
        """The whole value, from the page (the grid holds it cut to its column's limit)."""
        msg.stop()
        if self.page is None or msg.row >= len(self.page.rows) or msg.column >= len(self.columns):
            return
        from tui.screens.dialogs import ValueDialog

        column = self.columns[msg.column]
        self.app.push_screen(ValueDialog(column, self.page.rows[msg.row].get(column)))

    @on(EventGrid.Selected)
    def _selected(self, event: EventGrid.Selected) -> None:
        event.stop()
        if self.page is None or not self.page.rows:
            return
        row = self.page.rows[event.row]
        self._detail(PageKey(row.get("ts"), row.get("source_file"), row.get("line_no")))
